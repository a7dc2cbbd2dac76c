"""The approval engine, shared by every flow whose items need approval (C3, C7; D2 reuses it).

A flow registers an :class:`ApprovalKind` (how to show its subject, who its own step names mean,
what to do when a request is approved, rejected, returned or withdrawn) and calls
:meth:`ApprovalService.submit` inside its own unit of work. The engine then walks the chain: each
step goes to its approvers with Approve / Reject / Ask buttons (Return for revision where the kind
allows it), is re-authorised on every press (F3: no self-approval, one person at most one step,
only the step's approvers or their delegates), reminds an idle approver after the step window and
escalates to their superior after a second one (C7). Every change is audited (F1).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from aiogram.utils.i18n import I18n

from bot.clock import Clock
from bot.outgoing.approvals import answer_actions
from bot.policy import Policy
from bot.services.actor import Actor
from bot.services.approval_asks import ApprovalAsks
from bot.services.approval_notices import Notices
from bot.services.approval_routing import ApproverRouting, Resolution, Resolver, StepWindow
from bot.services.approval_walk import ANSWERED_CARD, TIMER, ApprovalKind, StepWalk, history
from bot.services.audit import record, refuse
from bot.services.callers import active_member
from bot.services.errors import N_, Conflict, DomainError, InvalidInput, NotAllowed, NotFound
from storage.approval_models import ApprovalAssignee, ApprovalQuestion, ApprovalRequest, ApprovalStep
from storage.models import Member
from storage.uow import UnitOfWork, UnitOfWorkFactory

MAX_COMMENT = 1000  # characters in a reason, question, answer or comment

__all__ = [  # what flows use
    "ApprovalKind",
    "CardView",
    "Confirmation",
    "ApprovalService",
    "ApprovalStatus",
    "Decided",
    "QueueItem",
    "Resolution",
    "Resolver",
    "StepWindow",
]


@dataclass(frozen=True)
class ApprovalStatus:
    """Where a request is and who holds it, in the language asked for."""

    state: str  # pending approved rejected returned withdrawn
    position: int  # 1-based
    total: int
    step: str
    holders: tuple[str, ...]


@dataclass(frozen=True)
class QueueItem:
    step_id: int
    kind: str
    title: str
    requester: str
    since: datetime
    principal: str | None  # the away member the caller decides for
    protect: bool = False  # it names a classified request: the listing is sent protected


@dataclass(frozen=True)
class CardView:
    """One waiting step's card for the caller (/approvals)."""

    text: str
    returnable: bool
    request_id: int
    protect: bool  # it shows classified details


@dataclass(frozen=True)
class Confirmation:
    """What a weighty approval grants, to whom, until when: shown before it takes effect (C4, C5)."""

    text: str
    protect: bool


@dataclass(frozen=True)
class Decided:
    state: str  # the request's state after the decision
    holders: tuple[str, ...]  # who holds the next step, if any


class ApprovalService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, policy: Policy, i18n: I18n) -> None:
        self._uow = uow
        self._clock = clock
        self.policy = policy
        self.routing = ApproverRouting(policy)
        self.notices = Notices(i18n, policy, clock)
        self._kinds: dict[str, ApprovalKind] = {}
        self.walk = StepWalk(clock, self.routing, self.notices, self._kinds)
        self.asks = ApprovalAsks(uow, clock, self)  # transfer, nudge, copy (issue 14)

    def register(self, kind: ApprovalKind) -> None:
        self._kinds[kind.code] = kind

    def kind(self, code: str) -> ApprovalKind:
        return self._kinds[code]

    # A flow's calls, inside the flow's own unit of work ---------------------------------------
    async def submit(
        self, uow: UnitOfWork, actor: Actor, *, kind: str, subject_id: int, requester: Member, steps: Sequence[str]
    ) -> ApprovalRequest:
        """Start the chain for a subject; the first step's approvers get their cards. The requester
        is not messaged: answer them in chat with :meth:`status`."""
        spec = self._kinds[kind]
        unknown = [step for step in steps if not self.routing.is_known(step, spec.resolvers)]
        if unknown or not steps:
            raise ValueError(f"steps {unknown or steps!r} cannot be resolved for {kind}")
        now = self._clock.now()
        request = uow.approvals.add(
            ApprovalRequest(
                kind=kind,
                subject_id=subject_id,
                requester_id=requester.id,
                department=requester.department,
                state="pending",
                position=0,
                revision=1,
                created_at=now,
                steps=[ApprovalStep(position=index, spec=step, state="waiting") for index, step in enumerate(steps)],
            )
        )
        await uow.session.flush()
        await record(
            uow, self._clock, actor, "approval", request.id, "submitted", requester.id, kind=kind, subject=subject_id
        )
        await self.walk.activate(uow, request, request.current, now, tell=False)  # the flow shows status()
        return request

    async def resubmit(
        self, uow: UnitOfWork, actor: Actor, request: ApprovalRequest, *, content_changed: bool
    ) -> ApprovalRequest:
        """After a return for revision: a changed content resets every approval and starts again
        at the first step (D2); an unchanged one goes back to the step that returned it."""
        if request.state != "returned":
            raise Conflict(N_("Only a request returned for revision can be resubmitted."))
        now = self._clock.now()
        request.state, request.revision = "pending", request.revision + 1
        for step in request.steps:
            if content_changed and step.state == "approved":
                uow.approvals.add_decision(history(request, step, "reset", None, None, None, now))
            if content_changed or step.state == "returned":
                step.state, step.decided_by, step.decided_for, step.decided_at = "waiting", None, None, None
        if content_changed:
            request.position = 0
        await record(
            uow,
            self._clock,
            actor,
            "approval",
            request.id,
            "resubmitted",
            request.requester_id,
            changed=content_changed,
        )
        await self.walk.activate(uow, request, request.current, now)
        return request

    async def withdraw(self, uow: UnitOfWork, actor: Actor, request: ApprovalRequest, reason: str) -> None:
        """End an open request (the requester cancelled it, or left: C6)."""
        await self.walk.withdraw(uow, actor, request, reason)

    async def status(
        self, uow: UnitOfWork, kind: str, subject_ids: Sequence[int], language: str
    ) -> dict[int, ApprovalStatus]:
        """For listings: where each subject's request is and who holds it now."""
        spec = self._kinds[kind]
        result = {}
        for subject_id, request in (await uow.approvals.by_subjects(kind, subject_ids)).items():
            step = request.current
            holders: tuple[str, ...] = ()
            if request.state == "pending" and step.state == "active":
                assignees = await self._holding(uow, request, step)
                people = await uow.approvals.members(
                    [a.member_id for a in assignees] + [a.principal_id for a in assignees]
                )
                holders = tuple(
                    self.notices.named(people.get(a.member_id), people.get(a.principal_id), language)
                    for a in assignees
                    if a.member_id in people and people[a.member_id].active
                )
            label = self.notices.step_label(spec, step.spec, language)
            result[subject_id] = ApprovalStatus(request.state, step.position + 1, len(request.steps), label, holders)
        return result

    # Decisions from the chat (each in its own unit of work) --------------------------------------
    async def check_decider(self, actor: Actor, step_id: int) -> None:
        """Before asking for a reason or a question: refuse (and audit) someone who may not decide."""
        async with self._uow() as uow:
            await self._authorise(uow, actor, step_id)

    async def confirmation(self, actor: Actor, step_id: int, language: str) -> Confirmation | None:
        """The first tap on Approve, re-authorised: for a request that must be confirmed (绝密, full,
        export: C4, C5) what it grants, to whom, until when; None when one tap approves."""
        async with self._uow() as uow:
            request, _step, _member, _principal = await self._authorise(uow, actor, step_id)
            kind = self._kinds[request.kind]
            text = await kind.confirm(uow, request, language) if kind.confirm is not None else None
            if text is None:
                return None
            return Confirmation(text, await self.notices.protected(uow, kind, request))

    async def approve(self, actor: Actor, step_id: int, *, confirmed: bool = False) -> Decided:
        """``confirmed``: the second tap (Confirm) of a request that needs it; without it such a
        request is not approved (C4, C5)."""
        async with self._uow() as uow:
            request, step, member, principal = await self._authorise(uow, actor, step_id)
            kind, now = self._kinds[request.kind], self._clock.now()
            if not confirmed and kind.confirm is not None and await kind.confirm(uow, request, "en") is not None:
                await self._deny(
                    uow, actor, request.id, Conflict(N_("Please confirm this approval first; nothing was changed."))
                )
            await self.walk.decide(uow, actor, request, step, "approved", member, principal, None, now)
            if step.position + 1 < len(request.steps):
                request.position += 1
                await self.walk.activate(uow, request, request.current, now)
            else:
                request.state, request.closed_at = "approved", now
                await kind.on_approved(uow, request, now)
            decided = await self._decided(uow, request)
            await uow.commit()
            return decided

    async def reject(self, actor: Actor, step_id: int, reason: str) -> Decided:
        reason = _comment(reason)
        async with self._uow() as uow:
            request, step, member, principal = await self._authorise(uow, actor, step_id)
            kind, now = self._kinds[request.kind], self._clock.now()
            await self.walk.decide(uow, actor, request, step, "rejected", member, principal, reason, now)
            request.state, request.closed_at = "rejected", now
            await self.walk.tell_requester(
                uow,
                request,
                f"approval-rejected:{request.id}",
                N_("⛔ Your request «{title}» was rejected by {name}.\nReason: {reason}"),
                now,
                by=member,
                principal=principal,
                reason=reason,
            )
            if kind.on_rejected is not None:
                await kind.on_rejected(uow, request, reason, now)
            await uow.commit()
            return Decided("rejected", ())

    async def return_for_revision(self, actor: Actor, step_id: int, comment: str) -> Decided:
        comment = _comment(comment)
        async with self._uow() as uow:
            request, step, member, principal = await self._authorise(uow, actor, step_id)
            kind, now = self._kinds[request.kind], self._clock.now()
            if kind.on_returned is None:
                await self._deny(
                    uow, actor, request.id, NotAllowed(N_("This request cannot be returned for revision."))
                )
            await self.walk.decide(uow, actor, request, step, "returned", member, principal, comment, now)
            request.state = "returned"
            await kind.on_returned(uow, request, comment, now)  # type: ignore[misc]
            await uow.commit()
            return Decided("returned", ())

    async def ask(self, actor: Actor, step_id: int, question: str) -> None:
        """The requester gets the question with an Answer button; the step's window pauses until
        every question is answered (an approver waiting for an answer is not idle)."""
        question = _comment(question)
        async with self._uow() as uow:
            request, step, member, principal = await self._authorise(uow, actor, step_id)
            now = self._clock.now()
            asked = uow.approvals.add_question(
                ApprovalQuestion(
                    request_id=request.id,
                    step_id=step.id,
                    asked_by=member.id,
                    asked_for=principal,
                    question=question,
                    asked_at=now,
                )
            )
            await uow.session.flush()
            step.paused = True
            await uow.timers.cancel_ref(TIMER, str(step.id))
            await record(uow, self._clock, actor, "approval", request.id, "asked", member.id, question=asked.id)
            await self.walk.tell_requester(
                uow,
                request,
                f"approval-question:{asked.id}",
                N_("❓ {name} asks about your request «{title}»:\n{question}"),
                now,
                by=member,
                principal=principal,
                actions=lambda t: answer_actions(asked.id, t),
                question=question,
            )
            await uow.commit()

    async def check_answerer(self, actor: Actor, question_id: int) -> None:
        async with self._uow() as uow:
            await self._open_question(uow, actor, question_id)

    async def answer(self, actor: Actor, question_id: int, text: str) -> None:
        """The answer goes back to the approver who asked, with the decision buttons (to whoever holds
        the step now, if the asker transferred it)."""
        text = _comment(text)
        async with self._uow() as uow:
            question, request, requester = await self._open_question(uow, actor, question_id)
            now = self._clock.now()
            question.answer, question.answered_at = text, now
            await record(
                uow, self._clock, actor, "approval", request.id, "answered", requester.id, question=question.id
            )
            step = await uow.approvals.step(question.step_id)
            asker = await self.walk.member(uow, question.asked_by)
            if step is None or step.state != "active":
                return await uow.commit()
            if not await uow.approvals.open_questions(step.id):
                step.paused, step.reminded = False, False
                await self.walk.schedule(uow, request, step, now)
            principal = await uow.members.get(question.asked_for) if question.asked_for else None
            kind = self._kinds[request.kind]
            ladder = await self.routing.ladder(uow, request, step, kind.resolvers)
            if asker.id in await self.routing.qualified(uow, request, step, ladder, now):
                await self.notices.send_card(
                    uow, kind, request, step, asker, principal, ANSWERED_CARD, now, name=requester.name
                )
            else:  # the asker passed the step on (转交): the answer goes to whoever holds it now
                await self.walk.reach(uow, request, step, ladder, ANSWERED_CARD, now, name=requester.name)
            await uow.commit()

    # Queue and cards ------------------------------------------------------------------------------
    async def queue(self, actor: Actor, language: str) -> list[QueueItem]:
        """What waits for the member's decision, across every kind, oldest request first."""
        async with self._uow() as uow:
            member = await active_member(uow, self._clock, actor, "approval")
            now, items = self._clock.now(), []
            for _assignee, step, request in await uow.approvals.waiting_for(member.id):
                kind = self._kinds.get(request.kind)
                if kind is None:
                    continue
                ladder = await self.routing.ladder(uow, request, step, kind.resolvers)
                qualified = await self.routing.qualified(uow, request, step, ladder, now)
                if member.id not in qualified:
                    continue
                requester = await self.walk.member(uow, request.requester_id)
                principal = await uow.members.get(qualified[member.id] or 0)
                title = await kind.title(uow, request, language)
                t = self.notices.speakers.in_language(language)._
                since = step.activated_at or request.created_at
                items.append(
                    QueueItem(
                        step.id,
                        t(kind.name),
                        title,
                        requester.name,
                        since,
                        principal.name if principal else None,
                        await self.notices.protected(uow, kind, request),
                    )
                )
            return items

    async def card(self, actor: Actor, step_id: int, language: str) -> CardView:
        """The card of one waiting step for the caller."""
        async with self._uow() as uow:
            request, step, _member, principal = await self._authorise(uow, actor, step_id)
            kind = self._kinds[request.kind]
            text = await self.notices.card_text(uow, kind, request, step, language)
            if principal:
                away = await self.walk.member(uow, principal)
                t = self.notices.speakers.in_language(language)._
                note = t(N_("You decide for {principal}, who is away; your decision will say so."))
                text = note.format(principal=away.name) + "\n\n" + text
            protect = await self.notices.protected(uow, kind, request)
            return CardView(text, kind.on_returned is not None, request.id, protect)

    async def _decided(self, uow: UnitOfWork, request: ApprovalRequest) -> Decided:
        if request.state != "pending":
            return Decided(request.state, ())
        assignees = await self._holding(uow, request, request.current)
        people = await uow.approvals.members(a.member_id for a in assignees)
        return Decided("pending", tuple(people[a.member_id].name for a in assignees if a.member_id in people))

    async def _holding(self, uow: UnitOfWork, request: ApprovalRequest, step: ApprovalStep) -> list[ApprovalAssignee]:
        """Who was asked and may still decide (not someone who transferred the step away, or lost the role)."""
        ladder = await self.routing.ladder(uow, request, step, self._kinds[request.kind].resolvers)
        qualified = await self.routing.qualified(uow, request, step, ladder, self._clock.now())
        return [a for a in await uow.approvals.assignees(step.id) if a.member_id in qualified]

    # Checks -----------------------------------------------------------------------------------------
    async def authorise(
        self, uow: UnitOfWork, actor: Actor, step_id: int
    ) -> tuple[ApprovalRequest, ApprovalStep, Member, int | None]:
        """For the engine's other parts: who may decide the step now (see :meth:`_authorise`)."""
        return await self._authorise(uow, actor, step_id)

    async def _authorise(
        self, uow: UnitOfWork, actor: Actor, step_id: int
    ) -> tuple[ApprovalRequest, ApprovalStep, Member, int | None]:
        """F3, C3: the step is live, the caller is not the requester, has not approved another step,
        and is one of the step's approvers (or the delegate of one) — checked from the database."""
        member = await active_member(uow, self._clock, actor, "approval")
        step = await uow.approvals.step(step_id, for_update=True)
        request = await uow.approvals.get(step.request_id) if step else None

        async def deny(error: DomainError) -> None:
            await self._deny(uow, actor, request.id if request else f"step:{step_id}", error)

        if step is None or request is None or request.kind not in self._kinds:
            await deny(NotFound(N_("This request no longer exists.")))
        assert step is not None and request is not None
        if request.state != "pending" or step.state != "active":
            await deny(Conflict(N_("This step has already been decided; nothing was changed.")))
        if member.id == request.requester_id:
            await deny(NotAllowed(N_("You cannot decide on your own request.")))
        if member.id in self.routing.excluded(request, step):
            await deny(
                NotAllowed(
                    N_("You have already approved another step of this request; someone else must decide this one.")
                )
            )
        ladder = await self.routing.ladder(uow, request, step, self._kinds[request.kind].resolvers)
        qualified = await self.routing.qualified(uow, request, step, ladder, self._clock.now())
        if member.id not in qualified:
            await deny(NotAllowed(N_("Only the approvers of this step can decide it.")))
        return request, step, member, qualified[member.id]

    async def _open_question(
        self, uow: UnitOfWork, actor: Actor, question_id: int
    ) -> tuple[ApprovalQuestion, ApprovalRequest, Member]:
        member = await active_member(uow, self._clock, actor, "approval")
        question = await uow.approvals.question(question_id)
        request = await uow.approvals.get(question.request_id) if question else None
        if question is None or request is None:
            await self._deny(uow, actor, f"question:{question_id}", NotFound(N_("This request no longer exists.")))
        assert question is not None and request is not None
        if member.id != request.requester_id:
            await self._deny(uow, actor, request.id, NotAllowed(N_("Only the requester can answer this question.")))
        if question.answer is not None or request.state != "pending":
            await self._deny(uow, actor, request.id, Conflict(N_("This question is closed; nothing was changed.")))
        return question, request, member

    async def _deny(self, uow: UnitOfWork, actor: Actor, entity_id: str | int, error: DomainError) -> None:
        """Audit and commit the refusal, then raise it (F3)."""
        await refuse(uow, self._clock, actor, "approval", entity_id, error)


def _comment(text: str) -> str:
    """A reason, question, answer or comment: required, and short enough to read on a phone."""
    text = text.strip()
    if len(text) < 2:
        raise InvalidInput(N_("Please write a few words."))
    if len(text) > MAX_COMMENT:
        raise InvalidInput(N_("That is too long: at most {limit} characters."), limit=MAX_COMMENT)
    return text
