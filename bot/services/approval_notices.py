"""What the approval engine tells people, each in their own language: decision cards for approvers
(with the history of the request and the delegation behind every decision), progress notes for
the requester, and the edits that close a card once its step is decided."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zlib import crc32

from aiogram.utils.i18n import I18n

from bot.clock import Clock
from bot.outgoing.approvals import decision_actions
from bot.outgoing.cards import Actions
from bot.outgoing.speaker import Speakers, Translate
from bot.policy import Policy
from bot.policy.schema import step_role
from bot.services.approval_routing import DEPARTMENT_HEAD
from bot.services.errors import N_
from bot.services.messages import queue_edit, queue_text
from storage.approval_models import ApprovalRequest, ApprovalStep
from storage.models import Member
from storage.uow import UnitOfWork

if TYPE_CHECKING:
    from bot.services.approvals import ApprovalKind

CARD_FAILURE = "approval_card"
MAX_TEXT = 4096  # Telegram's limit for one message
DECISION_MARKS = {
    "approved": "✅",
    "rejected": "⛔",
    "returned": "↩️",
    "escalated": "⏫",
    "reset": "🔄",
    "transferred": "🔀",
    "copied": "📨",
    "nudged": "🔔",
}
DECISION_WORDS = {
    "approved": N_("approved"),
    "rejected": N_("rejected"),
    "returned": N_("returned for revision"),
    "escalated": N_("escalated"),
    "reset": N_("approval reset: the content changed"),
    "transferred": N_("transferred to {target}"),
    "copied": N_("copied to {target}"),
    "nudged": N_("nudged the approver"),
}


def step_ref(step_id: int) -> str:
    return f"approval-step:{step_id}"


class Notices:
    def __init__(self, i18n: I18n, policy: Policy, clock: Clock) -> None:
        self.speakers = Speakers(i18n, policy)
        self._policy = policy
        self._clock = clock

    def step_label(self, kind: ApprovalKind, spec: str, language: str) -> str:
        t = self.speakers.in_language(language)._
        role = step_role(spec)
        if spec == DEPARTMENT_HEAD:
            return t(N_("department head"))
        if role is not None:
            found = next((r for r in self._policy.roles if r.code == role), None)
            return found.name.get(language) if found else role
        return t(kind.labels.get(spec, spec))

    def named(self, member: Member | None, principal: Member | None, language: str) -> str:
        """A person, and the away member they stood in for: every delegated decision says so."""
        name = member.name if member else "?"
        if principal is None:
            return name
        return (
            self.speakers.in_language(language)
            ._(N_("{name} (delegate of {principal})"))
            .format(name=name, principal=principal.name)
        )

    async def card_text(
        self, uow: UnitOfWork, kind: ApprovalKind, request: ApprovalRequest, step: ApprovalStep, language: str
    ) -> str:
        t = self.speakers.in_language(language)._
        lines = [
            await kind.render(uow, request, language),
            "",
            t(N_("Step {position} of {total}: {step}")).format(
                position=step.position + 1,
                total=len(request.steps),
                step=self.step_label(kind, step.spec, language),
            ),
        ]
        lines += await self.history(uow, kind, request, language)
        return "\n".join(lines)

    async def history(self, uow: UnitOfWork, kind: ApprovalKind, request: ApprovalRequest, language: str) -> list[str]:
        t = self.speakers.in_language(language)._
        decisions = await uow.approvals.decisions(request.id)
        questions = await uow.approvals.questions(request.id)
        people = await uow.approvals.members(
            [d.member_id for d in decisions]
            + [d.principal_id for d in decisions]
            + [d.target_id for d in decisions]
            + [q.asked_by for q in questions]
            + [q.asked_for for q in questions]
        )
        lines = []
        for decision in decisions:
            values = {
                "step": self.step_label(kind, request.steps[decision.position].spec, language),
                "name": self.named(people.get(decision.member_id), people.get(decision.principal_id), language),
                "decision": t(DECISION_WORDS[decision.action]).format(
                    target=people[decision.target_id].name if decision.target_id in people else "?"
                ),
                "at": self.speakers.in_language(language).moment(decision.at),
            }
            line = t(
                N_("{step}: {name} · {decision} · {at}") if decision.member_id else N_("{step}: {decision} · {at}")
            )
            comment = f"\n   {decision.comment}" if decision.comment else ""
            lines.append(f"{DECISION_MARKS[decision.action]} {line.format(**values)}{comment}")
        for question in questions:
            asker = self.named(people.get(question.asked_by), people.get(question.asked_for), language)
            lines.append("❓ " + t(N_("{name} asked: {question}")).format(name=asker, question=question.question))
            answer = f"💬 {question.answer}" if question.answer is not None else t(N_("(not answered yet)"))
            lines.append("   " + answer)
        return [t(N_("History:")), *lines] if lines else []

    async def send_card(
        self,
        uow: UnitOfWork,
        kind: ApprovalKind,
        request: ApprovalRequest,
        step: ApprovalStep,
        member: Member,
        principal: Member | None,
        header: str,
        now: datetime,
        **params: Any,
    ) -> None:
        """The request with Approve / Reject / Ask (and Return, where the kind allows), Transfer and Copy
        buttons; protected when it shows classified details."""
        speaker = self.speakers.to(member)
        language, t = speaker.language, speaker._
        parts = [t(header).format(**params)]
        if principal is not None:
            parts.append(
                t(N_("You decide for {principal}, who is away; your decision will say so.")).format(
                    principal=principal.name
                )
            )
        parts.append(await self.card_text(uow, kind, request, step, language))
        await queue_text(
            uow,
            now,
            key=f"approval-card:{step.id}:{member.id}:{request.revision}:{step.level}:{crc32(header.encode()):x}:{now.timestamp():.0f}",
            chat_id=member.telegram_id,
            text="\n\n".join(parts)[:MAX_TEXT],
            actions=decision_actions(step.id, kind.on_returned is not None, t, request.id),
            ref=step_ref(step.id),
            on_failure=CARD_FAILURE,
            protect=await self.protected(uow, kind, request),
        )

    async def protected(self, uow: UnitOfWork, kind: ApprovalKind, request: ApprovalRequest) -> bool:
        """Whether the request's cards show classified details (sent with protect_content)."""
        return kind.protected is not None and await kind.protected(uow, request)

    async def tell(
        self,
        uow: UnitOfWork,
        member: Member,
        key: str,
        text: Callable[[Translate, str], str],
        now: datetime,
        actions: Callable[[Translate], Actions] | None = None,
        *,
        protect: bool = False,
    ) -> None:
        """Queue one message built in the member's language: ``text(gettext, language)``."""
        speaker = self.speakers.to(member)
        language, t = speaker.language, speaker._
        await self.say(uow, member, key, text(t, language), now, actions(t) if actions else (), protect=protect)

    async def say(
        self,
        uow: UnitOfWork,
        member: Member,
        key: str,
        text: str,
        now: datetime,
        actions: Actions = (),
        ref: str | None = None,
        protect: bool = False,
    ) -> None:
        await queue_text(
            uow,
            now,
            key=key,
            chat_id=member.telegram_id,
            text=text[:MAX_TEXT],
            actions=actions,
            ref=ref,
            protect=protect,
        )

    async def close_cards(
        self, uow: UnitOfWork, ref: str, outcome: Callable[[Translate, str], str], now: datetime
    ) -> None:
        """Take the buttons off every message queued under ``ref`` (the cards of a decided step, a
        done task) and say what happened. A stale press is still refused by the service; this only
        keeps the chats honest."""
        await uow.outbox.cancel_pending(ref)
        for row in await uow.outbox.by_ref(ref):
            if row.method != "sendMessage" or row.state not in ("sent", "sending"):
                continue
            member = await uow.members.by_telegram_id(row.chat_id)
            language = self.speakers.language_of(member)
            text = row.payload["text"] + "\n\n" + outcome(self.speakers.in_language(language)._, language)
            await queue_edit(
                uow, now, key=f"{row.key}:closed", original_id=row.id, chat_id=row.chat_id, text=text[:MAX_TEXT]
            )
