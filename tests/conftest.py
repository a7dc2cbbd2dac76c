"""Shared fixtures: the real application on a real database file, with the Telegram server faked."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiogram.filters.callback_data import CallbackData
from sqlalchemy import text

from bot.app import App, build_app
from bot.clock import ManualClock
from bot.config import Settings
from bot.services.actor import Actor
from bot.services.members import MemberView
from storage.db import create_engine
from tests.support.recording_session import RecordingSession
from tests.support.updates import UpdateFactory

TOKEN = "123456789:TEST-token-for-the-recording-session-0000"
ADMIN_ID = 1000
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL")


def settings_for(database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {"bot_token": TOKEN, "database_url": database_url, "admin_ids": [ADMIN_ID]}
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


async def reset_postgres(url: str) -> None:
    engine = create_engine(url)
    async with engine.begin() as connection:
        await connection.execute(text("DROP SCHEMA public CASCADE"))
        await connection.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"] if POSTGRES_URL else ["sqlite"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh real database: a SQLite file, and PostgreSQL too when TEST_POSTGRES_URL is set."""
    if request.param == "postgresql":
        assert POSTGRES_URL
        await reset_postgres(POSTGRES_URL)
        return POSTGRES_URL
    return f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}"


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


class Harness:
    """Drives the real Dispatcher with Telegram updates and reads what the bot sent back."""

    def __init__(self, app: App, session: RecordingSession, clock: ManualClock) -> None:
        self.app = app
        self.session = session
        self.clock = clock
        self.updates = UpdateFactory()

    async def send(self, user_id: int, text: str, **kwargs: Any) -> list[str]:
        """A member types `text`; returns the texts the bot sent to that chat in reply."""
        before = len(self.session.texts(user_id))
        await self.app.dispatcher.feed_update(self.app.bot, self.updates.message(user_id, text, **kwargs))
        await self.app.outbox.drain()
        return self.session.texts(user_id)[before:]

    async def press(self, user_id: int, data: CallbackData | str, message_id: int = 1) -> list[str]:
        """A member taps a button; returns the alerts/toasts and texts the bot answered with."""
        before_calls = len(self.session.requests)
        packed = data.pack() if isinstance(data, CallbackData) else data
        update = self.updates.callback(user_id, packed, message_id=message_id)
        await self.app.dispatcher.feed_update(self.app.bot, update)
        await self.app.outbox.drain()
        answers = []
        for method in self.session.requests[before_calls:]:
            text = getattr(method, "text", None)
            if text and getattr(method, "chat_id", user_id) in (user_id, None):
                answers.append(text)
        return answers

    async def advance(self, **delta: float) -> None:
        """Move time on; fire the timers that fell due and deliver what they queued."""
        self.clock.advance(**delta)
        await self.app.timers.run_due()
        await self.app.outbox.drain()

    async def start(self) -> None:
        """What a real start does before taking updates: the flows' start hooks, then due timers."""
        await self.app.run_startup()
        await self.app.timers.run_due()
        await self.app.outbox.drain()

    async def join(self, user_id: int, roles: list[str], department: str = "office", name: str = "") -> MemberView:
        invitation = await self.app.members.invite(
            Actor.command_line(), roles=roles, department=department, name=name or f"Member {user_id}"
        )
        await self.send(user_id, f"/start {invitation.code}")
        member = await self.app.members.find(user_id)
        assert member is not None
        return member

    def buttons(self, user_id: int) -> list[tuple[str, str]]:
        """(text, callback data) of the inline buttons on the last message sent to the user."""
        for method in reversed(self.session.requests):
            markup = getattr(method, "reply_markup", None)
            if (
                getattr(method, "chat_id", None) == user_id
                and markup is not None
                and hasattr(markup, "inline_keyboard")
            ):
                return [(b.text, b.callback_data or "") for row in markup.inline_keyboard for b in row]
        return []


@pytest.fixture
async def harness(database_url: str, clock: ManualClock) -> AsyncIterator[Harness]:
    session = RecordingSession()
    app = await build_app(settings_for(database_url), clock=clock, session=session)
    try:
        yield Harness(app, session, clock)
    finally:
        await app.close()


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A clean directory to run the command line in, with nothing inherited from the developer's .env."""
    shutil.rmtree(tmp_path / "data", ignore_errors=True)
    return tmp_path
