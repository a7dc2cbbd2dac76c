"""The Feishu renderer (issue 12): a card as Feishu's interactive card JSON — the text, then one row of
buttons per row of actions, each button's ``value`` carrying the action's id (the same packed callback data
a Telegram button carries), so a press decodes with the same CallbackData classes and reaches the same
service call (bot/feishu_inbound.py). The outbox sender renders a row just before sending it."""

from __future__ import annotations

from typing import Any

from bot.outgoing.approvals import ApprovalCb
from bot.outgoing.cards import Action, Actions, actions_of
from bot.outgoing.incidents import ACK, DETAILS, IncidentCb

ACTION_KEY = "id"  # the key of a button's value that holds the action id
# The presses a Feishu card answers (bot/feishu_inbound.py), by callback prefix; other buttons (a picker, a
# wizard) need the Telegram chat and are left off Feishu cards. None: every action of that prefix.
CARRIED: dict[str, frozenset[str] | None] = {
    IncidentCb.__prefix__: frozenset({ACK, DETAILS}),
    ApprovalCb.__prefix__: frozenset({"ok", "no", "ask", "ret", "open", "yes", "back"}),
    "lang": None,  # handlers.callbacks.LanguageCb: the language buttons of the welcome card
}


def carried(action: Action) -> bool:
    prefix, _, rest = action.id.partition(":")
    if prefix not in CARRIED:
        return False
    allowed = CARRIED[prefix]
    return allowed is None or rest.partition(":")[0] in allowed


def card(text: str, actions: Actions = ()) -> dict[str, Any]:
    """A message card: plain text (nothing a member typed is read as markup), buttons under it.
    ``update_multi`` lets the bot update the card after an action (PATCH im/v1/messages)."""
    elements: list[dict[str, Any]] = [{"tag": "div", "text": {"tag": "plain_text", "content": text}}]
    first = True
    for row in actions:
        row = tuple(action for action in row if carried(action))
        if not row:
            continue
        buttons = []
        for action in row:
            buttons.append(
                {
                    "tag": "button",
                    "text": {"tag": "plain_text", "content": action.label},
                    "type": "primary" if first else "default",
                    "value": {ACTION_KEY: action.id},
                }
            )
            first = False
        elements.append({"tag": "action", "actions": buttons})
    return {"config": {"wide_screen_mode": True, "update_multi": True}, "elements": elements}


def render(method: str, payload: dict[str, Any]) -> dict[str, Any] | None:
    """The card for a queued Bot API call, or ``None`` when Feishu cannot carry it (a Telegram file id,
    a group post's deletion): a text and its buttons, or a location as its coordinates."""
    if method in ("sendMessage", "editMessageText"):
        rows = payload.get("actions") or []
        return card(str(payload.get("text", "")), actions_of(rows))
    if method == "sendLocation":
        return card(f"📍 {payload['latitude']:.5f}, {payload['longitude']:.5f}")
    return None


def action_id(value: object) -> str | None:
    """The action id a pressed button carried back, when it looks like one of ours."""
    if isinstance(value, dict):
        found = value.get(ACTION_KEY)
        if isinstance(found, str) and 0 < len(found.encode()) <= 64:
            return found
    return None
