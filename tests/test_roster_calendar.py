"""Shift calendars (B1, F3; issue 14): /calendar through the real Dispatcher sends a one-off .ics file
and the feed addresses; the feeds are fetched over real HTTP from the bot's own server, with and
without their token; /calendar revoke makes the old addresses answer 404."""

from __future__ import annotations

import re
import socket
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from aiogram.types import BufferedInputFile
from aiohttp import ClientSession, web
from icalendar import Calendar
from sqlalchemy import select

from bot.app import add_http_routes, build_app
from bot.clock import ManualClock
from bot.health import serve
from bot.services.actor import Actor
from bot.webhook import build_web_app
from storage.models import AuditEntry
from tests.conftest import ADMIN_ID, Harness, settings_for
from tests.support.recording_session import RecordingSession
from tests.support.roster import MONDAY, officer, put_on

HEAD, WANG, LI, STAFF = 3000, 2001, 2002, 2010
BASE = "https://duty.example.com"
URL = re.compile(re.escape(BASE) + r"(/calendar/[A-Za-z0-9_-]+\.ics)")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Served:
    """The app with CALENDAR_BASE_URL set, its HTTP routes on a real port (as HEALTH_PORT serves them)."""

    def __init__(self, h: Harness, http: ClientSession, origin: str) -> None:
        self.h, self.http, self.origin = h, http, origin

    async def get(self, path: str) -> tuple[int, str, str]:
        async with self.http.get(self.origin + path) as response:
            return response.status, response.content_type, await response.text()


@pytest.fixture
async def served(sqlite_url: str, clock: ManualClock) -> AsyncIterator[Served]:
    session = RecordingSession()
    app = await build_app(settings_for(sqlite_url, calendar_base_url=BASE + "/"), clock=clock, session=session)
    web_app = web.Application()
    add_http_routes(web_app, app)
    port = free_port()
    stop = await serve(web_app, "127.0.0.1", port)
    try:
        async with ClientSession() as http:
            yield Served(Harness(app, session, clock), http, f"http://127.0.0.1:{port}")
    finally:
        await stop()
        await app.close()


def feed_paths(text: str) -> dict[str, str]:
    """'My shifts' / room name -> the path of its address, from the /calendar answer."""
    found = {}
    for line in text.splitlines():
        match = URL.search(line)
        if match:
            found[line.removeprefix("• ").split(":")[0]] = match[1]
    return found


def events(text: str) -> list[dict[str, str]]:
    return [
        {name: str(event.get(name)) for name in ("summary", "description", "uid")}
        | {"start": event.decoded("dtstart").isoformat(), "end": event.decoded("dtend").isoformat()}
        for event in Calendar.from_ical(text).walk("VEVENT")
    ]


async def test_an_officer_gets_a_file_and_a_feed_that_works_only_with_its_token(served: Served) -> None:
    h = served.h
    await officer(h, HEAD, "Head Zhou", roles=("staff", "department_head"))
    wang, li = await officer(h, WANG, "Wang"), await officer(h, LI, "Li")
    await put_on(h, wang, "night", MONDAY + timedelta(days=1))
    await put_on(h, li, "night", MONDAY + timedelta(days=1), position="backup")

    answers = await h.send(WANG, "/calendar")
    [document] = h.session.sent(WANG, "sendDocument")
    upload = document.document  # type: ignore[attr-defined]
    assert isinstance(upload, BufferedInputFile) and upload.filename == "shifts.ics"
    assert answers[0] == "Your duty shifts as a calendar file: open it, or import it into your calendar app."
    [shift] = events(upload.data.decode())
    assert shift["summary"] == "Dispatch room · Night shift (primary)"
    assert shift["description"] == "Primary: Wang. Backup: Li."
    assert (shift["start"], shift["end"]) == ("2026-03-03T12:00:00+00:00", "2026-03-04T00:00:00+00:00")
    assert "TRIGGER:-PT1H" in upload.data.decode()  # the room's reminder, as an alarm

    paths = feed_paths(answers[-1])
    assert set(paths) == {"My shifts", "Dispatch room"}  # an officer of security sees the dispatch room
    status, content_type, body = await served.get(paths["My shifts"])
    assert (status, content_type) == (200, "text/calendar")
    assert [e["summary"] for e in events(body)] == ["Dispatch room · Night shift (primary)"]
    # the feed follows the roster: Li's own feed shows the backup position
    li_paths = feed_paths((await h.send(LI, "/calendar"))[-1])
    assert [e["summary"] for e in events((await served.get(li_paths["My shifts"]))[2])] == [
        "Dispatch room · Night shift (backup)"
    ]

    # without the token, or with a made-up one, nothing is told
    assert (await served.get("/calendar/.ics"))[0] == 404
    assert (await served.get("/calendar/not-a-real-token-000000000000000.ics"))[0] == 404
    assert (await served.get("/calendar/"))[0] == 404

    # a keeper's room feed: every shift of the room, gaps said, who stands each
    head_paths = feed_paths((await h.send(HEAD, "/calendar"))[-1])
    assert set(head_paths) == {"Dispatch room"}  # a head of department stands no shifts
    room = events((await served.get(head_paths["Dispatch room"]))[2])
    assert "Night shift: Wang" in [e["summary"].split(" · ")[1] for e in room]
    assert any(e["summary"] == "Dispatch room · Day shift: nobody — a gap in the roster!" for e in room)


async def test_revoking_replaces_every_address(served: Served) -> None:
    h = served.h
    wang = await officer(h, WANG, "Wang")
    await put_on(h, wang, "day", MONDAY + timedelta(days=2))
    old = feed_paths((await h.send(WANG, "/calendar"))[-1])
    assert feed_paths((await h.send(WANG, "/calendar"))[-1]) == old  # asking again keeps the addresses
    answers = await h.send(WANG, "/calendar revoke")
    assert answers[0] == "The old calendar addresses no longer work. Subscribe again with the new ones below."
    new = feed_paths(answers[-1])
    assert set(new) == set(old) and not set(new.values()) & set(old.values())
    for path in old.values():
        assert (await served.get(path))[0] == 404
    for path in new.values():
        assert (await served.get(path))[0] == 200
    async with h.app.uow() as uow:
        actions = list(
            await uow.session.scalars(select(AuditEntry.action).where(AuditEntry.entity == "roster_calendar"))
        )
    assert actions == ["created", "revoked", "created"]
    # a member who left (deactivated once their shifts were over) has feeds that no longer answer
    await h.advance(days=3)
    await h.app.members.deactivate(Actor(ADMIN_ID), wang.id)
    for path in new.values():
        assert (await served.get(path))[0] == 404


async def test_members_without_shifts_or_rosters_are_refused_and_chinese_works(served: Served) -> None:
    h = served.h
    await h.join(STAFF, ["staff"], department="security")
    assert await h.send(STAFF, "/calendar") == ["值班日历仅供值班员和值班表负责人使用。"]
    async with h.app.uow() as uow:
        refused = list(
            await uow.session.scalars(select(AuditEntry.actor_telegram_id).where(AuditEntry.action == "refused"))
        )
    assert STAFF in refused
    zhang = await officer(h, WANG, "张伟", language="zh_Hans")
    await put_on(h, zhang, "day", MONDAY + timedelta(days=1))
    answers = await h.send(WANG, "/calendar")
    assert answers[-1].startswith("在日历应用中订阅")
    paths = feed_paths(answers[-1])
    body = (await served.get(paths["我的班次"]))[2]
    assert [e["summary"] for e in events(body)] == ["调度室 · 白班（主班）"]


async def test_without_a_public_address_the_file_still_comes(harness: Harness) -> None:
    h = harness
    wang = await officer(h, WANG, "Wang")
    await put_on(h, wang, "day", MONDAY + timedelta(days=1))
    answers = await h.send(WANG, "/calendar")
    assert len(h.session.sent(WANG, "sendDocument")) == 1
    assert answers[-1] == (
        "Calendar subscriptions are not set up on this server yet; an administrator can set its public address."
    )
    assert await h.send(WANG, "/calendar everything") == [
        "Send /calendar for your calendar, or /calendar revoke to replace its addresses."
    ]


def test_the_feed_address_comes_from_the_setting_or_the_webhook() -> None:
    url = "sqlite+aiosqlite:///unused.sqlite3"
    assert settings_for(url, calendar_base_url="https://cal.example.com/").feed_base_url == "https://cal.example.com"
    webhook = settings_for(url, webhook_url="https://bot.example.com/telegram/webhook")
    assert webhook.feed_base_url == "https://bot.example.com"
    assert settings_for(url).feed_base_url is None
    assert settings_for(url, calendar_base_url=" ").feed_base_url is None


async def test_in_webhook_mode_the_webhook_server_serves_the_feeds(sqlite_url: str, clock: ManualClock) -> None:
    """Without CALENDAR_BASE_URL the addresses use WEBHOOK_URL's host, and the webhook server answers them."""
    session = RecordingSession()
    settings = settings_for(sqlite_url, webhook_url="https://hook.example.com/telegram/webhook", webhook_secret="s3")
    app = await build_app(settings, clock=clock, session=session)
    port = free_port()
    stop = await serve(build_web_app(app), "127.0.0.1", port)
    try:
        h = Harness(app, session, clock)
        wang = await officer(h, WANG, "Wang")
        await put_on(h, wang, "day", MONDAY + timedelta(days=1))
        text = (await h.send(WANG, "/calendar"))[-1]
        [path] = re.findall(r"https://hook\.example\.com(/calendar/[A-Za-z0-9_-]+\.ics)", text.split("\n")[1])
        async with ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}{path}") as response:
                assert response.status == 200 and "Day shift" in await response.text()
            async with http.get(f"http://127.0.0.1:{port}/calendar/{'x' * 32}.ics") as response:
                assert response.status == 404
    finally:
        await stop()
        await app.close()
