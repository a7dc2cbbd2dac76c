"""Tables of the approval engine, shared by every flow that needs approvals (C3, C7, D2).

A request is one subject of one kind (an access request, a publication) going through an
ordered chain of steps. Each step is decided by the members it was assigned to; decisions and
questions are kept as rows so the whole history can be shown and audited.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models import Base


class ApprovalRequest(Base):
    __tablename__ = "approval_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[int] = mapped_column(Integer)
    requester_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    department: Mapped[str] = mapped_column(String(32))  # the requester's, at submission
    state: Mapped[str] = mapped_column(String(16), default="pending")  # pending approved rejected returned withdrawn
    position: Mapped[int] = mapped_column(Integer, default=0)  # index of the current step
    revision: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]

    steps: Mapped[list[ApprovalStep]] = relationship(
        lazy="selectin", order_by="ApprovalStep.position", cascade="all, delete-orphan"
    )

    __table_args__ = (UniqueConstraint("kind", "subject_id", name="uq_approval_subject"),)

    @property
    def current(self) -> ApprovalStep:
        return self.steps[self.position]


class ApprovalStep(Base):
    __tablename__ = "approval_steps"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("approval_requests.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    spec: Mapped[str] = mapped_column(String(48))  # department_head | role:<code> | a flow's resolver name
    state: Mapped[str] = mapped_column(String(16), default="waiting")  # waiting active approved rejected returned
    level: Mapped[int] = mapped_column(Integer, default=0)  # 0 = the step's own approvers, then superiors
    reminded: Mapped[bool] = mapped_column(Boolean, default=False)  # at this level
    paused: Mapped[bool] = mapped_column(Boolean, default=False)  # a question waits for the requester
    activated_at: Mapped[datetime | None]
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    decided_for: Mapped[int | None] = mapped_column(ForeignKey("members.id"))  # the principal of a delegate
    decided_at: Mapped[datetime | None]
    # Set when an approver transferred (转交) the step: this member replaces the step's own approvers.
    transferred_to: Mapped[int | None] = mapped_column(ForeignKey("members.id"))

    __table_args__ = (UniqueConstraint("request_id", "position", name="uq_approval_step_position"),)


class ApprovalAssignee(Base):
    """Who was asked to decide a step (and told with a card): the queue behind /approvals."""

    __tablename__ = "approval_assignees"

    id: Mapped[int] = mapped_column(primary_key=True)
    step_id: Mapped[int] = mapped_column(ForeignKey("approval_steps.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    principal_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))  # set when acting as a delegate
    unreachable: Mapped[bool] = mapped_column(Boolean, default=False)
    added_at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("step_id", "member_id", name="uq_approval_assignee"),)


class ApprovalDecision(Base):
    """Append-only history: approved, rejected, returned, escalated, reset (after a changed revision),
    transferred (转交), copied (抄送) and nudged (催办); ``target_id`` is who it was transferred or copied to."""

    __tablename__ = "approval_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("approval_requests.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    revision: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(16))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    principal_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    comment: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime]
    target_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))


class ApprovalQuestion(Base):
    """An approver's question to the requester; the answer goes back to the approver."""

    __tablename__ = "approval_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("approval_requests.id", ondelete="CASCADE"), index=True)
    step_id: Mapped[int] = mapped_column(ForeignKey("approval_steps.id", ondelete="CASCADE"))
    asked_by: Mapped[int] = mapped_column(ForeignKey("members.id"))
    asked_for: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    question: Mapped[str] = mapped_column(Text)
    asked_at: Mapped[datetime]
    answer: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None]


class ApprovalDelegation(Base):
    """While a member is away (/away), a delegate decides in their name, and every decision says so."""

    __tablename__ = "approval_delegations"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    delegate_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    created_at: Mapped[datetime]
    until: Mapped[datetime]
    ended_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_approval_delegations_member", "member_id", "until"),)
