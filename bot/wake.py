"""Waiting for a wake-up call or a timeout, whichever comes first, without losing a cancellation.

On Python 3.11 `asyncio.wait_for` returns normally when the awaited event is set in the same loop turn
as the waiting task is cancelled (fixed in 3.12): the cancelled sender would carry on, and whoever awaits
it (asyncio.run on Ctrl+C, a test) would wait forever. `asyncio.timeout` has no such window."""

from __future__ import annotations

import asyncio
import contextlib


async def wait_for_wake(wake: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await wake.wait()
