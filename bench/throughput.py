"""Benchmark 2, update throughput: `python -m bench.throughput [--quick] [--runs N]`.

200 simulated members step through a wizard at once, each sending its next update when the bot has
answered the previous one, through the real Dispatcher (`feed_update`), middlewares, wizard state
in SQLite and the Bot API over HTTP. The wizard that exists now is the administrators' /invite
(command, role, next, department, name, create: 6 updates); `STEPS` is where the incident wizard
plugs in when it exists. Baseline: the minimal aiogram echo bot, same members, same number of updates.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from aiogram.types import Update

from bench.botapi_process import BotApiProcess
from bench.common import Report, arguments, bench_settings, median, percentile, running_app, scratch
from bench.echo_bot import echo_bot, echo_dispatcher
from tests.support.updates import UpdateFactory

MEMBERS = 200
FIRST_MEMBER = 50_000
Step = Callable[[UpdateFactory, int, int], Update]


def invite_wizard() -> list[Step]:
    """The /invite wizard, one update per step (member id, cycle number)."""
    from handlers.callbacks import InviteCb

    def press(**data: str) -> Step:
        return lambda updates, member, _cycle: updates.callback(member, InviteCb(**data).pack(), language_code="en")

    return [
        lambda updates, member, _cycle: updates.command(member, "/invite", language_code="en"),
        press(action="role", value="duty_officer"),
        press(action="next"),
        press(action="dept", value="office"),
        lambda updates, member, cycle: updates.message(member, f"Member {member} guest {cycle}", language_code="en"),
        press(action="create"),
    ]


def echo_steps(count: int) -> list[Step]:
    return [lambda updates, member, cycle: updates.message(member, f"hello {cycle}") for _ in range(count)]


async def drive(
    feed: Callable[[Update], Any], steps: list[Step], cycles: int, members: int = MEMBERS
) -> tuple[float, list[float]]:
    """Every member goes through the steps `cycles` times, all members at once: (seconds, latencies)."""
    updates = UpdateFactory(first_update_id=int(time.time() * 1000) + members)
    latencies: list[float] = []

    async def member(member_id: int) -> None:
        for cycle in range(cycles):
            for step in steps:
                update = step(updates, member_id, cycle)
                started = time.perf_counter()
                await feed(update)
                latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(member(FIRST_MEMBER + n) for n in range(members)))
    return time.perf_counter() - started, latencies


async def our_run(server: BotApiProcess, cycles: int) -> tuple[float, list[float]]:
    members = [FIRST_MEMBER + n for n in range(MEMBERS)]
    async with scratch() as folder:
        settings = bench_settings(folder / "bot.sqlite3", server.base_url, admin_ids=members)
        async with running_app(settings) as app:
            feed = lambda update: app.dispatcher.feed_update(app.bot, update)  # noqa: E731
            await drive(feed, invite_wizard(), 1, members=5)  # warm-up: models aiogram builds on first use
            return await drive(feed, invite_wizard(), cycles)


async def echo_run(server: BotApiProcess, cycles: int) -> tuple[float, list[float]]:
    bot, dispatcher = echo_bot(server.base_url), echo_dispatcher()
    try:
        feed = lambda update: dispatcher.feed_update(bot, update)  # noqa: E731
        await drive(feed, echo_steps(6), 1, members=5)
        return await drive(feed, echo_steps(6), cycles)
    finally:
        await bot.session.close()


async def main() -> Report:
    args = arguments(__doc__.splitlines()[0], runs=3)
    cycles = 1  # each member through the whole wizard once per run
    updates = MEMBERS * cycles * len(invite_wizard())
    report = Report(f"Update throughput: {MEMBERS} members through the /invite wizard, {updates:,} updates a run")
    async with BotApiProcess() as server:
        ours = [await our_run(server, cycles) for _ in range(args.runs)]
        echo = [await echo_run(server, cycles) for _ in range(args.runs)]
    rate = median([updates / seconds for seconds, _ in ours])
    echo_rate = median([updates / seconds for seconds, _ in echo])
    ms = 1000.0
    report.add("wizard steps per second (median of runs)", rate, "updates/s", at_least=500)
    report.add("step latency p50 (median of runs)", median([percentile(lat, 50) * ms for _, lat in ours]), "ms")
    report.add("step latency p99 (median of runs)", median([percentile(lat, 99) * ms for _, lat in ours]), "ms")
    report.add("cost per update", ms / rate, "ms")
    report.add("echo bot: updates per second", echo_rate, "updates/s")
    report.add("echo bot: cost per update", ms / echo_rate, "ms")
    report.add("ratio of our cost per update to the echo bot's", echo_rate / rate, "×", at_most=3.0)
    report.note(f"{args.runs} run(s); per-run rates: " + ", ".join(f"{updates / s:.0f}" for s, _ in ours))
    report.print()
    return report


if __name__ == "__main__":
    asyncio.run(main())
