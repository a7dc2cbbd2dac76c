"""Benchmark 1, alert latency: `python -m bench.alert_latency [--quick] [--runs N]`.

50 reporters fill in the incident report wizard at once through the real Dispatcher (`feed_update`) of the
real application (SQLite file, outbox sender with its pacer, timer runner) against the fake Bot API in its own
process. Measured per report: from the moment the submit press is handed to the bot (`time.time()` just before
`feed_update`) to the moment the duty officer's alert `sendMessage` reached the server (`time.time()` in the
server's process; one machine, one wall clock).

Telegram lets a bot send about one message a second to one chat, and the outbox's pacer keeps to that
(bot/pacer.py): 50 alerts to one officer at once take ~55 s however fast the bot is. So the measured set-up
keeps every officer's chat under that limit: both duty rooms of the default policy (dispatch, information
centre) have an officer on duty, reporters alternate between a category of each room, and the submit presses
come one every PER_CHAT_GAP / 2 seconds, while 50 other members step through the same wizard at a person's
pace (background load). The one-officer burst (50 presses at once, one room) is printed too, as a secondary
figure, to show what the per-chat limit does. Baseline: a minimal aiogram bot that on a message sends one
message to another chat, under the same schedule and background.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram.types import Update

from bench.botapi_process import BotApiProcess
from bench.common import Report, arguments, bench_settings, median, organise, percentile, running_app, scratch
from bench.echo_bot import echo_bot, relay_dispatcher
from tests.support.updates import UpdateFactory

REPORTERS = 50
BYSTANDERS = 50  # members stepping through the wizard meanwhile: the background load
FIRST_REPORTER = 60_000
FIRST_BYSTANDER = 61_000
OFFICERS = {"dispatch": 70_001, "info_centre": 70_002}
CATEGORIES = {"dispatch": "quality", "info_centre": "information_security"}
PER_CHAT_GAP = 1.5  # seconds between two alerts to one officer: above the pacer's 1.1 s per chat
STEP_PACE = 1.0  # seconds between a bystander's steps: a person on a phone
Feed = Callable[[Update], Awaitable[Any]]


def wizard(updates: UpdateFactory, member: int, category: str, description: str) -> list[Update]:
    """The report wizard up to its summary (tests/support/incidents.py `report`), one update per step."""

    def press(action: str, value: str = "") -> Update:
        return updates.callback(member, ReportCb(action=action, value=value).pack(), language_code="en")

    from handlers.incident_keyboards import ReportCb

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


async def background(feed: Feed, updates: UpdateFactory, members: list[int], steps: Callable[..., list[Update]]):
    """Each member steps through `steps(updates, member, cycle)` at STEP_PACE until cancelled."""

    async def member(member_id: int) -> None:
        await asyncio.sleep(random.random() * STEP_PACE)  # members do not step in unison
        cycle = 0
        while True:
            for update in steps(updates, member_id, cycle):
                started = time.monotonic()
                await feed(update)
                await asyncio.sleep(max(0.0, STEP_PACE - (time.monotonic() - started)))
            cycle += 1

    return [asyncio.create_task(member(m)) for m in members]


async def stop(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def spaced(
    server: BotApiProcess, feed: Feed, presses: list[tuple[str, int, Update]], spacing: float
) -> tuple[list[float], list[float]]:
    """Hand the presses (marker, recipient chat, update) to the bot `spacing` seconds apart, each without waiting
    for the one before; returns the latencies to the recipient's message and the times feed_update took."""
    sent: dict[str, float] = {}
    handled: list[float] = []
    start = time.time() + 0.2

    async def press(index: int, mark: str, update: Update) -> None:
        await asyncio.sleep(max(0.0, start + index * spacing - time.time()))
        sent[mark] = time.time()
        await feed(update)
        handled.append(time.time() - sent[mark])

    await asyncio.gather(*(press(i, mark, update) for i, (mark, _, update) in enumerate(presses)))
    arrived = await server.arrivals({mark: chat for mark, chat, _ in presses}, within=30)
    missing = len(presses) - len(arrived)
    if missing:
        print(f"  ! {missing} of {len(presses)} messages did not arrive within 30 s (counted as 30 s)")
    return [arrived.get(mark, sent[mark] + 30.0) - sent[mark] for mark, _, _ in presses], handled


# Our bot -----------------------------------------------------------------------------------------------
async def our_spread(server: BotApiProcess, run: int, reporters: int, bystanders: int) -> tuple[list[float], ...]:
    rooms = list(OFFICERS)
    reporter_ids = [FIRST_REPORTER + n for n in range(reporters)]
    bystander_ids = [FIRST_BYSTANDER + n for n in range(bystanders)]
    async with scratch() as folder:
        async with running_app(bench_settings(folder / "bot.sqlite3", server.base_url)) as app:
            await organise(app, OFFICERS, reporter_ids + bystander_ids)
            feed: Feed = lambda update: app.dispatcher.feed_update(app.bot, update)  # noqa: E731
            updates = UpdateFactory(first_update_id=int(time.time() * 1000))

            def room_of(n: int) -> str:
                return rooms[n % len(rooms)]

            async def walk(n: int, member: int) -> None:
                for update in wizard(updates, member, CATEGORIES[room_of(n)], f"Steam leak {marker(run, n)}"):
                    await feed(update)

            await asyncio.gather(*(walk(n, m) for n, m in enumerate(reporter_ids)))  # all at once, to the summary

            def chatter(updates: UpdateFactory, member: int, cycle: int) -> list[Update]:
                return wizard(updates, member, "quality", f"Bystander {member} draft {cycle}")

            load = await background(feed, updates, bystander_ids, chatter)
            await asyncio.sleep(PER_CHAT_GAP)  # the roster messages' per-chat slots have passed
            presses = [
                (marker(run, n), OFFICERS[room_of(n)], submit_press(updates, member))
                for n, member in enumerate(reporter_ids)
            ]
            try:
                return await spaced(server, feed, presses, PER_CHAT_GAP / len(rooms))
            finally:
                await stop(load)


async def our_burst(server: BotApiProcess, reporters: int) -> tuple[list[float], float]:
    """Every reporter presses submit at once and every report goes to the one officer of dispatch: the
    latencies of the alerts (pacer-bound after the first) and how long the last reporter waited for the answer."""
    reporter_ids = [FIRST_REPORTER + n for n in range(reporters)]
    officer = OFFICERS["dispatch"]
    async with scratch() as folder:
        async with running_app(bench_settings(folder / "bot.sqlite3", server.base_url)) as app:
            await organise(app, {"dispatch": officer}, reporter_ids)
            feed: Feed = lambda update: app.dispatcher.feed_update(app.bot, update)  # noqa: E731
            updates = UpdateFactory(first_update_id=int(time.time() * 1000))

            async def walk(n: int, member: int) -> None:
                for update in wizard(updates, member, "quality", f"Burst {marker(0, n)}"):
                    await feed(update)

            await asyncio.gather(*(walk(n, m) for n, m in enumerate(reporter_ids)))
            await asyncio.sleep(PER_CHAT_GAP)
            presses = [submit_press(updates, member) for member in reporter_ids]
            start = time.time()
            await asyncio.gather(*(feed(update) for update in presses))
            answered = time.time() - start
            wanted = {marker(0, n): officer for n in range(reporters)}
            arrived = await server.arrivals(wanted, within=reporters * 1.5 + 30)
            return sorted(moment - start for moment in arrived.values()), answered


# The baseline --------------------------------------------------------------------------------------------
async def echo_spread(server: BotApiProcess, run: int, reporters: int, bystanders: int) -> tuple[list[float], ...]:
    target = OFFICERS["dispatch"]
    bot, dispatcher = echo_bot(server.base_url), relay_dispatcher(target)
    try:
        feed: Feed = lambda update: dispatcher.feed_update(bot, update)  # noqa: E731
        updates = UpdateFactory(first_update_id=int(time.time() * 1000))

        def chatter(updates: UpdateFactory, member: int, cycle: int) -> list[Update]:
            return [updates.message(member, f"chatter {member} {cycle}") for _ in range(7)]

        await asyncio.gather(*(feed(u) for m in range(3) for u in chatter(updates, FIRST_BYSTANDER + m, 0)))  # warm
        load = await background(feed, updates, [FIRST_BYSTANDER + n for n in range(bystanders)], chatter)
        await asyncio.sleep(PER_CHAT_GAP)
        presses = [
            (marker(run, n), target, updates.message(FIRST_REPORTER + n, f"Steam leak {marker(run, n)}"))
            for n in range(reporters)
        ]
        try:
            return await spaced(server, feed, presses, PER_CHAT_GAP / len(OFFICERS))
        finally:
            await stop(load)
    finally:
        await bot.session.close()


async def main() -> Report:
    args = arguments(__doc__.splitlines()[0], runs=3)
    reporters = 10 if args.quick else REPORTERS
    bystanders = 10 if args.quick else BYSTANDERS
    ms = 1000.0
    report = Report(f"Alert latency: {reporters} reporters, submit press → duty officer's alert at the server")
    async with BotApiProcess() as server:
        ours = [await our_spread(server, run, reporters, bystanders) for run in range(1, args.runs + 1)]
        echo = [await echo_spread(server, run, reporters, bystanders) for run in range(1, args.runs + 1)]
        burst, answered = await our_burst(server, reporters)
    p50 = median([percentile(latencies, 50) * ms for latencies, _ in ours])
    p99 = median([percentile(latencies, 99) * ms for latencies, _ in ours])
    echo_p50 = median([percentile(latencies, 50) * ms for latencies, _ in echo])
    echo_p99 = median([percentile(latencies, 99) * ms for latencies, _ in echo])
    report.add("alert latency p50 (median of runs)", p50, "ms")
    report.add("alert latency p99 (median of runs)", p99, "ms", at_most=100)
    report.add("alert latency max (worst run)", max(max(latencies) for latencies, _ in ours) * ms, "ms")
    report.add("submit handled (feed_update returned) p50", median([percentile(h, 50) * ms for _, h in ours]), "ms")
    report.add("echo relay: latency p50", echo_p50, "ms")
    report.add("echo relay: latency p99", echo_p99, "ms")
    report.add("ratio p50 ours / echo", p50 / echo_p50, "×")
    report.add("ratio p99 ours / echo", p99 / echo_p99, "×")
    report.add("one-officer burst: first alert", burst[0] * ms if burst else float("nan"), "ms")
    report.add("one-officer burst: median alert", percentile(burst, 50), "s")
    report.add("one-officer burst: last alert", burst[-1] if burst else float("nan"), "s")
    report.add("one-officer burst: every reporter answered", answered * ms, "ms")
    rooms = len(OFFICERS)
    report.note(
        f"set-up: {rooms} duty rooms (dispatch, information centre), one primary officer on duty in each; "
        f"{reporters} reporters at the summary, submit presses {PER_CHAT_GAP / rooms:.2f} s apart alternating rooms "
        f"(one alert per officer every {PER_CHAT_GAP} s, under Telegram's ~1/s per chat); meanwhile {bystanders} "
        f"members step through the wizard, one step every {STEP_PACE:.0f} s each (~{bystanders / STEP_PACE:.0f} updates/s)"
    )
    report.note(
        f"burst: {reporters} presses at once, all to dispatch's one officer: after the first, the pacer's 1.1 s per "
        f"chat decides (expected last ≈ {(len(burst) - 1) * 1.1:.0f} s); {len(burst)} of {reporters} alerts arrived"
    )
    report.note(
        f"{args.runs} run(s); per-run p99 (ms): " + ", ".join(f"{percentile(lat, 99) * ms:.0f}" for lat, _ in ours)
    )
    report.print()
    return report


if __name__ == "__main__":
    asyncio.run(main())
