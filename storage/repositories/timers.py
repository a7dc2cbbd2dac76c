from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import bindparam, case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Timer
from storage.repositories.base import Repository, per_dialect

# A report plans up to five timers (escalation, external deadlines): built once (issue 15)
CREATE = per_dialect(lambda insert: insert(Timer).on_conflict_do_nothing(index_elements=["key"]).returning(Timer.id))
MOVE = (
    update(Timer)
    .where(Timer.key == bindparam("timer_key"), Timer.state == "pending")
    .values(due_at=bindparam("new_due_at"))
)


class TimerRepository(Repository):
    def __init__(self, session: AsyncSession, on_schedule: Callable[[datetime], None] = lambda _: None) -> None:
        super().__init__(session)
        self._on_schedule = on_schedule

    async def schedule(self, *, kind: str, ref: str, due_at: datetime, now: datetime, key: str | None = None) -> None:
        """Create a timer, or move a pending one with the same key to the new due time."""
        key = key or f"{kind}:{ref}"
        self._on_schedule(due_at)
        values = {"kind": kind, "ref": ref, "key": key, "due_at": due_at, "state": "pending", "created_at": now}
        # One statement in the usual case; two processes planning the same timer at once both succeed.
        created = (await self.core(CREATE[self.dialect], values)).scalar()
        if created is None:  # the key exists: a pending timer moves, a fired or cancelled one stays
            await self.core(MOVE, {"timer_key": key, "new_due_at": due_at})

    async def cancel(self, key: str) -> None:
        await self.session.execute(
            update(Timer).where(Timer.key == key, Timer.state == "pending").values(state="cancelled")
        )

    async def cancel_ref(self, kind: str, ref: str) -> None:
        await self.session.execute(
            update(Timer)
            .where(Timer.kind == kind, Timer.ref == ref, Timer.state == "pending")
            .values(state="cancelled")
        )

    async def claim_due(self, now: datetime, limit: int = 1) -> list[Timer]:
        """The oldest due timers, locked for this transaction (SKIP LOCKED on PostgreSQL)."""
        query = (
            select(Timer)
            .where(Timer.state == "pending", Timer.due_at <= now)
            .order_by(Timer.due_at, Timer.id)
            .limit(limit)
        )
        if self.dialect == "postgresql":
            query = query.with_for_update(skip_locked=True)
        return list(await self.session.scalars(query))

    async def claim(self, timer_id: int) -> Timer | None:
        """One timer, if still pending, locked for this transaction (SKIP LOCKED on PostgreSQL)."""
        query = select(Timer).where(Timer.id == timer_id, Timer.state == "pending")
        if self.dialect == "postgresql":
            query = query.with_for_update(skip_locked=True)
        return await self.session.scalar(query)

    async def next_due(self) -> datetime | None:
        return await self.session.scalar(select(func.min(Timer.due_at)).where(Timer.state == "pending"))

    async def summary(self, now: datetime) -> tuple[int, int, datetime | None]:
        """Pending timers, how many of them are overdue, and the oldest due time among those (issue 13)."""
        overdue = case((Timer.due_at <= now, 1), else_=0)
        query = select(func.count(), func.coalesce(func.sum(overdue), 0), func.min(Timer.due_at))
        pending, late, earliest = (await self.session.execute(query.where(Timer.state == "pending"))).one()
        return pending, int(late), earliest if late else None

    async def pending(self, kind: str | None = None) -> list[Timer]:
        query = select(Timer).where(Timer.state == "pending")
        if kind:
            query = query.where(Timer.kind == kind)
        return list(await self.session.scalars(query.order_by(Timer.due_at)))
