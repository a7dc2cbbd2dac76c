"""Incidents: numbering, lookups, lists (paginated) and figures computed by the database (A5)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from storage.incidents_models import (
    CLOSED,
    EXTERNAL_FILED,
    EXTERNAL_MISSED,
    EXTERNAL_OPEN,
    EXTERNAL_PENDING,
    Incident,
    IncidentAlert,
    IncidentCounter,
    IncidentMedia,
)
from storage.models import Member, OutboxMessage
from storage.repositories.base import Repository, per_dialect

# A report marked as a duplicate is the same case as the one it joins, not another (issue 14)
NOT_A_DUPLICATE = Incident.duplicate_of.is_(None)

# Every alert looks for the reports it may duplicate (issue 14): built once (issue 15)
NEAR_IN_TIME = (
    select(Incident.id, Incident.number, Incident.occurred_at, Incident.latitude, Incident.longitude)
    .where(
        Incident.category == bindparam("category"),
        Incident.duty_room == bindparam("room"),
        Incident.occurred_at >= bindparam("since"),
        Incident.occurred_at <= bindparam("until"),
        NOT_A_DUPLICATE,
        Incident.id != bindparam("but"),
    )
    .order_by(Incident.occurred_at)
    .limit(bindparam("limit"))
)

# A Submit pressed again finds the report it filed; every report counts its category's recent cases (A4(4))
SUBMITTED = select(Incident.id).where(Incident.submission_key == bindparam("key"))
_SAME_CATEGORY = select(func.count()).where(
    Incident.category == bindparam("category"),
    Incident.occurred_at >= bindparam("since"),
    Incident.occurred_at <= bindparam("until"),
    NOT_A_DUPLICATE,
)
SAME_CATEGORY = {False: _SAME_CATEGORY, True: _SAME_CATEGORY.where(Incident.department == bindparam("department"))}


def _next_number(insert: Any) -> Any:
    statement = insert(IncidentCounter).values(last=1)
    return statement.on_conflict_do_update(index_elements=["year"], set_={"last": IncidentCounter.last + 1}).returning(
        IncidentCounter.last
    )


NEXT_NUMBER = per_dialect(_next_number)  # every report


class IncidentRepository(Repository):
    """Incidents, their media and alerts. An incident created in the current transaction can have no media or
    alerts but those added in it: they are answered from memory, without a query (issue 15: the report's
    submit press). `UnitOfWork` calls `forget` when the transaction ends."""

    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session)
        self._created: list[Incident] = []
        self._new_media: list[IncidentMedia] = []
        self._new_alerts: list[IncidentAlert] = []

    def forget(self) -> None:
        self._created, self._new_media, self._new_alerts = [], [], []

    def created_here(self, incident_id: int) -> bool:
        return any(incident.id == incident_id for incident in self._created)

    async def next_sequence(self, year: int) -> int:
        """The next number of `year`, allocated inside the caller's transaction (the row stays locked)."""
        return int((await self.core(NEXT_NUMBER[self.dialect], {"year": year})).scalar_one())

    def add(self, incident: Incident) -> Incident:
        self.session.add(incident)
        self._created.append(incident)
        return incident

    async def get(self, incident_id: int, *, lock: bool = False) -> Incident | None:
        """With `lock`, other processes wait for this transaction (an acknowledgement racing an escalation)."""
        query = select(Incident).where(Incident.id == incident_id)
        if lock:
            query = query.with_for_update()
        return await self.session.scalar(query)

    async def by_number(self, number: str) -> Incident | None:
        return await self.session.scalar(select(Incident).where(Incident.number == number))

    # Media and alerts -----------------------------------------------------------------------
    async def by_submission(self, key: str) -> Incident | None:
        """The report a Submit filed already (its answer lost); looked for by every report, found rarely."""
        incident_id = await self.session.scalar(SUBMITTED, {"key": key})
        return await self.session.get(Incident, incident_id) if incident_id is not None else None

    async def alerted_names(self, incident_id: int, round: int) -> Sequence[str]:
        """The names of the members a round reached, in the order they were alerted."""
        query = (
            select(Member.name)
            .join(IncidentAlert, IncidentAlert.member_id == Member.id)
            .where(IncidentAlert.incident_id == incident_id, IncidentAlert.round == round, IncidentAlert.reachable)
            .order_by(IncidentAlert.id)
        )
        return (await self.session.scalars(query)).all()

    def add_media(self, media: IncidentMedia) -> None:
        self.session.add(media)
        self._new_media.append(media)

    async def media(self, incident_id: int) -> Sequence[IncidentMedia]:
        if self.created_here(incident_id):
            return [media for media in self._new_media if media.incident_id == incident_id]
        query = select(IncidentMedia).where(IncidentMedia.incident_id == incident_id).order_by(IncidentMedia.id)
        return (await self.session.scalars(query)).all()

    def add_alert(self, alert: IncidentAlert) -> None:
        self.session.add(alert)
        self._new_alerts.append(alert)

    async def alerts(self, incident_id: int) -> Sequence[IncidentAlert]:
        if self.created_here(incident_id):
            return [alert for alert in self._new_alerts if alert.incident_id == incident_id]
        query = select(IncidentAlert).where(IncidentAlert.incident_id == incident_id).order_by(IncidentAlert.id)
        return (await self.session.scalars(query)).all()

    async def alert_for_outbox(self, outbox_id: int) -> IncidentAlert | None:
        return await self.session.scalar(select(IncidentAlert).where(IncidentAlert.outbox_id == outbox_id))

    # Lists ---------------------------------------------------------------------------------------
    async def count_same_category(
        self, category: str, since: datetime, until: datetime, department: str | None = None
    ) -> int:
        """Incidents of `category` that occurred in [since, until] (rule A4(4))."""
        values = {"category": category, "since": since, "until": until, "department": department}
        return int(await self.session.scalar(SAME_CATEGORY[department is not None], values) or 0)

    # Linked reports (issue 14) -------------------------------------------------------------------
    async def near_in_time(
        self, category: str, room: str, since: datetime, until: datetime, but: int, limit: int = 20
    ) -> Sequence[Row[tuple[int, str, datetime, float | None, float | None]]]:
        """Incidents of `category` and duty room `room` that occurred in [since, until], not duplicates
        themselves, other than `but`: the candidates an alert suggests as the same case. Only what a suggestion
        shows (id, number, when, pin): every alert reads up to `limit` of them."""
        parameters = {"category": category, "room": room, "since": since, "until": until, "but": but, "limit": limit}
        await self.session.flush()  # the statement bypasses the ORM: it must see this transaction's changes
        return (await self.core(NEAR_IN_TIME, parameters)).all()

    async def recent_open_in_room(self, room: str, but: int, limit: int) -> Sequence[Incident]:
        query = (
            select(Incident)
            .where(
                Incident.duty_room == room,
                Incident.status != CLOSED,
                NOT_A_DUPLICATE,
                Incident.id != but,
            )
            .order_by(Incident.id.desc())
            .limit(limit)
        )
        return (await self.session.scalars(query)).all()

    async def duplicates_of(self, incident_id: int) -> Sequence[Incident]:
        query = select(Incident).where(Incident.duplicate_of == incident_id).order_by(Incident.id)
        return (await self.session.scalars(query)).all()

    async def counted_by_repeat(self, category: str, since: datetime) -> Sequence[Incident]:
        """Incidents of `category` since `since` whose outside report is due or overdue and not filed: those
        whose A4(4) count a newly marked duplicate may have made false."""
        query = (
            select(Incident)
            .where(
                Incident.category == category,
                Incident.occurred_at >= since,
                Incident.external_state.in_(EXTERNAL_OPEN),
            )
            .order_by(Incident.id)
        )
        return (await self.session.scalars(query)).all()

    async def by_alert_message(self, chat_id: int, message_id: int, ref_prefix: str) -> Incident | None:
        """The incident whose alert, map pin or album was sent to `chat_id` as message `message_id` (those
        rows carry the ref `<ref_prefix><incident id>`)."""
        query = select(OutboxMessage.ref).where(
            OutboxMessage.chat_id == chat_id,
            OutboxMessage.message_id == message_id,
            OutboxMessage.ref.startswith(ref_prefix),
        )
        ref = await self.session.scalar(query.limit(1))
        suffix = ref[len(ref_prefix) :] if ref else ""
        return await self.get(int(suffix)) if suffix.isdigit() else None

    async def page(
        self, where: Sequence[ColumnElement[bool]], offset: int, limit: int
    ) -> tuple[Sequence[Incident], int]:
        total = await self.session.scalar(select(func.count()).select_from(Incident).where(*where)) or 0
        rows = await self.session.scalars(
            select(Incident).where(*where).order_by(Incident.id.desc()).offset(offset).limit(limit)
        )
        return rows.all(), int(total)

    async def open_assigned_to(self, member_id: int) -> Sequence[Incident]:
        query = select(Incident).where(Incident.assignee_id == member_id, Incident.status != CLOSED)
        return (await self.session.scalars(query.order_by(Incident.id))).all()

    async def open_in_room(self, room: str) -> Sequence[Incident]:
        """Open incidents of a duty room, and closed ones whose outside report is still not filed (B2)."""
        query = select(Incident).where(
            Incident.duty_room == room,
            (Incident.status != CLOSED) | Incident.external_state.in_(EXTERNAL_OPEN),
        )
        return (await self.session.scalars(query.order_by(Incident.id))).all()

    async def in_period(self, where: Sequence[ColumnElement[bool]], after_id: int, batch: int) -> Sequence[Incident]:
        query = select(Incident).where(*where, Incident.id > after_id).order_by(Incident.id).limit(batch)
        return (await self.session.scalars(query)).all()

    # Figures (A5): aggregates over the period, never rows loaded into Python ------------------
    # The figures count cases: duplicates are counted apart, not in the totals, the times to acknowledge or
    # the outside reports (`NOT_A_DUPLICATE`).
    async def breakdown(self, where: Sequence[ColumnElement[bool]]) -> Breakdown:
        """Every count of /stats in one pass over the period: grouped by category and department in SQL (a few
        dozen groups at most), then added up here. One pass instead of three: at 1,000,000 incidents each pass
        over a month's ~30,000 rows is most of the reply's time."""

        def count_if(condition: ColumnElement[bool]) -> Any:
            return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

        def counted_if(condition: ColumnElement[bool]) -> Any:
            return count_if(NOT_A_DUPLICATE & condition)

        query = (
            select(
                Incident.category,
                Incident.department,
                count_if(NOT_A_DUPLICATE).label("total"),
                counted_if(Incident.ack_seconds.is_not(None)).label("acknowledged"),
                counted_if(Incident.ack_in_window.is_(True)).label("in_window"),
                counted_if(Incident.external_due_at.is_not(None)).label("reportable"),
                counted_if((Incident.external_state == EXTERNAL_FILED) & Incident.external_missed.is_(False)).label(
                    "met"
                ),
                counted_if(Incident.external_state == EXTERNAL_MISSED).label("missed"),
                counted_if((Incident.external_state == EXTERNAL_FILED) & Incident.external_missed.is_(True)).label(
                    "late"
                ),
                counted_if(Incident.external_state == EXTERNAL_PENDING).label("pending"),
                count_if(Incident.duplicate_of.is_not(None)).label("duplicates"),
            )
            .where(*where)
            .group_by(Incident.category, Incident.department)
        )
        summary = dict.fromkeys(SUMMARY_KEYS, 0)
        categories: Counter[str] = Counter()
        departments: Counter[str] = Counter()
        for row in (await self.session.execute(query)).all():
            values = row._mapping
            for key in SUMMARY_KEYS:
                summary[key] += int(values[key] or 0)
            if row.total:  # a group of duplicates only is no case of its category or department
                categories[row.category] += int(row.total)
                departments[row.department] += int(row.total)
        return Breakdown(summary, _ranked(categories), _ranked(departments))

    async def ack_percentiles(
        self, where: Sequence[ColumnElement[bool]], shares: Sequence[float], count: int
    ) -> list[int | None]:
        """Nearest-rank percentiles of the time to acknowledge from the database's histogram of it (how many
        incidents took each number of seconds: hundreds of rows, not one per incident). Grouping costs a
        third of sorting every value: 9 against 23 ms for a month of 27,000 incidents (bench/footprint.py)."""
        if count == 0:
            return [None for _ in shares]
        query = (
            select(Incident.ack_seconds, func.count())
            .where(*where, NOT_A_DUPLICATE, Incident.ack_seconds.is_not(None))
            .group_by(Incident.ack_seconds)
            .order_by(Incident.ack_seconds)
        )
        histogram = (await self.session.execute(query)).all()
        found: list[int | None] = []
        for share in shares:
            rank, seen, value = max(1, math.ceil(share * count)), 0, None
            for seconds, times in histogram:
                seen, value = seen + int(times), int(seconds)
                if seen >= rank:
                    break
            found.append(value)
        return found


SUMMARY_KEYS = ("total", "acknowledged", "in_window", "reportable", "met", "missed", "late", "pending", "duplicates")


@dataclass(frozen=True)
class Breakdown:
    summary: dict[str, int]
    by_category: list[tuple[str, int]]
    by_department: list[tuple[str, int]]


def _ranked(counts: Counter[str]) -> list[tuple[str, int]]:
    """Most first, then by code: the order the database gave when it grouped by one column."""
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))
