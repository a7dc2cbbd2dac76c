"""Buttons of the roster wizard. They carry codes and ids only; the service re-checks every press (F3)."""

from __future__ import annotations

from collections.abc import Iterable

from aiogram.exceptions import TelegramBadRequest
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from handlers.keyboards import InlineKeyboard, button


class RosterCb(CallbackData, prefix="ros"):
    action: str  # room | do | shift | member | pos | day | span | repl | save | back | cancel | import
    value: str = ""


def choices(
    options: Iterable[tuple[str, str]], action: str, *, columns: int = 2, back: bool = True
) -> InlineKeyboardMarkup:
    """One button per (value, label), then Back and Cancel."""
    builder = InlineKeyboard()
    for value, label in options:
        builder.button(text=label, callback_data=RosterCb(action=action, value=value))
    builder.adjust(columns)
    builder.row(*back_cancel(back))
    return builder.as_markup()


def back_cancel(back: bool = True) -> list[InlineKeyboardButton]:
    row = [button(_("◀ Back"), RosterCb(action="back"))] if back else []
    return [*row, button(_("Cancel"), RosterCb(action="cancel"))]


def rooms_keyboard(rooms: Iterable[tuple[str, str]]) -> InlineKeyboardMarkup:
    markup = choices(rooms, "room", back=False)
    markup.inline_keyboard.insert(-1, [button(_("Import a CSV file"), RosterCb(action="import"))])
    return markup


def actions_keyboard() -> InlineKeyboardMarkup:
    options = [
        ("assign", _("Assign a member to dates")),
        ("swap", _("Swap one shift")),
        ("week", _("The next 7 days")),
    ]
    return choices(options, "do", columns=1)


def positions_keyboard() -> InlineKeyboardMarkup:
    return choices([("primary", _("Primary")), ("backup", _("Backup"))], "pos")


def spans_keyboard() -> InlineKeyboardMarkup:
    return choices([("7", _("7 days from today")), ("30", _("30 days from today"))], "span")


def save_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[button(_("Save"), RosterCb(action="save"))], back_cancel()])


def back_only() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[back_cancel()])


async def replace(query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """Answer the press and show `text` in the message that carried the button."""
    await query.answer()
    if query.message is None:
        return
    try:
        await query.message.edit_text(text, reply_markup=markup)
    except TelegramBadRequest as error:
        if "message is not modified" not in str(error):  # e.g. Back pressed on the first step
            raise
