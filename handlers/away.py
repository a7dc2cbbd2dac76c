"""/away: name a delegate until a date while you are away; /away off when you are back (C7, D2)."""

from __future__ import annotations

from datetime import date

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot.clock import Clock
from bot.i18n import format_moment
from bot.outgoing.ids import RowId
from bot.policy import Policy
from bot.services.actor import Actor
from bot.services.approval_away import AwayService
from handlers.access_buttons import choices
from handlers.admin import actor_of
from handlers.dates import parse_day
from handlers.filters import IsMember
from handlers.keyboards import button

OFF_WORDS = {"off", "back", "end", "结束", "取消", "回来"}


class AwayCb(CallbackData, prefix="away"):
    action: str  # to | off | cancel
    member: RowId = 0


class AwayWizard(StatesGroup):
    until = State()
    delegate = State()


async def away(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    away: AwayService,
    clock: Clock,
    policy: Policy,
    language: str,
) -> None:
    arg = (command.args or "").strip()
    if arg.lower() in OFF_WORDS:
        await _back(message, away)
        return
    if arg:
        await _take_until(message, state, away, clock, policy, arg)
        return
    current = await away.current(actor_of(message))
    status = (
        _("You are away until {until}; {delegate} decides for you.").format(
            until=format_moment(current.until, language, policy.organisation.zone), delegate=current.delegate
        )
        if current
        else _("You are not away.")
    )
    await state.set_state(AwayWizard.until)
    extra = [(_("I am back"), AwayCb(action="off"))] if current else []
    await message.answer(
        status
        + "\n\n"
        + _("Until which day are you away? Send a date such as {example}.").format(example=_example(clock, policy)),
        reply_markup=choices(extra, _, back=None, cancel=AwayCb(action="cancel")),
    )


async def away_until(message: Message, state: FSMContext, away: AwayService, clock: Clock, policy: Policy) -> None:
    await _take_until(message, state, away, clock, policy, message.text or "")


async def _take_until(
    message: Message, state: FSMContext, away: AwayService, clock: Clock, policy: Policy, text: str
) -> None:
    day = parse_day(text, clock.now().astimezone(policy.organisation.zone).date())
    if day is None:
        await state.set_state(AwayWizard.until)
        await message.answer(
            _("That is not a date I understand. Send it like {example}.").format(example=_example(clock, policy))
        )
        return
    away.check_until(day)
    await state.set_state(AwayWizard.delegate)
    await state.set_data({"until": day.isoformat()})
    await _show_candidates(message, away, None)


async def away_search(message: Message, away: AwayService) -> None:
    await _show_candidates(message, away, message.text)


async def _show_candidates(message: Message, away: AwayService, search: str | None) -> None:
    people = await away.candidates(actor_of(message), search)
    text = _("Who decides for you? Tap your delegate, or type part of a name to search.")
    if not people:
        text = _("Nobody found. Type part of a name to search again.")
    options = [(name, AwayCb(action="to", member=member_id)) for member_id, name in people]
    await message.answer(
        text, reply_markup=choices(options, _, back=AwayCb(action="back"), cancel=AwayCb(action="cancel"))
    )


async def away_pick(
    query: CallbackQuery, callback_data: AwayCb, state: FSMContext, away: AwayService, policy: Policy, language: str
) -> None:
    until = (await state.get_data()).get("until")
    if not until:
        await state.clear()
        await query.answer(_("This button is no longer valid. Please start again."), show_alert=True)
        return
    result = await away.start(actor_of(query), date.fromisoformat(until), callback_data.member)
    await state.clear()
    await query.answer()
    if query.message:
        await query.message.answer(
            _(
                "Done: {delegate} decides for you until {until}; each such decision says so. "
                "{count} waiting requests were passed on. Send /away off when you are back."
            ).format(
                delegate=result.delegate,
                until=format_moment(result.until, language, policy.organisation.zone),
                count=result.forwarded,
            )
        )


async def away_back_step(query: CallbackQuery, state: FSMContext, clock: Clock, policy: Policy) -> None:
    await state.set_state(AwayWizard.until)
    await query.answer()
    if query.message:
        await query.message.answer(
            _("Until which day are you away? Send a date such as {example}.").format(example=_example(clock, policy)),
            reply_markup=_cancel(),
        )


async def away_cancel(query: CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    await query.answer()
    if query.message:
        await query.message.answer(_("Cancelled. Nothing was changed."))


async def away_off(query: CallbackQuery, state: FSMContext, away: AwayService) -> None:
    await state.clear()
    await query.answer()
    if query.message:
        await _back(query.message, away, actor_of(query))


async def _back(message: Message, away: AwayService, actor: Actor | None = None) -> None:
    ended = await away.stop(actor or actor_of(message))
    await message.answer(_("Welcome back: you decide yourself again.") if ended else _("You are not away."))


def _example(clock: Clock, policy: Policy) -> str:
    return clock.now().astimezone(policy.organisation.zone).date().replace(day=28).isoformat()


def _cancel() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[button(_("Cancel"), AwayCb(action="cancel"))]])


def build() -> Router:
    router = Router(name=__name__)
    router.message.filter(IsMember())
    router.callback_query.filter(IsMember())
    router.message.register(away, Command("away"))
    router.message.register(away_until, AwayWizard.until, F.text, ~F.text.startswith("/"))
    router.message.register(away_search, AwayWizard.delegate, F.text, ~F.text.startswith("/"))
    router.callback_query.register(away_pick, AwayWizard.delegate, AwayCb.filter(F.action == "to"))
    router.callback_query.register(away_back_step, AwayCb.filter(F.action == "back"))
    router.callback_query.register(away_cancel, AwayCb.filter(F.action == "cancel"))
    router.callback_query.register(away_off, AwayCb.filter(F.action == "off"))
    return router
