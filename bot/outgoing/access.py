"""The buttons of the data-access flow's messages to other members. They carry ids only; every press
is re-authorised (F3). Labels come in the recipient's language (``gettext`` is bound to it)."""

from __future__ import annotations

from collections.abc import Iterable

from aiogram.filters.callback_data import CallbackData

from bot.outgoing.cards import Action, Actions
from bot.outgoing.ids import RowId
from bot.outgoing.speaker import Translate


class AccessCb(CallbackData, prefix="acc"):
    """Things that happen to existing requests, grants, tasks and review items."""

    action: str  # done (task) | extend | withdraw | keep | drop (review) | new
    id: RowId = 0


def task_actions(task_id: int, action: str, gettext: Translate) -> Actions:
    label = gettext("✅ Done: access granted") if action == "grant" else gettext("✅ Done: access removed")
    return ((Action.of(label, AccessCb(action="done", id=task_id)),),)


def extend_actions(grant_id: int, gettext: Translate) -> Actions:
    return ((Action.of(gettext("⏳ Ask for an extension"), AccessCb(action="extend", id=grant_id)),),)


def review_actions(items: Iterable[tuple[int, str]], gettext: Translate) -> Actions:
    """Keep or revoke, one row per grant under review (C8)."""
    return tuple(
        (
            Action.of(gettext("✅ Keep {who}").format(who=label), AccessCb(action="keep", id=item_id)),
            Action.of(gettext("⛔ Revoke {who}").format(who=label), AccessCb(action="drop", id=item_id)),
        )
        for item_id, label in items
    )
