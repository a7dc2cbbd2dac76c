"""What every benchmark shares: the real application against the fake Bot API process,
statistics over several runs, and a table of figures with their targets (MISSED, never an exception)."""

from __future__ import annotations

import argparse
import math
import os
import platform
import statistics
import tempfile
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.echo_bot import TOKEN


# Statistics -------------------------------------------------------------------------------------------
def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of the values; NaN when there are none."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else math.nan


# The report --------------------------------------------------------------------------------------------
@dataclass
class Figure:
    name: str
    value: float
    unit: str
    at_most: float | None = None
    at_least: float | None = None

    @property
    def verdict(self) -> str:
        if self.at_most is None and self.at_least is None:
            return ""
        if math.isnan(self.value):
            return "MISSED (not measured)"
        if self.at_most is not None and self.value > self.at_most:
            times = f" ({self.value / self.at_most:.1f}×)" if self.at_most else ""
            return f"MISSED by {_number(self.value - self.at_most)} {self.unit}{times}".replace("  ", " ")
        if self.at_least is not None and self.value < self.at_least:
            return f"MISSED by {_number(self.at_least - self.value)} {self.unit} ({self.value / self.at_least:.0%})"
        return "OK"

    @property
    def target(self) -> str:
        if self.at_most is not None:
            return f"≤ {_number(self.at_most)}"
        if self.at_least is not None:
            return f"≥ {_number(self.at_least)}"
        return ""


@dataclass
class Report:
    title: str
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, name: str, value: float, unit: str, **target: float) -> Figure:
        figure = Figure(name, value, unit, **target)
        self.figures.append(figure)
        return figure

    def note(self, text: str) -> None:
        self.notes.append(text)

    @property
    def missed(self) -> list[Figure]:
        return [figure for figure in self.figures if figure.verdict.startswith("MISSED")]

    def print(self) -> None:
        rows = [(f.name, f"{_number(f.value)} {f.unit}", f.target, f.verdict) for f in self.figures]
        widths = [max(len(row[i]) for row in [("figure", "value", "target", "verdict"), *rows]) for i in range(4)]
        line = "  ".join(f"{{:<{w}}}" for w in widths)
        print(f"\n== {self.title} ==  ({machine()})")
        print(line.format("figure", "value", "target", "verdict"))
        print(line.format(*("-" * w for w in widths)))
        for row in rows:
            print(line.format(*row).rstrip())
        for text in self.notes:
            print(f"  · {text}")


def _number(value: float) -> str:
    if math.isnan(value):
        return "n/a"
    if abs(value) >= 100 or value == int(value):
        return f"{value:,.0f}"
    return f"{value:.3g}" if abs(value) < 1 else f"{value:.1f}"


def machine() -> str:
    """nproc, CPU model, memory and Python version: the README records figures with the machine."""
    cpu = "unknown CPU"
    memory = "? GiB"
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
        kib = next(int(line.split()[1]) for line in open("/proc/meminfo") if line.startswith("MemTotal"))
        memory = f"{kib / 1024 / 1024:.0f} GiB"
    except (OSError, StopIteration):
        pass
    return f"{os.cpu_count()} cores, {cpu}, {memory}, Python {platform.python_version()}"


# Command line -------------------------------------------------------------------------------------------
def arguments(description: str, runs: int) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="a smoke run: small sizes, one run")
    parser.add_argument("--runs", type=int, default=runs, help=f"how many runs (default {runs})")
    args = parser.parse_args()
    if args.quick:
        args.runs = 1
    return args


# The real application ------------------------------------------------------------------------------------
def bench_settings(database: Path, base_url: str, **overrides: Any) -> Any:
    from bot.config import Settings

    values: dict[str, Any] = {
        "bot_token": TOKEN,
        "database_url": f"sqlite+aiosqlite:///{database}",
        "telegram_api_base": base_url,
        "log_level": "WARNING",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def bench_environment(database: Path, base_url: str) -> dict[str, str]:
    """The environment of a bot process started as `python -m bot` against the fake server."""
    environment = {k: v for k, v in os.environ.items() if k not in {"BOT_POLICY", "ADMIN_IDS", "WEBHOOK_URL"}}
    environment.update(
        PYTHONPATH=str(Path(__file__).resolve().parent.parent),
        BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE=base_url,
        DATABASE_URL=f"sqlite+aiosqlite:///{database}",
        LOG_LEVEL="WARNING",
    )
    return environment


@asynccontextmanager
async def scratch() -> AsyncIterator[Path]:
    """A temporary folder for a run's SQLite file."""
    with tempfile.TemporaryDirectory(prefix="bench-") as folder:
        yield Path(folder)


@asynccontextmanager
async def running_app(settings: Any, *, before_start: Any = None) -> AsyncIterator[Any]:
    """The real application with its outbox sender and timer runner started (`app.start_background`).

    `before_start(app)` runs after building and before the background starts (register a timer kind)."""
    from bot.app import build_app, settle_memory

    app = await build_app(settings)
    if before_start is not None:
        await before_start(app)
    settle_memory()  # as `python -m bot` does
    await app.start_background()
    try:
        yield app
    finally:
        await app.close()


# The organisation ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Organisation:
    """Who the benchmark's updates come from and who is on duty (member ids are Telegram ids)."""

    officers: dict[str, int]  # duty room -> the primary on duty there now
    members: list[int]


async def organise(app: Any, officers: dict[str, int], members: Sequence[int]) -> Organisation:
    """Set an organisation up through the services, as an administrator would: each officer joins with an
    invitation and stands the shift running now in their duty room as primary (B1); the members join as
    staff of the office. Waits until the welcome and roster messages have gone out."""
    import asyncio

    from bot.services.actor import Actor
    from bot.services.roster_calendar import current_shift

    admin = Actor.command_line()
    roster = app.dispatcher.workflow_data["roster"]
    now = app.clock.now()
    for room, telegram_id in officers.items():
        department = app.policy.duty_room(room).department
        officer = await _join(app, telegram_id, ["staff", "duty_officer"], department, f"Officer {telegram_id}")
        shift = current_shift(app.policy.duty_room(room), now, app.policy.organisation.zone)
        assert shift is not None, f"no shift of {room} runs now"
        await roster.assign(admin, room=room, shift=shift.shift, day=shift.day, member_id=officer.id)
    for telegram_id in members:
        await _join(app, telegram_id, ["staff"], "office", f"Member {telegram_id}")
    while True:  # the roster's "you are on duty" messages are sent before the measured part starts
        async with app.uow() as uow:
            states = await uow.outbox.count_by_state()
        if not states.get("pending") and not states.get("sending"):
            break
        await asyncio.sleep(0.05)
    return Organisation(dict(officers), list(members))


async def _join(app: Any, telegram_id: int, roles: list[str], department: str, name: str) -> Any:
    from bot.services.actor import Actor

    invitation = await app.members.invite(Actor.command_line(), roles=roles, department=department, name=name)
    # as from Telegram's /start: the account's language_code (the updates' too) is recorded at join
    return await app.members.join(
        invitation.code, telegram_id=telegram_id, name=name, username=None, language="en", telegram_language="en"
    )
