from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.models import OutboxMessage
from storage.repositories.base import Repository, per_dialect


def _claim(locking: bool, among: bool) -> Any:
    """The claim's query (see `OutboxRepository.claim`), built once per kind: each alert's commit runs it."""
    now, earlier = bindparam("now"), aliased(OutboxMessage)
    blocking = exists().where(
        earlier.chat_id == OutboxMessage.chat_id,
        earlier.id < OutboxMessage.id,
        # an earlier row due now, or waiting to be retried, or in flight, holds the chat back;
        # one merely scheduled for later (a planned post) does not
        ((earlier.state == "pending") & ((earlier.due_at <= now) | earlier.last_error.is_not(None)))
        | ((earlier.state == "sending") & (earlier.claimed_until > now)),
    )
    query = (
        select(OutboxMessage)
        .where(
            ((OutboxMessage.state == "pending") & (OutboxMessage.due_at <= now))
            | ((OutboxMessage.state == "sending") & (OutboxMessage.claimed_until <= now)),
            ~blocking,
        )
        .order_by(OutboxMessage.id)
        .limit(bindparam("limit"))
    )
    if among:
        query = query.where(OutboxMessage.id.in_(bindparam("among", expanding=True)))
    return query.with_for_update(skip_locked=True, of=OutboxMessage) if locking else query


_CLAIM = {(locking, among): _claim(locking, among) for locking in (False, True) for among in (False, True)}
ADD = per_dialect(  # every alert and answer queued runs it
    lambda insert: insert(OutboxMessage).on_conflict_do_nothing(index_elements=["key"]).returning(OutboxMessage.id)
)


class OutboxRepository(Repository):
    def __init__(
        self, session: AsyncSession, on_add: Callable[[int, int], None] = lambda row_id, chat_id: None
    ) -> None:
        super().__init__(session)
        self._on_add = on_add

    async def add(
        self,
        *,
        key: str,
        chat_id: int,
        method: str,
        payload: dict[str, Any],
        now: datetime,
        due_at: datetime | None = None,
        edit_of: int | None = None,
        on_failure: str | None = None,
        ref: str | None = None,
    ) -> int | None:
        """Queue a Bot API call; a key queued before is ignored (idempotency). Returns the row id."""
        values = {
            "key": key,
            "chat_id": chat_id,
            "method": method,
            "payload": payload,
            "state": "pending",
            "due_at": due_at or now,
            "attempts": 0,
            "edit_of": edit_of,
            "on_failure": on_failure,
            "ref": ref,
            "created_at": now,
        }
        row_id = (await self.core(ADD[self.dialect], values)).scalar_one_or_none()
        if row_id is not None:
            self._on_add(row_id, chat_id)
        return row_id

    async def get(self, message_id: int) -> OutboxMessage | None:
        return await self.session.get(OutboxMessage, message_id)

    async def by_ref(self, ref: str) -> Sequence[OutboxMessage]:
        rows = await self.session.scalars(
            select(OutboxMessage).where(OutboxMessage.ref == ref).order_by(OutboxMessage.id)
        )
        return rows.all()

    async def claim(
        self, now: datetime, claim_until: datetime, limit: int, among: Collection[int] | None = None
    ) -> Sequence[OutboxMessage]:
        """Claim the oldest sendable row of each chat (only rows `among` these ids, if given): due, and
        nothing older for that chat still in flight, due or retrying, so each chat's messages go out in order.
        Claimed rows are skipped by other processes (SKIP LOCKED on PostgreSQL; SQLite serialises writers)."""
        query = _CLAIM[self.dialect == "postgresql", among is not None]
        parameters = {"now": now, "limit": limit, **({"among": list(among)} if among is not None else {})}
        rows = (await self.session.scalars(query, parameters)).all()
        for row in rows:
            row.state = "sending"
            row.claimed_until = claim_until
        return rows

    async def record_outcomes(self, outcomes: list[dict[str, Any]]) -> None:
        """Write several rows' outcomes (each a dict with the row's `id` and the changed columns) at once."""
        if outcomes:
            await self.session.execute(update(OutboxMessage), outcomes)

    async def renew_claims(self, row_ids: list[int], claim_until: datetime) -> None:
        await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(row_ids), OutboxMessage.state == "sending")
            .values(claimed_until=claim_until)
        )

    async def next_due(self, now: datetime) -> datetime | None:
        """When a row next becomes sendable: a pending row falls due, or a dead sender's claim lapses. A row
        behind its chat's message in flight does not count: whoever sends that one looks again when it is done
        (the sender looked every 50 ms while a chat's messages waited for their 1 s turns)."""
        in_flight = aliased(OutboxMessage)
        behind = exists().where(
            in_flight.chat_id == OutboxMessage.chat_id, in_flight.state == "sending", in_flight.claimed_until > now
        )
        pending = select(func.min(OutboxMessage.due_at)).where(OutboxMessage.state == "pending", ~behind)
        claimed = select(func.min(OutboxMessage.claimed_until)).where(OutboxMessage.state == "sending")
        moments = [await self.session.scalar(pending), await self.session.scalar(claimed)]
        return min((moment for moment in moments if moment is not None), default=None)

    async def backlog(self, now: datetime) -> tuple[int, datetime | None]:
        """How many messages are due and not sent, and since when the oldest of them is due (issue 13)."""
        due = (OutboxMessage.state == "pending") & (OutboxMessage.due_at <= now)
        count, oldest = (
            await self.session.execute(select(func.count(), func.min(OutboxMessage.due_at)).where(due))
        ).one()
        return count, oldest

    async def count_by_state(self) -> dict[str, int]:
        rows = await self.session.execute(select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state))
        return {state: count for state, count in rows.all()}

    async def cancel_pending(self, ref: str) -> int:
        """Drop messages not yet sent for a reference (e.g. alerts of an acknowledged step)."""
        result = await self.session.execute(
            update(OutboxMessage)
            .where(and_(OutboxMessage.ref == ref, OutboxMessage.state == "pending"))
            .values(state="cancelled")
        )
        return result.rowcount or 0
