"""Health, readiness and metrics over real HTTP (issue 13): /ready names what stops the bot from working,
/metrics moves with the work done; in polling mode they are served on HEALTH_PORT by the real process, which
also stops quietly when told twice."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiogram.exceptions import TelegramNetworkError
from aiohttp import ClientSession, web
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from bot.clock import ManualClock
from bot.health import add_routes, serve
from tests.conftest import TOKEN, Harness
from tests.support.botapi_server import FakeBotApi
from tests.support.incidents import WANG, ack, crew, report, started
from tests.support.updates import UpdateFactory

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Endpoints:
    def __init__(self, base: str, http: ClientSession) -> None:
        self.base, self.http = base, http

    async def get(self, path: str) -> tuple[int, Any]:
        async with self.http.get(self.base + path) as response:
            body = await response.json() if response.content_type == "application/json" else await response.text()
            return response.status, body

    async def metric(self, name: str, **labels: str) -> float:
        """The value of one sample of /metrics (0 if it has not appeared yet)."""
        _status, body = await self.get("/metrics")
        for family in text_string_to_metric_families(body):
            for sample in family.samples:
                if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                    return sample.value
        return 0.0


@pytest.fixture
async def office(sqlite_url: str, clock: ManualClock) -> AsyncIterator[tuple[Harness, Endpoints]]:
    """An office with officers on duty (tests/support/incidents.py), its /health, /ready and /metrics on a
    real port, as HEALTH_PORT serves them."""
    app, session, h = await started(sqlite_url, clock)
    web_app = web.Application()
    add_routes(web_app, app.readiness, app.metrics, app.uow)
    port = free_port()
    stop = await serve(web_app, "127.0.0.1", port)
    try:
        async with ClientSession() as http:
            yield h, Endpoints(f"http://127.0.0.1:{port}", http)
    finally:
        await stop()
        await app.close()


async def test_ready_names_the_database_when_its_file_is_gone_and_recovers(
    office: tuple[Harness, Endpoints], tmp_path: Path
) -> None:
    h, endpoints = office
    assert await endpoints.get("/health") == (200, {"status": "ok"})
    status, body = await endpoints.get("/ready")
    assert status == 200 and body["status"] == "ready", body
    database = tmp_path / "bot.sqlite3"
    database.rename(tmp_path / "elsewhere.sqlite3")  # the volume is gone; the bot's open connection would not say
    status, body = await endpoints.get("/ready")
    assert status == 503 and body["failing"] == ["database"], body
    assert await endpoints.get("/health") == (200, {"status": "ok"})  # alive: restarting would not help
    (tmp_path / "elsewhere.sqlite3").rename(database)
    assert (await endpoints.get("/ready"))[0] == 200


async def test_ready_says_when_migrations_are_behind_the_code(office: tuple[Harness, Endpoints]) -> None:
    h, endpoints = office
    async with h.app.uow() as uow:
        await uow.session.execute(text("UPDATE alembic_version SET version_num = '0001'"))
        await uow.commit()
    status, body = await endpoints.get("/ready")
    assert status == 503 and body["failing"] == ["database"]
    assert "migrations not current: at 0001" in body["checks"]["database"]["detail"]


async def test_ready_turns_503_while_timers_are_overdue_and_messages_wait(office: tuple[Harness, Endpoints]) -> None:
    h, endpoints = office
    await crew(h)
    await report(h)  # the alert is sent; the 3-minute escalation timer waits (A2)
    assert (await endpoints.get("/ready"))[0] == 200
    h.clock.advance(minutes=3, seconds=119)  # overdue by 119 s: within the threshold
    assert (await endpoints.get("/ready"))[0] == 200
    h.clock.advance(seconds=2)  # nobody fired it for over two minutes: the timer runner is stuck
    status, body = await endpoints.get("/ready")
    assert status == 503 and body["failing"] == ["timers"], body
    assert body["checks"]["timers"]["detail"].startswith("1 overdue")
    await h.app.timers.run_due()  # the runner fires it: the next step's alerts are queued, not yet sent
    assert (await endpoints.get("/ready"))[0] == 200
    h.clock.advance(seconds=301)  # and nothing delivers them for five minutes
    status, body = await endpoints.get("/ready")
    assert status == 503 and "outbox" in body["failing"], body
    assert body["checks"]["outbox"]["detail"].startswith("1 due, oldest 301 s")  # the next step's alert
    await h.advance()  # delivered, and the step timer that fell due meanwhile fired
    assert (await endpoints.get("/ready"))[0] == 200


async def test_ready_turns_503_when_the_bot_api_has_been_unreachable_for_two_minutes(
    office: tuple[Harness, Endpoints],
) -> None:
    h, endpoints = office
    await crew(h)
    await report(h)
    h.session.fail_next("*", error="network", times=100)  # from now on no call reaches Telegram
    with pytest.raises(TelegramNetworkError):
        await h.app.bot.get_me()
    assert (await endpoints.get("/ready"))[0] == 200  # failing for a moment only
    h.clock.advance(seconds=121)
    status, body = await endpoints.get("/ready")
    assert status == 503 and body["failing"] == ["bot_api"], body
    h.session.clear_faults()
    await h.app.bot.get_me()  # Telegram answers again
    status, body = await endpoints.get("/ready")
    assert "bot_api" not in body["failing"], body


async def test_metrics_move_with_updates_alerts_escalations_and_429s(office: tuple[Harness, Endpoints]) -> None:
    h, endpoints = office
    people = await crew(h)
    joined = await endpoints.metric("bot_updates_total", flow="start")
    assert joined >= 5  # the crew's /start presses, counted by the flow that took them
    sent_before = await endpoints.metric("bot_outbox_messages_total", outcome="sent")
    h.session.fail_next("sendMessage", chat_id=WANG, error="retry_after:1")
    await report(h)
    assert await endpoints.metric("bot_updates_total", flow="incident") == 8  # the report wizard's 8 steps
    assert await endpoints.metric("bot_update_handling_seconds_count", flow="incident") == 8
    assert await endpoints.metric("bot_telegram_retry_after_total") == 1
    assert await endpoints.metric("bot_outbox_messages_total", outcome="retried") == 1
    assert await endpoints.metric("bot_timers_pending") >= 1  # the escalation timer
    h.clock.advance(seconds=1)
    await h.app.outbox.drain()  # the alert to Wang goes out after its retry_after
    assert await endpoints.metric("bot_outbox_messages_total", outcome="sent") > sent_before
    assert await endpoints.metric("bot_escalation_steps_total", flow="incident") == 0
    await h.advance(minutes=3)  # nobody acknowledged: the next step is alerted (A2)
    assert await endpoints.metric("bot_escalation_steps_total", flow="incident") == 1
    assert await endpoints.metric("bot_timer_fire_lag_seconds_count") >= 1
    await h.press(people.primary.telegram_id, ack())
    assert await endpoints.metric("bot_updates_total", flow="incident") == 9
    queued = await endpoints.metric("bot_outbox_messages_total", outcome="queued")
    sent = await endpoints.metric("bot_outbox_messages_total", outcome="sent")
    assert queued == sent and await endpoints.metric("bot_outbox_backlog") == 0


# The real process, polling, with HEALTH_PORT ------------------------------------------------------------------


async def start_bot(server: FakeBotApi, database: str, health_port: int, log: Path, **env: str) -> Any:
    environment = {k: v for k, v in os.environ.items() if k not in {"BOT_POLICY", "ADMIN_IDS", "WEBHOOK_URL"}}
    environment.update(
        PYTHONPATH=str(ROOT),
        BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE=server.base_url,
        DATABASE_URL=database,
        HEALTH_PORT=str(health_port),
        HEALTH_HOST="127.0.0.1",
        LOG_LEVEL="INFO",
        **env,
    )
    output = log.open("w")
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", cwd=log.parent, env=environment, stdout=output, stderr=output
    )


async def until(check: Any, timeout: float = 30) -> Any:  # noqa: ASYNC109 - a deadline, not a sleep
    """Poll an HTTP condition of another process (nothing to move: its clock is the real one)."""
    async with asyncio.timeout(timeout):
        while not (result := await check()):  # noqa: ASYNC110 - the condition is in another process
            await asyncio.sleep(0.1)
        return result


async def get_status(port: int, path: str) -> int | None:
    try:
        async with ClientSession() as http, http.get(f"http://127.0.0.1:{port}{path}") as response:
            await response.read()
            return response.status
    except OSError:
        return None


async def test_polling_bot_serves_health_on_its_port_and_stops_quietly_when_told_twice(tmp_path: Path) -> None:
    async with FakeBotApi() as server:
        port = free_port()
        log = tmp_path / "bot.log"
        process = await start_bot(
            server, f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}", port, log, LOG_FORMAT="json"
        )
        try:
            await until(lambda: get_status(port, "/health"))
            await server.wait_for(lambda s: any(r.method == "getUpdates" for r in s.requests), timeout=30)
            assert await until(lambda: _is(get_status(port, "/ready"), 200))
            assert await get_status(port, "/metrics") == 200
            process.send_signal(signal.SIGTERM)
            process.send_signal(signal.SIGTERM)  # an impatient operator: the second changes nothing
            await asyncio.wait_for(process.wait(), timeout=30)
        finally:
            if process.returncode is None:
                process.kill()
        output = log.read_text()
        assert process.returncode == 0, output
        assert "Traceback" not in output and "Polling is not started" not in output, output
        lines = [json.loads(line) for line in output.splitlines() if line.strip()]  # every line is JSON
        assert sum("stopping" in line["message"] for line in lines) == 1
        assert all({"time", "level", "logger", "message"} <= set(line) for line in lines)


async def _is(status: Any, wanted: int) -> bool:
    return await status == wanted


async def test_a_second_polling_process_waits_as_a_standby_and_takes_over_when_the_first_is_killed(
    tmp_path: Path,
) -> None:
    """Two processes on one SQLite file: the second does not poll (no 409 fight) and says it is a standby on
    /ready; when the first dies by SIGKILL, the second takes over within seconds and answers updates."""
    database = f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}"
    async with FakeBotApi() as server:
        ports = [free_port(), free_port()]
        first = await start_bot(server, database, ports[0], tmp_path / "first.log")
        second = None
        try:
            await server.wait_for(lambda s: any(r.method == "getUpdates" for r in s.requests), timeout=30)
            second = await start_bot(server, database, ports[1], tmp_path / "second.log")
            assert await until(lambda: _is(get_status(ports[1], "/health"), 200))
            assert await until(lambda: _is(get_status(ports[1], "/ready"), 503))
            assert "waiting as a standby" in (tmp_path / "second.log").read_text()
            first.kill()
            await first.wait()
            assert await until(lambda: _is(get_status(ports[1], "/ready"), 200))
            server.push_update(UpdateFactory().command(4242, "/help"))
            await server.wait_for(lambda s: s.texts(4242), timeout=30)  # the survivor took the update
            assert "taking over" in (tmp_path / "second.log").read_text()
        finally:
            for process in (first, second):
                if process is not None and process.returncode is None:
                    process.send_signal(signal.SIGTERM)
                    await asyncio.wait_for(process.wait(), timeout=30)
        assert second is not None and second.returncode == 0, (tmp_path / "second.log").read_text()
        assert getattr(server, "conflicts", []) == []  # never two getUpdates at once
