"""Benchmark 5, footprint: `python -m bench.footprint [--quick] [--runs N]`.

Start-up time (process start → its first getUpdates reaches the fake Bot API server), on a fresh
database (migrations applied) and on a restart; resident memory when idle; the same for the
minimal aiogram echo bot; and where start-up time goes (importing aiogram.types, of which
pydantic's model building). The 1,000,000-incident part waits for the incidents flow: see
`at_scale`, the hook that will take its data generator.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bench.botapi_process import BotApiProcess
from bench.common import Report, arguments, bench_environment, median, scratch

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

# What aiogram would cost if it built its ~300 models on first use instead of all at import: the upper
# bound of an upstream fix (this skips the building, so the models are unusable; measurement only).
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


Generator = Callable[[Any, int], Awaitable[None]]
Query = Callable[[Any], Awaitable[Any]]


async def at_scale(report: Report, generate: Generator | None, queries: dict[str, Query]) -> None:
    """The 1,000,000-incident part. `generate(uow_factory, count)` fills the database; each query
    (`/incidents`, `/stats`) is then timed through the real Dispatcher. Waits for the incidents flow
    (issue 3): until a generator is given, it only says so."""
    if generate is None:
        report.note("1,000,000 incidents: resident memory and /incidents, /stats at that size wait for the incidents"
                    " flow (issue 3); bench.footprint.at_scale takes its data generator")
        return
    raise NotImplementedError("wire the incidents flow's generator and queries here")  # pragma: no cover


async def main() -> Report:
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
    report.add("  import aiogram.types", median([i[0] for i in imports]), "s")
    report.add("    of which pydantic model_rebuild", median([i[1] for i in imports]), "s")
    report.add("  import of the whole application", median([i[2] for i in imports]), "s")
    report.add("  experiment: import aiogram.types, models built on first use", median([d[0] for d in deferred]), "s")
    report.add("echo bot: ready after process start", echo_ready, "s")
    report.add("ratio of our start-up to the echo bot's", ready / echo_ready, "×")
    resident, echo_resident = median([r[2] for r in restarts]), median([e[2] for e in echo])
    report.add("resident memory, idle", resident, "MiB", at_most=150)
    report.add("echo bot: resident memory, idle", echo_resident, "MiB")
    report.add("ratio of our memory to the echo bot's", resident / echo_resident, "×")
    report.add("experiment: resident after import aiogram.types, models built on first use",
               median([d[1] for d in deferred]), "MiB")
    report.note(f"medians of {args.runs} run(s); memory: VmRSS in /proc/PID/status after {IDLE_SECONDS:.0f} s idle")
    await at_scale(report, None, {})
    report.print()
    return report


if __name__ == "__main__":
    asyncio.run(main())
