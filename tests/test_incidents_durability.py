"""Escalations survive a restart and run once with two bot processes on one PostgreSQL database (A2, DESIGN.md);
a duty room's Telegram group gets the alert and its presses are authorised per member (F3)."""

from __future__ import annotations

import asyncio

import pytest

from bot.clock import ManualClock
from bot.outgoing.incidents import IncidentCb
from bot.policy import load_policy
from tests.conftest import POSTGRES_URL, reset_postgres
from tests.support.incidents import (
    HEAD,
    LEADER,
    LI,
    OUTSIDER,
    WANG,
    ack,
    alerts,
    crew,
    edits,
    incident,
    member,
    report,
    started,
)

GROUP = -1001234567890


async def test_a_restart_in_the_middle_of_an_escalation(sqlite_url: str, clock: ManualClock) -> None:
    """The bot stops after the primary was alerted; it starts again past the window: the backup is alerted at
    start, once, and the officer on duty is not alerted again."""
    first, _session, h = await started(sqlite_url, clock)
    await crew(h)
    await report(h)
    assert len(alerts(h, WANG)) == 1
    await first.close()

    clock.advance(minutes=4)
    second, session, again = await started(sqlite_url, clock)
    try:
        await second.timers.start()  # what fell due while the bot was down fires at start
        await second.outbox.drain()
        await second.timers.run_due()
        await second.outbox.drain()
        assert len(alerts(again, LI)) == 1 and alerts(again, WANG) == []
        clock.advance(minutes=3)
        await second.timers.run_due()
        await second.outbox.drain()
        assert len(alerts(again, HEAD)) == 1 and len(alerts(again, LI)) == 1
    finally:
        await second.close()


@pytest.mark.skipif(not POSTGRES_URL, reason="needs TEST_POSTGRES_URL (set in CI)")
async def test_two_processes_send_each_escalation_step_exactly_once(clock: ManualClock) -> None:
    assert POSTGRES_URL
    await reset_postgres(POSTGRES_URL)
    one, session_one, h = await started(POSTGRES_URL, clock)
    two, session_two, _h = await started(POSTGRES_URL, clock)
    try:
        await crew(h)
        await report(h)
        for minutes in (3, 3, 3, 3, 10):
            clock.advance(minutes=minutes)
            await asyncio.gather(one.timers.run_due(), two.timers.run_due())
            await asyncio.gather(one.outbox.drain(), two.outbox.drain())

        def sent(chat_id: int) -> int:
            return sum(
                1
                for s in (session_one, session_two)
                for m in s.sent(chat_id, "sendMessage")
                if m.text.startswith("🚨 INC")  # type: ignore[attr-defined]
            )

        assert (sent(WANG), sent(LI), sent(HEAD), sent(LEADER)) == (1, 1, 1, 3)  # the step, then two repeats
    finally:
        await one.close()
        await two.close()


async def test_a_duty_room_group_gets_the_alert_and_presses_there_are_checked(
    database_url: str, clock: ManualClock
) -> None:
    default = load_policy(None)
    rooms = tuple(
        r.model_copy(update={"group_chat_id": GROUP}) if r.code == "dispatch" else r for r in default.duty_rooms
    )
    app, session, h = await started(database_url, clock, policy=default.model_copy(update={"duty_rooms": rooms}))
    try:
        await crew(h)
        await member(h, OUTSIDER, "Outsider Ou", ["staff"], department="finance")
        await report(h)
        assert len(alerts(h, GROUP)) == 1 and ("✅ 确认接警", "inc:ack:1:0") in h.buttons(GROUP)
        refused = h.updates.callback(OUTSIDER, ack().pack(), chat_id=GROUP)
        await app.dispatcher.feed_update(app.bot, refused)
        assert session.requests[-1].text == (  # type: ignore[attr-defined]
            "Only the officers on duty and this incident's chain can acknowledge it."
        )
        await app.dispatcher.feed_update(app.bot, h.updates.callback(LI, ack().pack(), chat_id=GROUP))
        await app.outbox.drain()
        assert (await incident(h)).acknowledged_by is not None
        assert edits(h, GROUP)[-1].text.endswith("✅ 已由 Li 于 2026年3月2日 09:00 确认。")  # the group's language
        details = h.updates.callback(LI, IncidentCb(action="det", id=1).pack(), chat_id=GROUP)
        await app.dispatcher.feed_update(app.bot, details)  # the card goes to Li's private chat, not the group
        assert "Timeline:" in session.texts(LI)[-1]
        assert not any("Timeline:" in text for text in session.texts(GROUP))
    finally:
        await app.close()
