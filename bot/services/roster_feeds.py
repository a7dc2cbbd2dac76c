"""Shift calendars (B1; issue 14): each officer's own shifts and each duty room's roster as iCalendar
(RFC 5545, written with the `icalendar` library), as a one-off file in chat and as a subscribable feed
at a secret address served by the bot's HTTP server (GET /calendar/<token>.ics).

Who gets which feed: every duty officer their own shifts; a duty room's roster goes to the room's
keepers (its owners and the administrators) and to the duty officers of its department. A feed
answers only while its token is live, its member active and still entitled to it; `/calendar revoke`
replaces every token of the member (old addresses answer 404 from then on). Tokens are random,
32 URL-safe characters; creating and revoking them is audited (F1)."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from icalendar import Alarm, Event

from bot.clock import Clock
from bot.policy import Policy
from bot.policy.schema import DutyRoom
from bot.services.actor import Actor
from bot.services.audit import record, refuse
from bot.services.deadlines.ics import UID_DOMAIN, calendar, serialise
from bot.services.errors import N_, NotAllowed
from bot.services.roster import DUTY_OFFICER, RosterService
from bot.services.roster_calendar import find_shift, shift_time, shift_times
from storage.models import Member
from storage.roster_models import CalendarFeed
from storage.uow import UnitOfWork, UnitOfWorkFactory

PRODID = "-//duty-desk-bot//roster//EN"
HISTORY = timedelta(days=30)  # past shifts a calendar still shows
AHEAD = timedelta(days=62)  # a room's calendar shows its shifts (gaps too) this far ahead
TOKEN_BYTES = 24  # 32 URL-safe characters


@dataclass(frozen=True)
class Feed:
    room: str | None  # None: the member's own shifts
    url: str | None  # None when no public address is configured


@dataclass(frozen=True)
class CalendarOffer:
    """What /calendar gives a member: their own shifts as a file, and their feeds' addresses."""

    file: bytes
    feeds: list[Feed]


class CalendarFeeds:
    def __init__(
        self, uow: UnitOfWorkFactory, clock: Clock, policy: Policy, roster: RosterService, base_url: str | None
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._policy = policy
        self._roster = roster
        self._texts = roster.texts
        self._zone = policy.organisation.zone
        self._base = base_url.rstrip("/") if base_url else None

    # Chat ---------------------------------------------------------------------------------------
    async def offer(self, actor: Actor) -> CalendarOffer:
        """The member's own shifts as a file and the feeds they may subscribe to, making the tokens
        they lack."""
        now = self._clock.now()
        async with self._uow() as uow:
            member = await self._entitled_member(uow, actor)
            feeds = await self._ensure(uow, actor, member, now)
            data = await self._member_calendar(uow, member, now)
            await uow.commit()
            return CalendarOffer(data, feeds)

    async def revoke(self, actor: Actor) -> CalendarOffer:
        """Every address the member had stops answering; new ones are made at once."""
        now = self._clock.now()
        async with self._uow() as uow:
            member = await self._entitled_member(uow, actor)
            old = list(await uow.calendar_feeds.live(member.id))
            for feed in old:
                feed.revoked_at = now
            await uow.session.flush()
            await record(
                uow,
                self._clock,
                actor,
                "roster_calendar",
                member.id,
                "revoked",
                actor_id=member.id,
                feeds=[f.id for f in old],
            )
            feeds = await self._ensure(uow, actor, member, now)
            data = await self._member_calendar(uow, member, now)
            await uow.commit()
            return CalendarOffer(data, feeds)

    # HTTP ---------------------------------------------------------------------------------------
    async def fetch(self, token: str) -> bytes | None:
        """The calendar behind a live token, or None (unknown, revoked, member gone or no longer
        entitled to the room): the HTTP server answers 404 then, telling nothing more."""
        if not token or len(token) > 64:
            return None
        now = self._clock.now()
        async with self._uow() as uow:
            feed = await uow.calendar_feeds.by_token(token)
            if feed is None or not secrets.compare_digest(feed.token, token) or not feed.member.active:
                return None
            if feed.room is None:
                if DUTY_OFFICER not in feed.member.roles:
                    return None
                return await self._member_calendar(uow, feed.member, now)
            room = next((r for r in self._policy.duty_rooms if r.code == feed.room), None)
            if room is None or not self._may_see(feed.member, room):
                return None
            return await self._room_calendar(uow, feed.member, room, now)

    # Helpers ------------------------------------------------------------------------------------
    async def _entitled_member(self, uow: UnitOfWork, actor: Actor) -> Member:
        member = await self._roster.active_member(uow, actor)
        if member is None or not (
            DUTY_OFFICER in member.roles or any(self._may_see(member, r) for r in self._policy.duty_rooms)
        ):
            denied = NotAllowed(N_("Shift calendars are for duty officers and the keepers of a duty roster."))
            await refuse(uow, self._clock, actor, "roster_calendar", "-", denied)
        assert member is not None
        return member

    def _may_see(self, member: Member, room: DutyRoom) -> bool:
        """A room's roster: its keepers, and the duty officers of its department."""
        return self._roster.keeps(member, room) or (
            DUTY_OFFICER in member.roles and member.department == room.department
        )

    async def _ensure(self, uow: UnitOfWork, actor: Actor, member: Member, now: datetime) -> list[Feed]:
        wanted: list[str | None] = [None] if DUTY_OFFICER in member.roles else []
        wanted += [room.code for room in self._policy.duty_rooms if self._may_see(member, room)]
        live = {feed.room: feed for feed in await uow.calendar_feeds.live(member.id)}
        made = []
        for room in wanted:
            if room not in live:
                live[room] = uow.calendar_feeds.add(
                    CalendarFeed(
                        member=member,
                        room=room,
                        token=secrets.token_urlsafe(TOKEN_BYTES),
                        created_at=now,
                        revoked_at=None,
                    )
                )
                made.append(room or "-")
        if made:
            await uow.session.flush()
            await record(
                uow, self._clock, actor, "roster_calendar", member.id, "created", actor_id=member.id, feeds=made
            )
        return [Feed(room, self.url(live[room].token)) for room in wanted]

    def url(self, token: str) -> str | None:
        return f"{self._base}/calendar/{token}.ics" if self._base else None

    async def _member_calendar(self, uow: UnitOfWork, member: Member, now: datetime) -> bytes:
        """The member's shifts from 30 days ago on, with an alarm for each of the room's reminders."""
        t, language = self._texts, self._texts.language(member)
        found = calendar(t.text(language, N_("My duty shifts")), PRODID)
        since = (now - HISTORY).astimezone(self._zone).date()
        for row in await uow.roster.of_member_from(member.id, since):
            room = next((r for r in self._policy.duty_rooms if r.code == row.room), None)
            pattern = find_shift(room, row.shift) if room else None
            if room is None or pattern is None:
                continue
            occurrence = shift_time(room, pattern, row.day, self._zone)
            crew = await self._roster.crew(uow, room.code, occurrence)
            event = self._event(
                f"roster-{occurrence.key.replace(':', '-')}-{member.id}",
                occurrence.starts_at,
                occurrence.ends_at,
                t.text(
                    language,
                    N_("{shift} ({position})"),
                    shift=t.shift(language, room.code, pattern.code),
                    position=t.position(language, row.position),
                ),
                self._crew_text(language, crew.primary, crew.backup),
                now,
            )
            for offset in room.shift_reminders:
                alarm = Alarm()
                alarm.add("action", "DISPLAY")
                alarm.add("trigger", -offset)
                alarm.add("description", t.shift(language, room.code, pattern.code))
                event.add_component(alarm)
            found.add_component(event)
        return serialise(found)

    async def _room_calendar(self, uow: UnitOfWork, member: Member, room: DutyRoom, now: datetime) -> bytes:
        """Every shift of the room from 30 days ago to two months ahead, with who stands it; a shift
        without a primary officer says so."""
        t, language = self._texts, self._texts.language(member)
        found = calendar(t.text(language, N_("Duty roster: {room}"), room=t.room(language, room.code)), PRODID)
        for occurrence in shift_times(room, now - HISTORY, now + AHEAD, self._zone):
            crew = await self._roster.crew(uow, room.code, occurrence)
            names = t.names(crew.primary) if crew.primary else t.text(language, N_("nobody — a gap in the roster!"))
            found.add_component(
                self._event(
                    f"roster-{occurrence.key.replace(':', '-')}",
                    occurrence.starts_at,
                    occurrence.ends_at,
                    f"{t.shift(language, room.code, occurrence.shift)}: {names}",
                    self._crew_text(language, crew.primary, crew.backup),
                    now,
                )
            )
        return serialise(found)

    def _crew_text(self, language: str, primary: Sequence[Member], backup: Sequence[Member]) -> str:
        t = self._texts
        return t.text(
            language, N_("Primary: {primary}. Backup: {backup}."), primary=t.names(primary), backup=t.names(backup)
        )

    @staticmethod
    def _event(uid: str, start: datetime, end: datetime, summary: str, description: str, now: datetime) -> Event:
        event = Event()
        event.add("uid", f"{uid}@{UID_DOMAIN}")
        event.add("dtstamp", now.astimezone(UTC))
        event.add("dtstart", start.astimezone(UTC))
        event.add("dtend", end.astimezone(UTC))
        event.add("summary", summary)
        event.add("description", description)
        return event
