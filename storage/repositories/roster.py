from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime

from sqlalchemy import bindparam, delete, select, update

from storage.models import Member, MemberRole, Timer
from storage.repositories.base import Repository
from storage.repositories.members import detached_members
from storage.roster_models import ACCEPTED, OPEN, CalendarFeed, HandoverNote, RosterAssignment, SwapRequest

# Who stands a shift, for the roster's own changes
SLOT = (
    select(RosterAssignment)
    .where(
        RosterAssignment.room == bindparam("room"),
        RosterAssignment.day == bindparam("day"),
        RosterAssignment.shift == bindparam("shift"),
    )
    .order_by(RosterAssignment.position.desc(), RosterAssignment.id)
)
# ... and the members themselves, with their roles, as plain rows: every alert round reads them (issue 15)
STANDING = (
    select(RosterAssignment.position, Member.__table__, MemberRole.role)
    .join(Member, RosterAssignment.member_id == Member.id)
    .outerjoin(MemberRole, MemberRole.member_id == Member.id)
    .where(
        RosterAssignment.room == bindparam("room"),
        RosterAssignment.day == bindparam("day"),
        RosterAssignment.shift == bindparam("shift"),
        Member.active.is_(True),
    )
    .order_by(RosterAssignment.position.desc(), RosterAssignment.id, MemberRole.role)
)


class RosterRepository(Repository):
    async def slot(self, room: str, day: date, shift: str) -> Sequence[RosterAssignment]:
        """Everyone on one shift, primaries first, in the order they were assigned."""
        return (await self.session.scalars(SLOT, {"room": room, "day": day, "shift": shift})).all()

    async def standing(self, room: str, day: date, shift: str) -> list[tuple[str, Member]]:
        """The active members on one shift with their positions, in the order of `slot`; the members detached
        (`detached_members`: read, not loaded by the ORM), as every alert round reads them."""
        rows = (await self.session.execute(STANDING, {"room": room, "day": day, "shift": shift})).all()
        positions = {row.id: row.position for row in rows}
        return [(positions[member.id], member) for member in detached_members(rows)]

    async def of_member_from(self, member_id: int, first: date) -> Sequence[RosterAssignment]:
        rows = await self.session.scalars(
            select(RosterAssignment)
            .where(RosterAssignment.member_id == member_id, RosterAssignment.day >= first)
            .order_by(RosterAssignment.day, RosterAssignment.room, RosterAssignment.shift)
        )
        return rows.all()

    async def from_day(self, first: date) -> Sequence[RosterAssignment]:
        """Every assignment on or after `first` (planning the reminders at start)."""
        rows = await self.session.scalars(
            select(RosterAssignment).where(RosterAssignment.day >= first).order_by(RosterAssignment.id)
        )
        return rows.all()

    async def forget_timers(self, kind: str, ref: str) -> None:
        """Delete pending timers of `kind` for `ref`: unlike cancelling, the same keys can be planned again."""
        await self.session.execute(delete(Timer).where(Timer.kind == kind, Timer.ref == ref, Timer.state == "pending"))

    def add(self, assignment: RosterAssignment) -> RosterAssignment:
        self.session.add(assignment)
        return assignment

    async def remove(self, assignment: RosterAssignment) -> None:
        await self.session.delete(assignment)

    async def members_matching(self, key: str) -> Sequence[Member]:
        """Active members whose Telegram id or exact name is `key` (CSV rows name people either way)."""
        query = select(Member).where(Member.active.is_(True))
        query = (
            query.where(Member.telegram_id == int(key))
            if key.lstrip("-").isdigit()
            else query.where(Member.name == key)
        )
        return (await self.session.scalars(query)).all()


class HandoverRepository(Repository):
    def add(self, note: HandoverNote) -> HandoverNote:
        self.session.add(note)
        return note

    async def pending(self, room: str) -> Sequence[HandoverNote]:
        rows = await self.session.scalars(
            select(HandoverNote)
            .where(HandoverNote.room == room, HandoverNote.delivered_at.is_(None))
            .order_by(HandoverNote.id)
        )
        return rows.all()

    async def mark_delivered(self, ids: Iterable[int], at: datetime) -> None:
        await self.session.execute(update(HandoverNote).where(HandoverNote.id.in_(list(ids))).values(delivered_at=at))


class SwapRepository(Repository):
    """Officers' swap requests (B1)."""

    def add(self, request: SwapRequest) -> SwapRequest:
        self.session.add(request)
        return request

    async def get(self, request_id: int, *, for_update: bool = False) -> SwapRequest | None:
        query = select(SwapRequest).where(SwapRequest.id == request_id)
        if for_update and self.dialect == "postgresql":
            query = query.with_for_update(of=SwapRequest)
        return await self.session.scalar(query)

    async def pending_for(self, room: str, day: date, shift: str, requester_id: int) -> SwapRequest | None:
        """The requester's request for one shift still waiting for an answer or a keeper."""
        return await self.session.scalar(
            select(SwapRequest).where(
                SwapRequest.room == room,
                SwapRequest.day == day,
                SwapRequest.shift == shift,
                SwapRequest.requester_id == requester_id,
                SwapRequest.state.in_((OPEN, ACCEPTED)),
            )
        )


class CalendarFeedRepository(Repository):
    """Secret calendar addresses (B1)."""

    def add(self, feed: CalendarFeed) -> CalendarFeed:
        self.session.add(feed)
        return feed

    async def by_token(self, token: str) -> CalendarFeed | None:
        return await self.session.scalar(
            select(CalendarFeed).where(CalendarFeed.token == token, CalendarFeed.revoked_at.is_(None))
        )

    async def live(self, member_id: int) -> Sequence[CalendarFeed]:
        """The member's feeds not revoked, their own first, then by room."""
        rows = await self.session.scalars(
            select(CalendarFeed)
            .where(CalendarFeed.member_id == member_id, CalendarFeed.revoked_at.is_(None))
            .order_by(CalendarFeed.room.is_not(None), CalendarFeed.room)
        )
        return rows.all()
