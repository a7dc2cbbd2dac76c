"""The buttons of publication review's messages. They carry ids only; every press is re-authorised by
the service (F3)."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData

from bot.outgoing.cards import Action, Actions
from bot.outgoing.ids import RowId
from bot.outgoing.speaker import Translate


class PubCb(CallbackData, prefix="pb"):
    """/publications: list | open | hist | rec | recch | revise | change | takedown | review | search | export
    | fmt | now | skip."""

    action: str
    id: RowId = 0
    value: str = ""


def revise_actions(form_id: int, gettext: Translate) -> Actions:
    return ((Action.of(gettext("✏️ Revise and resubmit"), PubCb(action="revise", id=form_id)),),)
