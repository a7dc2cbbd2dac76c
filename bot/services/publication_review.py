"""The review chain of publication forms on the shared approval engine (rules D2, D5).

The engine walks the chain from the policy (department head → leader, plus the external review for
disclosures), enforces who may decide (no self-review, one step per person, the step's role for
the drafter's department, delegation while away; F3), reminds and escalates idle reviewers, and
keeps the decisions. This module tells it how a form reads for a reviewer — with the flags (D3),
the checklist (D4) and what changed since the version the step last saw (D2) — and what happens
when a form is approved (publishing, D5), rejected or returned to its drafter.
"""

from __future__ import annotations

from datetime import datetime

from bot.outgoing.publication import revise_actions
from bot.policy import Policy
from bot.services.actor import Actor
from bot.services.approvals import ApprovalKind, ApprovalService, ApprovalStatus, StepWindow
from bot.services.errors import N_
from bot.services.messages import queue_text
from bot.services.publication_channels import ChannelDesk
from bot.services.publication_listing import HistoryEntry
from bot.services.publication_render import CARD_BODY_LIMIT, Renderer
from bot.services.publications import ENTITY, draft_of
from storage.approval_models import ApprovalRequest
from storage.models import Member
from storage.publication_models import Publication
from storage.uow import UnitOfWork

KIND = "publication"
SEEN = ("approved", "rejected", "returned")  # decisions taken with a version in front of the reviewer


class PublicationReview:
    def __init__(self, engine: ApprovalService, policy: Policy) -> None:
        self._engine = engine
        self._policy = policy
        self._render = Renderer(policy)

    def register(self, desk: ChannelDesk) -> None:
        self._desk = desk
        self._engine.register(
            ApprovalKind(
                code=KIND,
                name=N_("Publication"),
                title=self._title,
                render=self._card,
                on_approved=self._approved,
                on_rejected=self._rejected,
                on_returned=self._returned,
                on_withdrawn=self._withdrawn,
                window=StepWindow(hours=self._policy.publication.step_window_hours),
            )
        )

    # What publications.py calls, inside its own unit of work ------------------------------------------
    async def start(
        self, uow: UnitOfWork, actor: Actor, form: Publication, drafter: Member, steps: tuple[str, ...]
    ) -> None:
        await self._engine.submit(uow, actor, kind=KIND, subject_id=form.id, requester=drafter, steps=steps)

    async def resume(self, uow: UnitOfWork, actor: Actor, form: Publication, changed: bool) -> None:
        request = await uow.approvals.by_subject(KIND, form.id)
        assert request is not None
        await self._engine.resubmit(uow, actor, request, content_changed=changed)

    async def status(self, uow: UnitOfWork, form_id: int, language: str) -> ApprovalStatus | None:
        """Where the form's chain is and who holds it, for the drafter's answer in chat."""
        await uow.session.flush()
        return (await self._engine.status(uow, KIND, [form_id], language)).get(form_id)

    async def involves(self, uow: UnitOfWork, form_id: int, member_id: int) -> bool:
        """Whether the member was asked to review the form (escalated to, or a delegate)."""
        request = await uow.approvals.by_subject(KIND, form_id)
        for step in request.steps if request else []:
            if any(a.member_id == member_id for a in await uow.approvals.assignees(step.id)):
                return True
        return False

    async def decisions(self, uow: UnitOfWork, form_id: int, language: str) -> list[HistoryEntry]:
        """Who decided what, when and for whom, on which version (D6)."""
        request = await uow.approvals.by_subject(KIND, form_id)
        if request is None:
            return []
        decisions = await uow.approvals.decisions(request.id)
        people = await uow.approvals.members([d.member_id for d in decisions] + [d.principal_id for d in decisions])
        kind = self._engine.kind(KIND)
        return [
            HistoryEntry(
                at=d.at,
                who=self._engine.notices.named(people.get(d.member_id), people.get(d.principal_id), language)
                if d.member_id
                else None,
                what=d.action,
                detail=" · ".join(
                    part
                    for part in (
                        self._engine.notices.step_label(kind, request.steps[d.position].spec, language),
                        d.comment,
                    )
                    if part
                ),
                version=d.revision,
            )
            for d in decisions
        ]

    # The engine's hooks -------------------------------------------------------------------------------
    async def _form(self, uow: UnitOfWork, request: ApprovalRequest) -> Publication:
        form = await uow.publications.get(request.subject_id)
        assert form is not None
        return form

    async def _title(self, uow: UnitOfWork, request: ApprovalRequest, language: str) -> str:
        form = await self._form(uow, request)
        return f"#{form.id} {form.current.title}"

    async def _card(self, uow: UnitOfWork, request: ApprovalRequest, language: str) -> str:
        """The form for a reviewer: every field, the flags, the checklist, and the changes since the
        version this step last decided on (D2, D3, D4)."""
        form = await self._form(uow, request)
        t = self._engine.notices.speakers.in_language(language)._
        drafter = await uow.members.get(form.drafter_id)
        department = self._policy.department(form.department).name.get(language)
        draft = draft_of(form.current)
        parts = [
            t(N_("Information publication form #{id} — {kind}")).format(
                id=form.id, kind=self._render.kind(form.kind, form.target_id, t)
            ),
            t(N_("Drafter: {name} · {department} · version {version}")).format(
                name=drafter.name if drafter else "—", department=department, version=form.version
            ),
            self._render.summary(draft, form.kind, t, language, body_limit=CARD_BODY_LIMIT),
        ]
        if form.kind != "takedown":
            parts += [self._render.flags(form.current.flags, t), self._render.checklist(draft.checklist, t)]
        seen = await self._seen_version(uow, request)
        if seen is not None and seen != form.version and (old := form.numbered(seen)) is not None:
            changes = self._render.changes(draft_of(old), draft, t, language)
            parts.append(
                t(N_("Changed since version {version} ([-removed-] {{+added+}}):")).format(version=seen)
                + "\n"
                + (changes or t(N_("nothing")))
            )
        if form.version > 1 and draft.note:
            parts.append(t(N_("Drafter's note: {note}")).format(note=draft.note))
        return "\n\n".join(parts)

    async def _seen_version(self, uow: UnitOfWork, request: ApprovalRequest) -> int | None:
        earlier = [
            d
            for d in await uow.approvals.decisions(request.id)
            if d.position == request.position and d.action in SEEN and d.revision < request.revision
        ]
        return earlier[-1].revision if earlier else None

    async def _approved(self, uow: UnitOfWork, request: ApprovalRequest, now: datetime) -> None:
        await self._desk.approved(uow, await self._form(uow, request), now)

    async def _rejected(self, uow: UnitOfWork, request: ApprovalRequest, reason: str, now: datetime) -> None:
        form = await self._form(uow, request)
        form.state, form.decided_at = "rejected", now

    async def _withdrawn(self, uow: UnitOfWork, request: ApprovalRequest, now: datetime) -> None:
        """The drafter left (their open requests are withdrawn): the form is closed, not left in review."""
        form = await self._form(uow, request)
        form.state, form.decided_at = "withdrawn", now

    async def _returned(self, uow: UnitOfWork, request: ApprovalRequest, comment: str, now: datetime) -> None:
        """Back to the drafter with the comment and a button to revise (D2)."""
        form = await self._form(uow, request)
        form.state = "returned"
        drafter = await uow.members.get(form.drafter_id)
        if drafter is None or not drafter.active:
            return
        t = self._engine.notices.speakers.to(drafter)._
        text = t(
            N_(
                "↩️ Your form #{id} «{title}» was returned for revision.\nComment: {comment}\nChange what is "
                "asked and resubmit; the reviewers will see what you changed."
            )
        ).format(id=form.id, title=form.current.title, comment=comment)
        await queue_text(
            uow,
            now,
            key=f"{ENTITY}:{form.id}:v{form.version}:returned",
            chat_id=drafter.telegram_id,
            text=text,
            actions=revise_actions(form.id, t),
        )
