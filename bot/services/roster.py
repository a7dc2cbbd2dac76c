"""The duty roster (B1, B2): who is on duty in each duty room, and changes to it.

Shift patterns come from the policy's duty rooms (bot/policy/default.toml, `[[duty_rooms]]`);
the roster stores who stands each shift on each date, primary and backup (several allowed).
Administrators and each room's owners (holders of its `owner_role` in its department) change it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from aiogram.utils.i18n import I18n

from bot.clock import Clock
from bot.i18n import format_moment
from bot.policy import Policy
from bot.policy.schema import DutyRoom
from bot.services.actor import Actor
from bot.services.audit import record, refuse
from bot.services.errors import N_, Conflict, InvalidInput, NotAllowed, NotFound
from bot.services.members import ADMIN
from bot.services.messages import queue_text
from bot.services.roster_calendar import ShiftTime, current_shift, find_shift, next_shift, runs_on, shift_time
from storage.models import Member
from storage.roster_models import BACKUP, PRIMARY, RosterAssignment
from storage.uow import UnitOfWork, UnitOfWorkFactory

DUTY_OFFICER = "duty_officer"
POSITIONS = (PRIMARY, BACKUP)
MAX_DAYS = 62  # one assignment covers at most two months: a typo in a year should not fill a roster


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


class RosterService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, policy: Policy, i18n: I18n) -> None:
        self._uow = uow
        self._clock = clock
        self._policy = policy
        self._i18n = i18n
        self._zone = policy.organisation.zone

    # Reading (B1) --------------------------------------------------------------------------
    async def on_duty_in(self, uow: UnitOfWork, room: str, at: datetime) -> OnDuty:
        """Who is on duty in `room` at `at`, inside the caller's unit of work (opens none).
        Only active members count. Raises KeyError for a room the policy does not know."""
        occurrence = current_shift(self._policy.duty_room(room), at, self._zone)
        return await self._crew(uow, room, occurrence)

    async def next_on_duty(self, uow: UnitOfWork, room: str, at: datetime) -> OnDuty:
        """Who stands the room's next shift starting after `at` (inside the caller's unit of work)."""
        occurrence = next_shift(self._policy.duty_room(room), at, self._zone)
        return await self._crew(uow, room, occurrence)

    async def board(self) -> list[tuple[OnDuty, OnDuty]]:
        """/duty: for each duty room, who is on duty now and who comes next (B1)."""
        now = self._clock.now()
        async with self._uow() as uow:
            return [
                (await self.on_duty_in(uow, room.code, now), await self.next_on_duty(uow, room.code, now))
                for room in self._policy.duty_rooms
            ]

    async def crew_of(self, uow: UnitOfWork, occurrence: ShiftTime) -> OnDuty:
        return await self._crew(uow, occurrence.room, occurrence)

    async def _crew(self, uow: UnitOfWork, room: str, occurrence: ShiftTime | None) -> OnDuty:
        if occurrence is None:
            return OnDuty(room, None, None, None, (), ())
        rows = [row for row in await uow.roster.slot(room, occurrence.day, occurrence.shift) if row.member.active]
        return OnDuty(
            room,
            occurrence.shift,
            occurrence.starts_at,
            occurrence.ends_at,
            tuple(row.member for row in rows if row.position == PRIMARY),
            tuple(row.member for row in rows if row.position == BACKUP),
        )

    # Who may change a roster (B1, F3) ---------------------------------------------------------
    async def editable_rooms(self, actor: Actor) -> list[str]:
        """The rooms whose roster the actor keeps; refuses (and audits) a member who keeps none."""
        async with self._uow() as uow:
            member = await self._active_actor(uow, actor)
            rooms = [room.code for room in self._policy.duty_rooms if self._keeps(member, room)]
            if not rooms:
                await self._refuse(uow, actor, "-")
            return rooms

    async def require_editor(self, uow: UnitOfWork, actor: Actor, room: DutyRoom) -> Member | None:
        """The member allowed to change `room`'s roster (None from the command line); refuses others."""
        if actor.is_command_line:
            return None
        member = await self._active_actor(uow, actor)
        if member is None or not self._keeps(member, room):
            await self._refuse(uow, actor, room.code)
        return member

    @staticmethod
    def _keeps(member: Member | None, room: DutyRoom) -> bool:
        if member is None:
            return False
        return ADMIN in member.roles or (room.owner_role in member.roles and member.department == room.department)

    async def _active_actor(self, uow: UnitOfWork, actor: Actor) -> Member | None:
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
        when the shift does not run on `day` or is already over."""
        await self.assign_days(
            actor, room=room, shift=shift, first=day, last=day, member_id=member_id, position=position
        )

    async def assign_days(
        self, actor: Actor, *, room: str, shift: str, first: date, last: date, member_id: int, position: str = PRIMARY
    ) -> list[date]:
        """Put a member on a shift on every date from `first` to `last` on which the shift runs.
        Returns those dates. A member already on a shift keeps one place (the new position)."""
        async with self._uow() as uow:
            duty_room = self.room(room)
            editor = await self.require_editor(uow, actor, duty_room)
            pattern = self.shift(duty_room, shift)
            self._check_position(position)
            if last < first or (last - first).days >= MAX_DAYS:
                raise InvalidInput(N_("Choose at most {limit} days, the first before the last."), limit=MAX_DAYS)
            now = self._clock.now()
            days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
            occurrences = [shift_time(duty_room, pattern, day, self._zone) for day in days if runs_on(pattern, day)]
            occurrences = [o for o in occurrences if o.ends_at > now]
            if not occurrences:
                raise InvalidInput(N_("That shift does not run on those dates, or is already over."))
            member = await self.officer(uow, member_id)
            for occurrence in occurrences:
                await self._put(uow, occurrence, member, position, editor, now)
            await record(
                uow,
                self._clock,
                actor,
                "roster",
                room,
                "assigned",
                actor_id=editor.id if editor else None,
                shift=shift,
                days=[o.day.isoformat() for o in occurrences],
                member=member.id,
                position=position,
            )
            await self._tell_assigned(uow, member, duty_room, occurrences, position, now)
            await self.after_change(uow, now)
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
            pattern = self.shift(duty_room, shift)
            self._check_position(position)
            now = self._clock.now()
            occurrence = shift_time(duty_room, pattern, day, self._zone)
            if not runs_on(pattern, day) or occurrence.ends_at <= now:
                raise InvalidInput(N_("That shift does not run on those dates, or is already over."))
            member = await self.officer(uow, member_id)
            slot = [row for row in await uow.roster.slot(room, day, shift) if row.position == position]
            leaving = [row for row in slot if replaces is None or row.member_id == replaces]
            if replaces is not None and not leaving:
                raise Conflict(N_("That member is no longer on this shift; look at the roster again."))
            for row in leaving:
                await uow.roster.remove(row)
            await uow.session.flush()
            await self._put(uow, occurrence, member, position, editor, now)
            replaced = [row.member for row in leaving if row.member_id != member.id]
            await record(
                uow,
                self._clock,
                actor,
                "roster",
                room,
                "swapped",
                actor_id=editor.id if editor else None,
                shift=shift,
                day=day.isoformat(),
                position=position,
                member=member.id,
                replaced=[m.id for m in replaced],
            )
            await self._tell_assigned(uow, member, duty_room, [occurrence], position, now)
            for gone in replaced:
                await self._tell_removed(uow, gone, duty_room, occurrence, now)
            await self.after_change(uow, now)
            await uow.commit()
            return [m.id for m in replaced]

    async def _put(
        self,
        uow: UnitOfWork,
        occurrence: ShiftTime,
        member: Member,
        position: str,
        editor: Member | None,
        now: datetime,
    ) -> None:
        existing = next(
            (
                row
                for row in await uow.roster.slot(occurrence.room, occurrence.day, occurrence.shift)
                if row.member_id == member.id
            ),
            None,
        )
        if existing is not None:
            existing.position = position
            return
        uow.roster.add(
            RosterAssignment(
                room=occurrence.room,
                day=occurrence.day,
                shift=occurrence.shift,
                position=position,
                member=member,
                assigned_by=editor.id if editor else None,
                assigned_at=now,
            )
        )

    async def after_change(self, uow: UnitOfWork, now: datetime) -> None:
        """Hook for what follows every roster change (shift-change timers are re-planned)."""

    # Validation ------------------------------------------------------------------------------
    def room(self, code: str) -> DutyRoom:
        try:
            return self._policy.duty_room(code)
        except KeyError:
            raise NotFound(N_("Unknown duty room: {room}."), room=code) from None

    @staticmethod
    def shift(room: DutyRoom, code: str):  # noqa: ANN205
        found = find_shift(room, code)
        if found is None:
            raise InvalidInput(N_("Unknown shift: {shift}."), shift=code)
        return found

    @staticmethod
    def _check_position(position: str) -> None:
        if position not in POSITIONS:
            raise InvalidInput(N_("The position is primary or backup, not {position}."), position=position)

    async def officer(self, uow: UnitOfWork, member_id: int) -> Member:
        member = await uow.members.get(member_id)
        if member is None or not member.active:
            raise NotFound(N_("This member does not exist or has been deactivated."))
        if DUTY_OFFICER not in member.roles:
            raise InvalidInput(N_("{name} is not a duty officer; give them that role first."), name=member.name)
        return member

    # Messages to the people concerned --------------------------------------------------------
    def language_of(self, member: Member) -> str:
        return member.language or self._policy.organisation.default_language

    def text(self, member: Member, msgid: str, **params: object) -> str:
        return self._i18n.gettext(msgid, locale=self.language_of(member)).format(**params)

    def moment(self, member: Member, at: datetime) -> str:
        return format_moment(at, self.language_of(member), self._zone)

    def shift_label(self, member: Member, room: DutyRoom, shift_code: str) -> str:
        shift = find_shift(room, shift_code)
        language = self.language_of(member)
        return f"{room.name.get(language)} · {shift.name.get(language) if shift else shift_code}"

    def position_label(self, member: Member, position: str) -> str:
        return self.text(member, N_("primary") if position == PRIMARY else N_("backup"))

    async def _tell_assigned(
        self,
        uow: UnitOfWork,
        member: Member,
        room: DutyRoom,
        occurrences: Sequence[ShiftTime],
        position: str,
        now: datetime,
    ) -> None:
        first, last = occurrences[0], occurrences[-1]
        await queue_text(
            uow,
            now,
            chat_id=member.telegram_id,
            key=f"roster.assigned:{member.id}:{first.key}:{last.key}:{position}:{now.isoformat()}",
            text=self.text(
                member,
                N_("You are on the duty roster: {shift} ({position}), {count} shift(s) from {start} to {end}."),
                shift=self.shift_label(member, room, first.shift),
                position=self.position_label(member, position),
                count=len(occurrences),
                start=self.moment(member, first.starts_at),
                end=self.moment(member, last.ends_at),
            ),
        )

    async def _tell_removed(
        self, uow: UnitOfWork, member: Member, room: DutyRoom, occurrence: ShiftTime, now: datetime
    ) -> None:
        await queue_text(
            uow,
            now,
            chat_id=member.telegram_id,
            key=f"roster.removed:{member.id}:{occurrence.key}:{now.isoformat()}",
            text=self.text(
                member,
                N_("You are no longer on duty for {shift} from {start} to {end}: someone else takes it."),
                shift=self.shift_label(member, room, occurrence.shift),
                start=self.moment(member, occurrence.starts_at),
                end=self.moment(member, occurrence.ends_at),
            ),
        )
