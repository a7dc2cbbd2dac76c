"""Benchmark 1, alert latency: `python -m bench.alert_latency [--quick] [--runs N]`.

50 reporters fill in the incident report wizard through the real Dispatcher (`feed_update`) of the real
application (SQLite file, outbox sender with its pacer, timer runner) against the fake Bot API in its own
process. Measured per report: from the moment the submit press is handed to the bot (`time.time()` just before
`feed_update`) to the moment the duty officer's alert `sendMessage` reached the server (`time.time()` in the
server's process when it answered; one machine, one wall clock).

Telegram lets a bot send about one message a second to one chat, and the outbox's pacer keeps to that
(bot/pacer.py): 50 alerts to one officer at once take ~55 s however fast the bot is. So the measured set-up
keeps every officer's chat under that limit: both duty rooms of the default policy (dispatch, information
centre) have an officer on duty, reporters alternate between a category of each room, each steps through the
wizard at a person's pace, and their submit presses come PER_CHAT_GAP / 2 seconds apart, so the reporters
overlap in the wizard. The one-officer burst (every press at once, one room) is printed as a secondary figure,
to show what the per-chat limit does, with one other room's report pressed during it. Baseline: a minimal aiogram
bot that on a message sends one message to another chat, on the same schedule.

`--during-reads` adds one more run of the staggered set-up on a database holding a history of READ_HISTORY
incidents (bench/incident_data.py), while a leader exports this year's incidents over and over and, at the
same time, asks this year's /stats figures over and over (issue 15: long reads must not stall alerts).
"""

from __future__ import annotations

import asyncio
import math
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiogram.types import Update

from bench.botapi_process import BotApiProcess
from bench.common import Report, arguments, bench_settings, median, organise, percentile, running_app, scratch
from bench.echo_bot import echo_bot, relay_dispatcher
from tests.support.updates import UpdateFactory

REPORTERS = 50
FIRST_REPORTER = 60_000
OFFICERS = {"dispatch": 70_001, "info_centre": 70_002}
CATEGORIES = {"dispatch": "quality", "info_centre": "information_security"}
READ_HISTORY = 100_000  # incidents in the database of the `--during-reads` run (about 33,000 this year)
PER_CHAT_GAP = 1.5  # seconds between two alerts to one officer: above the pacer's 1.1 s per chat
STEP_PACE = 1.0  # seconds between a reporter's wizard steps: a brisk person on a phone
Feed = Callable[[Update], Awaitable[Any]]


def wizard(updates: UpdateFactory, member: int, category: str, description: str) -> list[Update]:
    """The report wizard up to its summary (tests/support/incidents.py `report`), one update per step."""
    from handlers.incident_keyboards import ReportCb

    def press(action: str, value: str = "") -> Update:
        return updates.callback(member, ReportCb(action=action, value=value).pack(), language_code="en")

    return [
        updates.command(member, "/report", language_code="en"),
        press("cat", category),
        press("sev", "high"),
        updates.message(member, description, language_code="en"),
        updates.message(member, "Boiler house", language_code="en"),
        press("ago", "0"),
        press("done"),
    ]


def submit_press(updates: UpdateFactory, member: int) -> Update:
    from handlers.incident_keyboards import ReportCb

    return updates.callback(member, ReportCb(action="submit").pack(), language_code="en")


def marker(run: int, number: int) -> str:
    """Unique in the alert's text, and no marker contains another."""
    return f"[{run}:{number}]"


@dataclass
class Reporter:
    steps: list[Update]  # before the measured update, one every STEP_PACE
    final: Update  # the measured update (the submit press)
    mark: str  # in the text of the message that answers it
    chat: int  # the chat that message goes to


async def staggered(server: BotApiProcess, feed: Feed, reporters: list[Reporter], spacing: float) -> list[float]:
    """Reporter n's final update is handed to the bot at start + n × spacing, after its steps at STEP_PACE, so the
    reporters overlap (those a few steps apart are in the wizard together) while their final updates stay
    `spacing` apart. Returns the latencies from each final update to its message at the server."""
    sent: dict[str, float] = {}
    start = time.time() + 0.2 + max(len(r.steps) for r in reporters) * STEP_PACE

    async def report(index: int, reporter: Reporter) -> None:
        due = start + index * spacing
        for number, update in enumerate(reporter.steps):
            await asyncio.sleep(max(0.0, due - (len(reporter.steps) - number) * STEP_PACE - time.time()))
            await feed(update)
        await asyncio.sleep(max(0.0, due - time.time()))
        sent[reporter.mark] = time.time()
        await feed(reporter.final)

    await asyncio.gather(*(report(n, reporter) for n, reporter in enumerate(reporters)))
    arrived = await server.arrivals({r.mark: r.chat for r in reporters}, within=30)
    if missing := len(reporters) - len(arrived):
        print(f"  ! {missing} of {len(reporters)} messages did not arrive within 30 s (counted as 30 s)")
    return [arrived.get(r.mark, sent[r.mark] + 30.0) - sent[r.mark] for r in reporters]


# Our bot -----------------------------------------------------------------------------------------------
async def our_run(server: BotApiProcess, run: int, count: int) -> list[float]:
    rooms = list(OFFICERS)
    members = [FIRST_REPORTER + n for n in range(count)]
    async with scratch() as folder:
        async with running_app(bench_settings(folder / "bot.sqlite3", server.base_url)) as app:
            await organise(app, OFFICERS, members)
            feed: Feed = lambda update: app.dispatcher.feed_update(app.bot, update)  # noqa: E731
            updates = UpdateFactory(first_update_id=int(time.time() * 1000))
            await warm_up(feed, updates, members[:3])
            await asyncio.sleep(PER_CHAT_GAP)  # the officers' per-chat slots (roster messages) have passed
            reporters = []
            for n, member in enumerate(members):
                room = rooms[n % len(rooms)]
                steps = wizard(updates, member, CATEGORIES[room], f"Steam leak {marker(run, n)}")
                reporters.append(Reporter(steps, submit_press(updates, member), marker(run, n), OFFICERS[room]))
            return await staggered(server, feed, reporters, PER_CHAT_GAP / len(rooms))


async def our_run_during_reads(
    server: BotApiProcess, run: int, count: int, history: int
) -> tuple[list[float], Counter[str]]:
    """As `our_run`, on a database with `history` incidents, while a leader exports this year's incidents over
    and over and, at the same time, asks this year's figures over and over, until the last alert is in: the
    latencies, and how many export batches, whole exports and figures were read meanwhile."""
    from bench.incident_data import LEADER, fill
    from bot.policy.loader import load_policy
    from bot.services.actor import Actor
    from storage.db import create_engine
    from storage.migrate import upgrade

    rooms, members = list(OFFICERS), [FIRST_REPORTER + n for n in range(count)]
    async with scratch() as folder:
        database = folder / "bot.sqlite3"
        engine = create_engine(f"sqlite+aiosqlite:///{database}")
        await upgrade(engine)
        await engine.dispose()
        await asyncio.to_thread(fill, database, history, load_policy())
        async with running_app(bench_settings(database, server.base_url)) as app:
            await organise(app, OFFICERS, members)
            feed: Feed = lambda update: app.dispatcher.feed_update(app.bot, update)  # noqa: E731
            updates = UpdateFactory(first_update_id=int(time.time() * 1000))
            await warm_up(feed, updates, members[:3])
            await asyncio.sleep(PER_CHAT_GAP)
            reporters = []
            for n, member in enumerate(members):
                room = rooms[n % len(rooms)]
                steps = wizard(updates, member, CATEGORIES[room], f"Steam leak {marker(run, n)}")
                reporters.append(Reporter(steps, submit_press(updates, member), marker(run, n), OFFICERS[room]))
            queries, leader = app.dispatcher.workflow_data["queries"], Actor(telegram_id=LEADER, chat_id=LEADER)
            now = app.clock.now()
            year = now.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
            reads = Counter[str]()

            async def export() -> None:
                while True:
                    async for _batch in queries.export(leader, year, now):
                        reads["export batches"] += 1
                    reads["exports"] += 1

            async def figures() -> None:
                while True:
                    await queries.figures(leader, year, now)
                    reads["figures"] += 1

            reading = [asyncio.create_task(export()), asyncio.create_task(figures())]
            try:
                latencies = await staggered(server, feed, reporters, PER_CHAT_GAP / len(rooms))
            finally:
                for task in reading:
                    task.cancel()
                await asyncio.gather(*reading, return_exceptions=True)
            return latencies, reads


async def warm_up(feed: Feed, updates: UpdateFactory, members: list[int]) -> None:
    """The models aiogram builds on first use, and SQLite's first pages: through the wizard without submitting."""
    await asyncio.gather(*(_walk(feed, wizard(updates, m, "quality", "warm-up")) for m in members))


async def _walk(feed: Feed, steps: list[Update]) -> None:
    for update in steps:
        await feed(update)


async def our_burst(server: BotApiProcess, count: int) -> tuple[list[float], float, float]:
    """Every reporter presses submit at once and every report goes to the one officer of dispatch: the
    latencies of those alerts (pacer-bound after the first), how long until every reporter was answered, and
    the latency of one report to the information centre's officer pressed 2 s into the burst."""
    members = [FIRST_REPORTER + n for n in range(count + 1)]
    officer = OFFICERS["dispatch"]
    async with scratch() as folder:
        async with running_app(bench_settings(folder / "bot.sqlite3", server.base_url)) as app:
            await organise(app, OFFICERS, members)
            feed: Feed = lambda update: app.dispatcher.feed_update(app.bot, update)  # noqa: E731
            updates = UpdateFactory(first_update_id=int(time.time() * 1000))
            *reporters, other = members
            await asyncio.gather(
                *(_walk(feed, wizard(updates, m, "quality", f"Burst {marker(0, n)}")) for n, m in enumerate(reporters)),
                _walk(feed, wizard(updates, other, CATEGORIES["info_centre"], f"Other room {marker(1, 0)}")),
            )
            await asyncio.sleep(PER_CHAT_GAP)
            presses = [submit_press(updates, member) for member in reporters]
            start = time.time()

            async def other_room() -> float:
                await asyncio.sleep(2.0)
                pressed = time.time()
                await feed(submit_press(updates, other))
                return pressed

            answered, other_pressed = await asyncio.gather(
                _timed(lambda: asyncio.gather(*(feed(update) for update in presses))), other_room()
            )
            wanted = {marker(0, n): officer for n in range(count)} | {marker(1, 0): OFFICERS["info_centre"]}
            arrived = await server.arrivals(wanted, within=count * 1.5 + 30)
            other_arrived = arrived.pop(marker(1, 0), other_pressed + 30.0)
            return sorted(moment - start for moment in arrived.values()), answered, other_arrived - other_pressed


async def _timed(work: Callable[[], Awaitable[Any]]) -> float:
    """From before the work is started: its tasks may run much of it before this coroutine's first turn."""
    started = time.time()
    await work()
    return time.time() - started


# The baseline --------------------------------------------------------------------------------------------
async def echo_run(server: BotApiProcess, run: int, count: int) -> list[float]:
    """The same schedule through the relay bot: 7 messages at a person's pace, then the measured one."""
    target = OFFICERS["dispatch"]
    bot, dispatcher = echo_bot(server.base_url), relay_dispatcher(target)
    try:
        feed: Feed = lambda update: dispatcher.feed_update(bot, update)  # noqa: E731
        updates = UpdateFactory(first_update_id=int(time.time() * 1000))
        await _walk(feed, [updates.message(FIRST_REPORTER, f"warm-up {n}") for n in range(7)])
        reporters = [
            Reporter(
                [updates.message(FIRST_REPORTER + n, f"step {step}") for step in range(7)],
                updates.message(FIRST_REPORTER + n, f"Steam leak {marker(run, n)}"),
                marker(run, n),
                target,
            )
            for n in range(count)
        ]
        return await staggered(server, feed, reporters, PER_CHAT_GAP / len(OFFICERS))
    finally:
        await bot.session.close()


async def main() -> Report:
    during_reads = "--during-reads" in sys.argv
    if during_reads:
        sys.argv.remove("--during-reads")
    args = arguments(__doc__.splitlines()[0], runs=3)
    count = 10 if args.quick else REPORTERS
    ms = 1000.0
    report = Report(f"Alert latency: {count} reporters, submit press → duty officer's alert at the server")
    async with BotApiProcess() as server:
        ours = [await our_run(server, run, count) for run in range(1, args.runs + 1)]
        echo = [await echo_run(server, run, count) for run in range(1, args.runs + 1)]
        burst, answered, other_room = await our_burst(server, count)
        history = 20_000 if args.quick else READ_HISTORY
        reads = await our_run_during_reads(server, args.runs + 1, count, history) if during_reads else None
    p50 = median([percentile(latencies, 50) * ms for latencies in ours])
    p99 = median([percentile(latencies, 99) * ms for latencies in ours])
    echo_p50 = median([percentile(latencies, 50) * ms for latencies in echo])
    echo_p99 = median([percentile(latencies, 99) * ms for latencies in echo])
    report.add("alert latency p50 (median of runs)", p50, "ms")
    report.add("alert latency p99 (median of runs)", p99, "ms", at_most=100)
    report.add("echo relay: latency p50", echo_p50, "ms")
    report.add("echo relay: latency p99", echo_p99, "ms")
    report.add("ratio p50 ours / echo", p50 / echo_p50, "×")
    report.add("ratio p99 ours / echo", p99 / echo_p99, "×")
    report.add("one-officer burst: first alert", burst[0] * ms if burst else math.nan, "ms")
    report.add("one-officer burst: median alert", percentile(burst, 50), "s")
    report.add("one-officer burst: last alert", burst[-1] if burst else math.nan, "s")
    report.add("one-officer burst: every reporter answered", answered * ms, "ms")
    report.add("other room's alert, pressed 2 s into the burst", other_room * ms, "ms")
    if reads is not None:
        from bot.services.incidents.queries import EXPORT_BATCH

        latencies, done = reads
        report.add("during long reads: alert latency p50", percentile(latencies, 50) * ms, "ms")
        report.add("during long reads: alert latency p99", percentile(latencies, 99) * ms, "ms", at_most=100)
        report.note(
            f"during long reads: {history:,} incidents in the database; meanwhile a leader exported this year's "
            f"incidents and, at the same time, asked this year's /stats figures: {done['export batches']} export "
            f"batches of {EXPORT_BATCH} incidents with their timelines ({done['exports']} whole exports), "
            f"{done['figures']} figures"
        )
    rooms = len(OFFICERS)
    report.note(
        f"set-up: {rooms} duty rooms (dispatch, information centre), one primary officer on duty in each; "
        f"{count} reporters, each through the wizard's 7 steps one every {STEP_PACE:.0f} s, then submit; the submit "
        f"presses come {PER_CHAT_GAP / rooms:.2f} s apart alternating rooms, so each officer gets an alert every "
        f"{PER_CHAT_GAP} s (Telegram allows ~1/s per chat) and ~{7 * rooms / PER_CHAT_GAP:.0f} reporters are in "
        "the wizard at any moment"
    )
    report.note(
        f"burst: {count} presses at once, all to dispatch's one officer: after the first, the pacer's 1.1 s per "
        f"chat decides (expected last ≈ {max(len(burst) - 1, 0) * 1.1:.0f} s); {len(burst)} of {count} arrived"
    )
    report.note(
        f"{args.runs} run(s); per-run p99 (ms): " + ", ".join(f"{percentile(lat, 99) * ms:.0f}" for lat in ours)
    )
    report.print()
    return report


if __name__ == "__main__":
    asyncio.run(main())
