"""The buttons of the approval engine's messages. They carry ids only; every press is re-authorised by
the engine (F3). Labels come in the recipient's language (``gettext`` is bound to it)."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData

from bot.outgoing.cards import Action, Actions
from bot.outgoing.ids import RowId
from bot.outgoing.speaker import Translate


class ApprovalCb(CallbackData, prefix="apv"):
    action: str  # ok | no | ask | ret | open
    step: RowId


class AnswerCb(CallbackData, prefix="apa"):
    question: RowId


def decision_actions(step_id: int, returnable: bool, gettext: Translate) -> Actions:
    """Approve / Reject, then Ask (and Return, where the kind allows)."""
    second = [Action.of(gettext("❓ Ask a question"), ApprovalCb(action="ask", step=step_id))]
    if returnable:
        second.append(Action.of(gettext("↩️ Return for revision"), ApprovalCb(action="ret", step=step_id)))
    return (
        (
            Action.of(gettext("✅ Approve"), ApprovalCb(action="ok", step=step_id)),
            Action.of(gettext("⛔ Reject"), ApprovalCb(action="no", step=step_id)),
        ),
        tuple(second),
    )


def answer_actions(question_id: int, gettext: Translate) -> Actions:
    return ((Action.of(gettext("✍️ Answer"), AnswerCb(question=question_id)),),)


def queue_actions(items: list[tuple[int, str]]) -> Actions:
    """One button per step waiting for the member (/approvals)."""
    return tuple((Action.of(label, ApprovalCb(action="open", step=step_id)),) for step_id, label in items)
