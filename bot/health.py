"""GET /health (alive), GET /ready (can do its work) and GET /metrics (issue 13), on the webhook server and,
when HEALTH_PORT is set, on a small server of their own (the only way in polling mode).

/ready answers 503 naming each failing check: the database cannot be read, its migrations are not current,
the oldest due message or the oldest overdue timer has waited too long, the Bot API has been unreachable
for a while, or this process is a polling standby."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import Clock
from bot.instance_lock import sqlite_file
from bot.metrics import Metrics
from storage.migrate import alembic_config
from storage.uow import UnitOfWorkFactory

DATABASE_TIMEOUT = 3.0  # seconds: a database slower than this to answer one query is not ready


@dataclass(frozen=True)
class Thresholds:
    outbox_seconds: float = 300.0  # a message due longer than this (backoff reaches 300 s) means stuck
    timer_seconds: float = 120.0  # a timer overdue longer than this: the 3-minute window (A2) is at risk
    bot_api_seconds: float = 120.0  # calls failing, and none succeeding, for this long


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str = ""


class Readiness:
    def __init__(
        self,
        database_url: str,
        engine: AsyncEngine,
        uow: UnitOfWorkFactory,
        clock: Clock,
        metrics: Metrics,
        thresholds: Thresholds | None = None,
        is_standby: Callable[[], bool] = lambda: False,
    ) -> None:
        self._sqlite = sqlite_file(database_url)
        self._engine = engine
        self._uow = uow
        self._clock = clock
        self._metrics = metrics
        self._limits = thresholds or Thresholds()
        self._is_standby = is_standby
        self._head = ScriptDirectory.from_config(alembic_config()).get_current_head()

    async def checks(self) -> list[Check]:
        database = await self._database()
        checks = [database]
        if database.ok:
            checks += await self._backlog()
        checks.append(self._bot_api())
        if self._is_standby():
            checks.append(Check("polling", False, "standby: another process polls this bot; taking over when it stops"))
        return checks

    async def _database(self) -> Check:
        try:
            async with asyncio.timeout(DATABASE_TIMEOUT):
                version = await self._schema_version()
        except Exception as error:  # whatever stops the read is the answer
            return Check("database", False, f"{type(error).__name__}: {error}")
        if version != self._head:
            return Check("database", False, f"migrations not current: at {version}, code expects {self._head}")
        return Check("database", True, f"migrations at {version}")

    async def _schema_version(self) -> str | None:
        if self._sqlite is None:
            async with self._engine.connect() as connection:
                return await connection.scalar(text("SELECT version_num FROM alembic_version"))
        # A fresh connection to the file: the bot's own one keeps working on an open file that was removed
        # or made unreadable, and would hide that until the next restart.
        return await asyncio.to_thread(_sqlite_version, self._sqlite)

    async def _backlog(self) -> list[Check]:
        now = self._clock.now()
        async with self._uow() as work:
            waiting, oldest_due = await work.outbox.backlog(now)
            _pending, overdue, oldest_timer = await work.timers.summary(now)
        outbox_age = (now - oldest_due).total_seconds() if oldest_due else 0.0
        timer_age = (now - oldest_timer).total_seconds() if oldest_timer else 0.0
        return [
            Check("outbox", outbox_age <= self._limits.outbox_seconds, f"{waiting} due, oldest {outbox_age:.0f} s"),
            Check("timers", timer_age <= self._limits.timer_seconds, f"{overdue} overdue, oldest {timer_age:.0f} s"),
        ]

    def _bot_api(self) -> Check:
        """A webhook bot with nothing to send makes no calls: only calls that fail, with none succeeding
        for a while, make it not ready."""
        contact = self._metrics.bot_api
        if contact.last_failure is None or (contact.last_success or 0) > contact.last_failure:
            return Check("bot_api", True, "reachable" if contact.last_success else "no call yet")
        since = (self._clock.now() - (contact.last_success or contact.last_failure)).total_seconds()
        return Check("bot_api", since <= self._limits.bot_api_seconds, f"calls failing, last success {since:.0f} s ago")


def _sqlite_version(path: object) -> str | None:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=DATABASE_TIMEOUT)
    try:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        return row[0] if row else None
    finally:
        connection.close()


def add_routes(web_app: web.Application, readiness: Readiness, metrics: Metrics, uow: UnitOfWorkFactory) -> None:
    async def health(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def ready(_: web.Request) -> web.Response:
        checks = await readiness.checks()
        failing = [check.name for check in checks if not check.ok]
        body = {
            "status": "not ready" if failing else "ready",
            "failing": failing,
            "checks": {check.name: {"ok": check.ok, "detail": check.detail} for check in checks},
        }
        return web.json_response(body, status=503 if failing else 200)

    async def scrape(_: web.Request) -> web.Response:
        await metrics.refresh(uow)
        return web.Response(body=metrics.render(), content_type="text/plain", charset="utf-8")

    web_app.router.add_get("/health", health)
    web_app.router.add_get("/ready", ready)
    web_app.router.add_get("/metrics", scrape)


async def serve(web_app: web.Application, host: str, port: int) -> Callable[[], Awaitable[None]]:
    """Start serving; returns the function that stops it."""
    runner = web.AppRunner(web_app)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner.cleanup
