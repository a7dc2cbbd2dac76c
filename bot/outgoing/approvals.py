"""The buttons of the approval engine's messages. They carry ids only; every press is re-authorised by
the engine (F3). Labels come in the recipient's language (``gettext`` is bound to it)."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData

from bot.outgoing.cards import Action, Actions
from bot.outgoing.ids import RowId
from bot.outgoing.speaker import Translate


class ApprovalCb(CallbackData, prefix="apv"):
    action: str  # ok | no | ask | ret | open | tr (transfer) | yes (confirm) | back
    step: RowId


class RequestCb(CallbackData, prefix="apr"):
    """Things done to a whole request: nudge (催办, the requester) and cc (抄送, requester or approver)."""

    action: str  # nudge | cc
    request: RowId


class PickCb(CallbackData, prefix="apk"):
    """A member picked to take a step (tr: ``id`` is the step) or to get a copy (cc: ``id`` is the request)."""

    action: str  # tr | cc
    id: RowId
    member: RowId


class AnswerCb(CallbackData, prefix="apa"):
    question: RowId


def decision_actions(step_id: int, returnable: bool, gettext: Translate, request_id: int | None = None) -> Actions:
    """Approve / Reject, then Ask (and Return, where the kind allows); with the request's id, Transfer
    (转交) and Copy (抄送) too."""
    second = [Action.of(gettext("❓ Ask a question"), ApprovalCb(action="ask", step=step_id))]
    if returnable:
        second.append(Action.of(gettext("↩️ Return for revision"), ApprovalCb(action="ret", step=step_id)))
    rows: list[tuple[Action, ...]] = [
        (
            Action.of(gettext("✅ Approve"), ApprovalCb(action="ok", step=step_id)),
            Action.of(gettext("⛔ Reject"), ApprovalCb(action="no", step=step_id)),
        ),
        tuple(second),
    ]
    if request_id is not None:
        rows.append(
            (
                Action.of(gettext("🔀 Transfer"), ApprovalCb(action="tr", step=step_id)),
                Action.of(gettext("📨 Copy to…"), RequestCb(action="cc", request=request_id)),
            )
        )
    return tuple(rows)


def confirm_actions(step_id: int, gettext: Translate) -> Actions:
    """The second tap before a weighty approval: only Confirm approves."""
    return (
        (
            Action.of(gettext("✅ Confirm"), ApprovalCb(action="yes", step=step_id)),
            Action.of(gettext("◀ Back"), ApprovalCb(action="back", step=step_id)),
        ),
    )


def nudge_actions(request_id: int, gettext: Translate) -> Actions:
    """Under the requester's progress notes: remind the approver, or copy someone."""
    return (
        (
            Action.of(gettext("🔔 Nudge the approver"), RequestCb(action="nudge", request=request_id)),
            Action.of(gettext("📨 Copy to…"), RequestCb(action="cc", request=request_id)),
        ),
    )


def pick_actions(action: str, target_id: int, people: list[tuple[int, str]]) -> Actions:
    """One button per member who may be picked (two a row)."""
    buttons = [Action.of(name, PickCb(action=action, id=target_id, member=member_id)) for member_id, name in people]
    return tuple(tuple(buttons[i : i + 2]) for i in range(0, len(buttons), 2))


def answer_actions(question_id: int, gettext: Translate) -> Actions:
    return ((Action.of(gettext("✍️ Answer"), AnswerCb(question=question_id)),),)


def queue_actions(items: list[tuple[int, str]]) -> Actions:
    """One button per step waiting for the member (/approvals)."""
    return tuple((Action.of(label, ApprovalCb(action="open", step=step_id)),) for step_id, label in items)
