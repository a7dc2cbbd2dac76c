"""Tables of the deadlines flow (E1–E6, E4 timeliness): recorded events and obligation instances."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base


class DeadlineEvent(Base):
    """An event a member recorded ("board resolution adopted on …"); its deadlines follow from it (E2, E6)."""

    __tablename__ = "deadline_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(48))  # the event's code in the policy
    occurred_on: Mapped[date]
    description: Mapped[str] = mapped_column(Text)
    department: Mapped[str] = mapped_column(String(32))
    recorded_by: Mapped[int] = mapped_column(ForeignKey("members.id"))
    recorded_at: Mapped[datetime]


class DeadlineInstance(Base):
    """One period (or one event) of an obligation: when it is due, who owns it, and what became of it (E4).

    ``due_at`` is the deadline the rule gives; an extension sets ``extended_due`` and never
    rewrites ``due_at``, so timeliness is measured against the original deadline (A5)."""

    __tablename__ = "deadline_instances"

    id: Mapped[int] = mapped_column(primary_key=True)
    obligation: Mapped[str] = mapped_column(String(48))
    period: Mapped[str] = mapped_column(String(40))
    event_id: Mapped[int | None] = mapped_column(ForeignKey("deadline_events.id"))
    department: Mapped[str] = mapped_column(String(32))
    owner_role: Mapped[str | None] = mapped_column(String(32))
    owner_members: Mapped[list[int]] = mapped_column(JSON)  # Telegram user ids
    anchor: Mapped[date]
    due_at: Mapped[datetime]
    provisional: Mapped[bool] = mapped_column(Boolean)
    rule_hash: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(12))  # upcoming | late | missed | done | withdrawn
    outcome: Mapped[str | None] = mapped_column(String(12))  # on_time | extended | late | missed
    done_at: Mapped[datetime | None]
    done_by: Mapped[int | None] = mapped_column(Integer)
    evidence_note: Mapped[str | None] = mapped_column(Text)
    evidence_file: Mapped[str | None] = mapped_column(String(256))  # a Telegram file id
    extended_due: Mapped[datetime | None]
    extension_reason: Mapped[str | None] = mapped_column(Text)
    extended_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime]

    __table_args__ = (
        UniqueConstraint("obligation", "period", name="uq_deadline_instances_period"),
        Index("ix_deadline_instances_state_due", "state", "due_at"),
        Index("ix_deadline_instances_department", "department", "due_at"),
    )

    @property
    def effective_due(self) -> datetime:
        return self.extended_due or self.due_at
