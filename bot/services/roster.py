"""The duty roster (B1, B2): who is on duty in each duty room, and changes to it.

Shift patterns come from the policy's duty rooms (bot/policy/default.toml, `[[duty_rooms]]`);
the roster stores who stands each shift on each date, primary and backup (several allowed).
Administrators and each room's owners (holders of its `owner_role` in its department) change it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot.clock import Clock
from bot.policy import Policy
from bot.policy.schema import DutyRoom, Shift, format_offset
from bot.services.actor import Actor
from bot.services.audit import record, refuse
from bot.services.errors import N_, Conflict, InvalidInput, NotAllowed, NotFound
from bot.services.members import ADMIN, MemberView
from bot.services.messages import queue_text
from bot.services.roster_calendar import (
    ShiftTime,
    current_shift,
    find_shift,
    next_shift,
    runs_on,
    shift_time,
    shift_times,
)
from bot.services.roster_texts import RosterTexts
from storage.models import Member
from storage.roster_models import BACKUP, PRIMARY, RosterAssignment
from storage.uow import UnitOfWork, UnitOfWorkFactory

DUTY_OFFICER = "duty_officer"
POSITIONS = (PRIMARY, BACKUP)
MAX_DAYS = 62  # one assignment covers at most two months: a mistyped year should not fill a roster
PLAN_AHEAD = timedelta(hours=48)  # shift-change timers exist this far ahead; the daily check renews them
SHIFT_TIMER, GAP_TIMER = "roster.shift", "roster.gaps"
REMIND_TIMER = "roster.remind"  # one per shift, member and policy offset (reminder_ref)

# Lines for the handover message from other flows: (uow, room code, language) -> lines in that language.
HandoverSource = Callable[[UnitOfWork, str, str], Awaitable[list[str]]]


def reminder_ref(occurrence: ShiftTime, member_id: int) -> str:
    """The reminder timers' ref: room:day:shift:member id."""
    return f"{occurrence.key}:{member_id}"


@dataclass(frozen=True)
class OnDuty:
    """Who stands a duty room's shift. `shift` is None when no shift of the room runs then."""

    room: str
    shift: str | None
    starts_at: datetime | None
    ends_at: datetime | None
    primary: tuple[Member, ...]
    backup: tuple[Member, ...]

    @property
    def covered(self) -> bool:
        return bool(self.primary)

    @property
    def everyone(self) -> tuple[Member, ...]:
        return self.primary + self.backup

    def includes(self, member_id: int) -> bool:
        return any(member.id == member_id for member in self.everyone)


class RosterService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, policy: Policy, texts: RosterTexts) -> None:
        self._uow = uow
        self._clock = clock
        self._policy = policy
        self._zone = policy.organisation.zone
        self.texts = texts
        self.handover_sources: list[HandoverSource] = []  # the incidents flow adds its open items (B2)

    # Reading (B1) --------------------------------------------------------------------------
    async def on_duty_in(self, uow: UnitOfWork, room: str, at: datetime) -> OnDuty:
        """Who is on duty in `room` at `at`, inside the caller's unit of work (opens none).
        Only active members count. Raises KeyError for a room the policy does not know."""
        return await self.crew(uow, room, current_shift(self._policy.duty_room(room), at, self._zone))

    async def next_on_duty(self, uow: UnitOfWork, room: str, at: datetime) -> OnDuty:
        """Who stands the room's next shift starting after `at` (inside the caller's unit of work)."""
        return await self.crew(uow, room, next_shift(self._policy.duty_room(room), at, self._zone))

    async def board(self) -> list[tuple[OnDuty, OnDuty]]:
        """/duty, for every member: each duty room's crew now and next (B1)."""
        now = self._clock.now()
        async with self._uow() as uow:
            return [
                (await self.on_duty_in(uow, room.code, now), await self.next_on_duty(uow, room.code, now))
                for room in self._policy.duty_rooms
            ]

    async def upcoming(self, actor: Actor, room: str, days: int = 7) -> list[OnDuty]:
        """The room's shifts from now on for `days` days, for those who keep its roster."""
        now = self._clock.now()
        async with self._uow() as uow:
            duty_room = self.room(room)
            await self.require_editor(uow, actor, duty_room)
            return [
                await self.crew(uow, room, o)
                for o in shift_times(duty_room, now, now + timedelta(days=days), self._zone)
            ]

    async def crew(self, uow: UnitOfWork, room: str, occurrence: ShiftTime | None) -> OnDuty:
        if occurrence is None:
            return OnDuty(room, None, None, None, (), ())
        standing = await uow.roster.standing(room, occurrence.day, occurrence.shift)
        primary = tuple(member for position, member in standing if position == PRIMARY)
        backup = tuple(member for position, member in standing if position == BACKUP)
        return OnDuty(room, occurrence.shift, occurrence.starts_at, occurrence.ends_at, primary, backup)

    # Who may change a roster (B1, F3) ---------------------------------------------------------
    async def editable_rooms(self, actor: Actor) -> list[str]:
        """The rooms whose roster the actor keeps; refuses (and audits) a member who keeps none."""
        async with self._uow() as uow:
            member = await self.require_keeper(uow, actor)
            return [room.code for room in self._policy.duty_rooms if self.keeps(member, room)]

    async def check_editor(self, actor: Actor, room: str) -> None:
        """For wizard steps that change nothing yet: refuse (and audit) whoever does not keep the room."""
        async with self._uow() as uow:
            await self.require_editor(uow, actor, self.room(room))

    async def slot(self, actor: Actor, room: str, shift: str, day: date) -> OnDuty:
        """Who stands one shift, for a keeper choosing whom a swap replaces."""
        async with self._uow() as uow:
            duty_room = self.room(room)
            await self.require_editor(uow, actor, duty_room)
            return await self.crew(uow, room, shift_time(duty_room, self.shift(duty_room, shift), day, self._zone))

    async def require_keeper(self, uow: UnitOfWork, actor: Actor) -> Member | None:
        """The member who keeps at least one roster (None from the command line); refuses others."""
        if actor.is_command_line:
            return None
        member = await self.active_member(uow, actor)
        if not any(self.keeps(member, room) for room in self._policy.duty_rooms):
            await self._refuse(uow, actor, "-")
        return member

    async def officers(self, actor: Actor, room: str) -> list[MemberView]:
        """The active duty officers a roster keeper may put on `room`'s shifts, the room's department first."""
        async with self._uow() as uow:
            duty_room = self.room(room)
            await self.require_editor(uow, actor, duty_room)
            found = await uow.members.with_role(DUTY_OFFICER)
            return [
                MemberView.of(m) for m in sorted(found, key=lambda m: (m.department != duty_room.department, m.name))
            ]

    async def require_editor(self, uow: UnitOfWork, actor: Actor, room: DutyRoom) -> Member | None:
        """The member allowed to change `room`'s roster (None from the command line); refuses others."""
        if actor.is_command_line:
            return None
        member = await self.active_member(uow, actor)
        if not self.keeps(member, room):
            await self._refuse(uow, actor, room.code)
        return member

    @staticmethod
    def keeps(member: Member | None, room: DutyRoom) -> bool:
        """Administrators keep every roster; a room's owners (its owner_role in its department) keep its own."""
        if member is None:
            return False
        return ADMIN in member.roles or (room.owner_role in member.roles and member.department == room.department)

    async def active_member(self, uow: UnitOfWork, actor: Actor) -> Member | None:
        """The active member behind the actor, if any."""
        member = await uow.members.by_telegram_id(actor.telegram_id) if actor.telegram_id else None
        return member if member and member.active else None

    async def _refuse(self, uow: UnitOfWork, actor: Actor, room: str) -> None:
        denied = NotAllowed(N_("Only administrators and the duty room's owner can change its roster."))
        await refuse(uow, self._clock, actor, "roster", room, denied)

    # Changes (B1) -----------------------------------------------------------------------------
    async def assign(
        self, actor: Actor, *, room: str, shift: str, day: date, member_id: int, position: str = PRIMARY
    ) -> None:
        """Put a member on one shift (several people may share a position). Raises InvalidInput
        when the shift does not run on `day` or is already over, or the member is no duty officer."""
        await self.assign_days(
            actor, room=room, shift=shift, first=day, last=day, member_id=member_id, position=position
        )

    async def assign_days(
        self, actor: Actor, *, room: str, shift: str, first: date, last: date, member_id: int, position: str = PRIMARY
    ) -> list[date]:
        """Put a member on a shift on every date from `first` to `last` on which it runs and is not
        over yet; returns those dates. A member already on one of those shifts changes position."""
        async with self._uow() as uow:
            duty_room = self.room(room)
            editor = await self.require_editor(uow, actor, duty_room)
            pattern = self.shift(duty_room, shift)
            self.check_position(position)
            if last < first or (last - first).days >= MAX_DAYS:
                raise InvalidInput(N_("Choose at most {limit} days, the first before the last."), limit=MAX_DAYS)
            now = self._clock.now()
            days = (first + timedelta(days=n) for n in range((last - first).days + 1))
            occurrences = [o for day in days if (o := self.occurrence(duty_room, pattern, day, now))]
            if not occurrences:
                raise InvalidInput(N_("That shift does not run on those dates, or is already over."))
            member = await self.officer(uow, member_id)
            for occurrence in occurrences:
                await self._put(uow, occurrence, member, position, editor, now)
            days_done = [o.day.isoformat() for o in occurrences]
            await self.record_change(
                uow, actor, editor, room, "assigned", shift=shift, days=days_done, member=member.id, position=position
            )
            await self.tell(uow, member, occurrences, position, now)
            await self.plan(uow, now)
            await uow.commit()
            return [o.day for o in occurrences]

    async def swap(
        self,
        actor: Actor,
        *,
        room: str,
        shift: str,
        day: date,
        member_id: int,
        position: str = PRIMARY,
        replaces: int | None = None,
    ) -> list[int]:
        """An override for one shift: `member_id` takes the place of `replaces` (or of everyone in
        the position). Both sides are told. Returns the ids of the members replaced."""
        async with self._uow() as uow:
            duty_room = self.room(room)
            editor = await self.require_editor(uow, actor, duty_room)
            self.check_position(position)
            now = self._clock.now()
            occurrence = self.occurrence(duty_room, self.shift(duty_room, shift), day, now)
            if occurrence is None:
                raise InvalidInput(N_("That shift does not run on those dates, or is already over."))
            member = await self.officer(uow, member_id)
            slot = [row for row in await uow.roster.slot(room, day, shift) if row.position == position]
            leaving = [row for row in slot if replaces is None or row.member_id == replaces]
            if replaces is not None and not leaving:
                raise Conflict(N_("That member is no longer on this shift; look at the roster again."))
            replaced = [row.member for row in leaving if row.member_id != member.id]
            for row in leaving:
                await self.take_off(uow, row)
            await uow.session.flush()
            await self._put(uow, occurrence, member, position, editor, now)
            await self.record_change(
                uow,
                actor,
                editor,
                room,
                "swapped",
                shift=shift,
                day=day.isoformat(),
                position=position,
                member=member.id,
                replaced=[m.id for m in replaced],
            )
            await self.tell(uow, member, [occurrence], position, now)
            for gone in replaced:
                await self.tell(uow, gone, [occurrence], None, now)
            await self.plan(uow, now)
            await uow.commit()
            return [m.id for m in replaced]

    async def _put(
        self, uow: UnitOfWork, slot: ShiftTime, member: Member, position: str, editor: Member | None, now: datetime
    ) -> RosterAssignment:
        rows = await uow.roster.slot(slot.room, slot.day, slot.shift)
        existing = next((row for row in rows if row.member_id == member.id), None)
        if existing is not None:
            existing.position = position
            return existing
        row = uow.roster.add(
            RosterAssignment(
                room=slot.room,
                day=slot.day,
                shift=slot.shift,
                position=position,
                member=member,
                assigned_by=editor.id if editor else None,
                assigned_at=now,
            )
        )
        await self.remind(uow, [row], now)
        return row

    async def put_on(
        self, uow: UnitOfWork, slot: ShiftTime, member: Member, position: str, editor: Member | None, now: datetime
    ) -> RosterAssignment:
        """Put a member on one shift inside the caller's unit of work (an officers' swap), reminders included."""
        return await self._put(uow, slot, member, position, editor, now)

    # Shift reminders (B1) ----------------------------------------------------------------------
    async def remind(self, uow: UnitOfWork, rows: list[RosterAssignment], now: datetime) -> None:
        """Plan the reminders of assignments: one durable timer per policy offset (the room's
        `shift_reminders`) before the shift starts, keyed by shift, member and offset. An offset
        already past when the member is put on the shift gives one reminder at once (the shortest such
        offset); a shift that has started gets none. Idempotent: planning again (at every start)
        changes nothing that fired, so nobody is reminded twice of one shift at one offset."""
        for row in rows:
            room = next((r for r in self._policy.duty_rooms if r.code == row.room), None)
            pattern = find_shift(room, row.shift) if room else None
            if room is None or pattern is None:
                continue
            occurrence = shift_time(room, pattern, row.day, self._zone)
            if occurrence.starts_at <= now:
                continue
            starts_at, offsets = occurrence.starts_at, room.shift_reminders
            late = [offset for offset in offsets if starts_at - offset <= now]
            planned = [(offset, starts_at - offset) for offset in offsets if starts_at - offset > now]
            planned += [(min(late), now)] if late else []
            ref = reminder_ref(occurrence, row.member.id)
            for offset, due_at in planned:
                key = f"{REMIND_TIMER}:{ref}:{format_offset(offset)}"
                await uow.timers.schedule(kind=REMIND_TIMER, ref=ref, due_at=due_at, now=now, key=key)

    async def take_off(self, uow: UnitOfWork, row: RosterAssignment) -> None:
        """Remove an assignment and forget its reminders still to come (the shift changed hands; if the
        member comes back to it, they are planned afresh)."""
        room = next((r for r in self._policy.duty_rooms if r.code == row.room), None)
        pattern = find_shift(room, row.shift) if room else None
        if room is not None and pattern is not None:
            ref = reminder_ref(shift_time(room, pattern, row.day, self._zone), row.member.id)
            await uow.roster.forget_timers(REMIND_TIMER, ref)
        await uow.roster.remove(row)

    async def record_change(
        self, uow: UnitOfWork, actor: Actor, editor: Member | None, room: str, action: str, **details: object
    ) -> None:
        await record(uow, self._clock, actor, "roster", room, action, actor_id=editor.id if editor else None, **details)

    # Timers (B1, B2) ---------------------------------------------------------------------------
    async def plan(self, uow: UnitOfWork, now: datetime) -> None:
        """Shift-change timers for every shift starting in the next 48 hours and each room's next
        daily gap check. Idempotent (keyed timers); the daily check renews it. Who gets the
        handover is read when the timer fires, so later roster changes need no re-planning."""
        for room in self._policy.duty_rooms:
            for occurrence in shift_times(room, now, now + PLAN_AHEAD, self._zone):
                if occurrence.starts_at > now:
                    await uow.timers.schedule(
                        kind=SHIFT_TIMER,
                        ref=occurrence.key,
                        due_at=occurrence.starts_at,
                        now=now,
                        key=f"{SHIFT_TIMER}:{occurrence.key}",
                    )
            check = datetime.combine(now.astimezone(self._zone).date(), room.gap_report_at, tzinfo=self._zone)
            if check <= now:
                check = datetime.combine(check.date() + timedelta(days=1), room.gap_report_at, tzinfo=self._zone)
            await uow.timers.schedule(
                kind=GAP_TIMER, ref=room.code, due_at=check, now=now, key=f"{GAP_TIMER}:{room.code}:{check.date()}"
            )

    # Validation ------------------------------------------------------------------------------
    def room(self, code: str) -> DutyRoom:
        try:
            return self._policy.duty_room(code)
        except KeyError:
            raise NotFound(N_("Unknown duty room: {room}."), room=code) from None

    @staticmethod
    def shift(room: DutyRoom, code: str) -> Shift:
        found = find_shift(room, code)
        if found is None:
            raise InvalidInput(N_("Unknown shift: {shift}."), shift=code)
        return found

    def occurrence(self, room: DutyRoom, shift: Shift, day: date, now: datetime) -> ShiftTime | None:
        """The shift on `day`, if it runs that day and is not over yet."""
        if not runs_on(shift, day):
            return None
        found = shift_time(room, shift, day, self._zone)
        return found if found.ends_at > now else None

    @staticmethod
    def check_position(position: str) -> None:
        if position not in POSITIONS:
            raise InvalidInput(N_("The position is primary or backup, not {position}."), position=position)

    async def officer(self, uow: UnitOfWork, member_id: int) -> Member:
        member = await uow.members.get(member_id)
        if member is None or not member.active:
            raise NotFound(N_("This member does not exist or has been deactivated."))
        if DUTY_OFFICER not in member.roles:
            raise InvalidInput(N_("{name} is not a duty officer; give them that role first."), name=member.name)
        return member

    # Telling the people concerned --------------------------------------------------------------
    async def tell(
        self, uow: UnitOfWork, member: Member, shifts: list[ShiftTime], position: str | None, now: datetime
    ) -> None:
        """Tell a member they were put on `shifts` (position given) or taken off them (None)."""
        texts, language = self.texts, self.texts.language(member)
        first, last = shifts[0], shifts[-1]
        params = dict(
            shift=texts.shift(language, first.room, first.shift),
            count=len(shifts),
            start=texts.moment(language, first.starts_at),
            end=texts.moment(language, last.ends_at),
        )
        if position is None:
            msgid = N_("You are no longer on duty: {shift}, {count} shift(s) from {start} to {end}.")
        else:
            msgid = N_("You are on the duty roster: {shift} ({position}), {count} shift(s) from {start} to {end}.")
            params["position"] = texts.position(language, position)
        await queue_text(
            uow,
            now,
            chat_id=member.telegram_id,
            text=texts.text(language, msgid, **params),
            key=f"roster.{position or 'off'}:{member.id}:{first.key}:{last.key}:{now.isoformat()}",
        )
