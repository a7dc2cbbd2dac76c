"""Timeliness figures (E4, A5): per department, how many deadlines were met on time, met within a
granted extension, late or missed — monthly to managers, and on demand with /timeliness.

Other flows add their own figures (e.g. the incident flow's reporting windows) by appending a
:data:`TimelinessSource` to ``TimelinessService.sources``: an async callable that, inside the
report's unit of work, returns one :class:`TallyRow` per department for deadlines that fell due in
[start, end). The rows are added up per department and listed by source in the same report.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from bot.clock import Clock
from bot.policy import Policy
from bot.services.actor import Actor
from bot.services.audit import refuse
from bot.services.deadlines.catalogue import Catalogue
from bot.services.deadlines.notices import Notices
from bot.services.deadlines.people import ADMIN, LEADER, MANAGER, People
from bot.services.deadlines.reporting import report_chart, report_text
from bot.services.errors import N_, NotAllowed
from storage.deadlines_models import DeadlineInstance
from storage.models import Member, Timer
from storage.uow import UnitOfWork, UnitOfWorkFactory

REPORT = "deadline_report"
OUTCOMES = ("on_time", "extended", "late", "missed")
OBLIGATIONS = N_("Reporting deadlines")


@dataclass
class Tally:
    on_time: int = 0
    extended: int = 0
    late: int = 0
    missed: int = 0

    @property
    def counts(self) -> tuple[int, int, int, int]:
        return self.on_time, self.extended, self.late, self.missed

    @property
    def total(self) -> int:
        return sum(self.counts)

    @property
    def rate(self) -> float | None:
        """Share met on time by the original deadline; an extension is not on time (E4)."""
        return self.on_time / self.total if self.total else None

    def count(self, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)

    def __add__(self, other: Tally) -> Tally:
        return Tally(*(mine + theirs for mine, theirs in zip(self.counts, other.counts, strict=True)))


@dataclass(frozen=True)
class TallyRow:
    department: str
    source: str  # an English message id (N_), shown translated
    tally: Tally


TimelinessSource = Callable[[UnitOfWork, datetime, datetime], Awaitable[list[TallyRow]]]


@dataclass(frozen=True)
class TimelinessReport:
    start: date  # first day, inclusive, in the organisation's time zone
    end: date  # last day, inclusive
    rows: list[TallyRow] = field(default_factory=list)

    def departments(self, order: list[str]) -> list[tuple[str, Tally, list[TallyRow]]]:
        """(department, total, rows by source) for each department with figures, in ``order``."""
        found = []
        for department in order + sorted({row.department for row in self.rows} - set(order)):
            rows = [row for row in self.rows if row.department == department]
            if rows:
                total = Tally()
                for row in rows:
                    total += row.tally
                found.append((department, total, rows))
        return found

    def only(self, department: str) -> TimelinessReport:
        return TimelinessReport(self.start, self.end, [row for row in self.rows if row.department == department])


def outcome_of(row: DeadlineInstance) -> str | None:
    """How an instance counts: its outcome once settled, "late"/"missed" while overdue, "extended" while
    running on a granted extension; None while it is simply not due yet."""
    if row.state == "done" or row.state == "missed":
        return row.outcome
    if row.state == "late":
        return "late"
    return "extended" if row.extended_due is not None else None


class TimelinessService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        policy: Policy,
        catalogue: Catalogue,
        people: People,
        notices: Notices,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._policy = policy
        self._catalogue = catalogue
        self._people = people
        self._notices = notices
        self.sources: list[TimelinessSource] = [self._obligations]

    async def report(self, actor: Actor, start: date, end: date) -> TimelinessReport:
        """Any period on demand: department heads see their department, leaders and administrators all."""
        async with self._uow() as uow:
            member = await uow.members.by_telegram_id(actor.telegram_id) if actor.telegram_id else None
            if member is None or not member.active or not member.roles & {MANAGER, LEADER, ADMIN}:
                denied = NotAllowed(N_("Only department heads, leaders and administrators can see timeliness figures."))
                await refuse(uow, self._clock, actor, "timeliness", "-", denied)
            report = await self._collect(uow, start, end)
            return report if member.roles & {LEADER, ADMIN} else report.only(member.department)

    async def _collect(self, uow: UnitOfWork, start: date, end: date) -> TimelinessReport:
        begin = self._catalogue.local_moment(start, time(0))
        finish = self._catalogue.local_moment(end + timedelta(days=1), time(0))
        rows = [row for source in self.sources for row in await source(uow, begin, finish)]
        return TimelinessReport(start, end, rows)

    async def _obligations(self, uow: UnitOfWork, start: datetime, end: datetime) -> list[TallyRow]:
        """The built-in source: obligation instances whose original deadline fell in [start, end)."""
        tallies: dict[str, Tally] = {}
        for row in await uow.deadlines.due_between(start, end):
            outcome = outcome_of(row)
            if outcome is not None:
                tallies.setdefault(row.department, Tally()).count(outcome)
        return [TallyRow(department, OBLIGATIONS, tally) for department, tally in tallies.items()]

    # The monthly report ----------------------------------------------------------------------------
    async def schedule_monthly(self, uow: UnitOfWork, now: datetime) -> None:
        """The next first working day of a month at ``deadlines.report_time``: this month's if still ahead."""
        local = now.astimezone(self._catalogue.zone).date()
        year, month = local.year, local.month
        if self._send_time(year, month) <= now:
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        await uow.timers.schedule(kind=REPORT, ref=f"{year}-{month:02d}", due_at=self._send_time(year, month), now=now)

    def _send_time(self, year: int, month: int) -> datetime:
        day = self._catalogue.first_working_day(year, month)
        return self._catalogue.local_moment(day, self._policy.deadlines.report_time)

    async def on_monthly(self, uow: UnitOfWork, timer: Timer, now: datetime) -> None:
        """Each department head gets the previous month's figures of their department with a chart;
        leaders get all departments side by side (E4)."""
        year, month = (int(part) for part in timer.ref.split("-"))
        last = date(year, month, 1) - timedelta(days=1)
        report = await self._collect(uow, last.replace(day=1), last)
        order = [department.code for department in self._policy.departments]
        key = f"dl:report:{timer.ref}"
        for department, _, _ in report.departments(order):
            heads = await self._people.nearest(uow, MANAGER, department)
            await self._send(uow, now, heads, f"{key}:{department}", report.only(department))
        if report.rows:  # a month in which nothing fell due is not worth a message
            await self._send(uow, now, await self._people.everyone_with(uow, [LEADER]), f"{key}:all", report)
        await self.schedule_monthly(uow, now)

    async def _send(
        self, uow: UnitOfWork, now: datetime, members: list[Member], key: str, report: TimelinessReport
    ) -> None:
        texts, order = self._notices.texts, [department.code for department in self._policy.departments]
        await self._notices.tell(uow, now, members, key, lambda lang: report_text(report, order, texts, lang))
        await self._notices.send_photo(
            uow, now, members, f"{key}:chart", lambda lang: report_chart(report, order, texts, lang)
        )
