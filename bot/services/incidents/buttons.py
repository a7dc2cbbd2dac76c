"""The buttons that travel with incident messages (alerts, reminders, cards). They carry ids only:
every press is re-authorised by the service it reaches (F3). Prefixes are short (64-byte limit)."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.services.button_ids import RowId
from bot.services.incidents.common import Words

ACK, DETAILS, FILE = "ack", "det", "file"


class IncidentCb(CallbackData, prefix="inc"):
    action: str  # ack | det | prog | res | close | reopen | note | reas | to | flag | file
    id: RowId
    value: RowId = 0  # the new assignee's member id for "to"


def incident_button(text: str, action: str, incident_id: int, value: int = 0) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=IncidentCb(action=action, id=incident_id, value=value).pack())


def alert_markup(w: Words, incident_id: int, *, acknowledged: bool = False) -> InlineKeyboardMarkup:
    """Acknowledge / Details on a fresh alert; Details alone once someone has acknowledged (A2)."""
    details = incident_button(w._("ℹ️ Details"), DETAILS, incident_id)
    if acknowledged:
        return InlineKeyboardMarkup(inline_keyboard=[[details]])
    return InlineKeyboardMarkup(inline_keyboard=[[incident_button(w._("✅ Acknowledge"), ACK, incident_id), details]])


def filing_markup(w: Words, incident_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [incident_button(w._("📤 Record the outside report"), FILE, incident_id)],
            [incident_button(w._("ℹ️ Details"), DETAILS, incident_id)],
        ]
    )


def details_markup(w: Words, incident_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[incident_button(w._("ℹ️ Details"), DETAILS, incident_id)]])
