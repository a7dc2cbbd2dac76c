"""Deadlines through the real Dispatcher (E1, E3, E4): generation, reminders, done with evidence,
late and missed escalation, unreachable owners."""

from __future__ import annotations

from sqlalchemy import select

from bot.outgoing.deadlines import DeadlineCb
from handlers.deadline_ui import DeadlineFormCb
from storage.models import AuditEntry, Timer
from tests.conftest import Harness
from tests.support.deadlines import (  # noqa: F401  (deadline_harness is the fixture dh)
    FINANCE,
    HEAD,
    LEADER_ID,
    OWNER,
    STAFF,
    advance_to,
    deadline_harness,
    instance,
    instances,
    join_en,
    local,
)


async def branch(h: Harness) -> None:
    """The branch's information officer owns branch_risk; its head and a leader hear about misses."""
    await join_en(h, OWNER, ["information_officer"], "branch_a")
    await join_en(h, HEAD, ["department_head"], "branch_a")
    await join_en(h, LEADER_ID, ["leader"], "company")
    await h.start()


def reminders(h: Harness, user_id: int) -> list[str]:
    return [text for text in h.session.texts(user_id) if text.startswith("⏰ Reminder")]


async def test_e1_e3_the_next_two_periods_are_generated_once_on_the_working_day_calendar(dh: Harness) -> None:
    """E3: "4 working days after month end" for September 2025 is Mon 13 Oct (1-8 Oct off, the make-up
    Saturday 11 Oct counts); flash reports by the 5th roll over the holiday to Thu 9 Oct. A second start
    creates nothing new (unique obligation + period)."""
    h = dh
    await branch(h)
    await h.start()
    due = {(row.obligation, row.period): row.due_at for row in await instances(h)}
    assert due == {
        ("branch_risk", "2025-09"): local(2025, 10, 13, 23, 59),
        ("branch_risk", "2025-10"): local(2025, 11, 6, 23, 59),
        ("flash", "2025-09"): local(2025, 10, 9, 23, 59),
        ("flash", "2025-10"): local(2025, 11, 5, 23, 59),
    }
    listing = (await h.send(OWNER, "/deadlines"))[0]
    assert "⏳ Customer-risk data · September 2025 · due 13 Oct 2025, 23:59" in listing
    assert "Flash report" not in listing  # the finance department's, not this owner's


async def test_e4_owner_is_reminded_at_each_offset_with_done_and_more_time(dh: Harness) -> None:
    h = dh
    await branch(h)
    await advance_to(h, local(2025, 10, 10, 23, 58))
    assert reminders(h, OWNER) == []
    await advance_to(h, local(2025, 10, 10, 23, 59))  # 3 days before
    assert reminders(h, OWNER) == [
        "⏰ Reminder: Customer-risk data (September 2025) is due 13 Oct 2025, 23:59.\n"
        "Marking it done needs a note or a file as evidence."
    ]
    assert [text for text, _ in h.buttons(OWNER)] == ["✅ Done", "⏳ Need more time"]
    await advance_to(h, local(2025, 10, 13, 22, 0))  # 1 day and 2 hours before
    assert len(reminders(h, OWNER)) == 3
    assert reminders(h, HEAD) == [] and reminders(h, LEADER_ID) == []


async def test_e4_reminders_speak_the_owners_language(dh: Harness) -> None:
    h = dh
    await h.join(OWNER, ["information_officer"], department="branch_a")  # no language chosen: the default
    await h.start()
    await advance_to(h, local(2025, 10, 11))
    assert h.session.texts(OWNER)[-1] == (
        "⏰ 提醒：客户风险数据报送（2025年9月）的截止时间为 2025年10月13日 23:59。\n"
        "标记完成时需提交说明或文件作为佐证材料。"
    )


async def test_e4_done_with_evidence_asks_for_it_checks_it_and_stops_the_reminders(dh: Harness) -> None:
    h = dh
    await branch(h)
    row = await instance(h, "branch_risk", "2025-09")
    answers = await h.press(OWNER, DeadlineCb(action="done", id=row.id))
    assert answers[-1].startswith("Evidence for Customer-risk data · September 2025")
    assert await h.send(OWNER, "x" * 10_000) == ["The note is too long: at most 2000 characters."]
    replies = await h.send(OWNER, None, document=True, caption="Submitted, ref 2025-117")
    assert replies == ["Mark it done with this evidence: a file and the note: Submitted, ref 2025-117?"]
    answers = await h.press(OWNER, DeadlineFormCb(action="back"))
    assert answers[-1].startswith("Evidence for")
    await h.send(OWNER, "Submitted by e-mail, ref 2025-117")
    answers = await h.press(OWNER, DeadlineFormCb(action="ok"))
    assert answers[-1] == "✅ Marked done: Customer-risk data · September 2025 · due 13 Oct 2025, 23:59 — on time."
    await advance_to(h, local(2025, 10, 20))
    assert reminders(h, OWNER) == []  # done before the first reminder: none is sent
    assert not any("late" in text for text in h.session.texts(HEAD))
    done = await instance(h, "branch_risk", "2025-09")
    assert (done.state, done.outcome, done.evidence_note) == ("done", "on_time", "Submitted by e-mail, ref 2025-117")
    async with h.app.uow() as uow:
        pending = await uow.timers.pending()
    assert not [timer for timer in pending if timer.ref == str(row.id)]


async def test_e4_done_without_evidence_is_one_tap(dh: Harness) -> None:
    h = dh
    await join_en(h, FINANCE, ["information_officer"], "finance")
    await h.start()
    row = await instance(h, "flash", "2025-09")
    answers = await h.press(FINANCE, DeadlineCb(action="done", id=row.id))
    assert answers[-1] == "✅ Marked done: Flash report · September 2025 · due 9 Oct 2025, 23:59 — on time."
    again = await h.press(FINANCE, DeadlineCb(action="done", id=row.id))
    assert again == ["This deadline has already been marked done."]


async def test_e4_late_tells_owner_and_head_then_missed_tells_leaders(dh: Harness) -> None:
    """E4: past due without Done -> late (owner and department head told); past the grace period
    (48 h in the test policy) -> missed (leaders told). Done afterwards still counts as missed."""
    h = dh
    await branch(h)
    await advance_to(h, local(2025, 10, 13, 23, 59))
    assert h.session.texts(OWNER)[-1].startswith("⚠️ Customer-risk data (September 2025) was due 13 Oct 2025, 23:59")
    assert h.session.texts(HEAD)[-1] == (
        "⚠️ Late: Customer-risk data (September 2025), East City Branch, was due 13 Oct 2025, 23:59 and is not "
        "done. Owner: Member 3001."
    )
    assert not any("Missed: Customer-risk" in text for text in h.session.texts(LEADER_ID))
    await advance_to(h, local(2025, 10, 15, 23, 58))
    assert not any("Missed: Customer-risk" in text for text in h.session.texts(LEADER_ID))
    await advance_to(h, local(2025, 10, 15, 23, 59))
    assert h.session.texts(LEADER_ID)[-1].startswith("❌ Missed: Customer-risk data (September 2025), East City Branch")
    row = await instance(h, "branch_risk", "2025-09")
    assert (row.state, row.outcome) == ("missed", "missed")
    await h.press(OWNER, DeadlineCb(action="done", id=row.id))
    await h.send(OWNER, "Filed at last")
    answers = await h.press(OWNER, DeadlineFormCb(action="ok"))
    assert answers[-1].endswith("— after it was missed.")
    assert (await instance(h, "branch_risk", "2025-09")).outcome == "missed"
    async with h.app.uow() as uow:
        entries = await uow.session.scalars(
            select(AuditEntry).where(AuditEntry.entity == "deadline", AuditEntry.entity_id == str(row.id))
        )
        actions = [entry.action for entry in entries]
    assert actions == ["generated", "late", "missed", "done"]


async def test_f3_only_owners_mark_done_and_forged_ids_are_refused(dh: Harness) -> None:
    h = dh
    await branch(h)
    await join_en(h, STAFF, ["staff"], "branch_a")
    row = await instance(h, "branch_risk", "2025-09")
    refusal = ["Only the owner of this deadline can do this."]
    assert await h.press(STAFF, DeadlineCb(action="done", id=row.id)) == refusal
    assert await h.press(HEAD, DeadlineCb(action="done", id=row.id)) == refusal
    assert await h.press(OWNER, DeadlineCb(action="done", id=9999)) == ["This deadline does not exist."]
    async with h.app.uow() as uow:
        refusals = [e for e in await uow.session.scalars(select(AuditEntry)) if e.action == "refused"]
    assert len(refusals) == 2
    assert (await instance(h, "branch_risk", "2025-09")).state == "upcoming"


async def test_e4_an_unreachable_owner_is_reported_to_the_department_head(dh: Harness) -> None:
    h = dh
    await branch(h)
    h.session.block(OWNER)
    await advance_to(h, local(2025, 10, 11))
    assert h.session.texts(HEAD)[-1] == (
        "📵 A message about Customer-risk data (September 2025) could not be delivered to Member 3001: Telegram "
        "refused it (the bot may be blocked). Please make sure they know."
    )


async def test_e1_the_daily_pass_generates_the_next_period_when_one_passes(dh: Harness) -> None:
    h = dh
    await branch(h)
    await advance_to(h, local(2025, 10, 14, 2, 0))  # the daily pass after September's deadline
    periods = sorted(row.period for row in await instances(h) if row.obligation == "branch_risk")
    assert periods == ["2025-09", "2025-10", "2025-11"]
    async with h.app.uow() as uow:
        daily = [timer for timer in await uow.timers.pending("deadline_daily")]
    assert [timer.due_at for timer in daily] == [local(2025, 10, 15, 2, 0)]
    assert isinstance(daily[0], Timer)
