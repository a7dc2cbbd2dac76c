"""/event (E2, E6): an authorised member records an event; its deadlines follow from the policy's
rules and are assigned and reminded like every other deadline."""

from __future__ import annotations

from bot.outgoing.deadlines import DeadlineCb
from handlers.callbacks import LanguageCb
from handlers.deadline_ui import DeadlineFormCb
from tests.conftest import ADMIN_ID, Harness
from tests.support.deadlines import (  # noqa: F401  (deadline_harness is the fixture dh)
    SECRETARY,
    STAFF,
    advance_to,
    deadline_harness,
    instances,
    join_en,
    local,
)


async def test_e2_board_resolution_gives_a_disclosure_deadline_two_trading_days_later(dh: Harness) -> None:
    """E2: a resolution on Thu 9 Oct 2025: trading days Fri 10 Oct (1) and — skipping the make-up
    working Saturday 11 Oct, when the exchange is closed — Mon 13 Oct (2)."""
    h = dh
    await join_en(h, SECRETARY, ["information_officer"], "office")
    await h.start()
    await advance_to(h, local(2025, 10, 9, 10))
    replies = await h.send(SECRETARY, "/event")
    assert replies == ["Record an event — step 1 of 4: which event?"]
    assert [text for text, _ in h.buttons(SECRETARY)] == ["Board resolution adopted", "Shareholders' meeting", "Cancel"]
    answers = await h.press(SECRETARY, DeadlineFormCb(action="kind", value="board_resolution"))
    assert answers[-1].startswith("Step 2 of 4")
    assert await h.send(SECRETARY, "9 October") == ["Please send a date such as 2026-05-15."]
    assert await h.send(SECRETARY, "2019-10-09") == ["The date must lie between a year ago and three years from now."]
    answers = await h.press(SECRETARY, DeadlineFormCb(action="today"))
    assert answers[-1].startswith("Step 3 of 4")
    answers = await h.press(SECRETARY, DeadlineFormCb(action="back"))
    assert answers[-1].startswith("Step 2 of 4")
    await h.send(SECRETARY, "2025-10-09")
    assert await h.send(SECRETARY, "字" * 501) == ["The description is too long: at most 500 characters."]
    replies = await h.send(SECRETARY, "Dividend policy for 2025")
    assert replies[-1] == (
        "Step 4 of 4: record this event?\n"
        "Board resolution adopted on 9 Oct 2025: Dividend policy for 2025\n"
        "Deadlines it creates:\n"
        "• Board resolution disclosure: due 13 Oct 2025, 23:59"
    )
    answers = await h.press(SECRETARY, DeadlineFormCb(action="ok"))
    assert answers[0].startswith("Recorded. The owners have been told and will be reminded:")
    assert h.session.texts(SECRETARY)[-1].startswith(
        "📌 New deadline from the event “Board resolution adopted” on 9 Oct 2025 (Dividend policy for 2025): "
        "Board resolution disclosure, due 13 Oct 2025, 23:59."
    )
    [row] = [row for row in await instances(h) if row.obligation == "board_disclosure"]
    assert row.due_at == local(2025, 10, 13, 23, 59)
    await advance_to(h, local(2025, 10, 12, 23, 59))  # the 1-day reminder, like any other deadline
    assert h.session.texts(SECRETARY)[-1].startswith("⏰ Reminder: Board resolution disclosure (9 Oct 2025 · Dividend")
    assert ("✅ Done", DeadlineCb(action="done", id=row.id).pack()) in h.buttons(SECRETARY)


async def test_e2_meeting_notice_twenty_days_before_moves_to_the_working_day_before(dh: Harness) -> None:
    """E2: a meeting on Fri 15 May 2026: 20 days before is Sat 25 Apr 2026 -> Fri 24 Apr."""
    h = dh
    await h.press(ADMIN_ID, LanguageCb(code="en"))
    await h.send(ADMIN_ID, "/event")  # administrators may record every event
    await h.press(ADMIN_ID, DeadlineFormCb(action="kind", value="shareholders_meeting"))
    await h.send(ADMIN_ID, "2026-05-15")
    replies = await h.send(ADMIN_ID, "Annual general meeting")
    assert replies[-1].endswith("• Meeting notice: due 24 Apr 2026, 23:59")
    await h.press(ADMIN_ID, DeadlineFormCb(action="ok"))
    [row] = [row for row in await instances(h) if row.obligation == "meeting_notice"]
    assert (row.due_at, row.department) == (local(2026, 4, 24, 23, 59), "office")


async def test_f3_only_owners_of_an_event_or_administrators_record_it(dh: Harness) -> None:
    h = dh
    await join_en(h, STAFF, ["staff"], "office")
    await join_en(h, SECRETARY, ["information_officer"], "finance")  # the owner role, in another department
    refusal = ["Only the members who own an event's deadlines, or administrators, can record it."]
    assert await h.send(STAFF, "/event") == refusal
    assert await h.send(SECRETARY, "/event") == refusal
    assert not [row for row in await instances(h) if row.event_id is not None]


async def test_cancel_at_any_step_records_nothing(dh: Harness) -> None:
    h = dh
    await join_en(h, SECRETARY, ["information_officer"], "office")
    await h.send(SECRETARY, "/event")
    await h.press(SECRETARY, DeadlineFormCb(action="kind", value="board_resolution"))
    await h.send(SECRETARY, "2025-09-25")
    assert await h.press(SECRETARY, DeadlineFormCb(action="cancel")) == ["Cancelled. Nothing was saved."]
    assert await h.send(SECRETARY, "Dividend policy") == ["To start, send a command. /help lists what you can do."]
    assert not [row for row in await instances(h) if row.event_id is not None]
