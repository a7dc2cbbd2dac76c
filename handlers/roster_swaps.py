"""/swap: a duty officer asks a colleague, or anyone eligible, to take one of their shifts (B1), and
the buttons of the request's messages: take / decline (the asked officers), approve / reject (the
roster's keepers, when the policy asks for approval), withdraw (the requester). Back and Cancel on every
step; each step and press asks the service, which re-checks who may do it (F3)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot.outgoing.roster import SwapCb, withdraw_actions
from bot.outgoing.telegram import keyboard
from bot.services.errors import N_, InvalidInput
from bot.services.roster import RosterService
from bot.services.roster_calendar import ShiftTime
from bot.services.roster_swaps import ACCEPTED, DECLINED, DONE, REJECTED, SwapService, SwapView
from bot.services.roster_texts import MAX_MESSAGE
from handlers.admin import actor_of
from handlers.keyboards import InlineKeyboard, button
from handlers.roster_keyboards import replace

ANYONE = "any"


class SwapWizard(StatesGroup):
    shift = State()
    colleague = State()
    confirm = State()


class SwapStepCb(CallbackData, prefix="rsz"):
    action: str  # shift | who | send | back | cancel
    value: str = ""


def label(roster: RosterService, language: str, shift: ShiftTime, position: str) -> str:
    """'Dispatch room · Night shift (primary), 3 Mar 2026, 20:00 – 4 Mar 2026, 08:00'."""
    t = roster.texts
    return _("{shift} ({position}), {start} – {end}").format(
        shift=t.shift(language, shift.room, shift.shift),
        position=t.position(language, position),
        start=t.moment(language, shift.starts_at),
        end=t.moment(language, shift.ends_at),
    )


def steps(options: list[tuple[str, SwapStepCb]], *, back: bool) -> InlineKeyboardMarkup:
    builder = InlineKeyboard()
    for text, data in options:
        builder.button(text=text, callback_data=data)
    builder.adjust(1)
    last = [button(_("◀ Back"), SwapStepCb(action="back"))] if back else []
    builder.row(*last, button(_("Cancel"), SwapStepCb(action="cancel")))
    return builder.as_markup()


# The wizard ----------------------------------------------------------------------------------------
async def start(
    message: Message, state: FSMContext, roster_swaps: SwapService, roster: RosterService, language: str
) -> None:
    await state.clear()
    text, markup = await _shifts(message, roster_swaps, roster, language)
    if markup is None:
        await message.answer(text)
        return
    await state.set_state(SwapWizard.shift)
    await message.answer(text, reply_markup=markup)


async def _shifts(
    event: Message | CallbackQuery, swaps: SwapService, roster: RosterService, language: str
) -> tuple[str, InlineKeyboardMarkup | None]:
    mine = await swaps.my_shifts(actor_of(event))
    if not mine:
        return _("You have no shift in the next month that could be swapped."), None
    options = [
        (label(roster, language, s.occurrence, s.position), SwapStepCb(action="shift", value=str(s.assignment_id)))
        for s in mine
    ]
    return _("Which of your shifts should a colleague take?"), steps(options, back=False)


async def _colleagues(
    query: CallbackQuery, state: FSMContext, swaps: SwapService, roster: RosterService, language: str
) -> None:
    values = await state.get_data()
    shift, colleagues = await swaps.candidates(actor_of(query), int(values["assignment"]))
    await state.update_data(shift_label=label(roster, language, shift.occurrence, shift.position))
    await state.set_state(SwapWizard.colleague)
    if not colleagues:
        await replace(query, _("No other duty officer can take this shift."), steps([], back=True))
        return
    options = [(m.name, SwapStepCb(action="who", value=str(m.id))) for m in colleagues[:40]]
    options.append(
        (_("Anyone eligible ({count})").format(count=len(colleagues)), SwapStepCb(action="who", value=ANYONE))
    )
    text = "\n".join([label(roster, language, shift.occurrence, shift.position), _("Whom do you ask to take it?")])
    await replace(query, text, steps(options, back=True))


async def chose_shift(
    query: CallbackQuery,
    callback_data: SwapStepCb,
    state: FSMContext,
    roster_swaps: SwapService,
    roster: RosterService,
    language: str,
) -> None:
    if not callback_data.value.isdigit() or len(callback_data.value) > 10:
        raise InvalidInput(N_("This button is no longer valid. Please start again."))
    await state.update_data(assignment=callback_data.value)
    await _colleagues(query, state, roster_swaps, roster, language)


async def chose_colleague(
    query: CallbackQuery,
    callback_data: SwapStepCb,
    state: FSMContext,
    roster_swaps: SwapService,
    roster: RosterService,
    language: str,
) -> None:
    value, values = callback_data.value, await state.get_data()
    if value != ANYONE and (not value.isdigit() or len(value) > 10):
        raise InvalidInput(N_("This button is no longer valid. Please start again."))
    _shift, colleagues = await roster_swaps.candidates(actor_of(query), int(values["assignment"]))
    names = {str(m.id): m.name for m in colleagues}
    if value != ANYONE and value not in names:
        raise InvalidInput(N_("This button is no longer valid. Please start again."))
    whom = names[value] if value != ANYONE else _("any eligible duty officer ({count})").format(count=len(names))
    await state.update_data(colleague=value, colleague_name=whom)
    await state.set_state(SwapWizard.confirm)
    text = "\n".join(
        [
            _("Shift: {shift}").format(shift=values["shift_label"]),
            _("Ask: {name}").format(name=whom),
            _("The request expires when the shift starts."),
        ]
    )
    await replace(query, text, steps([(_("Send the request"), SwapStepCb(action="send"))], back=True))


async def send(
    query: CallbackQuery, state: FSMContext, roster_swaps: SwapService, roster: RosterService, language: str
) -> None:
    values = await state.get_data()
    colleague = None if values["colleague"] == ANYONE else int(values["colleague"])
    view = await roster_swaps.request(actor_of(query), int(values["assignment"]), colleague)
    await state.clear()
    shift = label(roster, language, view.occurrence, view.position)
    if view.colleague:
        text = _("Sent: {name} is asked to take {shift}. You will be told the answer.").format(
            name=view.colleague, shift=shift
        )
    else:
        text = _(
            "Sent: {count} eligible duty officer(s) are asked to take {shift}. You will be told the answer."
        ).format(count=view.asked, shift=shift)
    await replace(query, text, keyboard(withdraw_actions(view.id, _)))


async def back(
    query: CallbackQuery, state: FSMContext, roster_swaps: SwapService, roster: RosterService, language: str
) -> None:
    if await state.get_state() == SwapWizard.confirm.state:
        await _colleagues(query, state, roster_swaps, roster, language)
        return
    text, markup = await _shifts(query, roster_swaps, roster, language)
    await state.set_state(SwapWizard.shift if markup else None)
    await replace(query, text, markup)


async def cancel(query: CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    await replace(query, _("Cancelled. Nothing was sent."))


# The request's buttons -----------------------------------------------------------------------------
async def pressed(
    query: CallbackQuery, callback_data: SwapCb, roster_swaps: SwapService, roster: RosterService, language: str
) -> None:
    """Take / decline / approve / reject / withdraw: the service decides whether this member may."""
    actor, action, request_id = actor_of(query), callback_data.action, callback_data.id
    if action == "accept":
        view = await roster_swaps.accept(actor, request_id)
    elif action == "decline":
        view = await roster_swaps.decline(actor, request_id)
    elif action in ("approve", "reject"):
        view = await roster_swaps.decide(actor, request_id, approve=action == "approve")
    elif action == "withdraw":
        view = await roster_swaps.withdraw(actor, request_id)
    else:
        raise InvalidInput(N_("This button is no longer valid. Please start again."))
    await replace(query, outcome(view, action, roster, language)[:MAX_MESSAGE])


def outcome(view: SwapView, action: str, roster: RosterService, language: str) -> str:
    shift = label(roster, language, view.occurrence, view.position)
    if action == "accept" and view.state == DONE:
        return _("Done: you now stand {shift}. {name} has been told.").format(shift=shift, name=view.requester)
    if action == "accept" and view.state == ACCEPTED:
        return _("You accepted {shift}. A keeper of the roster must approve the swap; you will be told.").format(
            shift=shift
        )
    if action == "decline":
        if view.state == DECLINED:
            return _("You declined {shift}. {name} has been told.").format(shift=shift, name=view.requester)
        return _("You declined {shift}.").format(shift=shift)
    if action == "approve" and view.state == DONE:
        return _("Approved: {taker} now stands {shift}. Both officers have been told.").format(
            taker=view.taker, shift=shift
        )
    if action == "reject" and view.state == REJECTED:
        return _("Rejected: {name} still stands {shift}. Both officers have been told.").format(
            name=view.requester, shift=shift
        )
    return _("Withdrawn: you still stand {shift}.").format(shift=shift)


def register(router: Router) -> None:
    router.message.register(start, Command("swap"))
    wizard = StateFilter(SwapWizard)
    router.callback_query.register(cancel, wizard, SwapStepCb.filter(F.action == "cancel"))
    router.callback_query.register(back, wizard, SwapStepCb.filter(F.action == "back"))
    router.callback_query.register(chose_shift, SwapWizard.shift, SwapStepCb.filter(F.action == "shift"))
    router.callback_query.register(chose_colleague, SwapWizard.colleague, SwapStepCb.filter(F.action == "who"))
    router.callback_query.register(send, SwapWizard.confirm, SwapStepCb.filter(F.action == "send"))
    router.callback_query.register(pressed, SwapCb.filter())
