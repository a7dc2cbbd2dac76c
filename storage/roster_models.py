"""Tables of the duty roster (B1, B2): who stands which shift, and notes handed over at shift change."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
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
