"""Instances and their timers (E1–E6, E4): generated ahead, recomputed when the policy changes,
reminded, marked late and missed. Timer handlers run in the runner's unit of work."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta

from bot.channels.feishu import CHANNEL as FEISHU
from bot.clock import Clock
from bot.policy import Policy
from bot.services.actor import Actor
from bot.services.audit import record
from bot.services.deadlines.catalogue import Catalogue
from bot.services.deadlines.notices import Notices
from bot.services.deadlines.people import ADMIN, MANAGER, People
from bot.services.deadlines.views import DeadlineView
from bot.services.errors import N_
from storage.deadlines_models import DeadlineInstance
from storage.models import OutboxMessage, Timer
from storage.uow import UnitOfWork, UnitOfWorkFactory

REMIND, LATE, MISSED = "deadline_remind", "deadline_late", "deadline_missed"
DAILY, CALENDAR = "deadline_daily", "deadline_calendar"
INSTANCE_TIMERS = (REMIND, LATE, MISSED)
DAILY_AT = time(2, 0)  # local time of the daily generation pass
SYSTEM = Actor(telegram_id=None)


class DeadlineScheduler:
    def __init__(self, catalogue: Catalogue, people: People, notices: Notices, clock: Clock, policy: Policy) -> None:
        self.catalogue = catalogue
        self._people = people
        self._notices = notices
        self._clock = clock
        self._policy = policy

    async def view(self, uow: UnitOfWork, row: DeadlineInstance) -> DeadlineView:
        return (await self.views(uow, [row]))[0]

    def reminders(self, view: DeadlineView) -> tuple[timedelta, ...]:
        spec = self.catalogue.get(view.code)
        return spec.reminders if spec else ()

    async def views(self, uow: UnitOfWork, rows: Sequence[DeadlineInstance]) -> list[DeadlineView]:
        events = await uow.deadlines.events({row.event_id for row in rows if row.event_id})
        found = []
        for row in rows:
            spec = self.catalogue.get(row.obligation)
            event = events.get(row.event_id) if row.event_id else None
            found.append(DeadlineView.of(row, spec.evidence_required if spec else False, event))
        return found

    # Generation -----------------------------------------------------------------------------
    async def start(self, uow: UnitOfWork, now: datetime) -> None:
        """At every start: recompute and generate, and make sure the daily and yearly timers exist."""
        await self.generate(uow, now)
        await self._schedule_daily(uow, now)
        await self._schedule_calendar_check(uow, now.astimezone(self.catalogue.zone).year, now)

    async def generate(self, uow: UnitOfWork, now: datetime) -> None:
        """Recompute upcoming instances whose rule changed or whose calendar was provisional (withdraw
        open ones whose obligation left the policy), then add the next periods of every recurring
        obligation; an existing obligation + period is left alone."""
        for row in await uow.deadlines.in_state("upcoming", "late"):
            await self._refresh(uow, row, now)
        for spec in self.catalogue.recurring():
            digest = self.catalogue.digest(spec)
            for anchor, due in self.catalogue.upcoming(spec, now):
                row_id = await uow.deadlines.add_if_new(
                    obligation=spec.code,
                    period=due.period_label,
                    department=spec.department,
                    owner_role=spec.owner_role,
                    owner_members=list(spec.owner_members),
                    anchor=anchor,
                    due_at=due.utc,
                    provisional=due.provisional,
                    rule_hash=digest,
                    state="upcoming",
                    created_at=now,
                )
                if row_id is not None:
                    row = await uow.deadlines.get(row_id)
                    assert row is not None
                    await self.plan(uow, row, now)
                    await record(
                        uow, self._clock, SYSTEM, "deadline", row_id, "generated", obligation=spec.code,
                        period=due.period_label, due=due.utc.isoformat(), provisional=due.provisional,
                    )  # fmt: skip

    async def _refresh(self, uow: UnitOfWork, row: DeadlineInstance, now: datetime) -> None:
        spec = self.catalogue.get(row.obligation)
        if spec is None:
            await self._withdraw(uow, row, now, "obligation removed from the policy")
            return
        digest = self.catalogue.digest(spec)
        if row.state != "upcoming" or (row.rule_hash == digest and not row.provisional):
            return  # a late instance keeps the deadline it missed
        due = self.catalogue.due(spec, row.anchor)
        if spec.event is None and due.period_label != row.period:
            await self._withdraw(uow, row, now, "the rule's periods changed")
            return
        previous, changed = row.due_at, row.rule_hash != digest or row.due_at != due.utc
        row.due_at, row.provisional, row.rule_hash = due.utc, due.provisional, digest
        row.department, row.owner_role, row.owner_members = spec.department, spec.owner_role, list(spec.owner_members)
        if changed:
            await self.plan(uow, row, now)
            await record(
                uow, self._clock, SYSTEM, "deadline", row.id, "recomputed", previous_due=previous.isoformat(),
                due=due.utc.isoformat(), provisional=due.provisional,
            )  # fmt: skip

    async def _withdraw(self, uow: UnitOfWork, row: DeadlineInstance, now: datetime, reason: str) -> None:
        row.state = "withdrawn"
        await self.plan(uow, row, now)
        await record(uow, self._clock, SYSTEM, "deadline", row.id, "withdrawn", reason=reason)

    async def plan(self, uow: UnitOfWork, row: DeadlineInstance, now: datetime) -> None:
        """Make the instance's timers match its state: reminders and the late check while upcoming,
        the missed check while late, none once settled. Keys carry the deadline, so a moved deadline
        gets fresh reminders and an unchanged one never repeats a reminder already sent."""
        due, ref = row.effective_due, str(row.id)
        stamp = int(due.timestamp())
        wanted: dict[str, tuple[str, datetime]] = {}
        if row.state == "upcoming":
            spec = self.catalogue.get(row.obligation)
            for offset in spec.reminders if spec else ():
                if due - offset > now:
                    wanted[f"{REMIND}:{ref}:{stamp}:{int(offset.total_seconds())}"] = (REMIND, due - offset)
            wanted[f"{LATE}:{ref}:{stamp}"] = (LATE, due)
        elif row.state == "late":
            grace = timedelta(hours=self._policy.deadlines.grace_hours)
            wanted[f"{MISSED}:{ref}:{stamp}"] = (MISSED, due + grace)
        for timer in await uow.deadlines.pending_timers(row.id, INSTANCE_TIMERS):
            if timer.key not in wanted:
                timer.state = "cancelled"
        for key, (kind, at) in wanted.items():
            await uow.timers.schedule(kind=kind, ref=ref, due_at=at, now=now, key=key)

    # Timers ---------------------------------------------------------------------------------------
    async def on_remind(self, uow: UnitOfWork, timer: Timer, now: datetime) -> None:
        row = await uow.deadlines.get(int(timer.ref))
        if row is None or row.state != "upcoming":
            return
        view, texts = await self.view(uow, row), self._notices.texts
        reminder = self._notices.render(view, N_("⏰ Reminder: {name} ({period}) is due {due}."))

        def with_notes(lang: str) -> str:
            return reminder(lang) + texts.evidence_note(view, lang) + texts.provisional_note(view, lang)

        await self._notices.tell_owners(uow, now, row, view, f"dl:{row.id}:remind:{timer.id}", with_notes)

    async def on_late(self, uow: UnitOfWork, timer: Timer, now: datetime) -> None:
        """Past due without Done: late; the owners and the roles the obligation names are told (E4)."""
        row = await uow.deadlines.get(int(timer.ref))
        if row is None or row.state != "upcoming" or row.effective_due > now:
            return
        row.state = "late"
        await self.plan(uow, row, now)
        await record(uow, self._clock, SYSTEM, "deadline", row.id, "late", due=row.effective_due.isoformat())
        view = await self.view(uow, row)
        late = N_(
            "⚠️ {name} ({period}) was due {due} and is now late. Mark it done as soon as it is filed, "
            "or ask for more time."
        )
        owners = await self._notices.tell_owners(
            uow, now, row, view, f"dl:{row.id}:late", self._notices.render(view, late)
        )
        spec = self.catalogue.get(row.obligation)
        roles = spec.late_roles if spec else self._policy.deadlines.notify_late_roles
        told = [m for m in await self._people.nearest_of(uow, roles, row.department) if m not in owners]
        late_told = N_("⚠️ Late: {name} ({period}), {department}, was due {due} and is not done. Owner: {owners}.")
        render = self._notices.render(view, late_told, owners=self._notices.names(owners))
        await self._notices.tell(uow, now, told, f"dl:{row.id}:late-told", render)

    async def on_missed(self, uow: UnitOfWork, timer: Timer, now: datetime) -> None:
        """Still not done after the grace period: missed; leaders and the owners are told (E4)."""
        row = await uow.deadlines.get(int(timer.ref))
        if row is None or row.state != "late":
            return
        row.state, row.outcome = "missed", "missed"
        await self.plan(uow, row, now)
        await record(uow, self._clock, SYSTEM, "deadline", row.id, "missed", due=row.effective_due.isoformat())
        view = await self.view(uow, row)
        owners = await self._people.owners(uow, row)
        leaders = await self._people.everyone_with(uow, self._policy.deadlines.notify_missed_roles)
        missed = N_(
            "❌ Missed: {name} ({period}), {department}, was due {due} and is still not done {hours} hours "
            "later. Owner: {owners}."
        )
        render = self._notices.render(
            view, missed, owners=self._notices.names(owners), hours=self._policy.deadlines.grace_hours
        )
        told = [*owners, *(m for m in leaders if m not in owners)]
        await self._notices.tell(uow, now, told, f"dl:{row.id}:missed", render)

    async def on_daily(self, uow: UnitOfWork, timer: Timer, now: datetime) -> None:
        await self.generate(uow, now)
        await self._schedule_daily(uow, now)

    async def _schedule_daily(self, uow: UnitOfWork, now: datetime) -> None:
        tomorrow = now.astimezone(self.catalogue.zone).date() + timedelta(days=1)
        at = self.catalogue.local_moment(tomorrow, DAILY_AT)
        await uow.timers.schedule(kind=DAILY, ref=tomorrow.isoformat(), due_at=at, now=now)

    async def on_calendar(self, uow: UnitOfWork, timer: Timer, now: datetime) -> None:
        """In December: when next year's official schedule is missing, administrators are told that
        working-day deadlines for it are provisional (E3)."""
        year = int(timer.ref) + 1
        if not self.catalogue.calendar.has_official_schedule(year):
            admins = await self._people.everyone_with(uow, [ADMIN])
            await self._notices.tell(
                uow,
                now,
                admins,
                f"dl:calendar:{year}",
                lambda lang: self._notices.texts.gettext(
                    "📅 Working-day deadlines for {year} are provisional: the official holiday schedule for {year} "
                    "(holidays and make-up working days, 调休) is not in the bot's calendar yet. When the State "
                    "Council publishes it, update the holidays package, or enter the days in "
                    "deadlines.holiday_overrides and list {year} in deadlines.complete_years. Until then those "
                    "deadlines are marked provisional.",
                    lang,
                    year=year,
                ),
            )
        await self._schedule_calendar_check(uow, year, now)

    async def _schedule_calendar_check(self, uow: UnitOfWork, year: int, now: datetime) -> None:
        """Once a year on 1 December; if the bot starts later in December it runs at once."""
        at = self.catalogue.local_moment(date(year, 12, 1), self._policy.deadlines.report_time)
        await uow.timers.schedule(kind=CALENDAR, ref=str(year), due_at=at, now=now)

    async def on_unreachable(self, uow: UnitOfWork, message: OutboxMessage, now: datetime, refused_by: str) -> None:
        """An owner could not be reached (blocked the bot, deleted chat; or in Feishu, where a member linked to it
        gets their messages): their department head is told."""
        row = await uow.deadlines.get(int((message.ref or "deadline:0").split(":")[1]))
        member = await uow.members.by_telegram_id(message.chat_id)
        if row is None or member is None:
            return
        view = await self.view(uow, row)
        heads = [m for m in await self._people.nearest(uow, MANAGER, row.department) if m.id != member.id]
        unreachable = (
            N_(
                "📵 A message about {name} ({period}) could not be delivered to {member} in Feishu. "
                "Please make sure they know."
            )
            if refused_by == FEISHU
            else N_(
                "📵 A message about {name} ({period}) could not be delivered to {member}: Telegram refused it "
                "(the bot may be blocked). Please make sure they know."
            )
        )
        render = self._notices.render(view, unreachable, member=member.name)
        await self._notices.tell(uow, now, heads, f"dl:{row.id}:unreachable:{message.id}", render)


class MemberFacing:
    """The base of the services members act through: one unit of work per call, the scheduler for
    instances and timers, and the notices to other members."""

    def __init__(
        self, uow: UnitOfWorkFactory, clock: Clock, scheduler: DeadlineScheduler, people: People, notices: Notices
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._scheduler = scheduler
        self._people = people
        self._notices = notices
