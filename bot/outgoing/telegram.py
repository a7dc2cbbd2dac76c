"""The Telegram renderer: a card's actions become an inline keyboard, one button per action, whose
callback data is the action's id. The outbox sender renders each row just before sending it."""

from __future__ import annotations

from typing import Any

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.outgoing.cards import Actions, actions_of


def markup(actions: Actions) -> InlineKeyboardMarkup | None:
    rows = [[InlineKeyboardButton(text=a.label, callback_data=a.id) for a in row] for row in actions if row]
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


def keyboard(actions: Actions) -> InlineKeyboardMarkup:
    """For a handler's own reply: the same actions as a keyboard (an empty one if there are none)."""
    return markup(actions) or InlineKeyboardMarkup(inline_keyboard=[])


def render(payload: dict[str, Any]) -> dict[str, Any]:
    """A queued payload as the Bot API wants it. Rows queued before cards carry a ready ``reply_markup``
    and are sent as they are. A protected card is sent with ``protect_content``."""
    if "actions" not in payload and "protect" not in payload:
        return payload
    rendered = {name: value for name, value in payload.items() if name not in ("actions", "protect")}
    if payload.get("protect"):
        rendered["protect_content"] = True
    keyboard_markup = markup(actions_of(payload.get("actions", [])))
    if keyboard_markup is not None:
        rendered["reply_markup"] = keyboard_markup.model_dump(mode="json", exclude_none=True)
    return rendered
