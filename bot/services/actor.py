from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is acting and from which chat; services re-check the member's rights from the database."""

    telegram_id: int | None
    chat_id: int | None = None

    @classmethod
    def command_line(cls) -> Actor:
        return cls(telegram_id=None, chat_id=None)

    @property
    def is_command_line(self) -> bool:
        return self.telegram_id is None
