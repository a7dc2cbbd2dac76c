"""Alerting and escalation (A2): windows, each step of the chain, repeats, unreachable recipients, and who may
acknowledge — through the real Dispatcher, moving the injected clock."""

from __future__ import annotations

from handlers.incident_keyboards import ReportCb
from storage.incidents_models import ACKNOWLEDGED, REPORTED
from tests.conftest import ADMIN_ID, Harness
from tests.support.incidents import (
    HEAD,
    LEADER,
    LI,
    OUTSIDER,
    REPORTER,
    WANG,
    ack,
    alerts,
    audit_actions,
    crew,
    edits,
    incident,
    member,
    report,
)


async def test_an_acknowledgement_within_the_window_stops_the_escalation(harness: Harness) -> None:
    """A2: the first Acknowledge stops the chain; every alert is edited to say who and when; the reporter is told."""
    h = harness
    people = await crew(h)
    await report(h)
    await h.advance(minutes=2)
    answers = await h.press(WANG, ack())
    assert answers[0] == "Acknowledged. You are handling INC-2026-000001; the reporter was told."
    edited = edits(h, WANG)[-1]
    assert edited.text.endswith("\n\n✅ Acknowledged by Wang at 2 Mar 2026, 09:02.")
    assert "Acknowledge within" not in edited.text
    assert [b.text for row in edited.reply_markup.inline_keyboard for b in row] == [  # type: ignore[union-attr]
        "ℹ️ Details",
        "🔗 Duplicate of…",
    ]
    assert h.session.texts(REPORTER)[-1] == (
        "✅ Your report INC-2026-000001 was acknowledged by Wang at 2 Mar 2026, 09:02."
    )
    await h.advance(minutes=30)
    assert alerts(h, LI) == [] and alerts(h, HEAD) == []
    stored = await incident(h)  # A5: the moment and whether the window was met are kept
    assert (stored.status, stored.ack_seconds, stored.ack_in_window) == (ACKNOWLEDGED, 120, True)
    assert stored.assignee_id == stored.acknowledged_by == people.primary.id


async def test_nobody_acknowledges_so_each_step_is_alerted_then_the_last_repeats(harness: Harness) -> None:
    """A2: backup officer → head of the reporter's department → leaders, one step per 3-minute window; then the
    leaders again every 10 minutes and the administrators are told once."""
    h = harness
    await crew(h)
    await report(h)
    await h.advance(minutes=2, seconds=59)
    assert alerts(h, LI) == []
    await h.advance(seconds=1)
    assert "⏫ Passed on to you (backup officer on duty, step 2 of 4)" in alerts(h, LI)[-1]
    await h.advance(minutes=3)
    assert "(department head, step 3 of 4)" in alerts(h, HEAD)[-1]
    await h.advance(minutes=3)
    assert "(Leader, step 4 of 4)" in alerts(h, LEADER)[-1]
    assert len(alerts(h, WANG)) == len(alerts(h, LI)) == len(alerts(h, HEAD)) == 1  # earlier steps: once each
    await h.advance(minutes=3)
    assert "🔁 Still nobody has acknowledged after the whole chain (repeat 1)" in alerts(h, LEADER)[-1]
    told = [t for t in h.session.texts(ADMIN_ID) if "nobody acknowledged after the whole chain" in t]
    assert told == [
        "🔁 INC-2026-000001: nobody acknowledged after the whole chain. The alert repeats to the last "
        "step every 10 minutes."
    ]
    await h.advance(minutes=10)
    assert "(repeat 2)" in alerts(h, LEADER)[-1] and len(alerts(h, LEADER)) == 3
    assert len([t for t in h.session.texts(ADMIN_ID) if "whole chain" in t]) == 1
    await h.press(LEADER, ack())
    assert len(edits(h, WANG)) == len(edits(h, LI)) == len(edits(h, HEAD)) == 1 and len(edits(h, LEADER)) == 3
    await h.advance(minutes=30)
    assert len(alerts(h, LEADER)) == 3
    assert (await incident(h)).ack_in_window is False


async def test_an_unreachable_officer_is_skipped_at_once_and_everyone_learns_it(harness: Harness) -> None:
    """A2: a recipient who blocked the bot is skipped at once; the next step hears it, and so do administrators."""
    h = harness
    await crew(h)
    h.session.blocked.add(WANG)
    told = await report(h)
    assert "Alerted: Wang." in told[-1]  # queued to the officer on duty; Telegram refused it afterwards
    backup = alerts(h, LI)
    assert len(backup) == 1 and "Not reached: Wang" in backup[0]  # no 3-minute wait
    assert "INC-2026-000001: could not reach Wang" in h.session.texts(ADMIN_ID)[-1]
    assert await audit_actions(h) == ["reported", "alerted", "unreachable", "alerted"]
    await h.advance(minutes=3)
    assert "Not reached: Wang" in alerts(h, HEAD)[-1]


async def test_a_gap_in_the_roster_skips_to_the_backup_at_once(harness: Harness) -> None:
    h = harness
    await crew(h, primary=False)
    told = await report(h)
    assert "Alerted: Li." in told[-1]
    assert "Not reached: nobody as officer on duty" in alerts(h, LI)[-1]


async def test_a_second_press_says_who_acknowledged_first(harness: Harness) -> None:
    h = harness
    await crew(h)
    await report(h)
    await h.advance(minutes=4)
    await h.press(LI, ack())
    assert await h.press(WANG, ack()) == ["Already acknowledged by Li at 2 Mar 2026, 09:04."]
    assert (await incident(h)).acknowledged_by is not None


async def test_members_outside_the_chain_and_roster_cannot_acknowledge(harness: Harness) -> None:
    """F3: the button's presence proves nothing; a refusal is polite, audited, and changes nothing."""
    h = harness
    await crew(h)
    await member(h, OUTSIDER, "Outsider Ou", ["staff"], department="finance")
    await report(h)
    answers = await h.press(OUTSIDER, ack())
    assert answers == ["Only the officers on duty and this incident's chain can acknowledge it."]
    assert (await incident(h)).status == REPORTED
    assert "refused" in await audit_actions(h)
    await h.advance(minutes=3)
    assert len(alerts(h, LI)) == 1  # the escalation goes on


async def test_a_forged_press_for_another_rooms_incident_is_refused(harness: Harness) -> None:
    """F3: Wang may acknowledge dispatch's incident 1, not the information centre's incident 2."""
    h = harness
    await crew(h)
    await report(h)
    await report(h, category="information_security", description="Files encrypted on the shared drive")
    assert await h.press(WANG, ack(2)) == ["Only the officers on duty and this incident's chain can acknowledge it."]
    assert (await incident(h, "INC-2026-000002")).status == REPORTED
    assert "Not reached: nobody as officer on duty; nobody as backup officer on duty" in alerts(h, HEAD)[-1]


async def test_a_stale_wizard_button_after_submitting_does_nothing(harness: Harness) -> None:
    h = harness
    await crew(h)
    await report(h)
    answers = await h.press(REPORTER, ReportCb(action="submit"))
    assert answers == ["This button is no longer valid. Please start again."]
