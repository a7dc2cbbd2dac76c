"""The buttons of the deadlines flow's messages. They carry ids only; every press is re-authorised by
the service it calls (F3). Labels come in the recipient's language."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData

from bot.outgoing.cards import Action, Actions
from bot.outgoing.ids import RowId


class DeadlineCb(CallbackData, prefix="dl"):
    action: str  # done | more | grant | decline
    id: RowId


def item_actions(instance_id: int, done: str, more: str) -> Actions:
    """Done and "Need more time" under a reminder."""
    return (
        (Action.of(done, DeadlineCb(action="done", id=instance_id)),),
        (Action.of(more, DeadlineCb(action="more", id=instance_id)),),
    )


def extension_actions(instance_id: int, grant: str, decline: str) -> Actions:
    return (
        (
            Action.of(grant, DeadlineCb(action="grant", id=instance_id)),
            Action.of(decline, DeadlineCb(action="decline", id=instance_id)),
        ),
    )
