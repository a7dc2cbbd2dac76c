"""Outgoing webhooks (e.g. access provisioning, C6/C7): JSON POSTs queued as rows in the transaction
that decided something, delivered afterwards — never from inside a transaction — and retried
with backoff until the receiver answers 2xx. Rows are claimed before sending, so two processes
never post the same row; the row's key goes along as ``Idempotency-Key`` for the receiver."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import aiohttp

from bot.clock import Clock
from bot.wake import wait_for_wake
from storage.access_models import WebhookDelivery
from storage.uow import UnitOfWorkFactory

log = logging.getLogger(__name__)


class WebhookSender:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        *,
        batch: int = 20,
        claim_seconds: int = 120,
        max_attempts: int = 30,
        timeout_seconds: float = 15.0,
        idle_check: float = 30.0,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._batch = batch
        self._claim = timedelta(seconds=claim_seconds)
        self._max_attempts = max_attempts
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._idle_check = idle_check
        self._wake = asyncio.Event()
        self._stopping = False
        uow.signals.webhook_listeners.append(self._wake.set)

    async def drain(self) -> int:
        """Deliver every row due now; returns how many were attempted."""
        total = 0
        async with aiohttp.ClientSession(timeout=self._timeout) as http:
            while rows := await self._claim_batch():
                await asyncio.gather(*(self._deliver(http, row) for row in rows))
                total += len(rows)
        return total

    async def run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            try:
                await self.drain()
                async with self._uow() as uow:
                    due = await uow.access.next_webhook_due()
                delay = self._idle_check if due is None else (due - self._clock.now()).total_seconds()
            except Exception:  # the database may be briefly unavailable; never die
                log.exception("webhook delivery round failed")
                delay = 5.0
            if self._stopping:
                break
            await wait_for_wake(self._wake, min(self._idle_check, max(0.05, delay)))

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    async def _claim_batch(self) -> list[WebhookDelivery]:
        now = self._clock.now()
        async with self._uow() as uow:
            rows = list(await uow.access.claim_webhooks(now, now + self._claim, self._batch))
            await uow.commit()
        return rows

    async def _deliver(self, http: aiohttp.ClientSession, row: WebhookDelivery) -> None:
        error: str | None = None
        try:
            async with http.post(row.url, json=row.payload, headers={"Idempotency-Key": row.key}) as response:
                if response.status >= 300:
                    error = f"HTTP {response.status}: {(await response.text())[:200]}"
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            error = repr(exc)
        async with self._uow() as uow:
            current = await uow.access.webhook(row.id)
            if current is None:
                return
            now = self._clock.now()
            current.claimed_until, current.last_error = None, error
            if error is None:
                current.state, current.sent_at = "sent", now
            else:
                current.attempts += 1
                if current.attempts >= self._max_attempts:
                    log.error("webhook %s to %s failed for good: %s", row.key, row.url, error)
                    current.state = "failed"
                else:
                    current.state = "pending"
                    current.due_at = now + timedelta(seconds=min(3600, 5 * 2**current.attempts))
            await uow.commit()
