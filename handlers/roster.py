"""Duty roster in chat (B1, B2): /duty for everyone, /handover for the officer on duty, /roster for
administrators and roster owners (handlers/roster_wizard.py)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot.policy import Policy
from bot.services.roster import RosterService
from bot.services.roster_watch import ShiftWatch
from handlers import roster_feeds, roster_swaps, roster_wizard
from handlers.admin import actor_of
from handlers.filters import IsMember
from handlers.keyboards import button
from handlers.roster_keyboards import RosterCb, replace
from handlers.roster_texts import board_text


class HandoverNote(StatesGroup):
    text = State()


async def show_duty(message: Message, roster: RosterService, policy: Policy, language: str) -> None:
    await message.answer(board_text(await roster.board(), policy, language))


async def handover(message: Message, command: CommandObject, state: FSMContext, roster_watch: ShiftWatch) -> None:
    if not command.args:
        await state.set_state(HandoverNote.text)
        cancel = InlineKeyboardMarkup(inline_keyboard=[[button(_("Cancel"), RosterCb(action="note_cancel"))]])
        await message.answer(_("Write your handover note for the next shift:"), reply_markup=cancel)
        return
    await _save_note(message, command.args, state, roster_watch)


async def handover_text(message: Message, state: FSMContext, roster_watch: ShiftWatch) -> None:
    await _save_note(message, message.text or "", state, roster_watch)


async def cancel_note(query: CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    await replace(query, _("Cancelled. No note was left."))


async def _save_note(message: Message, text: str, state: FSMContext, roster_watch: ShiftWatch) -> None:
    rooms = await roster_watch.write_note(actor_of(message), text)
    await state.clear()
    await message.answer(_("Your note is kept for the handover ({count} duty room(s)).").format(count=len(rooms)))


def build() -> Router:
    router = Router(name=__name__)
    router.message.filter(IsMember())
    router.callback_query.filter(IsMember())
    router.message.register(show_duty, Command("duty"))
    router.message.register(handover, Command("handover"))
    router.message.register(handover_text, HandoverNote.text, F.text, ~F.text.startswith("/"))
    router.callback_query.register(cancel_note, HandoverNote.text, RosterCb.filter(F.action == "note_cancel"))
    roster_wizard.register(router)
    roster_swaps.register(router)
    roster_feeds.register(router)
    return router
