from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import or_, select, update

from storage.approval_models import (
    ApprovalAssignee,
    ApprovalDecision,
    ApprovalDelegation,
    ApprovalQuestion,
    ApprovalRequest,
    ApprovalStep,
)
from storage.models import Member
from storage.repositories.base import Repository


class ApprovalRepository(Repository):
    def add(self, request: ApprovalRequest) -> ApprovalRequest:
        self.session.add(request)
        return request

    async def get(self, request_id: int) -> ApprovalRequest | None:
        return await self.session.get(ApprovalRequest, request_id)

    async def step(self, step_id: int, *, for_update: bool = False) -> ApprovalStep | None:
        """A step, locked when asked, so two approvers pressing at once cannot both decide it."""
        query = select(ApprovalStep).where(ApprovalStep.id == step_id)
        if for_update:
            query = query.with_for_update()
        return await self.session.scalar(query)

    async def by_subject(self, kind: str, subject_id: int) -> ApprovalRequest | None:
        query = select(ApprovalRequest).where(ApprovalRequest.kind == kind, ApprovalRequest.subject_id == subject_id)
        return await self.session.scalar(query)

    async def by_subjects(self, kind: str, subject_ids: Iterable[int]) -> dict[int, ApprovalRequest]:
        ids = list(subject_ids)
        if not ids:
            return {}
        rows = await self.session.scalars(
            select(ApprovalRequest).where(ApprovalRequest.kind == kind, ApprovalRequest.subject_id.in_(ids))
        )
        return {row.subject_id: row for row in rows}

    async def pending_of(self, requester_id: int) -> Sequence[ApprovalRequest]:
        query = select(ApprovalRequest).where(
            ApprovalRequest.requester_id == requester_id, ApprovalRequest.state.in_(("pending", "returned"))
        )
        return (await self.session.scalars(query.order_by(ApprovalRequest.id))).all()

    # Assignees ----------------------------------------------------------------------------------
    async def assignees(self, step_id: int) -> Sequence[ApprovalAssignee]:
        query = select(ApprovalAssignee).where(ApprovalAssignee.step_id == step_id).order_by(ApprovalAssignee.id)
        return (await self.session.scalars(query)).all()

    async def assign(self, step_id: int, member_id: int, principal_id: int | None, now: datetime) -> bool:
        """Add an assignee; False when the member was assigned to the step already."""
        statement = self.insert_ignoring_conflict(
            ApprovalAssignee,
            ["step_id", "member_id"],
            step_id=step_id,
            member_id=member_id,
            principal_id=principal_id,
            unreachable=False,
            added_at=now,
        )
        return bool((await self.session.execute(statement)).rowcount)

    async def mark_unreachable(self, step_id: int, member_id: int) -> None:
        await self.session.execute(
            update(ApprovalAssignee)
            .where(ApprovalAssignee.step_id == step_id, ApprovalAssignee.member_id == member_id)
            .values(unreachable=True)
        )

    async def waiting_for(self, member_id: int) -> Sequence[tuple[ApprovalAssignee, ApprovalStep, ApprovalRequest]]:
        """Active steps of open requests assigned to the member, oldest request first (/approvals)."""
        query = (
            select(ApprovalAssignee, ApprovalStep, ApprovalRequest)
            .join(ApprovalStep, ApprovalStep.id == ApprovalAssignee.step_id)
            .join(ApprovalRequest, ApprovalRequest.id == ApprovalStep.request_id)
            .where(
                ApprovalAssignee.member_id == member_id,
                ApprovalStep.state == "active",
                ApprovalRequest.state == "pending",
            )
            .order_by(ApprovalRequest.created_at, ApprovalRequest.id)
        )
        return [tuple(row) for row in (await self.session.execute(query)).all()]  # type: ignore[misc]

    async def active_steps_of(self, member_id: int) -> Sequence[ApprovalStep]:
        """Active steps the member was assigned to in their own name."""
        query = (
            select(ApprovalStep)
            .join(ApprovalAssignee, ApprovalAssignee.step_id == ApprovalStep.id)
            .where(
                ApprovalAssignee.member_id == member_id,
                ApprovalAssignee.principal_id.is_(None),
                ApprovalStep.state == "active",
            )
        )
        return (await self.session.scalars(query.order_by(ApprovalStep.id))).all()

    # History ------------------------------------------------------------------------------------
    def add_decision(self, decision: ApprovalDecision) -> None:
        self.session.add(decision)

    async def decisions(self, request_id: int) -> Sequence[ApprovalDecision]:
        query = select(ApprovalDecision).where(ApprovalDecision.request_id == request_id)
        return (await self.session.scalars(query.order_by(ApprovalDecision.id))).all()

    async def last_decision(self, request_id: int, action: str) -> ApprovalDecision | None:
        """The newest history entry of one kind (e.g. the last nudge), or None."""
        query = select(ApprovalDecision).where(
            ApprovalDecision.request_id == request_id, ApprovalDecision.action == action
        )
        return await self.session.scalar(query.order_by(ApprovalDecision.id.desc()).limit(1))

    async def copied_to(self, request_id: int) -> set[int]:
        """Who has been sent a copy (抄送) of the request."""
        query = select(ApprovalDecision.target_id).where(
            ApprovalDecision.request_id == request_id, ApprovalDecision.action == "copied"
        )
        return {member_id for member_id in await self.session.scalars(query) if member_id is not None}

    def add_question(self, question: ApprovalQuestion) -> ApprovalQuestion:
        self.session.add(question)
        return question

    async def question(self, question_id: int) -> ApprovalQuestion | None:
        return await self.session.get(ApprovalQuestion, question_id)

    async def questions(self, request_id: int) -> Sequence[ApprovalQuestion]:
        query = select(ApprovalQuestion).where(ApprovalQuestion.request_id == request_id)
        return (await self.session.scalars(query.order_by(ApprovalQuestion.id))).all()

    async def open_questions(self, step_id: int) -> Sequence[ApprovalQuestion]:
        query = select(ApprovalQuestion).where(ApprovalQuestion.step_id == step_id, ApprovalQuestion.answer.is_(None))
        return (await self.session.scalars(query)).all()

    # Delegation ---------------------------------------------------------------------------------
    def add_delegation(self, delegation: ApprovalDelegation) -> None:
        self.session.add(delegation)

    async def delegation_of(self, member_id: int, now: datetime) -> ApprovalDelegation | None:
        """The member's delegation in force now, if they are away."""
        query = select(ApprovalDelegation).where(
            ApprovalDelegation.member_id == member_id,
            ApprovalDelegation.ended_at.is_(None),
            ApprovalDelegation.until > now,
        )
        return await self.session.scalar(query.order_by(ApprovalDelegation.id.desc()).limit(1))

    async def delegations_of(self, member_ids: Iterable[int], now: datetime) -> dict[int, ApprovalDelegation]:
        """Delegations in force now, by the away member's id."""
        ids = list(member_ids)
        if not ids:
            return {}
        query = select(ApprovalDelegation).where(
            ApprovalDelegation.member_id.in_(ids),
            ApprovalDelegation.ended_at.is_(None),
            ApprovalDelegation.until > now,
        )
        return {row.member_id: row for row in await self.session.scalars(query.order_by(ApprovalDelegation.id))}

    async def end_delegations_involving(self, member_id: int, now: datetime) -> None:
        await self.session.execute(
            update(ApprovalDelegation)
            .where(
                or_(ApprovalDelegation.member_id == member_id, ApprovalDelegation.delegate_id == member_id),
                ApprovalDelegation.ended_at.is_(None),
            )
            .values(ended_at=now)
        )

    async def active_members(self) -> Sequence[Member]:
        return (await self.session.scalars(select(Member).where(Member.active.is_(True)).order_by(Member.name))).all()

    async def members(self, member_ids: Iterable[int]) -> dict[int, Member]:
        ids = {member_id for member_id in member_ids if member_id is not None}
        if not ids:
            return {}
        return {row.id: row for row in await self.session.scalars(select(Member).where(Member.id.in_(ids)))}
