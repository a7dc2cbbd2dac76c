"""The outbox sender: delivers queued Bot API calls after their transaction committed (DESIGN.md).

Rows are claimed in the database before sending, so two processes never send the same row;
each chat's rows go out in order; Telegram's limits are respected; RetryAfter is honoured;
5xx and network errors are retried with backoff; unreachable recipients are marked
undeliverable and the row's failure hook runs (escalations move on).

Delivery is exactly once except in one case the Bot API leaves open: Telegram processed a send but
its answer never arrived (the request timed out, or the connection dropped after the request was
read; a crash between Telegram's answer and our commit is the same). Telegram has no idempotency
key, so the sender cannot tell this from a send that never arrived, and it deliberately sends
again: a duty officer may read an alert twice, but never misses one (tests/test_faults.py).
"""

from __future__ import annotations

import asyncio
import base64
import collections
import contextvars
import functools
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from aiogram import Bot, methods
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNotFound,
    TelegramRetryAfter,
)
from aiogram.types import BufferedInputFile, Message

from bot.channels.base import Misconfigured, Provider, RetryLater, Sent, Unreachable
from bot.channels.feishu import CHANNEL as FEISHU
from bot.clock import Clock
from bot.feishu_outbox import NOT_SET_UP, FeishuCourier, NotCarried
from bot.metrics import Metrics
from bot.outgoing import telegram
from bot.pacer import Pacer
from bot.policy.schema import SMS, TELEGRAM, VOICE
from bot.wake import wait_for_wake
from storage.models import OutboxMessage
from storage.uow import UnitOfWork, UnitOfWorkFactory

log = logging.getLogger(__name__)

METHODS: dict[str, type[methods.TelegramMethod[Any]]] = {
    "sendMessage": methods.SendMessage,
    "sendPhoto": methods.SendPhoto,
    "sendDocument": methods.SendDocument,
    "sendLocation": methods.SendLocation,
    "sendVoice": methods.SendVoice,
    "sendMediaGroup": methods.SendMediaGroup,
    "editMessageText": methods.EditMessageText,
    "editMessageReplyMarkup": methods.EditMessageReplyMarkup,
    "deleteMessage": methods.DeleteMessage,
    "setMyCommands": methods.SetMyCommands,  # a member's command menu (bot/services/menus.py)
    "deleteMyCommands": methods.DeleteMyCommands,
    "pinChatMessage": methods.PinChatMessage,  # like edits, these name the queued message by `edit_of`
    "unpinChatMessage": methods.UnpinChatMessage,
}
PROVIDER_METHODS = ("sms", "call")  # carried by the SMS provider, not the Bot API
UNREACHABLE = ("blocked", "chat not found", "user is deactivated", "peer_id_invalid", "bot can't initiate")
NOT_MODIFIED = "message is not modified"
FILE_FIELDS = ("photo", "document")

OUTCOMES = {"sent": "sent", "pending": "retried", "failed": "failed", "cancelled": "cancelled"}  # row state -> metric
# what to do when a row's recipient is unreachable; the last argument names the channel that refused it
FailureHook = Callable[[UnitOfWork, OutboxMessage, datetime, str], Awaitable[None]]


class OutboxSender:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        bot: Bot,
        clock: Clock,
        pacer: Pacer | None = None,
        *,
        batch: int = 50,
        concurrency: int = 16,
        claim_seconds: int = 10,
        max_attempts: int = 8,
        metrics: Metrics | None = None,
        provider: Provider | None = None,
        feishu: FeishuCourier | None = None,
    ) -> None:
        self._uow = uow
        self._feishu = feishu or FeishuCourier(uow, None)  # rows of members linked to Feishu (issue 12)
        self._provider = provider  # SMS and voice calls (rows of method "sms" / "call"); None: not set up
        self._bot = bot
        self._clock = clock
        self._pacer = pacer
        self._batch = batch
        self._slots = asyncio.Semaphore(concurrency)
        self._claim = timedelta(seconds=claim_seconds)
        self._max_attempts = max_attempts
        self._metrics = metrics or Metrics(clock)
        self._hooks: dict[str, FailureHook] = {}
        self._finished: list[dict[str, Any]] = []
        self._writing = asyncio.Lock()
        self._wake = asyncio.Event()
        self._running = self._stopping = False
        self._in_flight: set[asyncio.Task[None]] = set()
        self._chats_in_flight: collections.Counter[int] = collections.Counter()  # rows being sent, by chat
        uow.signals.outbox_courier = self

    def on_failure(self, name: str, hook: FailureHook) -> None:
        """Register what to do, in the same transaction, when a row's recipient is unreachable."""
        self._hooks[name] = hook

    def wake(self) -> None:
        self._wake.set()

    async def drain(self) -> int:
        """Send everything due now (and what becomes sendable as earlier rows finish)."""
        total = 0
        while rows := await self._claim_batch():
            await self._send(rows)
            total += len(rows)
        return total

    async def _send(self, rows: list[OutboxMessage]) -> None:
        renewing = asyncio.create_task(self._keep_claims([row.id for row in rows]))
        try:
            feishu = await self._feishu.routes([row for row in rows if row.method not in PROVIDER_METHODS])
            await asyncio.gather(
                *(
                    self._deliver_to_feishu(row, feishu[row.id]) if row.id in feishu else self._deliver(row)
                    for row in rows
                )
            )
        finally:
            renewing.cancel()

    async def _keep_claims(self, row_ids: list[int]) -> None:
        """Renew the claims of rows still being sent. Claims are short, so the rows of a process killed
        mid-send are taken over seconds after a restart, not minutes; a live sender keeps its own."""
        while True:
            await asyncio.sleep(self._claim.total_seconds() / 3)
            async with self._uow() as uow:
                await uow.outbox.renew_claims(row_ids, self._clock.now() + self._claim)
                await uow.commit()

    async def run(self) -> None:
        """Deliver until stopped, sleeping until woken by a commit, a finished batch or the next due row.

        New rows are claimed while earlier batches are still being sent: a message waiting for its chat's
        turn (1 s per chat) must not hold up an alert to another chat (bench/alert_latency.py). About
        `batch` rows are claimed at a time; each chat still has one row in flight at most (`claim`)."""
        self._running = True
        try:
            while not self._stopping:
                self._wake.clear()
                try:
                    room = self._batch - self._chats_in_flight.total()
                    rows = await self._claim_batch(room) if room > 0 else []
                    self._start_sending(rows)
                    if room <= 0:
                        delay = 30.0  # woken when a batch finishes
                    elif len(rows) == room:
                        delay = 0.0  # more may be due
                    else:
                        delay = await self._seconds_to_next_due()
                except Exception:  # the database may be briefly unavailable; never die
                    log.exception("outbox sender round failed")
                    delay = 5.0
                if self._stopping:
                    break
                if delay > 0:
                    await wait_for_wake(self._wake, delay)
            await asyncio.gather(*self._in_flight, return_exceptions=True)  # stop(): in-flight sends finish
        finally:
            self._running = False
            for task in self._in_flight:  # cancelled: so are the sends, and they unwind (releasing their
                task.cancel()  # database connections) before whoever cancelled goes on to close the engine
            await asyncio.gather(*self._in_flight, return_exceptions=True)

    async def claim_queued(self, uow: UnitOfWork, row_ids: list[int]) -> Sequence[OutboxMessage]:
        """A transaction that queued these rows is about to commit: claim in it those that may leave now
        (see `UnitOfWork.commit`). Only while running; a stopped sender finds them at its next start."""
        room = self._batch - self._chats_in_flight.total()
        if not self._running or self._stopping or room <= 0:
            return []
        now = self._clock.now()
        return await uow.outbox.claim(now, now + self._claim, room, among=row_ids)

    def committed(self, queued: dict[int, int], claimed: Sequence[OutboxMessage]) -> None:
        """A row left unclaimed waits for a round of the sender, unless its chat has a send of ours in flight:
        that send's end starts a round anyway. (A burst of reports to one officer woke the sender for each,
        a claim and a look for the next due row that found nothing to do, ~3 ms each: issue 15.)"""
        self._start_sending(list(claimed))
        taken = {row.id for row in claimed}
        if any(chat not in self._chats_in_flight for row_id, chat in queued.items() if row_id not in taken):
            self._wake.set()

    def _start_sending(self, rows: list[OutboxMessage]) -> None:
        if not rows:
            return
        self._chats_in_flight.update(row.chat_id for row in rows)
        # A fresh context: rows handed over by a handler's commit must not send inside that update's context
        # (its wizard batch would be written again before each of their sends, storage/fsm.py).
        task = asyncio.create_task(self._send(rows), context=contextvars.Context())
        self._in_flight.add(task)
        task.add_done_callback(functools.partial(self._sent, rows=rows))

    def _sent(self, task: asyncio.Task[None], rows: list[OutboxMessage]) -> None:
        self._in_flight.discard(task)
        self._chats_in_flight -= collections.Counter(row.chat_id for row in rows)  # (drops those at zero)
        self._wake.set()  # the chats of this batch may have their next rows ready

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    async def close(self) -> None:
        if self._provider is not None:
            await self._provider.close()
        await self._feishu.close()

    async def _claim_batch(self, limit: int | None = None) -> list[OutboxMessage]:
        now = self._clock.now()
        async with self._uow() as uow:
            rows = list(await uow.outbox.claim(now, now + self._claim, limit or self._batch))
            await uow.commit()
        return rows

    async def _seconds_to_next_due(self, ceiling: float = 30.0) -> float:
        async with self._uow() as uow:
            due = await uow.outbox.next_due(self._clock.now())
        if due is None:
            return ceiling
        return min(ceiling, max(0.05, (due - self._clock.now()).total_seconds()))

    async def _deliver(self, row: OutboxMessage) -> None:
        if row.method in PROVIDER_METHODS:
            async with self._slots:
                await self._deliver_by_phone(row)
            return
        async with self._slots:
            try:
                call = await self._build_call(row)
            except LookupError:
                await self._finish(row.id, state="cancelled", error="original message was never delivered")
                return
            if self._pacer is not None:
                await self._pacer.wait_turn(row.chat_id)
            try:
                result = await self._bot(call)
            except TelegramRetryAfter as exc:
                if self._pacer is not None:
                    self._pacer.pause(exc.retry_after)
                await self._retry(row, str(exc), exc.retry_after, count_attempt=False)
            except (TelegramForbiddenError, TelegramNotFound) as exc:
                await self._undeliverable(row, str(exc), TELEGRAM)
            except TelegramBadRequest as exc:
                text = str(exc).lower()
                if NOT_MODIFIED in text:
                    await self._finish(row.id, state="sent", message_id=row.payload.get("message_id"))
                elif any(marker in text for marker in UNREACHABLE):
                    await self._undeliverable(row, str(exc), TELEGRAM)
                else:
                    log.error("outbox row %s rejected by Telegram: %s", row.id, exc)
                    await self._finish(row.id, state="failed", error=str(exc))
            except (TelegramAPIError, ClientDecodeError, OSError, TimeoutError) as exc:  # a proxy's HTML error page too
                await self._retry(row, repr(exc), _backoff(row), count_attempt=True)
            else:
                await self._finish(row.id, state="sent", message_id=_message_id(result))

    async def _deliver_by_phone(self, row: OutboxMessage) -> None:
        """An SMS or a voice call: retried while the provider asks (its wait honoured, else backoff); a number
        it refuses for good is undeliverable, and the row's failure hook moves the escalation on."""
        if self._provider is None:
            await self._undeliverable(row, "no SMS provider is set up (SMS_PROVIDER)", _phone_channel(row))
            return
        phone, text = row.payload["phone"], row.payload["text"]
        if row.method == "sms":
            sending = self._provider.send_sms(phone, text, key=row.key)
        else:
            sending = self._provider.call(phone, text, key=row.key, language=row.payload.get("language", ""))
        sent = await self._channel_answer(row, sending, self._provider.name, _phone_channel(row))
        if sent is not None:
            log.info("outbox row %s accepted by %s as %s", row.id, self._provider.name, sent.provider_id)
            await self._finish(row.id, state="sent")

    async def _deliver_to_feishu(self, row: OutboxMessage, open_id: str | None) -> None:
        """A row for a member linked to Feishu (bot/feishu_outbox.py): retried and marked undeliverable like
        an SMS, so the row's failure hook moves the escalation on when the user cannot be reached."""
        async with self._slots:
            if open_id is None or self._feishu.client is None:
                await self._undeliverable(row, NOT_SET_UP, FEISHU)
                return
            try:
                sent = await self._channel_answer(row, self._feishu.deliver(row, open_id), "Feishu", FEISHU)
            except LookupError:
                await self._finish(row.id, state="cancelled", error="original message was never delivered")
            except NotCarried as exc:
                await self._finish(row.id, state="cancelled", error=str(exc))
            except Exception as exc:  # a row Feishu's renderer cannot read: retried, then failed, never stuck
                log.exception("outbox row %s could not be sent to Feishu", row.id)
                await self._retry(row, repr(exc), _backoff(row), count_attempt=True)
            else:
                if sent is not None:
                    log.info("outbox row %s delivered to Feishu as %s", row.id, sent.provider_id)
                    await self._finish(row.id, state="sent")

    async def _channel_answer(
        self, row: OutboxMessage, sending: Awaitable[Sent], name: str, channel: str
    ) -> Sent | None:
        """What a channel other than Telegram said, as the row's outcome: retried while it asks (its wait
        honoured, else backoff), undeliverable when it refuses for good (the row's failure hook moves the
        escalation on); the answer when it took the message."""
        try:
            return await sending
        except RetryLater as exc:
            await self._retry(row, str(exc), exc.after or _backoff(row), count_attempt=True)
        except Unreachable as exc:
            if isinstance(exc, Misconfigured):
                log.error("%s refused the account's settings: %s", name, exc)
            await self._undeliverable(row, exc.reason, channel)
        return None

    async def _build_call(self, row: OutboxMessage) -> methods.TelegramMethod[Any]:
        payload = telegram.render(dict(row.payload))  # a card's actions become its inline keyboard
        if row.edit_of is not None:
            async with self._uow() as uow:
                original = await uow.outbox.get(row.edit_of)
            if original is None or original.message_id is None:
                raise LookupError(row.edit_of)
            payload["message_id"] = original.message_id
        for name in FILE_FIELDS:  # a file queued as bytes (see bot.services.messages.queue_file)
            value = payload.get(name)
            if isinstance(value, dict) and "base64" in value:
                payload[name] = BufferedInputFile(base64.b64decode(value["base64"]), value["filename"])
        return METHODS[row.method].model_validate(payload)

    async def _retry(self, row: OutboxMessage, error: str, seconds: float, *, count_attempt: bool) -> None:
        attempts = row.attempts + (1 if count_attempt else 0)
        if attempts >= self._max_attempts:
            log.error("outbox row %s failed after %s attempts: %s", row.id, attempts, error)
            await self._finish(row.id, state="failed", error=error, attempts=attempts)
            return
        due = self._clock.now() + timedelta(seconds=seconds)
        await self._finish(row.id, state="pending", error=error, attempts=attempts, due_at=due)

    async def _undeliverable(self, row: OutboxMessage, error: str, channel: str) -> None:
        now = self._clock.now()
        async with self._uow() as uow:
            current = await uow.outbox.get(row.id)
            if current is None or current.state != "sending":
                return
            current.state, current.last_error, current.claimed_until = "undeliverable", error, None
            self._metrics.outbox.labels("undeliverable").inc()
            hook = self._hooks.get(current.on_failure or "")
            if hook is not None:
                await hook(uow, current, now, channel)
            await uow.commit()

    async def _finish(self, row_id: int, *, state: str, **changes: Any) -> None:
        """Record a row's outcome. Outcomes are written in batches: whoever finds the writer idle writes
        everything finished so far in one transaction, so a busy sender does not pay a transaction per
        message (bench/timer_precision.py, bench/outbox_rate.py). Each call returns once its row is written."""
        self._metrics.outbox.labels(OUTCOMES[state]).inc()
        values: dict[str, Any] = {"id": row_id, "state": state, "claimed_until": None}
        if "error" in changes:
            values["last_error"] = changes.pop("error")
        values.update(changes)
        if state == "sent":
            values["sent_at"] = self._clock.now()
        self._finished.append(values)
        async with self._writing:
            if not self._finished:
                return  # written by the batch before
            batch, self._finished = self._finished, []
            async with self._uow() as uow:
                await uow.outbox.record_outcomes(batch)
                await uow.commit()


def _backoff(row: OutboxMessage) -> float:
    """Seconds before the next try: doubling with each attempt, at most five minutes."""
    return min(300, 2 ** min(row.attempts, 8))


def _message_id(result: object) -> int | None:
    if isinstance(result, Message):
        return result.message_id
    if isinstance(result, list) and result and isinstance(result[0], Message):
        return result[0].message_id
    return None


def _phone_channel(row: OutboxMessage) -> str:
    return SMS if row.method == "sms" else VOICE
