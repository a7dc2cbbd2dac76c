"""The buttons of the roster's messages to other members: answering an officer's swap request, a
keeper approving it, the requester withdrawing it. They carry the request's id only; every press is
re-authorised on the server (F3). Labels come in the recipient's language."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData

from bot.outgoing.cards import Action, Actions
from bot.outgoing.ids import RowId
from bot.outgoing.speaker import Translate


class SwapCb(CallbackData, prefix="rsw"):
    action: str  # accept | decline | approve | reject | withdraw
    id: RowId


def answer_actions(request_id: int, gettext: Translate) -> Actions:
    return (
        (
            Action.of(gettext("✅ Take the shift"), SwapCb(action="accept", id=request_id)),
            Action.of(gettext("❌ Decline"), SwapCb(action="decline", id=request_id)),
        ),
    )


def approval_actions(request_id: int, gettext: Translate) -> Actions:
    return (
        (
            Action.of(gettext("✅ Approve the swap"), SwapCb(action="approve", id=request_id)),
            Action.of(gettext("❌ Reject"), SwapCb(action="reject", id=request_id)),
        ),
    )


def withdraw_actions(request_id: int, gettext: Translate) -> Actions:
    return ((Action.of(gettext("↩ Withdraw the request"), SwapCb(action="withdraw", id=request_id)),),)
