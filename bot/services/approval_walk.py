"""How a request walks its chain (C3, C7): activating a step, reaching its approvers (or their
delegates), reminding and escalating when they stay idle, closing decided cards, and the
runner's entry points (timer, undeliverable card, deactivated member)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from bot.clock import Clock
from bot.outgoing.approvals import nudge_actions
from bot.outgoing.cards import Actions
from bot.outgoing.speaker import Translate
from bot.services.actor import Actor
from bot.services.approval_notices import Notices, step_ref
from bot.services.approval_routing import ApproverRouting, Resolver, StepWindow
from bot.services.audit import record
from bot.services.errors import N_
from storage.approval_models import ApprovalDecision, ApprovalRequest, ApprovalStep
from storage.models import Member, OutboxMessage, Timer
from storage.uow import UnitOfWork

TIMER = "approval_step"
NEW_CARD = N_("📝 A request waits for your decision.")
REMINDER_CARD = N_("⏰ Reminder: this request is still waiting for your decision.")
ESCALATED_CARD = N_("⏫ Escalated to you: {names} did not decide within the time allowed.")
REROUTED_CARD = N_("🔀 Passed to you: the approvers of this step can no longer be reached.")
ANSWERED_CARD = N_("💬 {name} answered your question (see the history below).")

Render = Callable[[UnitOfWork, ApprovalRequest, str], Awaitable[str]]
Confirm = Callable[[UnitOfWork, ApprovalRequest, str], Awaitable[str | None]]
Protect = Callable[[UnitOfWork, ApprovalRequest], Awaitable[bool]]
Hook = Callable[[UnitOfWork, ApprovalRequest, datetime], Awaitable[None]]
CommentHook = Callable[[UnitOfWork, ApprovalRequest, str, datetime], Awaitable[None]]


@dataclass
class ApprovalKind:
    """What a flow tells the engine about its requests. ``title`` is one line and ``render`` the
    full description of the subject for an approver, both in the language given."""

    code: str
    name: str  # msgid of what the kind is called in /approvals, e.g. N_("Data access")
    title: Render
    render: Render
    on_approved: Hook
    on_rejected: CommentHook | None = None  # the engine already tells the requester, with the reason
    on_returned: CommentHook | None = None  # None: this kind cannot be returned for revision
    on_withdrawn: Hook | None = None
    window: StepWindow = field(default_factory=lambda: StepWindow(working_days=1))
    resolvers: dict[str, Resolver] = field(default_factory=dict)  # step name -> who holds it
    labels: dict[str, str] = field(default_factory=dict)  # step name -> msgid of its label
    # What an approval grants, to whom, until when, when it must be confirmed with a second tap
    # (C4, C5: 绝密, full, export); None: one tap approves.
    confirm: Confirm | None = None
    # Whether the request shows classified details: its cards are then sent protected (no forwarding).
    protected: Protect | None = None


class StepWalk:
    """The engine's moving parts; :class:`bot.services.approvals.ApprovalService` is the way in."""

    def __init__(self, clock: Clock, routing: ApproverRouting, notices: Notices, kinds: dict[str, ApprovalKind]):
        self._clock = clock
        self.routing = routing
        self.notices = notices
        self._kinds = kinds

    # Runner entry points (they get the runner's unit of work) ------------------------------------
    async def on_timer(self, uow: UnitOfWork, timer: Timer, now: datetime) -> None:
        """The step window passed: remind the idle approvers, and after a second window escalate
        to their superiors; at the top of the ladder keep reminding (C7)."""
        step = await uow.approvals.step(int(timer.ref))
        if step is None or step.state != "active" or step.paused:
            return
        request = await uow.approvals.get(step.request_id)
        if request is None or request.state != "pending":
            return
        kind = self._kinds[request.kind]
        ladder = await self.routing.ladder(uow, request, step, kind.resolvers)
        if step.reminded and step.level + 1 < len(ladder):
            await self.escalate(uow, request, step, ladder, ESCALATED_CARD, now)
        else:
            step.reminded = True
            await self.reach(uow, request, step, ladder, REMINDER_CARD, now)
            await record(
                uow, self._clock, Actor.command_line(), "approval", request.id, "reminded", step=step.position + 1
            )
        await self.schedule(uow, request, step, now)

    async def on_card_failure(self, uow: UnitOfWork, row: OutboxMessage, now: datetime, refused_by: str) -> None:
        """An approver cannot be reached (blocked the bot, left Telegram or Feishu): when nobody on the step can
        be reached, it moves on to the superiors at once instead of waiting out the window."""
        step = await uow.approvals.step(int((row.ref or "0").rsplit(":", 1)[-1]))
        member = await uow.members.by_telegram_id(row.chat_id)
        if step is None or member is None or step.state != "active":
            return
        await uow.approvals.mark_unreachable(step.id, member.id)
        request = await uow.approvals.get(step.request_id)
        assignees = await uow.approvals.assignees(step.id)
        away = await uow.approvals.delegations_of([a.member_id for a in assignees], now)
        if request is None or any(not a.unreachable and a.member_id not in away for a in assignees):
            return
        ladder = await self.routing.ladder(uow, request, step, self._kinds[request.kind].resolvers)
        if step.level + 1 < len(ladder):
            await self.escalate(uow, request, step, ladder, REROUTED_CARD, now)
            await self.schedule(uow, request, step, now)

    async def on_deactivated(self, uow: UnitOfWork, member: Member, now: datetime) -> None:
        """A member left (C6): their open requests are withdrawn, their delegations end, and steps
        only they could decide go to the next people up the ladder."""
        for request in await uow.approvals.pending_of(member.id):
            await self.withdraw(uow, Actor.command_line(), request, "deactivated")
        await uow.approvals.end_delegations_involving(member.id, now)
        for step in await uow.approvals.active_steps_of(member.id):
            request = await uow.approvals.get(step.request_id)
            if request is None or request.state != "pending":
                continue
            ladder = await self.routing.ladder(uow, request, step, self._kinds[request.kind].resolvers)
            qualified = await self.routing.qualified(uow, request, step, ladder, now)
            asked = {a.member_id for a in await uow.approvals.assignees(step.id) if not a.unreachable}
            if not asked & qualified.keys():  # nobody who was asked can still decide
                await self.reach(uow, request, step, ladder, REROUTED_CARD, now, only_new=True)

    async def forward(self, uow: UnitOfWork, principal: Member, delegate: Member, now: datetime) -> int:
        """A member went away: the steps waiting for them go to their delegate too. Returns how many."""
        forwarded = 0
        for step in await uow.approvals.active_steps_of(principal.id):
            request = await uow.approvals.get(step.request_id)
            if request is None or request.state != "pending":
                continue
            if delegate.id in self.routing.excluded(request, step):
                continue
            if await uow.approvals.assign(step.id, delegate.id, principal.id, now):
                kind = self._kinds[request.kind]
                await self.notices.send_card(uow, kind, request, step, delegate, principal, NEW_CARD, now)
                forwarded += 1
        return forwarded

    # The walk ---------------------------------------------------------------------------------------
    async def activate(
        self, uow: UnitOfWork, request: ApprovalRequest, step: ApprovalStep, now: datetime, *, tell: bool = True
    ) -> None:
        """Send the step to its approvers; ``tell=False`` when the requester is answered in chat anyway."""
        kind = self._kinds[request.kind]
        step.state, step.level, step.reminded, step.paused, step.activated_at = "active", 0, False, False, now
        ladder = await self.routing.ladder(uow, request, step, kind.resolvers)
        holders = await self.reach(uow, request, step, ladder, NEW_CARD, now)
        await self.schedule(uow, request, step, now)
        if tell:
            await self.tell_progress(uow, request, step, holders, now)

    async def escalate(
        self,
        uow: UnitOfWork,
        request: ApprovalRequest,
        step: ApprovalStep,
        ladder: list[list[Member]],
        header: str,
        now: datetime,
    ) -> None:
        idle = ", ".join(member.name for member in ladder[min(step.level, len(ladder) - 1)])
        step.level, step.reminded = step.level + 1, False
        uow.approvals.add_decision(history(request, step, "escalated", None, None, None, now))
        await record(
            uow,
            self._clock,
            Actor.command_line(),
            "approval",
            request.id,
            "escalated",
            step=step.position + 1,
            level=step.level,
        )
        holders = await self.reach(uow, request, step, ladder, header, now, names=idle)
        await self.tell_progress(uow, request, step, holders, now)

    async def reach(
        self,
        uow: UnitOfWork,
        request: ApprovalRequest,
        step: ApprovalStep,
        ladder: list[list[Member]],
        header: str,
        now: datetime,
        *,
        only_new: bool = False,
        **params: str,
    ) -> list[Member]:
        """Assign the step's current level and send them the card; an away member's card goes to
        their delegate. Returns who was reached. With nobody on the ladder, administrators are told."""
        if not ladder:
            await self._nobody(uow, request, step, now)
            return []
        kind, level = self._kinds[request.kind], ladder[min(step.level, len(ladder) - 1)]
        away = await uow.approvals.delegations_of([member.id for member in level], now)
        excluded, reached = self.routing.excluded(request, step), []
        for member in level:
            added = await uow.approvals.assign(step.id, member.id, None, now)
            delegation = away.get(member.id)
            delegate = await uow.members.get(delegation.delegate_id) if delegation else None
            if delegate is not None and delegate.active and delegate.id not in excluded:
                added = await uow.approvals.assign(step.id, delegate.id, member.id, now) or not only_new
                if added:
                    await self.notices.send_card(uow, kind, request, step, delegate, member, header, now, **params)
                reached.append(delegate)
                continue
            if added or not only_new:
                await self.notices.send_card(uow, kind, request, step, member, None, header, now, **params)
            reached.append(member)
        return reached

    async def _nobody(self, uow: UnitOfWork, request: ApprovalRequest, step: ApprovalStep, now: datetime) -> None:
        kind = self._kinds[request.kind]
        for admin in await uow.members.with_role("administrator"):
            speaker = self.notices.speakers.to(admin)
            language, t = speaker.language, speaker._
            text = t(
                N_(
                    "⚠️ Nobody can decide step {position} ({step}) of «{title}»: no active member holds that role. "
                    "Give the role to someone."
                )
            ).format(
                position=step.position + 1,
                step=self.notices.step_label(kind, step.spec, language),
                title=await kind.title(uow, request, language),
            )
            key = f"approval-nobody:{step.id}:{now.timestamp():.0f}"
            await self.notices.say(uow, admin, key, text, now, protect=await self.notices.protected(uow, kind, request))

    async def schedule(self, uow: UnitOfWork, request: ApprovalRequest, step: ApprovalStep, now: datetime) -> None:
        await uow.timers.cancel_ref(TIMER, str(step.id))
        due = self.routing.window_end(now, self._kinds[request.kind].window)
        await uow.timers.schedule(
            kind=TIMER, ref=str(step.id), due_at=due, now=now, key=f"{TIMER}:{step.id}:{due.timestamp():.0f}"
        )

    async def tell_requester(
        self,
        uow: UnitOfWork,
        request: ApprovalRequest,
        key: str,
        msgid: str,
        now: datetime,
        *,
        by: Member,
        principal: int | None,
        actions: Callable[[Translate], Actions] | None = None,
        **params: str,
    ) -> None:
        """A message to the requester in their language about what ``by`` (maybe as a delegate) did;
        ``{title}`` and ``{name}`` in ``msgid`` are filled in. Protected when the request is classified."""
        requester = await self.member(uow, request.requester_id)
        speaker = self.notices.speakers.to(requester)
        language, t = speaker.language, speaker._
        acted = await uow.members.get(principal) if principal else None
        title = await self._kinds[request.kind].title(uow, request, language)
        text = t(msgid).format(title=title, name=self.notices.named(by, acted, language), **params)
        protect = await self.notices.protected(uow, self._kinds[request.kind], request)
        await self.notices.say(uow, requester, key, text, now, actions(t) if actions else (), protect=protect)

    async def tell_progress(
        self, uow: UnitOfWork, request: ApprovalRequest, step: ApprovalStep, holders: list[Member], now: datetime
    ) -> None:
        """The requester always knows where the request is and who holds it."""
        requester = await self.member(uow, request.requester_id)
        kind = self._kinds[request.kind]
        title = await kind.title(uow, request, self.notices.speakers.language_of(requester))
        await self.notices.tell(
            uow,
            requester,
            f"approval-progress:{step.id}:{step.level}:{request.revision}:{now.timestamp():.0f}",
            lambda t, language: t(
                N_("📍 Your request «{title}» is at step {position} of {total} ({step}), with {names}.")
            ).format(
                title=title,
                position=step.position + 1,
                total=len(request.steps),
                step=self.notices.step_label(kind, step.spec, language),
                names=", ".join(member.name for member in holders) or t(N_("nobody yet")),
            ),
            now,
            lambda t: nudge_actions(request.id, t),
            protect=await self.notices.protected(uow, kind, request),
        )

    async def decide(
        self,
        uow: UnitOfWork,
        actor: Actor,
        request: ApprovalRequest,
        step: ApprovalStep,
        action: str,
        member: Member,
        principal: int | None,
        comment: str | None,
        now: datetime,
    ) -> None:
        step.state, step.decided_by, step.decided_for, step.decided_at = action, member.id, principal, now
        uow.approvals.add_decision(history(request, step, action, member.id, principal, comment, now))
        await uow.timers.cancel_ref(TIMER, str(step.id))
        await record(
            uow,
            self._clock,
            actor,
            "approval",
            request.id,
            action,
            member.id,
            kind=request.kind,
            subject=request.subject_id,
            step=step.position + 1,
            on_behalf_of=principal,
            comment=comment,
        )
        acted = await uow.members.get(principal) if principal else None
        word = {
            "approved": N_("✅ Approved by {name}."),
            "rejected": N_("⛔ Rejected by {name}."),
            "returned": N_("↩️ Returned for revision by {name}."),
        }[action]
        await self.notices.close_cards(
            uow,
            step_ref(step.id),
            lambda t, language: t(word).format(name=self.notices.named(member, acted, language)),
            now,
        )

    async def withdraw(self, uow: UnitOfWork, actor: Actor, request: ApprovalRequest, reason: str) -> None:
        """End an open request (the requester cancelled it, or left: C6)."""
        if request.state not in ("pending", "returned"):
            return
        now = self._clock.now()
        step = request.current
        if step.state == "active":
            step.state = "withdrawn"
            await uow.timers.cancel_ref(TIMER, str(step.id))
            await self.notices.close_cards(
                uow, step_ref(step.id), lambda t, _: t(N_("— Withdrawn; nothing to decide.")), now
            )
        request.state, request.closed_at = "withdrawn", now
        await record(uow, self._clock, actor, "approval", request.id, "withdrawn", reason=reason)
        hook = self._kinds[request.kind].on_withdrawn
        if hook is not None:
            await hook(uow, request, now)

    async def member(self, uow: UnitOfWork, member_id: int) -> Member:
        member = await uow.members.get(member_id)
        assert member is not None, member_id
        return member


def history(
    request: ApprovalRequest,
    step: ApprovalStep,
    action: str,
    member: int | None,
    principal: int | None,
    comment: str | None,
    now: datetime,
    target: int | None = None,
) -> ApprovalDecision:
    return ApprovalDecision(
        request_id=request.id,
        position=step.position,
        revision=request.revision,
        action=action,
        member_id=member,
        principal_id=principal,
        comment=comment,
        at=now,
        target_id=target,
    )
