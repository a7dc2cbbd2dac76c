"""Photos as an album and duty-room groups (issue 14; A2, A3, F1, F3), through the real Dispatcher: a report's
photos reach each officer as one sendMediaGroup; a duty room's group gets the alert in its forum topic, pinned
until acknowledged; a reply there to the alert adds a note, re-authorised for the member who replied."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiogram.methods import PinChatMessage, SendMediaGroup, SendMessage, SendPhoto, UnpinChatMessage

from bot.app import App, build_app
from bot.clock import ManualClock
from bot.outgoing.incidents import IncidentCb
from bot.policy import PolicyError, default_policy_path, load_policy
from handlers.incident_keyboards import ReportCb
from tests.conftest import Harness, settings_for
from tests.support.botapi_server import FakeBotApi
from tests.support.incidents import (
    LI,
    OUTSIDER,
    REPORTER,
    WANG,
    ack,
    audit_actions,
    crew,
    member,
    started,
)
from tests.support.recording_session import RecordingSession

GROUP, TOPIC, STRANGER = -1001234567890, 42, 9999


async def report_with_photos(h: Harness, photos: int) -> list[str]:
    await h.send(REPORTER, "/report")
    await h.press(REPORTER, ReportCb(action="cat", value="quality"))
    await h.press(REPORTER, ReportCb(action="sev", value="high"))
    await h.send(REPORTER, "Cracked weld on the tank")
    await h.send(REPORTER, "Tank farm")
    await h.press(REPORTER, ReportCb(action="ago", value="0"))
    for number in range(photos):
        await h.send(REPORTER, None, photo=f"photo-{number}")  # type: ignore[arg-type]
    await h.press(REPORTER, ReportCb(action="done"))
    return await h.press(REPORTER, ReportCb(action="submit"))


def group_policy():  # type: ignore[no-untyped-def]
    """The dispatch room posts to a forum group's topic."""
    default = load_policy(None)
    rooms = tuple(
        r.model_copy(update={"group_chat_id": GROUP, "group_topic_id": TOPIC}) if r.code == "dispatch" else r
        for r in default.duty_rooms
    )
    return default.model_copy(update={"duty_rooms": rooms})


async def with_group(database_url: str, clock: ManualClock) -> tuple[App, RecordingSession, Harness]:
    return await started(database_url, clock, policy=group_policy())


def group_alert_id(session: RecordingSession, number: int = 1) -> int:
    """The Telegram id of the alert message of INC-2026-00000<number> in the group."""
    for call in session.calls:
        method = call.method
        if (
            isinstance(method, SendMessage)
            and method.chat_id == GROUP
            and method.text.startswith(f"🚨 INC-2026-{number:06d}")
        ):
            return call.result.message_id  # type: ignore[union-attr]
    raise AssertionError("no alert in the group")


async def in_group(app: App, h: Harness, user_id: int, text: str | None, reply_to: int, **kwargs: object) -> list[str]:
    """A message in the group replying to message `reply_to`; returns what the bot said in the group."""
    before = len(h.session.texts(GROUP, include_edits=False))
    update = h.updates.message(user_id, text, chat_id=GROUP, reply_to_message_id=reply_to, **kwargs)  # type: ignore[arg-type]
    await app.dispatcher.feed_update(app.bot, update)
    await app.outbox.drain()
    return h.session.texts(GROUP, include_edits=False)[before:]


async def timeline(h: Harness, user_id: int) -> list[str]:
    card = (await h.send(user_id, "/incident INC-2026-000001"))[-1]
    return [line.split(" · ", 1)[1] for line in card.split("Timeline:\n")[1].splitlines()]


async def test_a_reports_photos_reach_the_officer_as_one_album(harness: Harness) -> None:
    """Ten photos are one sendMediaGroup (one request, one turn of the chat's pace), captioned with the number."""
    h = harness
    await crew(h)
    told = await report_with_photos(h, 10)
    assert told[-1].startswith("Reported: INC-2026-000001.")
    [album] = h.session.sent(WANG, SendMediaGroup)
    assert [item.media for item in album.media] == [f"photo-{n}" for n in range(10)]  # type: ignore[attr-defined]
    assert [item.type for item in album.media] == ["photo"] * 10  # type: ignore[attr-defined]
    assert [item.caption for item in album.media][:2] == ["INC-2026-000001", None]  # type: ignore[attr-defined]
    assert h.session.sent(WANG, SendPhoto) == []


async def test_a_single_photo_goes_alone(harness: Harness) -> None:
    h = harness
    await crew(h)
    await report_with_photos(h, 1)
    assert [p.photo for p in h.session.sent(WANG, SendPhoto)] == ["photo-0"]  # type: ignore[attr-defined]
    assert h.session.sent(WANG, SendMediaGroup) == []


async def test_the_group_gets_the_alert_in_its_topic_pinned_until_acknowledged_and_replies_add_notes(
    database_url: str, clock: ManualClock
) -> None:
    """The alert and its album go to the room's forum topic; the alert is pinned while nobody has acknowledged
    and unpinned after. A reply to the alert with a text or a photo adds a note for a member who may handle the
    incident; another member, or a stranger, is refused politely and the refusal is audited (F3). With more than
    ten photos, an officer alerted later gets an album of ten and the rest."""
    app, session, h = await with_group(database_url, clock)
    try:
        await crew(h)
        await member(h, OUTSIDER, "Outsider Ou", ["staff"], department="finance")
        await report_with_photos(h, 10)
        [alert] = [m for m in session.sent(GROUP, SendMessage) if m.text.startswith("🚨 INC")]  # type: ignore[attr-defined]
        assert alert.message_thread_id == TOPIC  # type: ignore[attr-defined]
        [album] = session.sent(GROUP, SendMediaGroup)
        assert album.message_thread_id == TOPIC and len(album.media) == 10  # type: ignore[attr-defined]
        message_id = group_alert_id(session)
        [pin] = session.sent(GROUP, PinChatMessage)
        assert (pin.message_id, pin.disable_notification) == (message_id, True)  # type: ignore[attr-defined]

        assert await in_group(app, h, LI, "On my way with the welder", message_id) == [
            "📝 Added to the timeline of INC-2026-000001."
        ]
        assert await in_group(app, h, LI, None, message_id, photo="photo-li", caption="Crack is 20 cm") == [
            "📝 Added to the timeline of INC-2026-000001."
        ]
        too_long = await in_group(app, h, LI, "x" * 5000, message_id)  # bad input: a clear answer, nothing stored
        assert len(too_long) == 1 and too_long[0].startswith("That is too long: at most 2000 characters")
        assert await in_group(app, h, OUTSIDER, "Looks bad", message_id) == [
            "Only the officer handling this incident or its chain can change it."
        ]
        assert await in_group(app, h, STRANGER, "What happened?", message_id) == [
            "只有成员才能进行此操作。"
        ]  # zh Telegram
        assert (await audit_actions(h)).count("refused") == 2
        assert not any("Added to the timeline" in t for t in await in_group(app, h, LI, "Hello", 9_999))

        await h.advance(minutes=3)  # the backup is alerted: ten photos in an album, the eleventh alone
        [li_album] = session.sent(LI, SendMediaGroup)
        assert len(li_album.media) == 10  # type: ignore[attr-defined]
        assert [p.photo for p in session.sent(LI, SendPhoto)] == ["photo-li"]  # type: ignore[attr-defined]

        await h.press(WANG, ack())
        [unpin] = session.sent(GROUP, UnpinChatMessage)
        assert unpin.message_id == message_id  # type: ignore[attr-defined]
        notes = await timeline(h, WANG)
        assert "note by Li: On my way with the welder" in notes and "note by Li: Crack is 20 cm" in notes
        assert "Li added a photo or file" in notes
        assert "Photos and files: 11" in (await h.send(WANG, "/incident INC-2026-000001"))[-1]
    finally:
        await app.close()


async def test_a_report_marked_duplicate_is_unpinned_in_the_group(database_url: str, clock: ManualClock) -> None:
    """Linking a report to another stops its alert: the group's pin goes too, and the group reads why."""
    app, session, h = await with_group(database_url, clock)
    try:
        await crew(h)
        await report_with_photos(h, 0)
        await report_with_photos(h, 0)
        assert len(session.sent(GROUP, PinChatMessage)) == 2
        await h.press(WANG, IncidentCb(action="dupof", id=2, value=1))
        [unpin] = session.sent(GROUP, UnpinChatMessage)
        assert unpin.message_id == session.sent(GROUP, PinChatMessage)[1].message_id  # type: ignore[attr-defined]
        assert "🔗 INC-2026-000002 是 INC-2026-000001 的重复报告（Wang）。" in session.texts(GROUP)
        assert await in_group(app, h, WANG, "Same crack", group_alert_id(session, 2)) == [
            "This incident is closed."  # the duplicate takes no notes: they go to the incident it joined
        ]
        assert await in_group(app, h, WANG, "Same crack", group_alert_id(session, 1)) == [
            "📝 Added to the timeline of INC-2026-000001."
        ]
    finally:
        await app.close()


async def test_over_http_within_telegrams_limits_the_album_and_the_pin_cost_two_sends(
    sqlite_url: str, clock: ManualClock
) -> None:
    """Against the fake Bot API over HTTP with Telegram's group limit enforced (20 messages a minute): ten photos
    are one sendMediaGroup, so the officer's chat and the group each take two sends (alert, album) instead of
    eleven; nothing is refused with 429; the group's alert is pinned, and unpinned when the officer
    acknowledges."""
    async with FakeBotApi() as server:
        server.enforce_limits(global_per_second=None, per_chat_per_second=None)  # the wizard is not paced
        settings = settings_for(sqlite_url, telegram_api_base=server.base_url)
        app = await build_app(settings, clock=clock, policy=group_policy())
        try:
            h = Harness(app, RecordingSession(), clock)  # the bot talks to the fake; the recording stays empty
            await crew(h)
            server.clear()
            await report_with_photos(h, 10)
            assert [d.method for d in server.sent_messages(WANG)] == ["sendMessage", "sendMediaGroup"]
            assert [d.method for d in server.sent_messages(GROUP)] == ["sendMessage", "sendMediaGroup"]
            assert {d.params.get("message_thread_id") for d in server.sent_messages(GROUP)} == {TOPIC}
            assert len(server.sent_messages(WANG)[1].params["media"]) == 10
            assert server.rate_limit_hits == []
            alert = server.sent_messages(GROUP)[0].result["message_id"]
            assert server.pinned[GROUP] == [alert]
            await h.press(WANG, ack())
            assert server.pinned[GROUP] == []
            assert server.internal_errors == []
        finally:
            await app.close()


def test_a_forum_topic_needs_its_group_and_the_policy_says_so_at_its_line(tmp_path: Path) -> None:
    text = default_policy_path().read_text(encoding="utf-8")
    text = text.replace("# group_topic_id = 42", "group_topic_id = 42")
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    [issue] = caught.value.issues
    assert issue.path == "duty_rooms[0].group_topic_id"
    assert issue.line == text.splitlines().index("group_topic_id = 42") + 1
    assert "set group_chat_id too" in issue.hint
    path.write_text(text.replace("# group_chat_id = -1001234567890", "group_chat_id = -1001234567890"), "utf-8")
    room = load_policy(path).duty_room("dispatch")
    assert (room.group_chat_id, room.group_topic_id) == (-1001234567890, 42)
    assert load_policy(None).incidents.duplicates.window_minutes == 120  # the shipped defaults
