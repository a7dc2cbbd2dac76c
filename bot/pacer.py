"""Telegram's sending limits: about 30 messages/s in all, 1/s per chat, 20/min per group."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    per_second: float = 30.0
    per_chat_seconds: float = 1.0
    per_group_minute: int = 20


class Pacer:
    """Hands out send slots; `reserve` says how long to wait before sending to a chat.

    A slot is booked when reserved, so concurrent senders never bunch up past a limit.
    """

    def __init__(self, limits: Limits | None = None, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits or Limits()
        self._monotonic = monotonic
        self._next_global = 0.0
        self._next_chat: dict[int, float] = {}
        self._group_sends: dict[int, list[float]] = {}
        self._paused_until = 0.0

    def reserve(self, chat_id: int) -> float:
        now = self._monotonic()
        slot = max(now, self._next_global, self._paused_until, self._next_chat.get(chat_id, 0.0))
        if chat_id < 0:
            recent = [t for t in self._group_sends.get(chat_id, []) if t > slot - 60.0]
            if len(recent) >= self.limits.per_group_minute:
                slot = max(slot, recent[-self.limits.per_group_minute] + 60.0)
            self._group_sends[chat_id] = [*recent, slot]
        self._next_global = slot + 1.0 / self.limits.per_second
        self._next_chat[chat_id] = slot + self.limits.per_chat_seconds
        if len(self._next_chat) > 10_000:  # forget chats whose slot has long passed
            self._next_chat = {c: t for c, t in self._next_chat.items() if t > now}
        return slot - now

    def pause(self, seconds: float) -> None:
        """Telegram said RetryAfter: nobody sends until it has passed."""
        self._paused_until = max(self._paused_until, self._monotonic() + seconds)
