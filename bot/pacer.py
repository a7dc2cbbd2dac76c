"""Telegram's sending limits: about 30 messages/s in all, 1/s per chat, 20/min per group."""

from __future__ import annotations

import asyncio
import bisect
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """Slightly under Telegram's limits: a send planned for its slot leaves a few milliseconds late
    when the loop is busy, and at the exact limit that lateness provoked 429s and a pause for everyone
    (bench/outbox_rate.py)."""

    per_second: float = 29.0
    per_chat_seconds: float = 1.1
    per_group_minute: int = 20


class Pacer:
    """Hands out send slots; `reserve` says how long to wait before sending to a chat.

    A slot is booked when reserved, so concurrent senders never bunch up past a limit.
    """

    def __init__(self, limits: Limits | None = None, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits or Limits()
        self._monotonic = monotonic
        self._booked: list[float] = []  # planned global slots, sorted
        self._next_chat: dict[int, float] = {}
        self._group_sends: dict[int, list[float]] = {}
        self._paused_until = 0.0
        self._sent: deque[float] = deque()

    def reserve(self, chat_id: int) -> float:
        now = self._monotonic()
        slot = max(now, self._paused_until, self._next_chat.get(chat_id, 0.0))
        if chat_id < 0:
            recent = [t for t in self._group_sends.get(chat_id, []) if t > slot - 60.0]
            if len(recent) >= self.limits.per_group_minute:
                slot = max(slot, recent[-self.limits.per_group_minute] + 60.0)
        slot = self._book_global(slot, now)
        if chat_id < 0:
            self._group_sends[chat_id] = [*recent, slot]
        self._next_chat[chat_id] = slot + self.limits.per_chat_seconds
        if len(self._next_chat) > 10_000:  # forget chats whose slot has long passed
            self._next_chat = {c: t for c, t in self._next_chat.items() if t > now}
        return slot - now

    def _book_global(self, earliest: float, now: float) -> float:
        """The first slot from `earliest` on at least 1/per_second from every booked one. A message waiting
        for its chat's turn books a slot a second ahead; others still take the free slots before it (it used
        to push every later message behind it: bench/alert_latency.py)."""
        gap = 1.0 / self.limits.per_second
        booked = [t for t in self._booked if t > now - gap]
        slot = earliest
        for taken in booked:  # sorted: move past each booked slot too close to ours
            if taken <= slot - gap:
                continue
            if taken >= slot + gap:
                break
            slot = taken + gap
        bisect.insort(booked, slot)
        self._booked = booked
        return slot

    async def wait_turn(self, chat_id: int) -> None:
        """Wait for the chat's slot and until the last second's sends leave room, then count this send."""
        await asyncio.sleep(self.reserve(chat_id))
        wait = self.hold_off()
        while wait > 0:
            await asyncio.sleep(wait)
            wait = self.hold_off()
        self.sent()

    def hold_off(self) -> float:
        """Seconds to wait before sending now. Slots are planned ahead; when the loop was held up, sends
        planned for different moments leave together, and Telegram counts the sends of any one second."""
        now = self._monotonic()
        while self._sent and self._sent[0] <= now - 1.0:
            self._sent.popleft()
        if len(self._sent) >= int(self.limits.per_second):
            return self._sent[0] + 1.0 - now
        return 0.0

    def sent(self) -> None:
        """A send leaves now (counted by `hold_off`)."""
        self._sent.append(self._monotonic())

    def pause(self, seconds: float) -> None:
        """Telegram said RetryAfter: nobody sends until it has passed."""
        self._paused_until = max(self._paused_until, self._monotonic() + seconds)
