from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import SessionTransaction

from storage.models import AuditEntry, AuditHead
from storage.repositories.base import Repository

GENESIS = "0" * 64
COLUMNS = (
    "at",
    "actor_id",
    "actor_telegram_id",
    "chat_id",
    "entity",
    "entity_id",
    "action",
    "details",
    "prev_hash",
    "hash",
)


def _chain(prev_hash: str, entries: list[AuditEntry]) -> str:
    """Link the entries in order onto `prev_hash`; the last one's hash, the chain's new head."""
    for entry in entries:
        entry.prev_hash, entry.hash = prev_hash, entry_hash(prev_hash, entry)
        prev_hash = entry.hash
    return prev_hash


def entry_hash(prev_hash: str, entry: AuditEntry) -> str:
    """The hash covers every field and the previous hash, so an edit or removal breaks the chain (F1)."""
    body = json.dumps(
        [
            prev_hash,
            entry.at.isoformat(),
            entry.actor_id,
            entry.actor_telegram_id,
            entry.chat_id,
            entry.entity,
            entry.entity_id,
            entry.action,
            entry.details,
        ],
        ensure_ascii=False,
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(body.encode()).hexdigest()


class KnownHead:
    """The chain's head as this process last committed it, shared by its units of work: a transaction chains
    onto it and moves the head only where the head still holds it (compare-and-set), with no read first (issue
    15: the read was one more statement before a report's alert could leave). Where another process or
    transaction moved the head meanwhile, the move changes nothing; the transaction then reads the head, locked,
    and chains onto that."""

    def __init__(self) -> None:
        self.hash: str | None = None  # unknown until this process has committed to the chain


# The head moves in every audited transaction: built once (issue 15)
HEAD = AuditHead.__table__
SET_HEAD = update(HEAD).where(HEAD.c.id == 1).values(last_hash=bindparam("new"))
MOVE_HEAD = SET_HEAD.where(HEAD.c.last_hash == bindparam("expected"))  # only from where it is expected
ADD_HEAD = insert(HEAD).values(id=1, last_hash=bindparam("new"))
READ_HEAD_LOCKED = select(HEAD.c.last_hash).where(HEAD.c.id == 1).with_for_update()
READ_HEAD = select(HEAD.c.last_hash).where(HEAD.c.id == 1)


class AuditRepository(Repository):
    """Entries appended in a transaction are chained and written together when it commits (`write_pending`,
    called by `UnitOfWork.commit`): the entries go in one INSERT, the head is moved once, from the hash this
    process knows it holds (`KnownHead`; issue 15: a report's transaction appends several). Reading the log
    writes them first. The entries `append` returns get no id (nothing needs it)."""

    def __init__(
        self,
        session: AsyncSession,
        known: KnownHead | None = None,
        on_append: Callable[[str, str, dict[str, Any]], None] = lambda *entry: None,
    ) -> None:
        super().__init__(session)
        self._known = known or KnownHead()
        self._on_append = on_append
        self._holding: tuple[SessionTransaction, str] | None = None  # the transaction that moved the head, to what
        self._pending: list[AuditEntry] = []  # appended, not yet chained and added to the session
        self._appended: list[AuditEntry] = []  # appended in this transaction

    async def append(
        self,
        *,
        at: datetime,
        entity: str,
        entity_id: str | int,
        action: str,
        actor_id: int | None = None,
        actor_telegram_id: int | None = None,
        chat_id: int | None = None,
        details: dict[str, Any] | None = None,
    ) -> AuditEntry:
        """The entry joins the chain when the transaction commits (or the log is read in it)."""
        entry = AuditEntry(
            at=at.replace(microsecond=0),
            entity=entity,
            entity_id=str(entity_id),
            action=action,
            actor_id=actor_id,
            actor_telegram_id=actor_telegram_id,
            chat_id=chat_id,
            details=details or {},
        )
        self._pending.append(entry)
        self._appended.append(entry)
        self._on_append(entity, action, entry.details)
        return entry

    async def write_pending(self) -> None:
        """Chain the pending entries onto the head, move it, and add them."""
        if not self._pending:
            return
        entries, self._pending = self._pending, []
        transaction = self.session.sync_session.get_transaction()
        if self._holding is not None and self._holding[0] is transaction:  # moved in this transaction: it holds it
            last = _chain(self._holding[1], entries)
            await self.core(SET_HEAD, {"new": last})
        else:
            guess = self._known.hash
            last = _chain(guess, entries) if guess is not None else None
            moved = guess is not None and (await self.core(MOVE_HEAD, {"expected": guess, "new": last})).rowcount == 1
            if not moved:  # moved by someone else meanwhile, or not known yet: read it, locked, and chain onto that
                head = (await self.core(READ_HEAD_LOCKED, {})).scalar()
                last = _chain(head or GENESIS, entries)
                await self.core(SET_HEAD if head is not None else ADD_HEAD, {"new": last})
        self._holding = (self.session.sync_session.get_transaction(), last)
        # Core, not the ORM: the ORM inserts row by row on SQLite to learn each id; nobody needs them here
        rows = [{column: getattr(entry, column) for column in COLUMNS} for entry in entries]
        await self.core(insert(AuditEntry.__table__), rows)

    def committed(self) -> None:
        """The transaction committed: where it moved the head is where the next one starts."""
        if self._holding is not None:
            self._known.hash = self._holding[1]

    def appended(self, entity: str, entity_id: str | int) -> list[AuditEntry]:
        """The entries of an entity appended in this transaction, in order (all it has, for one created in it)."""
        return [e for e in self._appended if e.entity == entity and e.entity_id == str(entity_id)]

    def forget(self) -> None:
        """The transaction ended (committed, or rolled back with what it appended)."""
        self._pending, self._appended, self._holding = [], [], None

    async def for_entity(self, entity: str, entity_id: str | int) -> list[AuditEntry]:
        await self.write_pending()
        rows = await self.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.entity == entity, AuditEntry.entity_id == str(entity_id))
            .order_by(AuditEntry.id)
        )
        return list(rows)

    async def stream(self, batch: int = 1000) -> AsyncIterator[AuditEntry]:
        await self.write_pending()
        last_id = 0
        while True:
            rows = list(
                await self.session.scalars(
                    select(AuditEntry).where(AuditEntry.id > last_id).order_by(AuditEntry.id).limit(batch)
                )
            )
            if not rows:
                return
            for row in rows:
                yield row
            last_id = rows[-1].id

    async def head_hash(self) -> str:
        await self.write_pending()
        return (await self.core(READ_HEAD, {})).scalar() or GENESIS
