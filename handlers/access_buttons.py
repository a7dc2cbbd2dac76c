"""Callback data and keyboards of the data-access flow. Services queue some of them in the
recipient's language (``gettext`` is bound to it); every press is re-authorised (F3)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.services.button_ids import RowId

Translate = Callable[[str], str]


class AccessCb(CallbackData, prefix="acc"):
    """Things that happen to existing requests, grants, tasks and review items."""

    action: str  # done (task) | extend | withdraw | keep | drop (review) | new
    id: RowId = 0


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


def task_keyboard(task_id: int, action: str, gettext: Translate) -> InlineKeyboardMarkup:
    label = gettext("✅ Done: access granted") if action == "grant" else gettext("✅ Done: access removed")
    return InlineKeyboardMarkup(inline_keyboard=[[button(label, AccessCb(action="done", id=task_id))]])


def extend_keyboard(grant_id: int, gettext: Translate) -> InlineKeyboardMarkup:
    label = gettext("⏳ Ask for an extension")
    return InlineKeyboardMarkup(inline_keyboard=[[button(label, AccessCb(action="extend", id=grant_id))]])


def review_keyboard(items: Iterable[tuple[int, str]], gettext: Translate) -> InlineKeyboardMarkup:
    rows = [
        [
            button(gettext("✅ Keep {who}").format(who=label), AccessCb(action="keep", id=item_id)),
            button(gettext("⛔ Revoke {who}").format(who=label), AccessCb(action="drop", id=item_id)),
        ]
        for item_id, label in items
    ]
    return InlineKeyboardMarkup(inline_keyboard=rows)


def choices(
    options: Iterable[tuple[str, CallbackData]],
    gettext: Translate,
    *,
    back: CallbackData | None = None,
    cancel: CallbackData | None = None,
) -> InlineKeyboardMarkup:
    """One button per option (two a row), then Back and Cancel: every wizard step has both."""
    builder = InlineKeyboardBuilder()
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
