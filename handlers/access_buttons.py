"""Callback data and keyboards of the data-access flow's wizards; every press is re-authorised (F3).
The buttons queued for other members (tasks, extensions, reviews) live in bot/outgoing/access.py."""

from __future__ import annotations

from collections.abc import Iterable

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.outgoing.ids import RowId
from bot.outgoing.speaker import Translate
from handlers.keyboards import InlineKeyboard


class AskCb(CallbackData, prefix="acw"):
    """The request wizard."""

    action: str  # dept | ds | mode | next | days | date | accept | submit | back | cancel
    value: str = ""


class CatalogueCb(CallbackData, prefix="cat"):
    action: str  # open | edit | set | new | list
    id: RowId = 0
    field: str = ""
    value: str = ""


class ReportCb(CallbackData, prefix="rep"):
    action: str  # holders | ds | export | period | format
    value: str = ""


def choices(
    options: Iterable[tuple[str, CallbackData]],
    gettext: Translate,
    *,
    back: CallbackData | None = None,
    cancel: CallbackData | None = None,
) -> InlineKeyboardMarkup:
    """One button per option (two a row), then Back and Cancel: every wizard step has both."""
    builder = InlineKeyboard()
    for text, data in options:
        builder.button(text=text, callback_data=data)
    builder.adjust(2)
    last = [button(gettext("◀ Back"), data) for data in (back,) if data is not None]
    last += [button(gettext("Cancel"), data) for data in (cancel,) if data is not None]
    if last:
        builder.row(*last)
    return builder.as_markup()


def button(text: str, data: CallbackData) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=data.pack())
