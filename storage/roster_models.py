"""Tables of the duty roster (B1, B2): who stands which shift, and notes handed over at shift change."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models import Base, Member

PRIMARY, BACKUP = "primary", "backup"


class RosterAssignment(Base):
    """One member on one shift of one duty room on one date (B1). Shift patterns live in the policy;
    only who stands them is stored. A shift that starts on `day` may end on the next day."""

    __tablename__ = "roster_assignments"

    id: Mapped[int] = mapped_column(primary_key=True)
    room: Mapped[str] = mapped_column(String(48))
    day: Mapped[date] = mapped_column(Date)
    shift: Mapped[str] = mapped_column(String(48))
    position: Mapped[str] = mapped_column(String(8))  # primary | backup
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    assigned_by: Mapped[int | None] = mapped_column(Integer)  # a member id; None from the command line
    assigned_at: Mapped[datetime]

    member: Mapped[Member] = relationship(lazy="joined")

    __table_args__ = (
        UniqueConstraint("room", "day", "shift", "member_id", name="uq_roster_slot_member"),
        Index("ix_roster_room_day", "room", "day"),
    )


class HandoverNote(Base):
    """A note the outgoing officer leaves with /handover; delivered to the incoming officers (B2)."""

    __tablename__ = "handover_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    room: Mapped[str] = mapped_column(String(48))
    author_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    text: Mapped[str] = mapped_column(Text)
    written_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]

    author: Mapped[Member] = relationship(lazy="joined")

    __table_args__ = (Index("ix_handover_room_pending", "room", "delivered_at"),)


OPEN, ACCEPTED, DONE, DECLINED, REJECTED, EXPIRED, WITHDRAWN = (
    "open",
    "accepted",
    "done",
    "declined",
    "rejected",
    "expired",
    "withdrawn",
)


class SwapRequest(Base):
    """An officer asks a named colleague, or anyone eligible, to take one of their shifts (B1).

    open → accepted (waiting for a keeper, when the policy asks for approval) → done; or declined,
    rejected (by a keeper), expired (the shift started) or withdrawn (by the requester)."""

    __tablename__ = "roster_swap_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    room: Mapped[str] = mapped_column(String(48))
    day: Mapped[date] = mapped_column(Date)
    shift: Mapped[str] = mapped_column(String(48))
    position: Mapped[str] = mapped_column(String(8))
    requester_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    colleague_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))  # None: anyone eligible
    taker_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))  # who accepted
    state: Mapped[str] = mapped_column(String(12), default=OPEN)
    asked: Mapped[list[Any]] = mapped_column(JSON, default=list)  # [member id, outbox row of their card]
    declined: Mapped[list[Any]] = mapped_column(JSON, default=list)  # member ids
    keeper_cards: Mapped[list[Any]] = mapped_column(JSON, default=list)  # [keeper id, outbox row] to approve
    created_at: Mapped[datetime]
    starts_at: Mapped[datetime]  # the shift's start: the request expires then
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[int | None] = mapped_column(Integer)  # the keeper who approved or rejected

    requester: Mapped[Member] = relationship(foreign_keys=[requester_id], lazy="joined")
    colleague: Mapped[Member | None] = relationship(foreign_keys=[colleague_id], lazy="joined")
    taker: Mapped[Member | None] = relationship(foreign_keys=[taker_id], lazy="joined")

    __table_args__ = (Index("ix_swap_slot_state", "room", "day", "shift", "state"),)


class CalendarFeed(Base):
    """A secret calendar address (B1): a member's own shifts (room None) or a duty room's roster.
    Revoking sets `revoked_at`; the member's next /calendar makes a new token."""

    __tablename__ = "roster_calendar_feeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    room: Mapped[str | None] = mapped_column(String(48))
    token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]

    member: Mapped[Member] = relationship(lazy="joined")
