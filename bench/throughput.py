"""Benchmark 2, update throughput: `python -m bench.throughput [--quick] [--runs N]`.

200 simulated members step through the incident report wizard at once, each sending its next update when the
bot has answered the previous one, through the real Dispatcher (`feed_update`), middlewares, wizard state in
SQLite, the report's transaction (incident, audit, timers, alert in the outbox) and the Bot API over HTTP:
/report, category, severity, what happened, where, when, done, submit (8 updates). The members joined, and a duty
officer stands the shift now, through the services (bench.common.organise); the alerts go out meanwhile through
the outbox, at Telegram's pace for one chat. Secondary line: the administrators' /invite wizard (6 updates).
Baseline: the minimal aiogram echo bot, same members, same number of updates, run right after each of ours: the
ratio is taken per pair of runs (a shared host drifts between runs), and its median printed.

BENCH_POSTGRES_URL runs ours on that PostgreSQL database (emptied first) with BENCH_POOL_SIZE connections; with
BENCH_WEBHOOK_PROCESSES=N as well, one more run goes over HTTP to N `python -m bot` processes in webhook mode on
that database, each update posted to the next process in turn (as a load balancer would) and answered when its
POST returns (the webhook answers once the update is handled).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from aiogram.types import Update

from bench.botapi_process import BotApiProcess
from bench.common import (
    Report,
    arguments,
    bench_environment,
    bench_settings,
    median,
    organise,
    percentile,
    running_app,
    scratch,
)
from bench.echo_bot import echo_bot, echo_dispatcher
from tests.support.updates import UpdateFactory

MEMBERS = 200
POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL")
POOL_SIZE = int(os.environ.get("BENCH_POOL_SIZE", "5"))
WEBHOOK_PROCESSES = int(os.environ.get("BENCH_WEBHOOK_PROCESSES", "0"))
WEBHOOK_SECRET = "bench-webhook-secret"
FIRST_MEMBER = 50_000
OFFICER = 70_001
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


def incident_wizard() -> list[Step]:
    """The incident report wizard, one update per step (member id, cycle number), submit included."""
    from handlers.incident_keyboards import ReportCb

    def press(action: str, value: str = "") -> Step:
        return lambda updates, member, _cycle: updates.callback(
            member, ReportCb(action=action, value=value).pack(), language_code="en"
        )

    return [
        lambda updates, member, _cycle: updates.command(member, "/report", language_code="en"),
        press("cat", "quality"),
        press("sev", "high"),
        lambda updates, member, cycle: updates.message(member, f"Leak {cycle} seen by {member}", language_code="en"),
        lambda updates, member, _cycle: updates.message(member, "Boiler house", language_code="en"),
        press("ago", "0"),
        press("done"),
        press("submit"),
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


async def our_run(server: BotApiProcess, cycles: int, wizard: str, **settings: Any) -> tuple[float, list[float]]:
    members = [FIRST_MEMBER + n for n in range(MEMBERS)]
    steps = {"incident": incident_wizard, "invite": invite_wizard}[wizard]()
    async with scratch() as folder:
        admins = members if wizard == "invite" else []
        if POSTGRES_URL:  # BENCH_POSTGRES_URL: that database, emptied first; BENCH_POOL_SIZE connections
            from tests.conftest import reset_postgres

            await reset_postgres(POSTGRES_URL)
            settings = {"database_url": POSTGRES_URL, "database_pool_size": POOL_SIZE, **settings}
        async with running_app(
            bench_settings(folder / "bot.sqlite3", server.base_url, admin_ids=admins, **settings)
        ) as app:
            if wizard == "incident":
                await organise(app, {"dispatch": OFFICER}, members)
            feed = lambda update: app.dispatcher.feed_update(app.bot, update)  # noqa: E731
            await drive(feed, steps, 1, members=5)  # warm-up: models aiogram builds on first use
            return await drive(feed, steps, cycles)


async def webhook_run(server: BotApiProcess, processes: int) -> tuple[float, list[float]]:
    """The incident wizard over HTTP to `processes` bot processes in webhook mode on BENCH_POSTGRES_URL."""
    import aiohttp

    from tests.conftest import reset_postgres
    from tests.support.fleet import free_port
    from tests.support.updates import update_to_dict

    assert POSTGRES_URL, "BENCH_WEBHOOK_PROCESSES needs BENCH_POSTGRES_URL"
    members, steps = [FIRST_MEMBER + n for n in range(MEMBERS)], incident_wizard()
    await reset_postgres(POSTGRES_URL)
    async with scratch() as folder:
        settings = bench_settings(folder / "unused.sqlite3", server.base_url, database_url=POSTGRES_URL)
        async with running_app(settings) as app:
            await organise(app, {"dispatch": OFFICER}, members)
        ports = [free_port() for _ in range(processes)]
        environment = {
            **bench_environment(folder / "unused.sqlite3", server.base_url),
            "DATABASE_URL": POSTGRES_URL,
            "DATABASE_POOL_SIZE": str(POOL_SIZE),
            "WEBHOOK_URL": "https://bot.example.test",
            "WEBHOOK_SECRET": WEBHOOK_SECRET,
            "WEBHOOK_HOST": "127.0.0.1",
        }
        bots = [
            await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", env={**environment, "WEBHOOK_PORT": str(port)},
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
            for port in ports
        ]  # fmt: skip
        try:
            async with aiohttp.ClientSession() as http:
                for port in ports:
                    await _answering(http, f"http://127.0.0.1:{port}/health")
                urls = itertools.cycle(f"http://127.0.0.1:{port}/telegram/webhook" for port in ports)
                headers = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}

                async def feed(update: Update) -> None:
                    body = json.dumps(update_to_dict(update), ensure_ascii=False).encode()
                    async with http.post(next(urls), data=body, headers=headers) as response:
                        if response.status != 200:
                            raise RuntimeError(f"the webhook answered {response.status}")

                await drive(feed, steps, 1, members=10)  # warm-up: each process builds its models on first use
                return await drive(feed, steps, 1)
        finally:
            for bot in bots:
                bot.terminate()
            await asyncio.gather(*(bot.wait() for bot in bots))


async def _answering(http: Any, url: str, within: float = 60.0) -> None:
    deadline = time.monotonic() + within
    while True:
        try:
            async with http.get(url) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url} did not answer within {within:.0f} s")
        await asyncio.sleep(0.2)


async def echo_run(server: BotApiProcess, cycles: int, steps: int) -> tuple[float, list[float]]:
    bot, dispatcher = echo_bot(server.base_url), echo_dispatcher()
    try:
        feed = lambda update: dispatcher.feed_update(bot, update)  # noqa: E731
        await drive(feed, echo_steps(steps), 1, members=5)
        return await drive(feed, echo_steps(steps), cycles)
    finally:
        await bot.session.close()


async def main() -> Report:
    args = arguments(__doc__.splitlines()[0], runs=3)
    cycles = 1  # each member through the whole wizard once per run
    steps = len(incident_wizard())
    updates = MEMBERS * cycles * steps
    database = f"PostgreSQL, {POOL_SIZE} connection(s)" if POSTGRES_URL else "SQLite"
    report = Report(
        f"Update throughput: {MEMBERS} members through the incident report wizard, {updates:,} updates a run"
        f" ({database})"
    )
    async with BotApiProcess() as server:
        ours, echo = [], []
        for _ in range(args.runs):  # in turn, so the ratio of each pair is measured on the host as it is then
            ours.append(await our_run(server, cycles, "incident"))
            echo.append(await echo_run(server, cycles, steps))
        invite = await our_run(server, cycles, "invite")  # the secondary line: one run
        webhook = await webhook_run(server, WEBHOOK_PROCESSES) if WEBHOOK_PROCESSES else None
    rate = median([updates / seconds for seconds, _ in ours])
    echo_rate = median([updates / seconds for seconds, _ in echo])
    invite_updates = MEMBERS * cycles * len(invite_wizard())
    ms = 1000.0
    report.add("wizard steps per second (median of runs)", rate, "updates/s", at_least=500)
    report.add("step latency p50 (median of runs)", median([percentile(lat, 50) * ms for _, lat in ours]), "ms")
    report.add("step latency p99 (median of runs)", median([percentile(lat, 99) * ms for _, lat in ours]), "ms")
    report.add("cost per update", ms / rate, "ms")
    report.add("echo bot: updates per second", echo_rate, "updates/s")
    report.add("echo bot: cost per update", ms / echo_rate, "ms")
    ratios = [our_seconds / echo_seconds for (our_seconds, _), (echo_seconds, _) in zip(ours, echo, strict=True)]
    report.add("ratio of our cost per update to the echo bot's (median of runs)", median(ratios), "×", at_most=6.0)
    report.add("/invite wizard (6 steps, one run): updates per second", invite_updates / invite[0], "updates/s")
    if webhook is not None:
        webhook_rate = updates / webhook[0]
        name = f"{WEBHOOK_PROCESSES} processes in webhook mode (one run)"
        report.add(f"{name}: updates per second", webhook_rate, "updates/s")
        report.add(f"{name}: ratio of cost per update to the echo bot's", echo_rate / webhook_rate, "×")
    report.note(f"{args.runs} run(s); per-run rates: " + ", ".join(f"{updates / s:.0f}" for s, _ in ours))
    report.note("per-run ratios (each run ours, then the echo bot's): " + ", ".join(f"{r:.1f}×" for r in ratios))
    report.note(
        f"incident wizard: {steps} updates per report, submit included (the report's transaction queues the alert "
        f"to the one officer on duty, sent meanwhile at ~1/s); {MEMBERS} reports a run"
    )
    report.print()
    return report


if __name__ == "__main__":
    asyncio.run(main())
