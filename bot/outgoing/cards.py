"""Cards: what a service sends, without a platform's shape. Stored as they are in the outbox row
(``text`` and ``actions``), rendered for Telegram when the row is sent (bot/outgoing/telegram.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiogram.filters.callback_data import CallbackData


@dataclass(frozen=True, slots=True)
class Action:
    """A button: ``label`` in the recipient's language; ``id`` comes back when it is pressed (at most 64
    bytes: the packed callback data of bot/outgoing/*.py)."""

    label: str
    id: str

    @classmethod
    def of(cls, label: str, data: CallbackData) -> Action:
        return cls(label, data.pack())

    def as_json(self) -> dict[str, str]:
        return {"id": self.id, "label": self.label}


Row = tuple[Action, ...]
Actions = tuple[Row, ...]


@dataclass(frozen=True, slots=True)
class Card:
    """A message: its text and, row by row, the actions under it. ``protect``: it shows classified
    details, so the recipient may not forward or save it (Telegram: protect_content)."""

    text: str
    actions: Actions = ()
    protect: bool = False

    def payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = {"text": self.text}
        if any(self.actions):
            payload["actions"] = [[action.as_json() for action in row] for row in self.actions if row]
        if self.protect:
            payload["protect"] = True
        return payload


def actions_of(rows: list[list[dict[str, str]]]) -> Actions:
    """Actions as stored in an outbox row."""
    return tuple(tuple(Action(item["label"], item["id"]) for item in row) for row in rows)
