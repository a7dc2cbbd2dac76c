"""More time (E4): the owner asks, the department head gives a new deadline with a reason or
declines; given time is recorded as an extension, not as on time (A5)."""

from __future__ import annotations

from bot.outgoing.deadlines import DeadlineCb
from handlers.deadline_ui import DeadlineFormCb
from tests.conftest import Harness
from tests.support.deadlines import (  # noqa: F401  (deadline_harness is the fixture dh)
    FINANCE,
    HEAD,
    OWNER,
    advance_to,
    deadline_harness,
    instance,
    join_en,
    local,
)


async def asked(h: Harness) -> int:
    """The branch's owner asks for more time for September's customer-risk data; returns its id."""
    await join_en(h, OWNER, ["information_officer"], "branch_a")
    await join_en(h, HEAD, ["department_head"], "branch_a")
    await h.start()
    row = await instance(h, "branch_risk", "2025-09")
    answers = await h.press(OWNER, DeadlineCb(action="more", id=row.id))
    assert answers[-1].startswith("More time for Customer-risk data · September 2025")
    assert await h.send(OWNER, "x" * 600) == ["The reason is too long: at most 500 characters."]
    replies = await h.send(OWNER, "The regulator's new template arrives on 15 October")
    assert replies[-1].startswith("Ask your department head for more time?")
    answers = await h.press(OWNER, DeadlineFormCb(action="ok"))
    assert answers[-1] == "Your request for more time has been sent. You will hear the decision here."
    return row.id


async def test_e4_head_gives_more_time_with_a_reason_and_it_counts_as_extended(dh: Harness) -> None:
    h = dh
    row_id = await asked(h)
    assert h.session.texts(HEAD)[-1] == (
        "⏳ Member 3001 asks for more time for Customer-risk data (September 2025), due 13 Oct 2025, 23:59.\n"
        "Reason: The regulator's new template arrives on 15 October"
    )
    assert [text for text, _ in h.buttons(HEAD)] == ["Grant more time", "Decline"]
    answers = await h.press(HEAD, DeadlineCb(action="grant", id=row_id))
    assert answers[-1].startswith("More time for Customer-risk data")
    assert await h.send(HEAD, "next week") == [
        "Please send a date such as 2026-04-10, or a date and time such as 2026-04-10 18:00."
    ]
    assert await h.send(HEAD, "2025-10-01") == [
        "The new deadline must be in the future and later than the current one."
    ]
    assert (await h.send(HEAD, "2025-10-20 18:00"))[-1].startswith("Why is more time given?")
    replies = await h.send(HEAD, "Template delayed by the regulator")
    assert replies[-1] == (
        "Give more time for Customer-risk data · September 2025 · due 13 Oct 2025, 23:59?\n"
        "New deadline: 20 Oct 2025, 18:00\nReason: Template delayed by the regulator"
    )
    answers = await h.press(HEAD, DeadlineFormCb(action="back"))
    assert answers[-1].startswith("Why is more time given?")
    await h.send(HEAD, "Template delayed by the regulator")
    answers = await h.press(HEAD, DeadlineFormCb(action="ok"))
    assert answers[-1].startswith("More time given for Customer-risk data")
    assert h.session.texts(OWNER)[-1].startswith(
        "🕒 Member 3002 gave more time for Customer-risk data (September 2025): now due 20 Oct 2025, 18:00."
    )

    await advance_to(h, local(2025, 10, 15))  # past the original deadline: not late
    assert not any(text.startswith("⚠️ Late") for text in h.session.texts(HEAD))
    assert (await instance(h, "branch_risk", "2025-09")).state == "upcoming"
    await h.press(OWNER, DeadlineCb(action="done", id=row_id))
    await h.send(OWNER, "Filed with the new template")
    answers = await h.press(OWNER, DeadlineFormCb(action="ok"))
    assert answers[-1].endswith("— within the extension.")
    assert "(extended from 13 Oct 2025, 23:59)" in answers[-1]
    row = await instance(h, "branch_risk", "2025-09")
    assert (row.outcome, row.extension_reason) == ("extended", "Template delayed by the regulator")
    report = (await h.send(HEAD, "/timeliness 2025-10"))[0]
    assert "East City Branch: on time 0 · with extension 1 · late 0 · missed 0 · on-time rate 0%" in report


async def test_e4_an_extension_moves_the_reminders_and_the_late_check(dh: Harness) -> None:
    h = dh
    row_id = await asked(h)
    await h.press(HEAD, DeadlineCb(action="grant", id=row_id))
    await h.send(HEAD, "2025-10-20")
    await h.send(HEAD, "Waiting for data")
    await h.press(HEAD, DeadlineFormCb(action="ok"))
    await advance_to(h, local(2025, 10, 19, 23, 59))  # 1 day before the new deadline (end of 20 Oct)
    assert h.session.texts(OWNER)[-1].startswith(
        "⏰ Reminder: Customer-risk data (September 2025) is due 20 Oct 2025, 23:59."
    )
    await advance_to(h, local(2025, 10, 21))
    assert h.session.texts(HEAD)[-1].startswith("⚠️ Late: Customer-risk data (September 2025)")


async def test_e4_head_declines_and_the_owner_hears_it(dh: Harness) -> None:
    h = dh
    row_id = await asked(h)
    answers = await h.press(HEAD, DeadlineCb(action="decline", id=row_id))
    assert "Declined. The owner has been told." in answers
    assert h.session.texts(OWNER)[-1] == (
        "Member 3002 did not give more time for Customer-risk data (September 2025); it is still due "
        "13 Oct 2025, 23:59."
    )


async def test_f3_only_the_department_head_or_a_leader_decides(dh: Harness) -> None:
    h = dh
    row_id = await asked(h)
    await join_en(h, FINANCE, ["department_head"], "finance")  # another department's head
    refusal = ["Only the department head or a leader can decide on more time."]
    assert await h.press(FINANCE, DeadlineCb(action="grant", id=row_id)) == refusal
    assert await h.press(OWNER, DeadlineCb(action="decline", id=row_id)) == refusal
    assert (await instance(h, "branch_risk", "2025-09")).extended_due is None


async def test_cancel_leaves_the_request_form_and_nothing_is_sent(dh: Harness) -> None:
    h = dh
    await join_en(h, OWNER, ["information_officer"], "branch_a")
    await join_en(h, HEAD, ["department_head"], "branch_a")
    await h.start()
    row = await instance(h, "branch_risk", "2025-09")
    before = len(h.session.texts(HEAD))
    await h.press(OWNER, DeadlineCb(action="more", id=row.id))
    assert await h.press(OWNER, DeadlineFormCb(action="cancel")) == ["Cancelled. Nothing was saved."]
    await h.press(OWNER, DeadlineCb(action="more", id=row.id))
    assert await h.send(OWNER, "/cancel") == ["Cancelled. Nothing was saved."]
    assert len(h.session.texts(HEAD)) == before
