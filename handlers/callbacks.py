"""Typed callback data (64-byte limit, short prefixes). Buttons carry ids, never rights:
every press is re-authorised by the service it calls (F3)."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData

from bot.outgoing.ids import RowId


class LanguageCb(CallbackData, prefix="lang"):
    code: str


class InviteCb(CallbackData, prefix="inv"):
    action: str  # role | dept | next | back | skip | create | cancel
    value: str = ""


class MemberCb(CallbackData, prefix="mem"):
    action: str  # page | open | role | depts | dept | deact | deact_ok
    member_id: RowId = 0
    value: str = ""
