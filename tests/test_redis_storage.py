"""REDIS_URL: wizard state in Redis instead of the database (several instances), on a real Redis server
(`.ci/start-redis`). A restart in the middle of a wizard loses nothing, as with the database storage."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest
from aiogram.fsm.storage.base import StorageKey
from aiogram.fsm.storage.redis import RedisStorage
from redis.asyncio import Redis
from sqlalchemy import func, select

from bot.app import build_app
from bot.clock import ManualClock
from handlers.callbacks import InviteCb, LanguageCb
from storage.models import WizardState
from tests.conftest import ADMIN_ID, Harness, settings_for
from tests.support.recording_session import RecordingSession
from tests.support.updates import UpdateFactory

REDIS_URL = os.environ.get("TEST_REDIS_URL")
pytestmark = pytest.mark.skipif(not REDIS_URL, reason="TEST_REDIS_URL is not set (.ci/start-redis prints one)")


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    """The test Redis, emptied: the wizards seen are this test's own."""
    assert REDIS_URL
    client = Redis.from_url(REDIS_URL)
    await client.flushdb()
    yield client
    await client.flushdb()
    await client.aclose()


async def started(database_url: str, first_update_id: int = 1) -> Harness:
    """The app as `python -m bot` builds it with REDIS_URL set: the storage is chosen by the settings."""
    session, clock = RecordingSession(), ManualClock()
    app = await build_app(settings_for(database_url, redis_url=REDIS_URL), session=session, clock=clock)
    harness = Harness(app, session, clock)
    harness.updates = UpdateFactory(first_update_id=first_update_id)
    return harness


async def wizards_in_database(h: Harness) -> int:
    async with h.app.uow() as uow:
        return await uow.session.scalar(select(func.count()).select_from(WizardState))


async def test_a_restart_in_the_middle_of_a_wizard_loses_nothing(sqlite_url: str, redis: Redis) -> None:
    first = await started(sqlite_url)
    assert isinstance(first.app.dispatcher.fsm.storage, RedisStorage)
    await first.press(ADMIN_ID, LanguageCb(code="en"))
    await first.send(ADMIN_ID, "/invite")
    await first.press(ADMIN_ID, InviteCb(action="role", value="leader"))
    keys = [key.decode() async for key in redis.scan_iter()]
    assert any(key.endswith(":state") for key in keys), keys  # the wizard is in Redis...
    assert await wizards_in_database(first) == 0  # ...and not in the database
    await first.app.close()

    second = await started(sqlite_url, first_update_id=1000)  # a new process: new Dispatcher, same Redis
    answers = await second.press(ADMIN_ID, InviteCb(action="next"))
    assert any("Step 2 of 3" in answer for answer in answers), answers
    await second.press(ADMIN_ID, InviteCb(action="dept", value="office"))
    replies = await second.send(ADMIN_ID, "Qian")
    assert "Roles: Leader, Staff" in replies[0]  # the role chosen before the restart
    answers = await second.press(ADMIN_ID, InviteCb(action="create"))
    assert any(answer.startswith("Invitation created.") for answer in answers), answers
    await second.app.close()
    assert [key async for key in redis.scan_iter("*:state")] == []  # a finished wizard leaves nothing behind


async def test_the_wizard_is_in_redis_before_the_bot_asks_the_next_question(sqlite_url: str, redis: Redis) -> None:
    """A process killed right after a question must not leave the stored wizard a step behind: with Redis every
    change is written at once (the database storage needs SaveWizardsBeforeSending for that)."""
    h = await started(sqlite_url)
    storage = h.app.dispatcher.fsm.storage
    key = StorageKey(bot_id=h.app.bot.id, chat_id=ADMIN_ID, user_id=ADMIN_ID)
    stored_when_asked: dict[str, str | None] = {}

    async def watch(make_request, bot, method):  # type: ignore[no-untyped-def]
        text = getattr(method, "text", "") or ""
        for step in ("Step 2 of 3", "Step 3 of 3"):
            if text.startswith(step):
                stored_when_asked[step] = await storage.get_state(key)
        return await make_request(bot, method)

    h.session.middleware(watch)
    try:
        await h.press(ADMIN_ID, LanguageCb(code="en"))
        await h.send(ADMIN_ID, "/invite")
        await h.press(ADMIN_ID, InviteCb(action="role", value="leader"))
        await h.press(ADMIN_ID, InviteCb(action="next"))
        await h.press(ADMIN_ID, InviteCb(action="dept", value="office"))
    finally:
        await h.app.close()
    assert stored_when_asked == {"Step 2 of 3": "InviteWizard:department", "Step 3 of 3": "InviteWizard:name"}


async def test_two_instances_on_one_redis_share_a_wizard(sqlite_url: str, redis: Redis) -> None:
    """Behind a load balancer, one step may reach one instance and the next step the other."""
    one = await started(sqlite_url)
    other = await started(sqlite_url, first_update_id=1000)
    try:
        await one.press(ADMIN_ID, LanguageCb(code="en"))
        await one.send(ADMIN_ID, "/invite")
        await other.press(ADMIN_ID, InviteCb(action="role", value="leader"))
        answers = await one.press(ADMIN_ID, InviteCb(action="next"))
        assert any("Step 2 of 3" in answer for answer in answers), answers
        await other.press(ADMIN_ID, InviteCb(action="dept", value="office"))
        replies = await one.send(ADMIN_ID, "Qian")
        assert "Roles: Leader, Staff" in replies[0]
    finally:
        await one.app.close()
        await other.app.close()
