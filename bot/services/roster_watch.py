"""What the roster does by itself: daily gap reports to the owners (B1), the handover message at
each shift change and the notes officers leave for it (B2), and the deactivation check (B2).

Timer handlers receive the runner's unit of work and use it; they never open another."""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import date, datetime, timedelta

from bot.clock import Clock
from bot.policy import Policy
from bot.policy.schema import DutyRoom, format_offset
from bot.services.actor import Actor
from bot.services.audit import record, refuse
from bot.services.errors import N_, NC_, InvalidInput, NotAllowed
from bot.services.members import ADMIN
from bot.services.messages import queue_text
from bot.services.roster import OnDuty, RosterService
from bot.services.roster_calendar import ShiftTime, find_shift, runs_on, shift_time, shift_times
from bot.services.roster_texts import clip
from storage.models import Member, Timer
from storage.roster_models import HandoverNote
from storage.uow import UnitOfWork, UnitOfWorkFactory

log = logging.getLogger(__name__)
MAX_NOTE = 1000
HANDOVER_GRACE = timedelta(hours=2)  # an officer may still leave a note this long after the shift ended


class ShiftWatch:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, policy: Policy, roster: RosterService) -> None:
        self._uow = uow
        self._clock = clock
        self._policy = policy
        self._roster = roster
        self._texts = roster.texts
        self._zone = policy.organisation.zone

    async def start(self) -> None:
        """At process start: make sure the shift-change timers and the daily gap checks exist."""
        now = self._clock.now()
        async with self._uow() as uow:
            await self._roster.plan(uow, now)
            since = now.astimezone(self._zone).date() - timedelta(days=1)
            await self._roster.remind(uow, list(await uow.roster.from_day(since)), now)
            await uow.commit()

    # Shift reminders (B1) ----------------------------------------------------------------------
    async def on_reminder(self, uow: UnitOfWork, timer: Timer, now: datetime) -> None:
        """Remind an officer that their shift starts soon. Nothing when they are no longer on it (the
        shift changed hands: the newcomer has timers of their own), were deactivated, the shift has
        started, or the policy no longer lists this offset."""
        room_code, day_text, shift_code, member_id = timer.ref.split(":")
        room = self._room(room_code)
        shift = find_shift(room, shift_code) if room else None
        rows = await uow.roster.slot(room_code, date.fromisoformat(day_text), shift_code) if shift else []
        row = next((r for r in rows if r.member_id == int(member_id)), None)
        if row is None or room is None or shift is None or not row.member.active:
            return
        if timer.key.rsplit(":", 1)[1] not in {format_offset(o) for o in room.shift_reminders}:
            return
        occurrence = shift_time(room, shift, row.day, self._zone)
        if occurrence.starts_at <= now:
            return
        t, language = self._texts, self._texts.language(row.member)
        crew = await self._roster.crew(uow, room.code, occurrence)
        text = "\n".join(
            [
                t.text(
                    language,
                    N_("Reminder: your shift {shift} ({position}) starts at {start} and ends at {end}."),
                    shift=t.shift(language, room.code, shift.code),
                    position=t.position(language, row.position),
                    start=t.moment(language, occurrence.starts_at),
                    end=t.moment(language, occurrence.ends_at),
                ),
                t.text(
                    language,
                    N_("Primary: {primary}. Backup: {backup}."),
                    primary=t.names(crew.primary),
                    backup=t.names(crew.backup),
                ),
            ]
        )
        await queue_text(uow, now, chat_id=row.member.telegram_id, key=f"{timer.key}:{timer.id}", text=text)
        await record(
            uow,
            self._clock,
            Actor.command_line(),
            "roster",
            room.code,
            "reminded",
            shift=occurrence.key,
            member=row.member_id,
        )

    def _room(self, code: str) -> DutyRoom | None:
        return next((room for room in self._policy.duty_rooms if room.code == code), None)

    # Coverage gaps (B1) ------------------------------------------------------------------------
    async def on_gap_check(self, uow: UnitOfWork, timer: Timer, now: datetime) -> None:
        """Daily: every shift in the room's look-ahead without a primary is reported to the room's
        owners (administrators when it has none), once a day until fixed; then the next check."""
        room = self._room(timer.ref)
        if room is None:  # the room left the policy
            return
        ahead = now + timedelta(hours=room.gap_lookahead_hours)
        gaps = [
            o
            for o in shift_times(room, now, ahead, self._zone)
            if not (await self._roster.crew(uow, room.code, o)).covered
        ]
        if gaps:
            owners = await uow.members.with_role(room.owner_role, room.department) or await uow.members.with_role(ADMIN)
            today = now.astimezone(self._zone).date()
            for owner in owners:
                key = f"roster.gap:{room.code}:{today}:{owner.id}"  # once a day, however often the check runs
                await queue_text(uow, now, chat_id=owner.telegram_id, key=key, text=self._gap_text(owner, room, gaps))
            gap_keys = [o.key for o in gaps]
            await record(uow, self._clock, Actor.command_line(), "roster", room.code, "gap_reported", shifts=gap_keys)
        await self._roster.plan(uow, now)

    def _gap_text(self, owner: Member, room: DutyRoom, gaps: list[ShiftTime]) -> str:
        t, language = self._texts, self._texts.language(owner)
        lines = [
            f"{t.shift(language, o.room, o.shift)}: {t.moment(language, o.starts_at)} – {t.moment(language, o.ends_at)}"
            for o in gaps
        ]
        title = t.text(
            language,
            N_("Duty roster gap in {room}: these shifts in the next {hours} hours have no primary officer:"),
            room=t.room(language, room.code),
            hours=room.gap_lookahead_hours,
        )
        hint = t.text(language, N_("Assign someone with /roster."))
        return clip("\n".join([title, *t.bullets(language, lines), "", hint]))

    # Shift change and handover (B2) ------------------------------------------------------------
    async def on_shift_start(self, uow: UnitOfWork, timer: Timer, now: datetime) -> None:
        """The incoming officers get the handover: open items from other flows (open incidents,
        external-report deadlines) and the notes the outgoing officers left with /handover."""
        room_code, day_text, shift_code = timer.ref.split(":")
        room = self._room(room_code)
        shift = find_shift(room, shift_code) if room else None
        day = date.fromisoformat(day_text)
        if room is None or shift is None or not runs_on(shift, day):
            return  # the policy changed since the timer was planned
        occurrence = shift_time(room, shift, day, self._zone)
        crew = await self._roster.crew(uow, room.code, occurrence)
        if occurrence.ends_at <= now or not crew.everyone:
            return  # fired too late to matter, or nobody to hand over to: notes wait for the next shift
        notes = list(await uow.handover_notes.pending(room.code))
        for member in crew.everyone:
            text = await self._handover_text(uow, member, occurrence, crew, notes)
            await queue_text(
                uow, now, chat_id=member.telegram_id, key=f"roster.handover:{occurrence.key}:{member.id}", text=text
            )
        await uow.handover_notes.mark_delivered([note.id for note in notes], now)
        await record(
            uow,
            self._clock,
            Actor.command_line(),
            "roster",
            room.code,
            "handover",
            shift=occurrence.key,
            to=[m.id for m in crew.everyone],
            notes=[n.id for n in notes],
        )

    async def _handover_text(
        self, uow: UnitOfWork, member: Member, occurrence: ShiftTime, crew: OnDuty, notes: list[HandoverNote]
    ) -> str:
        t, language = self._texts, self._texts.language(member)
        items: list[str] = []
        for source in self._roster.handover_sources:
            try:
                items += await source(uow, occurrence.room, language)
            except Exception:  # a failing flow must not hold back the rest of the handover
                log.exception("handover source %r failed for %s", source, occurrence.key)
        lines = [
            t.text(
                language,
                N_("Shift handover — {shift}, {start} to {end}."),
                shift=t.shift(language, occurrence.room, occurrence.shift),
                start=t.moment(language, occurrence.starts_at),
                end=t.moment(language, occurrence.ends_at),
            ),
            t.text(
                language,
                N_("Primary: {primary}. Backup: {backup}."),
                primary=t.names(crew.primary),
                backup=t.names(crew.backup),
            ),
            "",
            t.text(language, N_("Open incidents and external-report deadlines:")),
            *(t.bullets(language, items) or [t.text(language, N_("none"))]),
            "",
            t.text(language, N_("Notes from the previous shift:")),
            *(
                t.bullets(language, [f"{n.author.name} ({t.moment(language, n.written_at)}): {n.text}" for n in notes])
                or [t.text(language, N_("none"))]
            ),
        ]
        return clip("\n".join(lines))

    async def write_note(self, actor: Actor, text: str) -> list[str]:
        """/handover: a note for the incoming officers of each room where the writer is on duty now,
        delivered at the shift change. Written just after the shift ended (within two hours), it goes
        to the officers now on duty at once. Returns the rooms' codes."""
        text = text.strip()
        if not text:
            raise InvalidInput(N_("Write the note after the command, e.g. /handover The gate camera is down."))
        if len(text) > MAX_NOTE:
            raise InvalidInput(
                NC_("handover note", "The note is too long: at most {limit} characters."), limit=MAX_NOTE
            )
        now = self._clock.now()
        async with self._uow() as uow:
            author = await self._roster.active_member(uow, actor)
            rooms_now, rooms_just_left = await self._posts(uow, author, now) if author else ([], [])
            if not rooms_now and not rooms_just_left:
                denied = NotAllowed(N_("You are not on duty now, so there is no shift to hand over."))
                await refuse(uow, self._clock, actor, "roster", "-", denied)
            for room in rooms_now + rooms_just_left:
                note = uow.handover_notes.add(
                    HandoverNote(room=room, author=author, text=text, written_at=now, delivered_at=None)
                )
                await uow.session.flush()
                if room in rooms_just_left:
                    await self._deliver_now(uow, note, now)
                await record(uow, self._clock, actor, "roster", room, "handover_note", actor_id=author.id, note=note.id)
            await uow.commit()
            return rooms_now + rooms_just_left

    async def _posts(self, uow: UnitOfWork, member: Member, now: datetime) -> tuple[list[str], list[str]]:
        """The rooms where `member` is on duty now, and those whose shift they left in the last two hours."""
        on_duty, just_left = [], []
        for room in self._policy.duty_rooms:
            if (await self._roster.on_duty_in(uow, room.code, now)).includes(member.id):
                on_duty.append(room.code)
                continue
            ended = [o for o in shift_times(room, now - HANDOVER_GRACE, now, self._zone) if o.ends_at <= now]
            for occurrence in ended:
                if (await self._roster.crew(uow, room.code, occurrence)).includes(member.id):
                    just_left.append(room.code)
                    break
        return on_duty, just_left

    async def _deliver_now(self, uow: UnitOfWork, note: HandoverNote, now: datetime) -> None:
        crew = await self._roster.on_duty_in(uow, note.room, now)
        for member in crew.everyone:
            language = self._texts.language(member)
            text = self._texts.text(
                language,
                N_("Handover note from {author} ({room}): {text}"),
                author=note.author.name,
                room=self._texts.room(language, note.room),
                text=note.text,
            )
            await queue_text(uow, now, chat_id=member.telegram_id, key=f"roster.note:{note.id}:{member.id}", text=text)
        if crew.everyone:
            note.delivered_at = now

    # Deactivation (B2) -------------------------------------------------------------------------
    async def future_shifts(self, uow: UnitOfWork, member: Member, language: str) -> list[str]:
        """Blocks deactivating a member who still stands shifts that are not over: one line per room, in
        the language of the administrator who tried."""
        now = self._clock.now()
        since = now.astimezone(self._zone).date() - timedelta(days=1)
        shifts: dict[str, list[ShiftTime]] = defaultdict(list)
        for row in await uow.roster.of_member_from(member.id, since):
            room = self._room(row.room)
            shift = find_shift(room, row.shift) if room else None
            if room and shift and (occurrence := shift_time(room, shift, row.day, self._zone)).ends_at > now:
                shifts[room.code].append(occurrence)
        return [
            self._texts.text(
                language,
                N_("{name} stands {count} shift(s) in {room}, the first from {start}; swap them in /roster"),
                name=member.name,
                count=len(found),
                room=self._texts.room(language, code),
                start=self._texts.moment(language, min(o.starts_at for o in found)),
            )
            for code, found in shifts.items()
        ]
