"""What members do with deadlines (E4): see them, mark them done with evidence, ask for and grant
more time, export them as a calendar. Each method is one transaction that checks the caller's right
from the database first (F3) and audits every change (F1)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.services.actor import Actor
from bot.services.audit import record, refuse
from bot.services.deadlines.ics import IcsEvent, write_calendar
from bot.services.deadlines.people import LEADER, MANAGER
from bot.services.deadlines.scheduling import MemberFacing
from bot.services.deadlines.views import DeadlineView
from bot.services.errors import N_, NC_, Conflict, InvalidInput, NotAllowed, NotFound
from bot.services.text import visible_text
from storage.deadlines_models import DeadlineInstance
from storage.models import Member
from storage.uow import UnitOfWork

MAX_NOTE = 2000
MAX_REASON = 500
LONGEST_EXTENSION = timedelta(days=366)
CALENDAR_HISTORY = timedelta(days=92)  # the calendar export also shows the last three months
OPEN = ("upcoming", "late", "missed")  # done after it was missed still counts as missed
DECIDABLE = ("upcoming", "late")  # more time can be asked for and given


@dataclass(frozen=True)
class Overview:
    mine: list[DeadlineView]
    others: list[DeadlineView]  # the department's (department heads) or everyone's (leaders)
    scope: str | None  # "department", "all" or None


@dataclass(frozen=True)
class DoneResult:
    view: DeadlineView
    needs_evidence: bool  # nothing changed yet: ask for a note or a file


class DeadlineService(MemberFacing):
    # Reading ------------------------------------------------------------------------------------
    async def overview(self, actor: Actor) -> Overview:
        """A member's own open items; department heads also see their department's, leaders everyone's."""
        async with self._uow() as uow:
            member = await self._member(uow, actor)
            scope = "all" if LEADER in member.roles else "department" if MANAGER in member.roles else None
            rows = await uow.deadlines.open(member.department if scope == "department" else None)
            views = await self._scheduler.views(uow, rows)
            owned = {row.id for row in rows if self._people.owns(member, row)}
            mine = [view for view in views if view.id in owned]
            others = [view for view in views if view.id not in owned] if scope else []
            return Overview(mine, others, scope)

    async def calendar_file(self, actor: Actor) -> bytes:
        """The department's deadlines (a leader's: everyone's) as an iCalendar file (RFC 5545)."""
        async with self._uow() as uow:
            member = await self._member(uow, actor)
            if not member.roles & {MANAGER, LEADER}:
                denied = NotAllowed(N_("Only department heads and leaders can export their department's deadlines."))
                await refuse(uow, self._clock, actor, "deadline", "calendar", denied)
            now, language, texts = self._clock.now(), self._people.language(member), self._notices.texts
            department = None if LEADER in member.roles else member.department
            rows = await uow.deadlines.due_between(now - CALENDAR_HISTORY, None, department)
            events = [
                IcsEvent(
                    uid=f"deadline-{view.code}-{view.period.replace('#', '-')}",
                    start=view.effective_due,
                    summary=texts.line(view, language),
                    description=texts.department(view.department, language),
                    tentative=view.provisional,
                    alarms=self._scheduler.reminders(view) if view.state == "upcoming" else (),
                )
                for view in await self._scheduler.views(uow, rows)
            ]
            scope = texts.department(department, language) if department else texts.gettext("all departments", language)
            return write_calendar(texts.gettext("Deadlines: {scope}", language, scope=scope), events, now)

    # Done (E4) -----------------------------------------------------------------------------------
    async def press_done(self, actor: Actor, instance_id: int) -> DoneResult:
        """Done in one tap, unless the obligation needs evidence: then nothing changes and the caller asks for it."""
        async with self._uow() as uow:
            member, row = await self._owned(uow, actor, instance_id)
            view = await self._scheduler.view(uow, row)
            if view.evidence_required:
                return DoneResult(view, True)
            await self._settle(uow, actor, member, row, None, None)
            await uow.commit()
            return DoneResult(await self._scheduler.view(uow, row), False)

    async def check_owner(self, actor: Actor, instance_id: int, *, asking: bool = False) -> DeadlineView:
        """For form steps that change nothing yet: refuse (and audit) anyone but an owner of an open item
        (``asking``: one that may still get more time)."""
        async with self._uow() as uow:
            _, row = await self._owned(uow, actor, instance_id, DECIDABLE if asking else OPEN)
            return await self._scheduler.view(uow, row)

    async def submit_evidence(
        self, actor: Actor, instance_id: int, *, note: str | None, file_id: str | None
    ) -> DeadlineView:
        note = visible_text(note or "").strip() or None  # PostgreSQL cannot store NUL
        if note is None and file_id is None:
            raise InvalidInput(N_("Send a note or a file as evidence."))
        if note is not None and len(note) > MAX_NOTE:
            raise InvalidInput(
                NC_("deadline evidence", "The note is too long: at most {limit} characters."), limit=MAX_NOTE
            )
        async with self._uow() as uow:
            member, row = await self._owned(uow, actor, instance_id)
            await self._settle(uow, actor, member, row, note, file_id)
            await uow.commit()
            return await self._scheduler.view(uow, row)

    async def _settle(
        self, uow: UnitOfWork, actor: Actor, member: Member, row: DeadlineInstance, note: str | None, file: str | None
    ) -> None:
        """Done: on time by the original deadline, "extended" within a granted extension, else late;
        an instance already missed stays missed (A5: lateness is measured, not judged)."""
        now = self._clock.now()
        if row.outcome is None:
            within_extension = row.extended_due is not None and now <= row.extended_due
            row.outcome = "on_time" if now <= row.due_at else "extended" if within_extension else "late"
        row.state, row.done_at, row.done_by = "done", now, member.id
        row.evidence_note, row.evidence_file = note, file
        await self._scheduler.plan(uow, row, now)
        await record(
            uow, self._clock, actor, "deadline", row.id, "done", actor_id=member.id, outcome=row.outcome,
            note=note is not None, file=file,
        )  # fmt: skip

    # More time (E4) ------------------------------------------------------------------------------
    async def request_extension(self, actor: Actor, instance_id: int, reason: str) -> DeadlineView:
        """The owner asks; the department head (or, without one, a leader) gets Grant and Decline buttons."""
        reason = _reason(reason)
        async with self._uow() as uow:
            member, row = await self._owned(uow, actor, instance_id, DECIDABLE)
            now = self._clock.now()
            managers = await self._people.nearest(uow, MANAGER, row.department)
            managers = [m for m in managers or await self._people.everyone_with(uow, [LEADER]) if m.id != member.id]
            await record(uow, self._clock, actor, "deadline", row.id, "extension_requested", actor_id=member.id,
                         reason=reason)  # fmt: skip
            view = await self._scheduler.view(uow, row)
            asking = N_("⏳ {owner} asks for more time for {name} ({period}), due {due}.\nReason: {reason}")
            render = self._notices.render(view, asking, owner=member.name, reason=reason)
            buttons = self._notices.extension_buttons(view)
            await self._notices.tell(uow, now, managers, f"dl:{row.id}:ask:{now.isoformat()}", render, buttons)
            await uow.commit()
            return view

    async def check_manager(self, actor: Actor, instance_id: int) -> DeadlineView:
        """For the steps of the grant form: refuse (and audit) anyone who may not decide."""
        async with self._uow() as uow:
            _, row = await self._managed(uow, actor, instance_id)
            return await self._scheduler.view(uow, row)

    async def check_new_due(self, actor: Actor, instance_id: int, new_due: datetime) -> DeadlineView:
        """For the grant form's first step: may the caller decide, and is the new deadline acceptable?"""
        async with self._uow() as uow:
            _, row = await self._managed(uow, actor, instance_id)
            self._check_new_due(row, new_due, self._clock.now())
            return await self._scheduler.view(uow, row)

    @staticmethod
    def _check_new_due(row: DeadlineInstance, new_due: datetime, now: datetime) -> None:
        if new_due <= max(now, row.effective_due):
            raise InvalidInput(N_("The new deadline must be in the future and later than the current one."))
        if new_due > row.effective_due + LONGEST_EXTENSION:
            raise InvalidInput(N_("The new deadline can be at most a year later than the current one."))

    async def grant_extension(self, actor: Actor, instance_id: int, new_due: datetime, reason: str) -> DeadlineView:
        """A new deadline with a reason; the original stays, so the item is recorded as extended, not on time."""
        reason = _reason(reason)
        async with self._uow() as uow:
            manager, row = await self._managed(uow, actor, instance_id)
            now = self._clock.now()
            self._check_new_due(row, new_due, now)
            previous = row.effective_due
            row.extended_due, row.extension_reason, row.extended_by, row.state = new_due, reason, manager.id, "upcoming"
            await self._scheduler.plan(uow, row, now)
            await record(
                uow, self._clock, actor, "deadline", row.id, "extended", actor_id=manager.id,
                previous_due=previous.isoformat(), due=new_due.isoformat(), reason=reason,
            )  # fmt: skip
            view = await self._scheduler.view(uow, row)
            given = N_(
                "🕒 {manager} gave more time for {name} ({period}): now due {due}.\nReason: {reason}\n"
                "It will be recorded as done with an extension, not as on time."
            )
            render = self._notices.render(view, given, manager=manager.name, reason=reason)
            await self._notices.tell_owners(uow, now, row, view, f"dl:{row.id}:extended:{new_due.isoformat()}", render)
            await uow.commit()
            return view

    async def decline_extension(self, actor: Actor, instance_id: int) -> DeadlineView:
        async with self._uow() as uow:
            manager, row = await self._managed(uow, actor, instance_id)
            now = self._clock.now()
            await record(uow, self._clock, actor, "deadline", row.id, "extension_declined", actor_id=manager.id)
            view = await self._scheduler.view(uow, row)
            declined = N_("{manager} did not give more time for {name} ({period}); it is still due {due}.")
            render = self._notices.render(view, declined, manager=manager.name)
            await self._notices.tell_owners(uow, now, row, view, f"dl:{row.id}:declined:{now.isoformat()}", render)
            await uow.commit()
            return view

    # Checks --------------------------------------------------------------------------------------
    async def _member(self, uow: UnitOfWork, actor: Actor) -> Member:
        member = await uow.members.by_telegram_id(actor.telegram_id) if actor.telegram_id else None
        if member is None or not member.active:
            denied = NotAllowed(N_("You are not a member yet. Ask your administrator for an invitation."))
            await refuse(uow, self._clock, actor, "deadline", "-", denied)
        return member

    async def _instance(self, uow: UnitOfWork, instance_id: int, states: tuple[str, ...]) -> DeadlineInstance:
        row = await uow.deadlines.get(instance_id)
        if row is None:
            raise NotFound(N_("This deadline does not exist."))
        if row.state == "done":
            raise Conflict(N_("This deadline has already been marked done."))
        if row.state not in states:
            raise Conflict(N_("This deadline is no longer open."))
        return row

    async def _owned(
        self, uow: UnitOfWork, actor: Actor, instance_id: int, states: tuple[str, ...] = OPEN
    ) -> tuple[Member, DeadlineInstance]:
        member = await self._member(uow, actor)
        row = await uow.deadlines.get(instance_id)
        if row is not None and not self._people.owns(member, row):
            denied = NotAllowed(N_("Only the owner of this deadline can do this."))
            await refuse(uow, self._clock, actor, "deadline", instance_id, denied)
        return member, await self._instance(uow, instance_id, states)

    async def _managed(self, uow: UnitOfWork, actor: Actor, instance_id: int) -> tuple[Member, DeadlineInstance]:
        member = await self._member(uow, actor)
        row = await uow.deadlines.get(instance_id)
        if row is not None and not await self._people.may_manage(uow, member, row.department):
            denied = NotAllowed(N_("Only the department head or a leader can decide on more time."))
            await refuse(uow, self._clock, actor, "deadline", instance_id, denied)
        return member, await self._instance(uow, instance_id, DECIDABLE)


def _reason(text: str) -> str:
    reason = " ".join(visible_text(text).split())
    if not reason:
        raise InvalidInput(N_("Please give a reason."))
    if len(reason) > MAX_REASON:
        raise InvalidInput(N_("The reason is too long: at most {limit} characters."), limit=MAX_REASON)
    return reason
