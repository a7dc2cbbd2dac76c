"""Durable timers: fire once when due, in the transaction of their effect; survive restarts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from bot.clock import ManualClock, SystemClock
from bot.services.messages import queue_text
from bot.timers import TimerRunner
from storage.db import create_engine, create_session_factory
from storage.migrate import upgrade
from storage.models import OutboxMessage, Timer
from storage.uow import UnitOfWork, UnitOfWorkFactory


@pytest.fixture
async def uow(database_url: str) -> AsyncIterator[UnitOfWorkFactory]:
    engine = create_engine(database_url)
    await upgrade(engine)
    yield UnitOfWorkFactory(create_session_factory(engine))
    await engine.dispose()


async def schedule(uow: UnitOfWorkFactory, clock: ManualClock, ref: str, minutes: float, kind: str = "remind") -> None:
    async with uow() as work:
        due = clock.now() + timedelta(minutes=minutes)
        await work.timers.schedule(kind=kind, ref=ref, due_at=due, now=clock.now())
        await work.commit()


async def queue_reminder(work: UnitOfWork, timer: Timer, now: datetime) -> None:
    await queue_text(work, now, key=f"reminder-{timer.ref}", chat_id=1, text=f"reminder {timer.ref}")


async def outbox_texts(uow: UnitOfWorkFactory) -> list[str]:
    async with uow() as work:
        rows = await work.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        return [row.payload["text"] for row in rows]


async def test_a_timer_fires_once_when_due_and_not_before(uow: UnitOfWorkFactory, clock: ManualClock) -> None:
    runner = TimerRunner(uow, clock)
    runner.register("remind", queue_reminder)
    await schedule(uow, clock, "a", minutes=3)
    assert await runner.run_due() == 0
    clock.advance(minutes=2, seconds=59)
    assert await runner.run_due() == 0
    clock.advance(seconds=1)
    assert await runner.run_due() == 1
    clock.advance(hours=1)
    assert await runner.run_due() == 0
    assert await outbox_texts(uow) == ["reminder a"]


async def test_a_failing_handler_leaves_no_partial_effect_and_is_retried(
    uow: UnitOfWorkFactory, clock: ManualClock
) -> None:
    attempts = []

    async def flaky(work: UnitOfWork, timer: Timer, now: datetime) -> None:
        await queue_reminder(work, timer, now)
        attempts.append(now)
        if len(attempts) == 1:
            raise RuntimeError("database hiccup")

    runner = TimerRunner(uow, clock)
    runner.register("remind", flaky)
    await schedule(uow, clock, "b", minutes=1)
    clock.advance(minutes=1)
    await runner.run_due()
    assert await outbox_texts(uow) == []  # the failed attempt's message was rolled back with it
    clock.advance(seconds=2)
    await runner.run_due()
    assert await outbox_texts(uow) == ["reminder b"]


async def test_rescheduling_moves_a_pending_timer_and_cancel_stops_it(
    uow: UnitOfWorkFactory, clock: ManualClock
) -> None:
    runner = TimerRunner(uow, clock)
    runner.register("remind", queue_reminder)
    await schedule(uow, clock, "c", minutes=1)
    await schedule(uow, clock, "c", minutes=10)  # same key: moved, not doubled
    await schedule(uow, clock, "d", minutes=1)
    async with uow() as work:
        await work.timers.cancel("remind:d")
        await work.commit()
    clock.advance(minutes=5)
    assert await runner.run_due() == 0
    clock.advance(minutes=5)
    assert await runner.run_due() == 1
    assert await outbox_texts(uow) == ["reminder c"]


async def test_timers_due_while_the_process_was_down_fire_at_start(database_url: str, clock: ManualClock) -> None:
    engine = create_engine(database_url)
    await upgrade(engine)
    first = UnitOfWorkFactory(create_session_factory(engine))
    for n in range(5):
        await schedule(first, clock, f"down-{n}", minutes=n + 1)
    await engine.dispose()  # the process stops

    clock.advance(hours=1)  # ...and is down for an hour
    engine = create_engine(database_url)
    restarted = UnitOfWorkFactory(create_session_factory(engine))
    runner = TimerRunner(restarted, clock)
    runner.register("remind", queue_reminder)
    await runner.start()
    await runner.stop()
    assert sorted(await outbox_texts(restarted)) == [f"reminder down-{n}" for n in range(5)]
    await engine.dispose()


async def test_the_scheduler_wakes_at_the_due_time_without_polling(sqlite_url: str) -> None:
    """APScheduler wakes the runner for a timer created after start (real clock, no sleeping test)."""
    engine = create_engine(sqlite_url)
    await upgrade(engine)
    uow = UnitOfWorkFactory(create_session_factory(engine))
    clock = SystemClock()
    fired = asyncio.Event()

    async def on_fire(work: UnitOfWork, timer: Timer, now: datetime) -> None:
        fired.set()

    runner = TimerRunner(uow, clock, idle_check=3600)  # a coarse safety poll would take an hour
    runner.register("remind", on_fire)
    await runner.start()
    async with uow() as work:
        await work.timers.schedule(
            kind="remind", ref="x", due_at=clock.now() + timedelta(milliseconds=200), now=clock.now()
        )
        await work.commit()
    await asyncio.wait_for(fired.wait(), timeout=5)
    await runner.stop()
    await engine.dispose()


async def test_one_failing_timer_in_a_batch_costs_the_others_nothing(
    uow: UnitOfWorkFactory, clock: ManualClock
) -> None:
    """Due timers fire in batches (one transaction for many); a failing handler rolls its batch back,
    then the others fire one by one and only the failing one is retried, with no partial effect."""

    async def fails_for_c(work: UnitOfWork, timer: Timer, now: datetime) -> None:
        await queue_reminder(work, timer, now)
        if timer.ref == "c":
            raise RuntimeError("cannot remind c")

    runner = TimerRunner(uow, clock)
    runner.register("remind", fails_for_c)
    for ref in "abcde":
        await schedule(uow, clock, ref, minutes=1)
    clock.advance(minutes=1)
    assert await runner.run_due() == 5
    assert sorted(await outbox_texts(uow)) == ["reminder a", "reminder b", "reminder d", "reminder e"]
    async with uow() as work:
        (failed,) = await work.timers.pending("remind")
        assert failed.ref == "c" and failed.attempts == 1


async def test_timers_fire_in_due_order_even_when_one_schedules_another_due_sooner(
    uow: UnitOfWorkFactory, clock: ManualClock
) -> None:
    """After a long pause (downtime, a clock jump), effects still happen in the order they were due."""
    fired: list[str] = []

    async def chain(work: UnitOfWork, timer: Timer, now: datetime) -> None:
        fired.append(timer.ref)
        if timer.ref == "a":  # schedules b, due before c
            await work.timers.schedule(kind="chain", ref="b", due_at=timer.due_at + timedelta(minutes=1), now=now)

    runner = TimerRunner(uow, clock)
    runner.register("chain", chain)
    await schedule(uow, clock, "a", minutes=1, kind="chain")
    await schedule(uow, clock, "c", minutes=3, kind="chain")
    clock.advance(minutes=10)
    await runner.run_due()
    assert fired == ["a", "b", "c"]


async def test_a_timer_cancelled_by_an_earlier_one_in_the_same_round_does_not_fire(
    uow: UnitOfWorkFactory, clock: ManualClock
) -> None:
    fired: list[str] = []

    async def cancel_the_next(work: UnitOfWork, timer: Timer, now: datetime) -> None:
        fired.append(timer.ref)
        await work.timers.cancel("chain:late")

    runner = TimerRunner(uow, clock)
    runner.register("chain", cancel_the_next)
    await schedule(uow, clock, "early", minutes=1, kind="chain")
    await schedule(uow, clock, "late", minutes=2, kind="chain")
    clock.advance(minutes=10)
    await runner.run_due()
    assert fired == ["early"]
