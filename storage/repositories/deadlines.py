from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select

from storage.deadlines_models import DeadlineEvent, DeadlineInstance
from storage.models import Timer
from storage.repositories.base import Repository

OPEN_STATES = ("upcoming", "late", "missed")


class DeadlineRepository(Repository):
    async def add_if_new(self, **values: Any) -> int | None:
        """Insert an instance unless its obligation and period exist already (idempotent generation)."""
        statement = self.insert_ignoring_conflict(DeadlineInstance, ["obligation", "period"], **values)
        return (await self.session.execute(statement.returning(DeadlineInstance.id))).scalar_one_or_none()

    async def get(self, instance_id: int) -> DeadlineInstance | None:
        return await self.session.get(DeadlineInstance, instance_id)

    async def in_state(self, *states: str) -> Sequence[DeadlineInstance]:
        query = select(DeadlineInstance).where(DeadlineInstance.state.in_(states))
        return (await self.session.scalars(query.order_by(DeadlineInstance.due_at, DeadlineInstance.id))).all()

    async def open(self, department: str | None = None) -> Sequence[DeadlineInstance]:
        """Instances not done yet (upcoming, late, missed), earliest first; one department or all."""
        query = select(DeadlineInstance).where(DeadlineInstance.state.in_(OPEN_STATES))
        if department is not None:
            query = query.where(DeadlineInstance.department == department)
        return (await self.session.scalars(query.order_by(DeadlineInstance.due_at, DeadlineInstance.id))).all()

    async def due_between(
        self, start: datetime, end: datetime | None, department: str | None = None
    ) -> Sequence[DeadlineInstance]:
        """Instances whose original deadline lies in [start, end) (no end: from start on), withdrawn left out."""
        query = select(DeadlineInstance).where(DeadlineInstance.due_at >= start, DeadlineInstance.state != "withdrawn")
        if end is not None:
            query = query.where(DeadlineInstance.due_at < end)
        if department is not None:
            query = query.where(DeadlineInstance.department == department)
        return (await self.session.scalars(query.order_by(DeadlineInstance.due_at, DeadlineInstance.id))).all()

    def add_event(self, event: DeadlineEvent) -> DeadlineEvent:
        self.session.add(event)
        return event

    async def event(self, event_id: int) -> DeadlineEvent | None:
        return await self.session.get(DeadlineEvent, event_id)

    async def events(self, event_ids: set[int]) -> dict[int, DeadlineEvent]:
        if not event_ids:
            return {}
        rows = await self.session.scalars(select(DeadlineEvent).where(DeadlineEvent.id.in_(event_ids)))
        return {row.id: row for row in rows}

    async def pending_timers(self, instance_id: int, kinds: tuple[str, ...]) -> Sequence[Timer]:
        """The instance's timers still to fire (its reminders, late and missed checks)."""
        query = select(Timer).where(Timer.kind.in_(kinds), Timer.ref == str(instance_id), Timer.state == "pending")
        return (await self.session.scalars(query)).all()
