"""Transfer (转交), copy (抄送) and nudge (催办) in chat (issue 14; C3, C7, D2). An approver's card has
Transfer and Copy buttons; a requester's progress notes and /requests have Nudge and Copy. Picking a
member is a button; for a copy, typing part of a name searches. Every press is re-authorised by the
engine (F3)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot.i18n import format_moment
from bot.outgoing.approvals import ApprovalCb, PickCb, RequestCb, nudge_actions, pick_actions
from bot.outgoing.cards import Action, Actions
from bot.outgoing.telegram import keyboard
from bot.policy import Policy
from bot.services.approvals import ApprovalService
from handlers.admin import actor_of
from handlers.filters import IsMember


class CopySearch(StatesGroup):
    name = State()  # data: request


def _with_cancel(actions: Actions) -> InlineKeyboardMarkup:
    cancel = (Action.of(_("Cancel"), ApprovalCb(action="stop", step=0)),)
    return keyboard((*actions, cancel))


# Transfer -------------------------------------------------------------------------------------------
async def transfer_pick(
    query: CallbackQuery, callback_data: ApprovalCb, approvals: ApprovalService, language: str
) -> None:
    people = await approvals.asks.transfer_candidates(actor_of(query), callback_data.step, language)
    await query.answer()
    if query.message is None:
        return
    if not people:
        await query.message.answer(_("Nobody else holds the role this step needs, so it cannot be transferred."))
        return
    await query.message.answer(
        _("Transfer this step to whom? Only members who hold the role it needs are listed; the requester is not."),
        reply_markup=_with_cancel(pick_actions("tr", callback_data.step, people)),
    )


async def transfer(query: CallbackQuery, callback_data: PickCb, approvals: ApprovalService) -> None:
    name = await approvals.asks.transfer(actor_of(query), callback_data.id, callback_data.member)
    await query.answer()
    if query.message:
        await query.message.answer(
            _("Transferred to {name}: they have the card now and yours was closed.").format(name=name)
        )


# Copy -----------------------------------------------------------------------------------------------
async def copy_pick(
    query: CallbackQuery, callback_data: RequestCb, state: FSMContext, approvals: ApprovalService, language: str
) -> None:
    people = await approvals.asks.copy_candidates(actor_of(query), callback_data.request, language)
    await state.set_state(CopySearch.name)
    await state.set_data({"request": callback_data.request})
    await query.answer()
    if query.message:
        await _show_copy_candidates(query.message, callback_data.request, people)


async def copy_search(message: Message, state: FSMContext, approvals: ApprovalService, language: str) -> None:
    request_id = int((await state.get_data()).get("request", 0))
    people = await approvals.asks.copy_candidates(actor_of(message), request_id, language, message.text)
    await _show_copy_candidates(message, request_id, people)


async def _show_copy_candidates(message: Message, request_id: int, people: list[tuple[int, str]]) -> None:
    text = _("Who should get a copy for their information? Tap a name, or type part of a name to search.")
    if not people:
        text = _("Nobody found. Type part of a name to search again.")
    await message.answer(text, reply_markup=_with_cancel(pick_actions("cc", request_id, people)))


async def copy(query: CallbackQuery, callback_data: PickCb, state: FSMContext, approvals: ApprovalService) -> None:
    await state.clear()
    name = await approvals.asks.copy(actor_of(query), callback_data.id, callback_data.member)
    await query.answer()
    if query.message:
        await query.message.answer(
            _("A copy was sent to {name}. They can read the request but not decide on it.").format(name=name)
        )


# Nudge ----------------------------------------------------------------------------------------------
async def nudge(
    query: CallbackQuery, callback_data: RequestCb, approvals: ApprovalService, policy: Policy, language: str
) -> None:
    result = await approvals.asks.nudge(actor_of(query), callback_data.request)
    await query.answer()
    if query.message is None:
        return
    if result.sent:
        text = _("🔔 Reminder sent to {names}.").format(names=", ".join(result.holders) or "—")
    else:
        minutes = max(1, -(-int(result.wait.total_seconds()) // 60))
        text = _("You nudged this request at {at}. You can nudge again in {hours} h {minutes} min.").format(
            at=format_moment(result.last, language, policy.organisation.zone) if result.last else "—",
            hours=minutes // 60,
            minutes=minutes % 60,
        )
    await query.message.answer(text)


async def my_requests(message: Message, approvals: ApprovalService, language: str) -> None:
    """/requests: the member's own requests still waiting, each with Nudge and Copy."""
    items = await approvals.asks.open_requests(actor_of(message), language)
    if not items:
        await message.answer(_("None of your requests is waiting for a decision."))
        return
    for item in items:
        text = _("{kind}: {title}\nAt step {position} of {total} ({step}), with {names}.").format(
            kind=item.kind,
            title=item.title,
            position=item.position,
            total=item.total,
            step=item.step,
            names=", ".join(item.holders) or _("nobody yet"),
        )
        await message.answer(text, reply_markup=keyboard(nudge_actions(item.id, _)), protect_content=item.protect)


def build() -> Router:
    router = Router(name=__name__)
    router.message.filter(IsMember())
    router.callback_query.filter(IsMember())
    router.message.register(my_requests, Command("requests"))
    router.callback_query.register(transfer_pick, ApprovalCb.filter(F.action == "tr"))
    router.callback_query.register(transfer, PickCb.filter(F.action == "tr"))
    router.callback_query.register(copy_pick, RequestCb.filter(F.action == "cc"))
    router.callback_query.register(copy, PickCb.filter(F.action == "cc"))
    router.callback_query.register(nudge, RequestCb.filter(F.action == "nudge"))
    router.message.register(copy_search, CopySearch.name, F.text, ~F.text.startswith("/"))
    return router
