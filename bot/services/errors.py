"""Domain errors. Each carries an English message id, translated where it is shown."""

from __future__ import annotations

from typing import Any

from bot.i18n import NC_ as NC_  # a message id with a context, for ids two flows use in different senses


def N_(message: str) -> str:
    """Marks a message for extraction into the catalogues; translated later, at display time."""
    return message


class DomainError(Exception):
    def __init__(self, msgid: str, **params: Any) -> None:
        super().__init__(msgid)
        self.msgid = msgid
        self.params = params


class NotAllowed(DomainError):
    """The caller's role or relation to the item does not allow this (F3)."""


class NotFound(DomainError):
    """The item does not exist, or is not visible to the caller."""


class InvalidInput(DomainError):
    """The value given cannot be accepted; nothing was changed."""


class Conflict(DomainError):
    """The item has moved on (already used, already decided); nothing was changed."""
