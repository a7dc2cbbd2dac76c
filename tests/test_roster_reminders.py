"""Shift reminders (B1): each officer is reminded before their shift starts, by the policy's offsets,
and the reminder follows the shift when it changes hands. Time moves on the injected clock."""

from __future__ import annotations

from datetime import timedelta

from bot.app import build_app
from bot.policy import default_policy_path, parse_policy
from bot.services.actor import Actor
from tests.conftest import ADMIN_ID, Harness, settings_for
from tests.support.recording_session import RecordingSession
from tests.support.roster import MONDAY, officer, put_on, roster_of

REMINDER = "Reminder: your shift"


def reminders(h: Harness, chat_id: int) -> list[str]:
    return [text for text in h.session.texts(chat_id) if text.startswith(REMINDER)]


async def test_an_officer_is_reminded_an_hour_before_the_shift_and_the_reminder_follows_a_swap(
    harness: Harness,
) -> None:
    """B1: the default policy reminds 1 h ahead; a keeper's swap moves the reminder to the newcomer."""
    h = harness
    wang, li = await officer(h, 2001, "Wang"), await officer(h, 2002, "Li")
    await put_on(h, wang, "night")  # Monday 20:00 Shanghai; the clock is at 09:00
    await put_on(h, li, "night", MONDAY + timedelta(days=1))
    await h.advance(hours=9, minutes=59)  # 18:59
    assert reminders(h, 2001) == []
    await h.advance(minutes=1)  # 19:00
    [reminder] = reminders(h, 2001)
    assert reminder.splitlines() == [
        "Reminder: your shift Dispatch room · Night shift (primary) starts at 2 Mar 2026, 20:00 "
        "and ends at 3 Mar 2026, 08:00.",
        "Primary: Wang. Backup: —.",
    ]
    # Tuesday's night changes hands before its reminder: Wang is reminded, Li is not
    await roster_of(h).swap(
        Actor(ADMIN_ID), room="dispatch", shift="night", day=MONDAY + timedelta(days=1), member_id=wang.id
    )
    await h.advance(days=1)  # Tuesday 19:00
    assert len(reminders(h, 2001)) == 2 and reminders(h, 2002) == []
    await h.advance(days=1)
    assert len(reminders(h, 2001)) == 2  # nothing more: Wang stands no Wednesday shift


async def test_a_member_put_on_a_shift_inside_the_reminder_window_is_reminded_at_once(harness: Harness) -> None:
    h = harness
    wang = await officer(h, 2001, "Wang")
    await h.advance(hours=10, minutes=30)  # 19:30, the night shift starts in half an hour
    await put_on(h, wang, "night")
    await h.advance(seconds=1)
    assert len(reminders(h, 2001)) == 1
    await h.advance(hours=1)
    assert len(reminders(h, 2001)) == 1  # once only


async def test_the_offsets_come_from_the_policy_and_survive_a_restart(sqlite_url: str, clock) -> None:  # noqa: ANN001
    """B1: a room reminding 12 h and 30 min ahead; timers are rows, so a restart loses none and
    repeats none (the one missed while down fires at start)."""
    text = (
        default_policy_path()
        .read_text(encoding="utf-8")
        .replace('shift_reminders = ["1h"]', 'shift_reminders = ["12h", "30m"]', 1)
    )
    policy = parse_policy(text)
    session = RecordingSession()
    app = await build_app(settings_for(sqlite_url), clock=clock, policy=policy, session=session)
    h = Harness(app, session, clock)
    try:
        wang = await officer(h, 2001, "Wang", language="zh_Hans")
        await put_on(h, wang, "night", MONDAY + timedelta(days=1))  # Tuesday 20:00
        await h.advance(hours=22, minutes=59)  # Tuesday 07:59
        assert reminders(h, 2001) == [] and not any(t.startswith("提醒") for t in session.texts(2001))
        await h.advance(minutes=1)  # 08:00: 12 hours ahead
        [first] = [t for t in session.texts(2001) if t.startswith("提醒")]
        assert "调度室 · 夜班" in first and "主班" in first
    finally:
        await app.close()

    clock.advance(hours=11, minutes=45)  # down from 08:00 until 19:45: the 30-minute reminder fell due meanwhile
    session = RecordingSession()
    app = await build_app(settings_for(sqlite_url), clock=clock, policy=policy, session=session)
    h = Harness(app, session, clock)
    try:
        await h.start()
        assert len([t for t in session.texts(2001) if t.startswith("提醒")]) == 1
        await h.advance(hours=1)
        assert len([t for t in session.texts(2001) if t.startswith("提醒")]) == 1
    finally:
        await app.close()
