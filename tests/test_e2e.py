"""End to end: the real polling loop, outbox sender and webhook server against a local HTTP
server that speaks the Bot API, selected through TELEGRAM_API_BASE (issue 2 §2, §9, §11)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import ClientSession, web

from bot.app import App, build_app, run
from bot.services.actor import Actor
from bot.webhook import build_web_app
from handlers.callbacks import LanguageCb, MemberCb
from tests.conftest import ADMIN_ID, TOKEN, settings_for
from tests.support.botapi_server import FakeBotApi, post_update
from tests.support.updates import UpdateFactory

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
async def server() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi() as fake:
        yield fake


async def test_polling_loop_and_outbox_speak_to_the_configured_api_server(server: FakeBotApi, sqlite_url: str) -> None:
    app = await build_app(settings_for(sqlite_url, telegram_api_base=server.base_url))
    updates = UpdateFactory()
    running = asyncio.create_task(run(app))
    try:
        # at start the command menu is published in both languages
        await server.wait_for(lambda s: len(s.commands) == 3)  # default (Chinese), "zh" and "en"
        invitation = await app.members.invite(Actor(ADMIN_ID, ADMIN_ID), roles=["staff"], department="office")

        server.push_update(updates.command(2001, f"/start {invitation.code}", first_name="Zhao", language_code="en"))
        await server.wait_for(lambda s: any(t.startswith("Welcome, Zhao!") for t in s.texts(2001)))
        # the administrator hears about it through the outbox sender
        # (the administrator never chose a language: the organisation's default, Chinese)
        await server.wait_for(lambda s: "Zhao已通过您的邀请加入（员工；办公室）。" in s.texts(ADMIN_ID))

        server.push_update(updates.callback(2001, LanguageCb(code="en").pack(), language_code="en"))
        await server.wait_for(lambda s: any(a.get("text") == "Language set to English." for a in s.callback_answers))

        member = await app.members.find(2001)
        assert member is not None
        server.push_update(
            updates.callback(ADMIN_ID, MemberCb(action="role", member_id=member.id, value="duty_officer").pack())
        )
        await server.wait_for(lambda s: s.edits(ADMIN_ID))  # the member card is edited in place
        await server.wait_for(lambda s: any("You now hold" in t for t in s.texts(2001)))
        assert server.duplicates() == []
    finally:
        await app.dispatcher.stop_polling()
        await asyncio.wait_for(running, timeout=10)


async def test_file_downloads_go_to_the_configured_api_server(server: FakeBotApi, sqlite_url: str) -> None:
    server.add_file("photo-1", "photos/file_1.jpg", b"\xff\xd8jpeg bytes")
    app = await build_app(settings_for(sqlite_url, telegram_api_base=server.base_url))
    try:
        downloaded = await app.bot.download("photo-1")
        assert downloaded is not None and downloaded.read() == b"\xff\xd8jpeg bytes"
    finally:
        await app.close()


@pytest.fixture
async def webhook(server: FakeBotApi, sqlite_url: str) -> AsyncIterator[tuple[App, str]]:
    app = await build_app(
        settings_for(
            sqlite_url, telegram_api_base=server.base_url, webhook_url="https://bot.example", webhook_secret="s3cret"
        )
    )
    runner = web.AppRunner(build_web_app(app))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield app, f"http://127.0.0.1:{port}"
    await runner.cleanup()
    await app.close()


async def test_webhook_rejects_requests_without_the_secret_and_changes_nothing(
    webhook: tuple[App, str], server: FakeBotApi
) -> None:
    app, base = webhook
    update = UpdateFactory().message(555, "hello", language_code="en")
    assert await post_update(f"{base}/telegram/webhook", update) == 401
    assert await post_update(f"{base}/telegram/webhook", update, secret_token="wrong") == 401
    assert server.texts(555) == []
    async with app.uow() as uow:  # not even remembered as processed
        assert await uow.processed_updates.first_time(update.update_id, app.clock.now())


async def test_webhook_with_the_secret_is_answered_and_health_is_reported(
    webhook: tuple[App, str], server: FakeBotApi
) -> None:
    _app, base = webhook
    update = UpdateFactory().message(555, "hello", language_code="en")
    assert await post_update(f"{base}/telegram/webhook", update, secret_token="s3cret") == 200
    await server.wait_for(lambda s: s.texts(555))
    assert server.texts(555) == ["This bot is for members only. Please ask your administrator for an invitation."]
    async with ClientSession() as client, client.get(f"{base}/health") as response:
        assert response.status == 200 and (await response.json()) == {"status": "ok"}


async def test_a_restart_in_the_middle_of_a_wizard_loses_nothing(sqlite_url: str) -> None:
    from handlers.callbacks import InviteCb
    from tests.conftest import Harness
    from tests.support.recording_session import RecordingSession

    async def started() -> Harness:
        session = RecordingSession()
        from bot.clock import ManualClock

        return Harness(await build_app(settings_for(sqlite_url), session=session), session, ManualClock())

    first = await started()
    await first.press(ADMIN_ID, LanguageCb(code="en"))
    await first.send(ADMIN_ID, "/invite")
    await first.press(ADMIN_ID, InviteCb(action="role", value="leader"))
    await first.app.close()

    second = await started()
    second.updates = UpdateFactory(first_update_id=1000)
    answers = await second.press(ADMIN_ID, InviteCb(action="next"))
    assert any("Step 2 of 3" in a for a in answers)
    await second.press(ADMIN_ID, InviteCb(action="dept", value="office"))
    replies = await second.send(ADMIN_ID, "Qian")
    assert "Roles: Leader, Staff" in replies[0]
    await second.app.close()


async def test_sigterm_stops_the_bot_gracefully(server: FakeBotApi, tmp_path: Path) -> None:
    """The real process: it polls, and on SIGTERM stops taking updates and exits cleanly."""
    environment = {k: v for k, v in os.environ.items() if k not in {"BOT_POLICY", "ADMIN_IDS", "WEBHOOK_URL"}}
    environment.update(
        PYTHONPATH=str(ROOT),
        BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE=server.base_url,
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}",
        LOG_LEVEL="INFO",
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        cwd=tmp_path,
        env=environment,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        await server.wait_for(lambda s: any(r.method == "getUpdates" for r in s.requests), timeout=30)
        process.send_signal(signal.SIGTERM)
        _out, err = await asyncio.wait_for(process.communicate(), timeout=30)
    finally:
        if process.returncode is None:
            process.kill()
    assert process.returncode == 0, err.decode()
    assert b"stopping: no new updates" in err and b"Traceback" not in err
