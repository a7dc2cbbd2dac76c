"""Several real `python -m bot` processes in webhook mode behind one webhook URL, as Telegram sees a scaled-out
bot (issue 13): each update is POSTed to one of them; an update whose POST did not answer 200 is POSTed again
to a live one (Telegram redelivers it), and a process can be SIGKILLed once the updates it is handling now are
answered. Each process talks to the fake Bot API through its own base URL, so the server says who sent what."""

from __future__ import annotations

import asyncio
import signal
import socket
import sys
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
from aiogram.types import Update

from tests.support.botapi_server import FakeBotApi, post_update

SECRET = "scale-out-webhook-secret"
WEBHOOK_PATH = "/telegram/webhook"  # the default WEBHOOK_PATH


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def policy_file(folder: Path, zone: str = "Asia/Shanghai") -> Path:
    """The shipped policy, with the information centre's 24-hour shift starting 12 hours from now (no shift
    changes hands while a test runs on the real clock) and no third-case rule (every report alike)."""
    text = (Path(__file__).resolve().parents[2] / "bot" / "policy" / "default.toml").read_text(encoding="utf-8")
    start = (datetime.now(ZoneInfo(zone)) + timedelta(hours=12)).strftime("%H:%M")
    shift = 'start = "08:30"\nend = "08:30"'
    assert text.count(shift) == 1 and text.count("\ncount = 3\n") == 1, "the shipped policy changed"
    text = text.replace(shift, f'start = "{start}"\nend = "{start}"').replace("\ncount = 3\n", "\ncount = 100\n")
    path = folder / "policy.toml"
    path.write_text(text, encoding="utf-8")
    return path


@dataclass
class WebhookBot:
    name: str
    process: asyncio.subprocess.Process
    url: str
    log: Path


@dataclass
class Fleet:
    """The processes behind the webhook URL; `post` is Telegram delivering an update."""

    server: FakeBotApi
    folder: Path
    environment: dict[str, str]
    bots: dict[str, WebhookBot] = field(default_factory=dict)
    alive: list[str] = field(default_factory=list)
    redelivered: list[tuple[int, str, str]] = field(default_factory=list)  # (update_id, failed at, then to)
    _going_down: dict[str, asyncio.Event] = field(default_factory=dict)
    _in_flight: Counter[str] = field(default_factory=Counter)
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def start(self, name: str) -> WebhookBot:
        """Start `python -m bot` in webhook mode on a free port; returns once it answers a POST."""
        port = free_port()
        environment = {
            **self.environment,
            "TELEGRAM_API_BASE": f"{self.server.base_url}/{name}",
            "WEBHOOK_URL": "https://example.test",
            "WEBHOOK_SECRET": SECRET,
            "WEBHOOK_HOST": "127.0.0.1",
            "WEBHOOK_PORT": str(port),
        }
        log = self.folder / f"bot-{name}.log"
        with log.open("w") as output:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", env=environment, stdout=output, stderr=output
            )
        bot = WebhookBot(name, process, f"http://127.0.0.1:{port}{WEBHOOK_PATH}", log)
        self.bots[name] = bot
        try:  # setWebhook comes right after its site started listening
            await self.server.wait_for(
                lambda s: any(r.method == "setWebhook" and r.instance == name for r in s.requests), timeout=120
            )
        except TimeoutError as waited:
            raise AssertionError(f"{name} did not start: {waited}\n{self.logs()}") from None
        self.alive.append(name)
        return bot

    async def ready(self, name: str, update: Update) -> None:
        """POST a harmless update with the secret: the process answers 200."""
        assert await post_update(self.bots[name].url, update, SECRET) == 200, self.logs()

    async def post(self, update: Update, to: str) -> str:
        """Deliver `update` to process `to`; if that POST fails (the process died), to a live one. Returns who
        answered 200."""
        if to in self._going_down:
            await self._going_down[to].wait()  # being killed: this one fails after, as it would at Telegram
        async with self._changed:
            self._in_flight[to] += 1
        try:
            status = await self._try(self.bots[to].url, update)
        finally:
            async with self._changed:
                self._in_flight[to] -= 1
                self._changed.notify_all()
        if status == 200:
            return to
        survivor = next(name for name in self.alive if name != to)
        self.redelivered.append((update.update_id, to, survivor))
        status = await self._try(self.bots[survivor].url, update)
        assert status == 200, f"update {update.update_id}: {survivor} answered {status}\n{self.logs()}"
        return survivor

    async def kill(self, name: str, *, answered_first: bool = True) -> None:
        """SIGKILL `name`: by default as soon as the updates it is handling now are answered (new ones wait for
        its death, then fail and go to a live process); with `answered_first=False` at once."""
        self._going_down[name] = asyncio.Event()
        if answered_first:
            async with self._changed:
                await asyncio.wait_for(self._changed.wait_for(lambda: self._in_flight[name] == 0), timeout=60)
        process = self.bots[name].process
        process.send_signal(signal.SIGKILL)
        await asyncio.wait_for(process.wait(), timeout=15)
        self.alive.remove(name)
        self._going_down[name].set()

    async def stop(self) -> dict[str, int | None]:
        """SIGTERM every live process; their exit codes (the killed ones' too)."""
        for name in self.alive:
            self.bots[name].process.send_signal(signal.SIGTERM)
        for bot in self.bots.values():
            try:
                await asyncio.wait_for(bot.process.wait(), timeout=30)
            except TimeoutError:
                bot.process.kill()
                await bot.process.wait()
        self.alive.clear()
        return {name: bot.process.returncode for name, bot in self.bots.items()}

    def logs(self) -> str:
        return "\n".join(f"--- {bot.name}\n{bot.log.read_text()}" for bot in self.bots.values() if bot.log.exists())

    @staticmethod
    async def _try(url: str, update: Update) -> int | None:
        try:
            return await post_update(url, update, SECRET, timeout=60)
        except (aiohttp.ClientError, OSError, TimeoutError):
            return None  # refused, reset or cut off: Telegram retries later


def reporter_steps(updates: Any, member: int, category: str, description: str) -> list[Update]:
    """Every update of one complete report, submit included (tests/support/incidents.py `report`)."""
    from handlers.incident_keyboards import ReportCb

    def press(action: str, value: str = "") -> Update:
        return updates.callback(member, ReportCb(action=action, value=value).pack(), language_code="en")

    return [
        updates.command(member, "/report", language_code="en"),
        press("cat", category),
        press("sev", "high"),
        updates.message(member, description, language_code="en"),
        updates.message(member, "Server room", language_code="en"),
        press("ago", "0"),
        press("done"),
        press("submit"),
    ]
