"""Fault suite (issue 7): Telegram's faults injected by a local Bot API server, through the real outbox
sender and the real HTTP session. Every message is delivered exactly once (the server counts
duplicates) or marked undeliverable with its failure hook run; the one unavoidable duplicate (an answer
lost after Telegram processed the send) is deliberate and asserted; two processes on one PostgreSQL
send each message and fire each timer once; a webhook retry is processed once."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from datetime import datetime

import pytest
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiohttp import web

from bot.app import build_app
from bot.clock import ManualClock
from bot.pacer import Limits, Pacer
from bot.services.messages import queue_text
from bot.webhook import build_web_app
from storage.db import create_engine, create_session_factory
from storage.migrate import upgrade
from storage.models import OutboxMessage, Timer
from storage.uow import UnitOfWork, UnitOfWorkFactory
from tests.conftest import POSTGRES_URL, reset_postgres, settings_for
from tests.support.botapi_server import FakeBotApi, post_update
from tests.support.updates import UpdateFactory
from tests.test_outbox import Rig

# Seconds the HTTP session waits for an answer: shorter than the answer held by the "timeout:3" fault, and
# long enough that a busy machine's late answer is not mistaken for a lost one (a resend would break the
# exactly-once and in-order checks of the other tests).
CLIENT_TIMEOUT = 1.0


class Line(Rig):
    """The real outbox sender on a real database, speaking HTTP to the fake Bot API server."""

    def __init__(self, uow: UnitOfWorkFactory, server: FakeBotApi, clock: ManualClock) -> None:
        session = AiohttpSession(api=TelegramAPIServer.from_base(server.base_url), timeout=CLIENT_TIMEOUT)
        super().__init__(uow, session, clock)  # type: ignore[arg-type]
        self.server = server

    async def deliver_everything(self, rounds: int = 12) -> None:
        """Send what is due, then move the clock past any retry backoff, until nothing is left."""
        for _ in range(rounds):
            await self.sender.drain()
            async with self.uow() as uow:
                if not await uow.outbox.next_due(self.clock.now()):
                    return
            self.clock.advance(seconds=301)


@pytest.fixture
async def line(database_url: str, clock: ManualClock) -> AsyncIterator[Line]:
    engine = create_engine(database_url)
    await upgrade(engine)
    async with FakeBotApi() as server:
        line = Line(UnitOfWorkFactory(create_session_factory(engine)), server, clock)
        yield line
        await line.bot.session.close()
    await engine.dispose()


@pytest.mark.parametrize("fault", ["429:3", "500", "502", "502:html", "reset"])
async def test_a_transient_fault_ends_in_exactly_one_delivery(line: Line, fault: str) -> None:
    """429 (retry_after honoured), 500/502 and a connection reset before Telegram processed the send:
    the message is retried and arrives once, with its Telegram message id kept."""
    line.server.inject("sendMessage", fault, times=2)
    row_id = await line.queue(10, "Alert: smoke in the server room")
    await line.deliver_everything()
    (delivered,) = line.server.sent_messages(10)
    assert delivered.text == "Alert: smoke in the server room"
    row = await line.row(row_id)
    assert row.state == "sent" and row.message_id == delivered.message_id
    assert row.attempts == (0 if fault.startswith("429") else 2)  # RetryAfter is not a failed attempt
    assert line.server.duplicates() == []


@pytest.mark.parametrize("fault", ["blocked", "chat_not_found"])
async def test_an_unreachable_recipient_is_marked_and_the_escalation_moves_on(line: Line, fault: str) -> None:
    """ "Bot was blocked by the user" (403) or "chat not found" (400): no retry, the row is undeliverable,
    and its failure hook queues the next step in the same transaction (A2: the alert climbs the chain)."""

    async def next_step(uow: UnitOfWork, row: OutboxMessage, now: datetime, _refused_by: str) -> None:
        await queue_text(uow, now, key=f"escalated:{row.id}", chat_id=20, text=f"Escalated: {row.payload['text']}")

    line.sender.on_failure("escalate", next_step)
    line.server.inject("sendMessage", fault, chat_id=10)
    row_id = await line.queue(10, "Alert: fire", on_failure="escalate", ref="incident:1")
    await line.deliver_everything()
    assert (await line.row(row_id)).state == "undeliverable"
    assert line.server.sent_messages(10) == []
    assert line.server.texts(20) == ["Escalated: Alert: fire"]
    assert len([r for r in line.server.requests if r.params.get("chat_id") == 10]) == 1  # never retried


@pytest.mark.parametrize("fault", ["timeout:3", "reset_after"])
async def test_an_answer_lost_after_delivery_is_resent_deliberately(line: Line, fault: str) -> None:
    """The one case the Bot API cannot make exactly-once: Telegram processed the send but the answer never
    came (held past the client's timeout, or the connection dropped). The sender cannot know, and it
    deliberately sends again: the recipient may read an alert twice, but never misses one (A1, A2)."""
    line.server.inject("sendMessage", fault)
    row_id = await line.queue(10, "Alert: flooding in the basement")
    await line.deliver_everything()
    first, second = line.server.sent_messages(10)
    assert first.text == second.text == "Alert: flooding in the basement"
    row = await line.row(row_id)
    assert row.state == "sent" and row.message_id == second.message_id and row.attempts == 1
    assert "TelegramNetworkError" in (row.last_error or "")


async def test_a_burst_through_random_faults_arrives_once_each_and_in_order(line: Line) -> None:
    """60 messages to 6 chats while the server answers 429, 500, 502 and resets at random: every message
    arrives exactly once and each chat reads its messages in the order they were queued."""
    chaos = random.Random(7)
    for _ in range(12):
        line.server.inject("sendMessage", chaos.choice(["429:1", "500", "502", "502:html", "reset"]))
    for n in range(60):
        await line.queue(100 + n % 6, f"chat {100 + n % 6} message {n // 6}")
    await line.deliver_everything(rounds=30)
    for chat in range(100, 106):
        assert line.server.texts(chat) == [f"chat {chat} message {k}" for k in range(10)]
    assert line.server.duplicates() == []


@pytest.mark.skipif(not POSTGRES_URL, reason="needs TEST_POSTGRES_URL (CI sets it)")
async def test_two_bot_processes_on_one_postgresql_send_and_fire_everything_once() -> None:
    """Two applications (each its own engine, sender, timer runner and HTTP session) on one PostgreSQL:
    rows and timers are claimed with FOR UPDATE SKIP LOCKED, so each message goes out once and each
    timer fires once, even with both working at the same moment."""
    assert POSTGRES_URL
    await reset_postgres(POSTGRES_URL)
    clock = ManualClock()
    fired_by: dict[str, list[str]] = {}
    async with FakeBotApi() as server:
        apps = []
        for name in ("first", "second"):
            pacer = Pacer(Limits(per_second=10_000, per_chat_seconds=0))
            settings = settings_for(POSTGRES_URL, telegram_api_base=server.base_url)
            app = await build_app(settings, clock=clock, pacer=pacer)

            async def remind(uow: UnitOfWork, timer: Timer, now: datetime, name: str = name) -> None:
                fired_by.setdefault(timer.ref, []).append(name)
                await queue_text(
                    uow,
                    now,
                    key=f"reminder:{timer.ref}",
                    chat_id=300 + int(timer.ref) % 5,
                    text=f"reminder {timer.ref}",
                )

            app.timers.register("remind", remind)
            apps.append(app)
        try:
            async with apps[0].uow() as uow:
                for n in range(40):
                    await queue_text(uow, clock.now(), key=f"m{n}", chat_id=200 + n % 8, text=f"message {n}")
                    await uow.timers.schedule(kind="remind", ref=str(n), due_at=clock.now(), now=clock.now())
                await uow.commit()
            await asyncio.gather(*(app.timers.run_due() for app in apps))
            await asyncio.gather(*(app.outbox.drain() for app in apps))
            await asyncio.gather(*(app.outbox.drain() for app in apps))
        finally:
            for app in apps:
                await app.close()
        assert sorted(fired_by) == sorted(str(n) for n in range(40))
        assert all(len(names) == 1 for names in fired_by.values())
        expected = [f"message {n}" for n in range(40)] + [f"reminder {n}" for n in range(40)]
        assert sorted(server.texts()) == sorted(expected)
        assert server.duplicates() == []
        for chat in range(200, 208):  # each chat in order even with two senders
            assert server.texts(chat) == [f"message {n}" for n in range(chat - 200, 40, 8)]


async def test_a_webhook_retry_of_the_same_update_is_processed_once(sqlite_url: str) -> None:
    """Telegram retries a webhook delivery it thinks failed: the second copy changes nothing."""
    async with FakeBotApi() as server:
        app = await build_app(
            settings_for(
                sqlite_url,
                telegram_api_base=server.base_url,
                webhook_url="https://bot.example",
                webhook_secret="s3cret",
            )
        )
        runner = web.AppRunner(build_web_app(app))
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/telegram/webhook"  # type: ignore[union-attr]
        try:
            update = UpdateFactory().message(555, "hello", language_code="en")
            assert await post_update(url, update, secret_token="s3cret") == 200
            assert await post_update(url, update, secret_token="s3cret") == 200
            assert len(server.texts(555)) == 1
        finally:
            await runner.cleanup()
            await app.close()
