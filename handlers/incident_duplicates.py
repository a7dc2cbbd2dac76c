"""Linked reports in chat (issue 14): "🔗 Duplicate of…" on an alert opens, in the officer's private chat, the
suggested incidents and the other open ones of the room; the officer taps one or types its number. Every step
is re-authorised by the service (F3); Cancel (or /cancel) leaves without a change."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot.outgoing.incidents import IncidentCb
from bot.policy import Policy
from bot.services.incidents import DuplicateChoices, Duplicates, Marked
from handlers.admin import actor_of
from handlers.filters import IsMember
from handlers.incident_keyboards import incident_button
from handlers.incident_texts import words
from handlers.keyboards import InlineKeyboard


class DuplicateForm(StatesGroup):
    number = State()


def choices_keyboard(choices: DuplicateChoices, policy: Policy, language: str) -> InlineKeyboardMarkup:
    w = words(policy, language)
    builder = InlineKeyboard()
    for other in choices.suggested:
        label = f"🔗 {other.number} · {w.moment(other.occurred_at)}"
        if other.metres is not None:
            label += f" · {w.number(other.metres)} m"
        builder.row(incident_button(label, "dupof", choices.incident_id, other.incident_id))
    for other_id, number in choices.others:
        builder.row(incident_button(number, "dupof", choices.incident_id, other_id))
    builder.row(incident_button(_("Cancel"), "dupno", choices.incident_id))
    return builder.as_markup()


def marked_text(marked: Marked) -> str:
    return _("{number} is marked as a duplicate of {other}: its alerts stopped and its reporter was told.").format(
        number=marked.duplicate.number, other=marked.primary.number
    )


async def pick(
    query: CallbackQuery,
    callback_data: IncidentCb,
    state: FSMContext,
    duplicates: Duplicates,
    policy: Policy,
    language: str,
) -> None:
    choices = await duplicates.choices(actor_of(query), callback_data.id)
    await state.set_state(DuplicateForm.number)
    await state.set_data({"incident_id": choices.incident_id})
    await query.answer()
    if choices.suggested or choices.others:
        text = _("Which incident is {number} the same as? Tap one, or type its number (e.g. INC-2026-000123).")
    else:
        text = _("Which incident is {number} the same as? Type its number (e.g. INC-2026-000123).")
    await query.bot.send_message(  # type: ignore[union-attr]
        query.from_user.id,
        text.format(number=choices.number),
        reply_markup=choices_keyboard(choices, policy, language),
    )


async def chosen(query: CallbackQuery, callback_data: IncidentCb, state: FSMContext, duplicates: Duplicates) -> None:
    marked = await duplicates.mark(actor_of(query), callback_data.id, primary_id=callback_data.value)
    await state.clear()
    await query.answer(marked_text(marked), show_alert=True)


async def typed(message: Message, state: FSMContext, duplicates: Duplicates) -> None:
    incident_id = (await state.get_data())["incident_id"]
    marked = await duplicates.mark(actor_of(message), incident_id, number=message.text or "")
    await state.clear()
    await message.answer(marked_text(marked))


async def cancel(query: CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    await query.answer(_("Cancelled. Nothing was changed."))


def build() -> Router:
    router = Router(name=__name__)
    router.message.filter(IsMember())
    router.callback_query.filter(IsMember())
    router.callback_query.register(pick, IncidentCb.filter(F.action == "dup"))
    router.callback_query.register(chosen, IncidentCb.filter(F.action == "dupof"))
    router.callback_query.register(cancel, IncidentCb.filter(F.action == "dupno"))
    router.message.register(typed, DuplicateForm.number, F.text, ~F.text.startswith("/"), F.chat.type == "private")
    return router
