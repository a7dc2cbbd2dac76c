"""The audit log (F1): append-only, hash-chained; refusals are recorded too (F3)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NoReturn

from bot.clock import Clock
from bot.logs import bind_entity
from bot.services.actor import Actor
from bot.services.errors import DomainError
from storage.repositories.audit import GENESIS, entry_hash
from storage.uow import UnitOfWork, UnitOfWorkFactory


async def record(
    uow: UnitOfWork,
    clock: Clock,
    actor: Actor,
    entity: str,
    entity_id: str | int,
    action: str,
    actor_id: int | None = None,
    **details: Any,
) -> None:
    bind_entity(entity, entity_id)
    await uow.audit.append(
        at=clock.now(),
        entity=entity,
        entity_id=entity_id,
        action=action,
        actor_id=actor_id,
        actor_telegram_id=actor.telegram_id,
        chat_id=actor.chat_id,
        details=details,
    )


async def refuse(
    uow: UnitOfWork, clock: Clock, actor: Actor, entity: str, entity_id: str | int, error: DomainError
) -> NoReturn:
    """Record a refused action, commit, and raise (F3). Call it before changing anything:
    the refusal is committed in the caller's transaction, so the record survives the error."""
    await record(uow, clock, actor, entity, entity_id, "refused", reason=error.msgid, **error.params)
    await uow.commit()
    raise error


@dataclass(frozen=True)
class ChainReport:
    checked: int
    broken_at: int | None  # id of the first entry whose hash or link does not match
    head_matches: bool

    @property
    def ok(self) -> bool:
        return self.broken_at is None and self.head_matches


class AuditService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def stale_button(self, actor: Actor, data: str) -> None:
        """A press on a button we no longer recognise (old, forged or replayed): audited, nothing else (F3)."""
        async with self._uow() as uow:
            await record(uow, self._clock, actor, "button", "-", "refused", reason="unknown or stale", data=data[:64])
            await uow.commit()

    async def verify(self) -> ChainReport:
        """Walk the whole chain: an edited entry changes its hash, a removed one breaks a link."""
        previous, checked = GENESIS, 0
        async with self._uow() as uow:
            async for entry in uow.audit.stream():
                if entry.prev_hash != previous or entry_hash(previous, entry) != entry.hash:
                    return ChainReport(checked, entry.id, False)
                previous, checked = entry.hash, checked + 1
            head = await uow.audit.head_hash()
        return ChainReport(checked, None, head == previous)
