"""Approving in chat (C3, D2): /approvals lists what waits for the member across every kind, oldest
first; the card's buttons approve, reject (with a reason), ask the requester a question, or return
for revision (with a comment). The requester answers questions here too. Every press is
re-authorised by the engine (F3)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot.i18n import format_moment
from bot.outgoing.approvals import AnswerCb, ApprovalCb, confirm_actions, decision_actions, queue_actions
from bot.outgoing.telegram import keyboard
from bot.policy import Policy
from bot.services.approvals import ApprovalService
from bot.services.errors import Conflict, NotAllowed, NotFound
from handlers.admin import actor_of
from handlers.filters import IsMember
from handlers.keyboards import button


class DecisionInput(StatesGroup):
    text = State()  # data: action (no | ask | ret | answer) and step or question


async def list_queue(message: Message, approvals: ApprovalService, policy: Policy, language: str) -> None:
    items = await approvals.queue(actor_of(message), language)
    if not items:
        await message.answer(_("Nothing waits for your decision."))
        return
    lines = [_("Waiting for your decision ({count}), oldest first:").format(count=len(items))]
    for number, item in enumerate(items, start=1):
        since = format_moment(item.since, language, policy.organisation.zone)
        lines.append(
            _("{number}. {kind}: {title} — from {requester}, waiting since {since}").format(
                number=number, kind=item.kind, title=item.title, requester=item.requester, since=since
            )
        )
        if item.principal:
            lines.append("   " + _("for {principal}, as their delegate").format(principal=item.principal))
    buttons = [(item.step_id, f"{number}. {item.title}"[:48]) for number, item in enumerate(items, start=1)]
    protect = any(item.protect for item in items)  # classified requests: no forwarding
    await message.answer("\n".join(lines), reply_markup=keyboard(queue_actions(buttons)), protect_content=protect)


async def open_card(query: CallbackQuery, callback_data: ApprovalCb, approvals: ApprovalService, language: str) -> None:
    card = await approvals.card(actor_of(query), callback_data.step, language)
    await query.answer()
    if query.message:
        actions = decision_actions(callback_data.step, card.returnable, _, card.request_id)
        await query.message.answer(card.text, reply_markup=keyboard(actions), protect_content=card.protect)


async def approve(query: CallbackQuery, callback_data: ApprovalCb, approvals: ApprovalService, language: str) -> None:
    """The first tap: a 绝密, full or export request shows what it grants and asks for Confirm (C4, C5)."""
    confirmation = await approvals.confirmation(actor_of(query), callback_data.step, language)
    if confirmation is not None:
        await query.answer()
        if query.message:
            await query.message.answer(
                confirmation.text,
                reply_markup=keyboard(confirm_actions(callback_data.step, _)),
                protect_content=confirmation.protect,
            )
        return
    await _approve(query, callback_data, approvals, confirmed=False)


async def confirm(query: CallbackQuery, callback_data: ApprovalCb, approvals: ApprovalService) -> None:
    """The second tap: re-authorised, then approved."""
    await _approve(query, callback_data, approvals, confirmed=True)


async def back_from_confirm(query: CallbackQuery) -> None:
    await query.answer()
    if query.message:
        await query.message.answer(_("Not approved. The request still waits for your decision."))


async def _approve(
    query: CallbackQuery, callback_data: ApprovalCb, approvals: ApprovalService, *, confirmed: bool
) -> None:
    decided = await approvals.approve(actor_of(query), callback_data.step, confirmed=confirmed)
    if decided.state == "pending":
        text = _("Approved. The request now goes to {names}.").format(names=", ".join(decided.holders) or "—")
    else:
        text = _("Approved. That was the last step.")
    await query.answer()
    if query.message:
        await query.message.answer(text)


async def ask_for_text(
    query: CallbackQuery, callback_data: ApprovalCb, state: FSMContext, approvals: ApprovalService
) -> None:
    """Reject, Ask and Return need words: check the right first, then ask for them."""
    await approvals.check_decider(actor_of(query), callback_data.step)
    await state.set_state(DecisionInput.text)
    await state.set_data({"action": callback_data.action, "id": callback_data.step})
    prompts = {
        "no": _("Why do you reject this request? Send the reason; the requester will read it."),
        "ask": _("Send your question; the requester answers in this chat and the answer comes back to you."),
        "ret": _("What should be revised? Send your comment for the requester."),
    }
    await query.answer()
    if query.message:
        await query.message.answer(prompts[callback_data.action], reply_markup=_cancel_keyboard())


async def ask_for_answer(
    query: CallbackQuery, callback_data: AnswerCb, state: FSMContext, approvals: ApprovalService
) -> None:
    await approvals.check_answerer(actor_of(query), callback_data.question)
    await state.set_state(DecisionInput.text)
    await state.set_data({"action": "answer", "id": callback_data.question})
    await query.answer()
    if query.message:
        await query.message.answer(_("Send your answer."), reply_markup=_cancel_keyboard())


async def receive_text(message: Message, state: FSMContext, approvals: ApprovalService) -> None:
    data = await state.get_data()
    action, target, text, actor = data.get("action"), int(data.get("id", 0)), message.text or "", actor_of(message)
    try:
        if action == "no":
            await approvals.reject(actor, target, text)
            reply = _("Rejected. The requester has been told why.")
        elif action == "ask":
            await approvals.ask(actor, target, text)
            reply = _("Your question was sent. The answer will come to this chat.")
        elif action == "ret":
            await approvals.return_for_revision(actor, target, text)
            reply = _("Returned for revision. The requester has your comment.")
        else:
            await approvals.answer(actor, target, text)
            reply = _("Your answer was sent to the approver.")
    except (NotAllowed, Conflict, NotFound):
        await state.clear()  # the item moved on or was never theirs: nothing left to type for
        raise
    await state.clear()
    await message.answer(reply)


async def cancel_text(query: CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    await query.answer()
    if query.message:
        await query.message.answer(_("Cancelled. Nothing was changed."))


def _cancel_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[button(_("Cancel"), ApprovalCb(action="stop", step=0))]])


def build() -> Router:
    router = Router(name=__name__)
    router.message.filter(IsMember())
    router.callback_query.filter(IsMember())
    router.message.register(list_queue, Command("approvals"))
    router.callback_query.register(open_card, ApprovalCb.filter(F.action == "open"))
    router.callback_query.register(approve, ApprovalCb.filter(F.action == "ok"))
    router.callback_query.register(confirm, ApprovalCb.filter(F.action == "yes"))
    router.callback_query.register(back_from_confirm, ApprovalCb.filter(F.action == "back"))
    router.callback_query.register(ask_for_text, ApprovalCb.filter(F.action.in_({"no", "ask", "ret"})))
    router.callback_query.register(cancel_text, ApprovalCb.filter(F.action == "stop"))
    router.callback_query.register(ask_for_answer, AnswerCb.filter())
    router.message.register(receive_text, DecisionInput.text, F.text, ~F.text.startswith("/"))
    return router
