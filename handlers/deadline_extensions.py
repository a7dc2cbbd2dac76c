"""More time (E4): the owner asks with a reason; the department head gives a new deadline with a
reason, or declines. Given time is recorded as an extension, never as on time."""

from __future__ import annotations

from datetime import datetime

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.outgoing.deadlines import DeadlineCb
from bot.policy import Policy
from bot.policy.deadlines import END_OF_DAY
from bot.services.deadlines.service import MAX_REASON, DeadlineService
from bot.services.deadlines.views import DeadlineTexts
from bot.services.text import visible_text
from handlers.admin import actor_of
from handlers.deadline_ui import (
    DeadlineFormCb,
    cancel_form,
    form_keyboard,
    not_a_command,
    open_form,
    parse_moment,
    replace,
)
from handlers.filters import IsMember


class AskForm(StatesGroup):
    reason = State()
    confirm = State()


class GrantForm(StatesGroup):
    due = State()
    reason = State()
    confirm = State()


def _reason_or_error(text: str) -> tuple[str | None, str | None]:
    reason = " ".join(visible_text(text).split())  # as the service stores it (no NUL for PostgreSQL)
    if not reason:
        return None, _("Please give a reason.")
    if len(reason) > MAX_REASON:
        return None, _("The reason is too long: at most {limit} characters.").format(limit=MAX_REASON)
    return reason, None


# The owner asks ------------------------------------------------------------------------------------
async def press_more_time(
    query: CallbackQuery,
    callback_data: DeadlineCb,
    state: FSMContext,
    deadlines: DeadlineService,
    deadline_texts: DeadlineTexts,
    language: str,
) -> None:
    view = await deadlines.check_owner(actor_of(query), callback_data.id, asking=True)
    data = {"id": view.id, "item": deadline_texts.line(view, language, icon=False)}
    await open_form(query, state, AskForm.reason, data, _ask_question(data))


def _ask_question(data: dict) -> str:
    return _("More time for {item}: why is it needed? Your department head will decide.").format(item=data["item"])


async def ask_reason(message: Message, state: FSMContext) -> None:
    reason, error = _reason_or_error(message.text or "")
    if error:
        await message.answer(error)
        return
    await state.update_data(reason=reason)
    await state.set_state(AskForm.confirm)
    await message.answer(
        _("Ask your department head for more time?\nReason: {reason}").format(reason=reason),
        reply_markup=form_keyboard(confirm=_("Send the request")),
    )


async def ask_confirmed(query: CallbackQuery, state: FSMContext, deadlines: DeadlineService) -> None:
    data = await state.get_data()
    await deadlines.request_extension(actor_of(query), data.get("id", 0), data.get("reason", ""))
    await state.clear()
    await query.answer()
    await replace(query, _("Your request for more time has been sent. You will hear the decision here."))


async def ask_back(query: CallbackQuery, state: FSMContext) -> None:
    await state.set_state(AskForm.reason)
    await query.answer()
    await replace(query, _ask_question(await state.get_data()), form_keyboard(first=True))


# The department head decides -----------------------------------------------------------------------
async def press_grant(
    query: CallbackQuery,
    callback_data: DeadlineCb,
    state: FSMContext,
    deadlines: DeadlineService,
    deadline_texts: DeadlineTexts,
    language: str,
) -> None:
    view = await deadlines.check_manager(actor_of(query), callback_data.id)
    data = {"id": view.id, "item": deadline_texts.line(view, language, icon=False)}
    await open_form(query, state, GrantForm.due, data, _due_question(data))


def _due_question(data: dict) -> str:
    return _(
        "More time for {item}. Send the new deadline: a date such as 2026-04-10 (due by the end of that day) "
        "or a date and time such as 2026-04-10 18:00."
    ).format(item=data["item"])


async def grant_due(message: Message, state: FSMContext, policy: Policy, deadlines: DeadlineService) -> None:
    moment = parse_moment(message.text or "", policy.organisation.zone, END_OF_DAY)
    if moment is None:
        await message.answer(_("Please send a date such as 2026-04-10, or a date and time such as 2026-04-10 18:00."))
        return
    await deadlines.check_new_due(actor_of(message), (await state.get_data()).get("id", 0), moment)
    await state.update_data(due=moment.isoformat())
    await state.set_state(GrantForm.reason)
    await message.answer(_reason_question(), reply_markup=form_keyboard())


def _reason_question() -> str:
    return _("Why is more time given? The reason is recorded with the extension.")


async def grant_reason(message: Message, state: FSMContext, deadline_texts: DeadlineTexts, language: str) -> None:
    reason, error = _reason_or_error(message.text or "")
    if error:
        await message.answer(error)
        return
    await state.update_data(reason=reason)
    await state.set_state(GrantForm.confirm)
    data = await state.get_data()
    due = deadline_texts.moment(datetime.fromisoformat(data["due"]), language)
    await message.answer(
        _("Give more time for {item}?\nNew deadline: {due}\nReason: {reason}").format(
            item=data["item"], due=due, reason=reason
        ),
        reply_markup=form_keyboard(confirm=_("Give more time")),
    )


async def grant_confirmed(query: CallbackQuery, state: FSMContext, deadlines: DeadlineService) -> None:
    data = await state.get_data()
    await deadlines.grant_extension(
        actor_of(query), data.get("id", 0), datetime.fromisoformat(data.get("due", "")), data.get("reason", "")
    )
    await state.clear()
    await query.answer()
    await replace(query, _("More time given for {item}. The owner has been told.").format(item=data["item"]))


async def grant_back(query: CallbackQuery, state: FSMContext) -> None:
    current = await state.get_state()
    await query.answer()
    if current == GrantForm.reason.state:
        await state.set_state(GrantForm.due)
        await replace(query, _due_question(await state.get_data()), form_keyboard(first=True))
    else:
        await state.set_state(GrantForm.reason)
        await replace(query, _reason_question(), form_keyboard())


async def press_decline(
    query: CallbackQuery,
    callback_data: DeadlineCb,
    deadlines: DeadlineService,
    deadline_texts: DeadlineTexts,
    language: str,
) -> None:
    view = await deadlines.decline_extension(actor_of(query), callback_data.id)
    await query.answer(_("Declined. The owner has been told."))
    await replace(
        query, _("You declined more time for {item}.").format(item=deadline_texts.line(view, language, icon=False))
    )


def build() -> Router:
    router = Router(name=__name__)
    router.message.filter(IsMember())
    router.callback_query.filter(IsMember())
    router.callback_query.register(press_more_time, DeadlineCb.filter(F.action == "more"))
    router.message.register(ask_reason, AskForm.reason, not_a_command)
    router.callback_query.register(ask_confirmed, AskForm.confirm, DeadlineFormCb.filter(F.action == "ok"))
    router.callback_query.register(ask_back, AskForm.confirm, DeadlineFormCb.filter(F.action == "back"))
    router.callback_query.register(press_grant, DeadlineCb.filter(F.action == "grant"))
    router.callback_query.register(press_decline, DeadlineCb.filter(F.action == "decline"))
    router.message.register(grant_due, GrantForm.due, not_a_command)
    router.message.register(grant_reason, GrantForm.reason, not_a_command)
    router.callback_query.register(grant_confirmed, GrantForm.confirm, DeadlineFormCb.filter(F.action == "ok"))
    router.callback_query.register(grant_back, GrantForm.reason, DeadlineFormCb.filter(F.action == "back"))
    router.callback_query.register(grant_back, GrantForm.confirm, DeadlineFormCb.filter(F.action == "back"))
    router.callback_query.register(
        cancel_form, StateFilter(AskForm, GrantForm), DeadlineFormCb.filter(F.action == "cancel")
    )
    return router
