"""Benchmark 5, footprint: `python -m bench.footprint [--quick] [--runs N] [--size N]`.

Start-up time (process start → its first getUpdates reaches the fake Bot API server), on a fresh
database (migrations applied) and on a restart; resident memory when idle; the same for the
minimal aiogram echo bot; and where start-up time goes (importing aiogram.types, of which
pydantic's model building). Then at scale (`at_scale`): a database the bot created is filled with
--size incidents (default 1,000,000; `bench/incident_data.py`), and start-up, idle memory and the
response time of /incidents, /myreports and /stats are measured at that size.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bench.botapi_process import BotApiProcess
from bench.common import Report, arguments, bench_environment, bench_settings, median, percentile, running_app, scratch

IDLE_SECONDS = 3.0
ROOT = str(Path(__file__).resolve().parent.parent)
IMPORT_PROBE = """
import time, pydantic
spent = [0.0]
rebuild = pydantic.BaseModel.model_rebuild.__func__
def timed(cls, **kwargs):
    started = time.perf_counter()
    try:
        return rebuild(cls, **kwargs)
    finally:
        spent[0] += time.perf_counter() - started
pydantic.BaseModel.model_rebuild = classmethod(timed)
started = time.perf_counter()
import aiogram.types
types = time.perf_counter() - started
import bot.app
print(types, spent[0], time.perf_counter() - started)
"""

# aiogram's import without building its ~300 models (the bot builds them on first use instead,
# bot/aiogram_models.py; this probe only skips the building, so the models are unusable: measurement only).
DEFERRED_PROBE = """
import time, pydantic
pydantic.BaseModel.model_rebuild = classmethod(lambda cls, **kwargs: None)
started = time.perf_counter()
import aiogram.types
spent = time.perf_counter() - started
rss = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmRSS"))
print(spent, rss / 1024)
"""


async def start_and_idle(server: BotApiProcess, command: list[str], database: Path) -> tuple[float, float, float]:
    """(seconds to the first Bot API call, seconds to the first getUpdates, idle resident MiB)."""
    started = time.time()
    process = await asyncio.create_subprocess_exec(
        *command, env=bench_environment(database, server.base_url), cwd=database.parent
    )
    try:
        first = await server.first_call_after(started, method="any", within=120)
        ready = await server.first_call_after(started, within=120)
        await asyncio.sleep(IDLE_SECONDS)
        resident = _resident_mib(process.pid)
    finally:
        process.send_signal(signal.SIGTERM)
        await process.wait()
    return first - started, ready - started, resident


def _resident_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def probe(code: str) -> list[float]:
    """Run Python code in a fresh process; the numbers it prints."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", code, stdout=asyncio.subprocess.PIPE, env={**os.environ, "PYTHONPATH": ROOT}
    )
    out, _ = await process.communicate()
    return [float(part) for part in out.split()]


# At scale --------------------------------------------------------------------------------------------------
async def at_scale(report: Report, server: BotApiProcess, size: int, runs: int, repetitions: int) -> None:
    """`size` incidents in a database the bot created (a real start: its migrations), then: start-up and idle
    memory of `python -m bot` on it, and each query timed through the real Dispatcher in this process, from
    the update handed to `feed_update` to the reply's arrival at the fake Bot API server."""
    from bench.incident_data import fill
    from bot.policy.loader import load_policy

    label = f"{size:,} incidents"
    async with scratch() as folder:
        database = folder / "bot.sqlite3"
        await start_and_idle(server, [sys.executable, "-m", "bot"], database)  # the bot creates the schema
        filled = await asyncio.to_thread(fill, database, size, load_policy())
        report.add(f"{label}: written by bench/incident_data.py", filled.seconds, "s")
        report.note(
            f"{label}: {filled.open:,} open, {filled.audit:,} timeline (audit) entries, {filled.alerts:,} alerts,"
            f" {filled.media:,} photos, {filled.members} members; database {database.stat().st_size / 2**20:,.0f} MiB"
        )
        starts = [await start_and_idle(server, [sys.executable, "-m", "bot"], database) for _ in range(runs)]
        report.add(f"{label}: ready after process start", median([s[1] for s in starts]), "s", at_most=2.0)
        report.add(f"{label}: resident memory, idle", median([s[2] for s in starts]), "MiB", at_most=150)
        await _queries(report, server, database, label, repetitions)


async def _queries(report: Report, server: BotApiProcess, database: Path, label: str, repetitions: int) -> None:
    from bench.incident_data import HEAD, LEADER, OFFICER, REPORTER
    from bot.app import settle_memory
    from handlers.incident_keyboards import ListCb
    from tests.support.updates import UpdateFactory

    updates = UpdateFactory(first_update_id=int(time.time() * 1000))
    async with running_app(bench_settings(database, server.base_url)) as app:
        zone = app.policy.organisation.zone
        today = datetime.now(zone).date()
        month = f"/stats {today - timedelta(days=29)} {today}"
        year = f"/stats {today.replace(month=1, day=1)} {today}"
        last_page = (await app.dispatcher.workflow_data["queries"].my_reports(_actor(REPORTER), 0)).pages - 1

        async def timed(user: int, text: str | None = None, data: str | None = None, method: str = "sendMessage"):
            update = updates.command(user, text, language_code="en") if text else updates.callback(user, data or "")
            await server.clear()
            started = time.time()
            await app.dispatcher.feed_update(app.bot, update)
            arrived = await server.collect(1, method=method, within=60)
            return arrived[0][0] - started

        first_stats = await timed(LEADER, month, method="sendPhoto")  # matplotlib is imported on the first chart
        settle_memory()
        cases = [
            ("/incidents, duty officer (every department)", OFFICER, "/incidents", None, "sendMessage", 50),
            ("/incidents, department head (own department)", HEAD, "/incidents", None, "sendMessage", 50),
            ("/myreports, a busy reporter: first page", REPORTER, "/myreports", None, "sendMessage", 50),
            ("/myreports: the last page (▶ pressed to the end)", REPORTER, None,
             ListCb(kind="mine", page=last_page).pack(), "sendMessage", 50),
            ("/stats last 30 days, leader: the figures", LEADER, month, None, "sendMessage", 50),
            ("/stats last 30 days, leader: the chart", LEADER, month, None, "sendPhoto", None),
            ("/stats last 30 days, department head: the figures", HEAD, month, None, "sendMessage", 50),
            ("/stats this year, leader: the figures", LEADER, year, None, "sendMessage", None),
        ]  # fmt: skip
        for name, user, text, data, method, target in cases:
            times = [await timed(user, text, data, method) for _ in range(repetitions)]
            limits = {"at_most": target} if target else {}
            report.add(f"{label}: {name}, p50", median(times) * 1000, "ms", **limits)
            report.add(f"{label}: {name}, p99", percentile(times, 99) * 1000, "ms", **limits)
        report.add(f"{label}: the first /stats after start (imports matplotlib)", first_stats * 1000, "ms")
        report.add(f"{label}: resident memory after these (this process)", _resident_mib(os.getpid()), "MiB")
    report.note(
        f"{label}: each query {repetitions}× in this process through the real Dispatcher, from the update handed to"
        " feed_update to the reply's arrival at the fake Bot API server; /stats sends its figures, then the chart"
    )


def _actor(telegram_id: int) -> Any:
    from bot.services.actor import Actor

    return Actor(telegram_id=telegram_id, chat_id=telegram_id)


def _size() -> int:
    """--size N (default 1,000,000; --quick: 20,000), taken out of the arguments `bench.common` reads."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--size", type=int, default=None)
    known, rest = parser.parse_known_args()
    sys.argv[1:] = rest
    if known.size is not None:
        return int(known.size)
    return 20_000 if "--quick" in rest else 1_000_000


async def main() -> Report:
    size = _size()
    args = arguments(__doc__.splitlines()[0], runs=3)
    report = Report("Footprint: start-up and resident memory")
    ours: list[tuple[float, float, float]] = []
    restarts: list[tuple[float, float, float]] = []
    echo: list[tuple[float, float, float]] = []
    async with BotApiProcess() as server:
        for _ in range(args.runs):
            async with scratch() as folder:
                database = folder / "bot.sqlite3"
                ours.append(await start_and_idle(server, [sys.executable, "-m", "bot"], database))
                restarts.append(await start_and_idle(server, [sys.executable, "-m", "bot"], database))
                echo.append(await start_and_idle(server, [sys.executable, "-m", "bench.echo_bot"], database))
        imports = [await probe(IMPORT_PROBE) for _ in range(args.runs)]
        deferred = [await probe(DEFERRED_PROBE) for _ in range(args.runs)]
    ready, echo_ready = median([r[1] for r in restarts]), median([e[1] for e in echo])
    report.add("ready after process start, fresh database", median([o[1] for o in ours]), "s", at_most=2.0)
    report.add("ready after process start, restart", ready, "s", at_most=2.0)
    report.add("  of which until the first Bot API call (imports, build)", median([r[0] for r in restarts]), "s")
    report.add("  aiogram's own import of aiogram.types (every model built)", median([i[0] for i in imports]), "s")
    report.add("    of which pydantic model_rebuild", median([i[1] for i in imports]), "s")
    report.add("  that, then import of the whole application", median([i[2] for i in imports]), "s")
    report.add("  import aiogram.types without building its models", median([d[0] for d in deferred]), "s")
    report.add("echo bot: ready after process start", echo_ready, "s")
    report.add("ratio of our start-up to the echo bot's", ready / echo_ready, "×")
    resident, echo_resident = median([r[2] for r in restarts]), median([e[2] for e in echo])
    report.add("resident memory, idle", resident, "MiB", at_most=150)
    report.add("echo bot: resident memory, idle", echo_resident, "MiB")
    report.add("ratio of our memory to the echo bot's", resident / echo_resident, "×")
    report.add(
        "resident after import aiogram.types without building its models",
        median([d[1] for d in deferred]),
        "MiB",
    )
    report.note(f"medians of {args.runs} run(s); memory: VmRSS in /proc/PID/status after {IDLE_SECONDS:.0f} s idle")
    async with BotApiProcess() as server:
        await at_scale(report, server, size, args.runs, 5 if args.quick else 20)
    report.print()
    return report


if __name__ == "__main__":
    asyncio.run(main())
