"""The outbox: nothing is sent for a rolled-back change, each chat in order, faults retried,
unreachable recipients marked with their hook run, never sent twice (DESIGN.md, issue 2 §9)."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta

import pytest
from aiogram import Bot
from sqlalchemy import event

from bot.clock import ManualClock
from bot.outbox import OutboxSender
from bot.pacer import Limits, Pacer
from bot.services.messages import queue_edit, queue_text
from bot.wake import wait_for_wake
from storage.db import create_engine, create_session_factory, is_sqlite
from storage.migrate import upgrade
from storage.models import OutboxMessage
from storage.uow import UnitOfWork, UnitOfWorkFactory
from tests.conftest import TOKEN
from tests.support.recording_session import RecordingSession


class Rig:
    def __init__(self, uow: UnitOfWorkFactory, session: RecordingSession, clock: ManualClock) -> None:
        self.uow, self.session, self.clock = uow, session, clock
        self.bot = Bot(TOKEN, session=session)
        self.sender = OutboxSender(uow, self.bot, clock)

    async def queue(self, chat_id: int, text: str, key: str | None = None, **kwargs: object) -> int | None:
        async with self.uow() as uow:
            row_id = await queue_text(uow, self.clock.now(), key=key or text, chat_id=chat_id, text=text, **kwargs)
            await uow.commit()
        return row_id

    async def row(self, row_id: int) -> OutboxMessage:
        async with self.uow() as uow:
            row = await uow.outbox.get(row_id)
            assert row is not None
            return row


@pytest.fixture
async def rig(database_url: str, clock: ManualClock) -> AsyncIterator[Rig]:
    engine = create_engine(database_url)
    await upgrade(engine)
    yield Rig(UnitOfWorkFactory(create_session_factory(engine)), RecordingSession(), clock)
    await engine.dispose()


async def test_a_rolled_back_change_sends_nothing(rig: Rig) -> None:
    async with rig.uow() as uow:
        await queue_text(uow, rig.clock.now(), key="k", chat_id=1, text="never")
        await uow.rollback()
    assert await rig.sender.drain() == 0
    assert rig.session.texts() == []


async def test_each_chat_gets_its_messages_in_order_and_ids_are_kept(rig: Rig) -> None:
    for n in range(5):
        await rig.queue(10, f"a{n}")
        await rig.queue(20, f"b{n}")
    await rig.sender.drain()
    assert rig.session.texts(10) == [f"a{n}" for n in range(5)]
    assert rig.session.texts(20) == [f"b{n}" for n in range(5)]
    first = await rig.row(1)
    assert first.state == "sent" and first.message_id is not None


async def test_an_idempotency_key_queued_twice_is_sent_once(rig: Rig) -> None:
    assert await rig.queue(10, "alert", key="incident-1-step-1") is not None
    assert await rig.queue(10, "alert", key="incident-1-step-1") is None
    await rig.sender.drain()
    assert rig.session.texts(10) == ["alert"]


async def test_server_errors_are_retried_with_backoff_and_order_is_kept(rig: Rig) -> None:
    rig.session.fail_next("sendMessage", 10, "server_error")
    first = await rig.queue(10, "first")
    await rig.queue(10, "second")
    await rig.sender.drain()
    assert rig.session.texts(10) == []  # the first is waiting for its retry, the second waits behind it
    row = await rig.row(first)  # type: ignore[arg-type]
    assert row.state == "pending" and row.attempts == 1 and row.due_at > rig.clock.now()
    rig.clock.advance(seconds=5)
    await rig.sender.drain()
    assert rig.session.texts(10) == ["first", "second"]


async def test_retry_after_is_honoured(rig: Rig) -> None:
    rig.session.fail_next("sendMessage", 10, "retry_after:30")
    row_id = await rig.queue(10, "slow down")
    await rig.sender.drain()
    rig.clock.advance(seconds=29)
    await rig.sender.drain()
    assert rig.session.texts(10) == []
    rig.clock.advance(seconds=2)
    await rig.sender.drain()
    assert rig.session.texts(10) == ["slow down"]
    assert (await rig.row(row_id)).attempts == 0  # type: ignore[arg-type]


async def test_network_errors_give_up_after_the_attempt_limit(rig: Rig) -> None:
    rig.session.fail_next("sendMessage", 10, "network", times=100)
    row_id = await rig.queue(10, "doomed")
    for _ in range(12):
        await rig.sender.drain()
        rig.clock.advance(seconds=301)
    row = await rig.row(row_id)  # type: ignore[arg-type]
    assert row.state == "failed" and row.attempts == 8


async def test_unreachable_recipient_is_marked_and_its_hook_runs_in_the_same_transaction(rig: Rig) -> None:
    seen: list[tuple[str, int, str]] = []

    async def move_on(uow: UnitOfWork, row: OutboxMessage, now: datetime, refused_by: str) -> None:
        seen.append((row.ref or "", row.chat_id, refused_by))
        await queue_text(uow, now, key=f"next-{row.id}", chat_id=99, text=f"{row.chat_id} is unreachable")

    rig.sender.on_failure("escalate", move_on)
    rig.session.block(10)
    rig.session.fail_next("sendMessage", 11, "chat_not_found")
    blocked = await rig.queue(10, "to a blocked user", on_failure="escalate", ref="incident:1")
    await rig.queue(11, "to nobody", on_failure="escalate", ref="incident:1")
    await rig.sender.drain()
    assert (await rig.row(blocked)).state == "undeliverable"  # type: ignore[arg-type]
    assert sorted(seen) == [("incident:1", 10, "telegram"), ("incident:1", 11, "telegram")]  # who refused it
    assert sorted(rig.session.texts(99)) == ["10 is unreachable", "11 is unreachable"]


async def test_an_edit_goes_to_the_message_the_original_became(rig: Rig) -> None:
    original = await rig.queue(10, "Alert: fire")
    await rig.sender.drain()
    async with rig.uow() as uow:
        await queue_edit(uow, rig.clock.now(), key="ack", original_id=original, chat_id=10, text="Acknowledged")  # type: ignore[arg-type]
        await uow.commit()
    await rig.sender.drain()
    edit = rig.session.last(10, "editMessageText")
    assert edit is not None and edit.message_id == (await rig.row(original)).message_id  # type: ignore[arg-type]


async def test_two_senders_on_one_database_send_each_message_once(rig: Rig, database_url: str) -> None:
    """Claims are taken in the database, so a second process never sends a claimed row. Several processes
    share a database only on PostgreSQL; SQLite is one process at a time (README, "Running several
    instances"), whose statements run on its event loop's thread: a second writer there would wait for the
    first on that same thread."""
    if is_sqlite(database_url):
        pytest.skip("SQLite is one process at a time")
    engine = create_engine(database_url)
    other = OutboxSender(UnitOfWorkFactory(create_session_factory(engine)), rig.bot, rig.clock)
    for n in range(40):
        await rig.queue(1000 + n % 7, f"m{n}")

    await asyncio.gather(rig.sender.drain(), other.drain())
    texts = rig.session.texts()
    assert sorted(texts) == sorted(f"m{n}" for n in range(40))
    await engine.dispose()


def test_pacer_keeps_telegrams_limits() -> None:
    now = [0.0]
    pacer = Pacer(Limits(per_second=30, per_chat_seconds=1, per_group_minute=20), monotonic=lambda: now[0])
    slots = [pacer.reserve(chat) for chat in range(60)]  # 60 private chats at once: 30 per second
    assert slots[29] < 1.0 <= slots[30] + 1e-9
    same_chat = [pacer.reserve(5000) - pacer.reserve(5000)]
    assert same_chat[0] <= -1.0 + 1e-9  # the second message to one chat waits a whole second more
    group = [pacer.reserve(-100) for _ in range(21)]
    assert group[20] - group[0] >= 60.0 - 1e-9  # the 21st group message waits for the minute to pass


def test_a_chat_waiting_for_its_turn_does_not_push_other_chats_back() -> None:
    now = [0.0]
    pacer = Pacer(Limits(per_second=30, per_chat_seconds=1), monotonic=lambda: now[0])
    pacer.reserve(1)
    assert pacer.reserve(1) == pytest.approx(1.0)  # the chat's next turn, a second on
    assert pacer.reserve(2) == pytest.approx(1 / 30)  # another chat goes before it, at the global pace
    assert pacer.reserve(3) == pytest.approx(2 / 30)


def test_pacer_pauses_everyone_after_retry_after() -> None:
    now = [100.0]
    pacer = Pacer(monotonic=lambda: now[0])
    pacer.pause(7)
    assert pacer.reserve(1) == pytest.approx(7.0)


def test_pacer_holds_off_when_sends_bunched_up() -> None:
    """Planned slots are spaced, but sends held up by a busy loop leave together: the pacer still
    never lets more than the limit go out in any one second (Telegram counts actual sends)."""
    now = [0.0]
    pacer = Pacer(Limits(per_second=29), monotonic=lambda: now[0])
    for _ in range(29):
        assert pacer.hold_off() == 0.0
        pacer.sent()
    now[0] = 0.4
    assert pacer.hold_off() == pytest.approx(0.6)
    now[0] = 1.0
    assert pacer.hold_off() == 0.0


async def test_a_message_waiting_for_its_chats_turn_does_not_hold_up_another_chats_alert(rig: Rig) -> None:
    """Telegram allows about one message a second per chat, so the second message to a busy chat waits for its
    turn; meanwhile an alert to another officer leaves at once. The running sender used to wait for its whole
    batch, the pacer's wait included, before claiming anything new (bench/alert_latency.py: ~1 s per alert)."""
    sender = OutboxSender(rig.uow, rig.bot, rig.clock, Pacer(Limits(per_chat_seconds=600)))
    running = asyncio.create_task(sender.run())
    try:
        await rig.queue(1, "first to the busy chat")
        assert await eventually(lambda: "first to the busy chat" in rig.session.texts())
        waiting = await rig.queue(1, "second to the busy chat")  # its turn comes in 600 s
        assert waiting is not None

        async def claimed() -> bool:  # once the first is recorded as sent, then waiting for the chat's turn
            return (await rig.row(waiting)).state == "sending"

        await eventually(claimed)
        await rig.queue(2, "alert to another officer")
        assert await eventually(lambda: "alert to another officer" in rig.session.texts())
        assert "second to the busy chat" not in rig.session.texts()
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)


async def eventually(check: Callable[[], bool | Awaitable[bool]]) -> bool:
    """The running sender is a real task doing real (recorded) sends: a bounded wait for what it does."""
    for _ in range(500):
        done = check()
        if inspect.isawaitable(done):
            done = await done
        if done:
            return True
        await asyncio.sleep(0.01)
    return False


async def test_the_running_sender_claims_a_message_in_the_transaction_that_queued_it(rig: Rig) -> None:
    """An alert is claimed in the report's own transaction (A1): once the report is committed its alert is
    already on its way, not waiting for a claim round of the sender's queued behind other writers
    (bench/alert_latency.py)."""
    running = asyncio.create_task(rig.sender.run())
    await asyncio.sleep(0)  # the sender starts (SQLite's statements do not yield to the loop)
    try:
        row_id = await rig.queue(7, "Alert: smoke in the server room")
        assert row_id is not None
        assert (await rig.row(row_id)).state in ("sending", "sent")
        assert await eventually(lambda: rig.session.texts(7) == ["Alert: smoke in the server room"])
    finally:
        rig.sender.stop()
        await running


async def test_a_message_behind_its_chats_message_in_flight_does_not_set_the_senders_next_wake_up(rig: Rig) -> None:
    """The sender sleeps until a row can leave. One behind its chat's message being sent (paced at one a second
    per chat) leaves when that one is done, which wakes the sender; the sender looked every 50 ms meanwhile."""
    first = await rig.queue(1, "first to the chat")
    await rig.queue(1, "second to the chat")
    now = rig.clock.now()
    async with rig.uow() as uow:
        assert [row.id for row in await uow.outbox.claim(now, now + timedelta(seconds=10), 50)] == [first]
        await uow.commit()
        assert await uow.outbox.next_due(now) == now + timedelta(seconds=10)  # only if its sender died
        await uow.outbox.record_outcomes([{"id": first, "state": "sent"}])
        await uow.commit()
        assert await uow.outbox.next_due(now) == now  # the second's turn


async def test_a_message_queued_behind_its_chats_message_in_flight_starts_no_round_of_the_sender(rig: Rig) -> None:
    """The send in flight wakes the sender when it is done, and its chat's next message leaves then. Waking the
    sender for the new message as well cost a claim and a look for the next due row, for nothing, with every
    report of a burst to one officer (issue 15)."""
    sender = OutboxSender(rig.uow, rig.bot, rig.clock, Pacer(Limits(per_chat_seconds=600)))
    running = asyncio.create_task(sender.run())
    engine = rig.uow.sessions.kw["bind"].sync_engine
    after_the_commit: list[str] = []
    try:
        await rig.queue(1, "first to the busy chat")
        assert await eventually(lambda: "first to the busy chat" in rig.session.texts())
        in_flight = await rig.queue(1, "second to the busy chat")  # its turn comes in 600 s
        assert in_flight is not None

        async def claimed() -> bool:  # and the sender holds it, waiting for the chat's turn
            return (await rig.row(in_flight)).state == "sending"

        assert await eventually(claimed)
        await settle()  # the round that claimed it ends
        third = await rig.queue(1, "third to the busy chat")
        event.listen(engine, "before_cursor_execute", lambda *args: after_the_commit.append(args[2]))
        await settle()  # a woken sender would run a round meanwhile
        assert after_the_commit == []
        assert third is not None and (await rig.row(third)).state == "pending"
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)


async def settle() -> None:
    """Let the running sender finish what it started: its statements yield to the loop one at a time."""
    for _ in range(50):
        await asyncio.sleep(0)


async def test_a_message_behind_its_chats_retry_is_not_taken_ahead_of_it(rig: Rig) -> None:
    """Claiming in the queuing transaction keeps each chat's order: a message queued while an earlier one to
    the same chat waits for its retry stays queued, and follows it."""
    rig.session.fail_next("sendMessage", 10, "server_error")
    await rig.queue(10, "first")
    await rig.sender.drain()  # failed: retried after a backoff
    running = asyncio.create_task(rig.sender.run())
    try:
        second = await rig.queue(10, "second")
        assert second is not None
        assert (await rig.row(second)).state == "pending"
        rig.clock.advance(seconds=301)
        rig.sender.wake()
        assert await eventually(lambda: rig.session.texts(10) == ["first", "second"])
    finally:
        rig.sender.stop()
        await running


async def test_an_idle_sender_cancelled_as_it_is_woken_stops() -> None:
    """The outbox and webhook senders idle in `wait_for_wake`. Python 3.11's asyncio.wait_for lost a
    cancellation that came in the same loop turn as a wake-up (a finished send wakes the sender): the
    sender carried on, and Ctrl+C, or a test stopping it, waited forever."""
    wake = asyncio.Event()
    waiting = asyncio.create_task(wait_for_wake(wake, 30))
    await asyncio.sleep(0)  # one loop turn, no wall time: the task is now waiting
    wake.set()
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
