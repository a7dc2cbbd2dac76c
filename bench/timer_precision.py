"""Benchmark 3, timer precision: `python -m bench.timer_precision [--quick] [--runs N]`.

Part 1: 10,000 pending timers of a benchmark kind whose handler queues a message (the shape of an
escalation step or a reminder); a steady share falls due during the run, below Telegram's 30
messages/s. Lag = due time → that message's sendMessage reaching the fake Bot API server.
Baseline: a bare aiogram bot that sleeps until each due time and sends (no database, no outbox).

Part 2: the real bot process (`python -m bench.timer_precision --child DB`) is killed with SIGKILL
in the middle of a burst; while it is down 1,000 more timers fall due; it is restarted on the
same SQLite file. Measured: how soon after the restart every timer has fired, and whether any
timer fired or any message was sent twice.
"""

from __future__ import annotations

import asyncio
import math
import os
import random
import signal
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.botapi_process import BotApiProcess
from bench.common import (
    Report,
    arguments,
    bench_environment,
    bench_settings,
    median,
    percentile,
    running_app,
    scratch,
)
from bench.echo_bot import echo_bot

KIND = "bench_remind"  # registered here, not in the application
CHATS = 500
PENDING = 10_000
RATE = 10.0  # timers falling due per second: well below what Telegram lets us send (30 messages/s)


def chat_of(n: int) -> int:
    return 10_000 + n % CHATS


async def queue_reminder(uow: Any, timer: Any, now: datetime) -> None:
    """The benchmark timer's effect: one message, like an escalation step or a reminder."""
    from bot.services.messages import queue_text

    n = int(timer.ref)
    # the key includes the firing time, so a timer that fired twice would leave two rows
    key = f"{KIND}:{n}:{now.timestamp()}"
    await queue_text(uow, now, key=key, chat_id=chat_of(n), text=f"reminder {n}", ref=str(n))


async def register_kind(app: Any) -> None:
    app.timers.register(KIND, queue_reminder)


async def insert_timers(database: Path, due: list[tuple[int, datetime]], now: datetime) -> None:
    """Migrate a fresh database and bulk insert pending timers (set-up, not measured)."""
    from sqlalchemy import insert

    from storage.models import Timer

    async with _engine(database) as engine, engine.begin() as connection:
        rows = [
            {
                "kind": KIND,
                "ref": str(n),
                "key": f"{KIND}:{n}",
                "due_at": at,
                "state": "pending",
                "attempts": 0,
                "created_at": now,
            }
            for n, at in due
        ]
        await connection.execute(insert(Timer), rows)


@asynccontextmanager
async def _engine(database: Path) -> AsyncIterator[Any]:
    from storage.db import create_engine
    from storage.migrate import upgrade

    engine = create_engine(f"sqlite+aiosqlite:///{database}")
    await upgrade(engine)
    try:
        yield engine
    finally:
        await engine.dispose()


# Part 1 ------------------------------------------------------------------------------------------------------
async def lag_run(server: BotApiProcess, measured: int) -> list[float]:
    """One run: lags (seconds) of `measured` timers falling due at RATE/s among PENDING pending ones."""
    async with scratch() as folder:
        database = folder / "bot.sqlite3"
        now = datetime.now(UTC)
        first = now + timedelta(seconds=4)
        due = {n: first + timedelta(seconds=n / RATE) for n in range(measured)}
        due.update({n: now + timedelta(days=1, seconds=n) for n in range(measured, PENDING)})
        await insert_timers(database, list(due.items()), now)
        await server.clear()
        async with running_app(bench_settings(database, server.base_url), before_start=register_kind):
            arrivals = await server.collect(measured, within=measured / RATE + 60)
    return [at - due[int(text.split()[-1])].timestamp() for at, _method, _chat, text in arrivals]


async def bare_run(server: BotApiProcess, measured: int) -> list[float]:
    """The baseline: sleep until each due time in one task each, then send (no database, no outbox)."""
    bot = echo_bot(server.base_url)
    await server.clear()
    first = time.time() + 1.0
    lags: list[float] = []

    async def fire(n: int) -> None:
        due = first + n / RATE
        await asyncio.sleep(due - time.time())
        await bot.send_message(chat_of(n), f"reminder {n}")

    await asyncio.gather(*(fire(n) for n in range(measured)))
    for at, _method, _chat, text in await server.collect(measured):
        lags.append(at - (first + int(text.split()[-1]) / RATE))
    await bot.session.close()
    return lags


# Part 2 ------------------------------------------------------------------------------------------------------
async def kill_and_restart(server: BotApiProcess, report: Report, burst: int, overdue: int) -> None:
    async with scratch() as folder:
        database = folder / "bot.sqlite3"
        now = datetime.now(UTC)
        await insert_timers(database, [(n, now) for n in range(burst)], now)
        await server.clear()
        environment = bench_environment(database, server.base_url)

        first = await _spawn_child(database, environment)
        kill_after = random.randint(burst // 4, burst * 3 // 4)
        before_kill = await server.collect(kill_after, within=120)
        first.send_signal(signal.SIGKILL)  # kill -9 in the middle of the burst
        await first.wait()
        # while it is down, 1,000 more timers fall due (written by another process, e.g. the command line)
        now = datetime.now(UTC)
        await insert_timers(database, [(burst + n, now - timedelta(milliseconds=n)) for n in range(overdue)], now)

        started = time.time()
        second = await _spawn_child(database, environment)
        try:
            built = await server.first_call_after(started, method="any", within=120)
            ready = await server.first_call_after(started, within=120)
            total = burst + overdue
            fired, fired_at = await _wait_all_fired(database, total, within=60)
            after = await server.collect(total - len(before_kill), within=total / 25 + 180)
            after += await server.collect(0)  # and whatever else arrived (a resent message)
        finally:
            second.send_signal(signal.SIGTERM)
            await second.wait()
        sent = Counter(text for _at, _method, _chat, text in before_kill + after)
        rows_per_timer = await _outbox_rows_per_timer(database)

    report.add("restart: first Bot API call after process start", built - started, "s")
    report.add(
        f"restart: all {overdue:,} overdue timers fired after process start", fired_at - started, "s", at_most=2.0
    )
    report.add("restart: all fired after the first Bot API call", fired_at - built, "s")
    report.add("restart: ready (polling) after process start", ready - started, "s")
    report.add(
        "timers fired twice (outbox rows of one timer > 1)", sum(c > 1 for c in rows_per_timer.values()), "", at_most=0
    )
    report.add("timers never fired", total - fired, "", at_most=0)
    report.add("messages sent twice", sum(count - 1 for count in sent.values()), "", at_most=0)
    report.add("restart: every queued message delivered after ready", max(a[0] for a in after) - ready, "s")
    report.note(f"killed with SIGKILL after {len(before_kill)} of the {burst} burst messages reached the server")


async def _spawn_child(database: Path, environment: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.timer_precision", "--child", str(database), env=environment
    )


async def _wait_all_fired(database: Path, total: int, within: float) -> tuple[int, float]:
    """(timers fired, when the last one fired), once all have fired or the timeout passed."""
    from sqlalchemy import func, select

    from storage.models import Timer

    deadline = time.monotonic() + within
    async with _engine(database) as engine:
        while True:
            async with engine.connect() as connection:
                query = select(func.count(), func.max(Timer.fired_at)).where(Timer.state == "fired")
                fired, latest = (await connection.execute(query)).one()
            if fired >= total or time.monotonic() > deadline:
                return fired, latest.replace(tzinfo=UTC).timestamp() if latest else math.nan
            await asyncio.sleep(0.05)


async def _outbox_rows_per_timer(database: Path) -> Counter[str]:
    from sqlalchemy import select

    from storage.models import OutboxMessage

    async with _engine(database) as engine, engine.connect() as connection:
        return Counter((await connection.scalars(select(OutboxMessage.ref))).all())


async def child(database: Path) -> None:
    """The real bot process (polling, outbox, timers) with the benchmark's timer kind registered."""
    from bot.app import build_app, install_signal_handlers, run, settle_memory
    from bot.config import load_settings

    app = await build_app(load_settings(database_url=f"sqlite+aiosqlite:///{database}"))
    await register_kind(app)
    settle_memory()
    install_signal_handlers(app)
    await run(app)


# Main --------------------------------------------------------------------------------------------------------
async def main() -> Report:
    args = arguments(__doc__.splitlines()[0], runs=3)
    measured = 100 if args.quick else 300
    report = Report(f"Timer precision: {PENDING:,} pending timers, {measured:,} falling due at {RATE:.0f}/s")
    async with BotApiProcess() as server:
        ours = [await lag_run(server, measured) for _ in range(args.runs)]
        bare = [await bare_run(server, measured)]
        ms = 1000.0
        p99 = median([percentile(run, 99) * ms for run in ours])
        bare_p99 = median([percentile(run, 99) * ms for run in bare])
        report.add("lag p50 (median of runs)", median([percentile(run, 50) * ms for run in ours]), "ms")
        report.add("lag p99 (median of runs)", p99, "ms", at_most=200)
        report.add("lag max (all runs)", max(max(run) for run in ours) * ms, "ms")
        report.add("bare aiogram bot: lag p50 (one run)", median([percentile(run, 50) * ms for run in bare]), "ms")
        report.add("bare aiogram bot: lag p99", bare_p99, "ms")
        report.add("ratio of p99 to the bare bot's", p99 / bare_p99, "×")
        report.note(
            f"{args.runs} run(s); lag = due time → sendMessage at the server; per-run p99: "
            + ", ".join(f"{percentile(run, 99) * ms:.0f} ms" for run in ours)
        )
        await kill_and_restart(server, report, burst=100 if args.quick else 300, overdue=1_000)
    report.print()
    return report


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        asyncio.run(child(Path(sys.argv[2])))
    else:
        asyncio.run(main())
    os._exit(0)  # noqa: SLF001 - do not wait for stray executor threads
