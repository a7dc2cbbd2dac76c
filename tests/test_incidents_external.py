"""The outside report within 24 hours (A4): which incidents, the deadline, reminders, the missed deadline, and
the officer's record of the filing — through the real Dispatcher, moving the injected clock."""

from __future__ import annotations

from bot.clock import ManualClock
from bot.outgoing.incidents import IncidentCb
from bot.policy import load_policy
from bot.policy.schema import CaseLimit
from handlers.incident_keyboards import FilingCb
from storage.incidents_models import EXTERNAL_FILED, EXTERNAL_MISSED
from tests.conftest import Harness
from tests.support.incidents import LEADER, OUTSIDER, REPORTER, WANG, ack, crew, incident, member, report, started


def reminders(h: Harness, chat_id: int) -> list[str]:
    return [t for t in h.session.texts(chat_id) if t.startswith("⏰")]


async def test_reminders_before_the_deadline_then_leaders_hear_it_was_missed(harness: Harness) -> None:
    """A4(1): a public-order incident is reported outside within 24 h of occurring; the acknowledging officer is
    reminded 12, 4 and 1 hours before; when it passes unfiled the leaders are alerted and it counts as missed."""
    h = harness
    await crew(h)
    told = await report(h, category="public_order", description="Crowd blocking the main gate")
    assert "Must be reported outside by 3 Mar 2026, 09:00 (the category is always reported outside)" in told[-1]
    await h.press(WANG, ack())
    await h.advance(hours=11, minutes=59)
    assert reminders(h, WANG) == []
    await h.advance(minutes=1)
    assert reminders(h, WANG) == [
        "⏰ INC-2026-000001 must be reported outside by 3 Mar 2026, 09:00 — 12 h left (the category is always "
        "reported outside). Record the filing when done."
    ]
    assert ("📤 Record the outside report", "inc:file:1:0") in h.buttons(WANG)
    await h.advance(hours=8)
    await h.advance(hours=3)
    assert [r.split(" — ")[1][:9] for r in reminders(h, WANG)] == ["12 h left", "4 h left ", "1 h left "]
    assert not any(t.startswith("❗") for t in h.session.texts(LEADER))
    await h.advance(hours=1)
    assert h.session.texts(LEADER)[-1] == (
        "❗ INC-2026-000001: the outside report was due by 3 Mar 2026, 09:00 and has not been filed "
        "(the category is always reported outside)."
    )
    assert (await incident(h)).external_state == EXTERNAL_MISSED
    await file_report(h, reference="Late-7")
    stored = await incident(h)
    assert (stored.external_state, stored.external_missed) == (EXTERNAL_FILED, True)  # filed late: still missed


async def file_report(h: Harness, reference: str) -> list[str]:
    await h.press(WANG, IncidentCb(action="file", id=1))
    await h.press(WANG, FilingCb(action="now"))
    await h.press(WANG, FilingCb(action="body", value="coordination_office"))
    await h.send(WANG, reference)
    return await h.press(WANG, FilingCb(action="skip"))


async def test_recording_the_filing_closes_the_deadline(harness: Harness) -> None:
    """A4: when, to which body, reference number, optional file; no reminders or alarms afterwards."""
    h = harness
    await crew(h)
    await report(h, category="casualty", description="Worker found unconscious")
    await h.press(WANG, ack())
    await h.advance(hours=2)
    await h.press(WANG, IncidentCb(action="file", id=1))
    await h.send(WANG, "10:30")
    assert (await h.send(WANG, "Joint office of the district"))[-1] == "The reference number of the filing?"
    assert await h.send(WANG, "R" * 300) == ["Send the reference number in at most 100 characters."]
    await h.send(WANG, "联办〔2026〕12号")
    answers = await h.send(WANG, None, document="doc-filing")  # type: ignore[arg-type]
    assert answers[0] == "The outside report is recorded; the deadline is closed."
    assert (
        "📤 Reported outside on 2 Mar 2026, 10:30 to Joint office of the district, reference 联办〔2026〕12号."
        in answers[1]
    )
    stored = await incident(h)
    assert (stored.external_state, stored.external_missed, stored.external_file_id) == (
        EXTERNAL_FILED,
        False,
        "doc-filing",
    )
    await h.advance(hours=30)
    assert reminders(h, WANG) == [] and not any(t.startswith("❗") for t in h.session.texts(LEADER))
    assert await h.press(WANG, IncidentCb(action="file", id=1)) == [
        "That does not fit INC-2026-000001 now: it is acknowledged."
    ]


async def test_the_third_case_of_a_kind_within_thirty_days_is_reportable(harness: Harness) -> None:
    """A4(4): the third same-category incident in a rolling 30 days (organisation-wide) is reportable, and says why."""
    h = harness
    await crew(h)
    for days in (0, 25, 15):  # day 0, day 25, day 40: only two in any 30 days
        h.clock.advance(days=days)
        told = await report(h)
        assert "reported outside" not in told[-1]
    h.clock.advance(days=5)  # day 45: days 25, 40 and 45
    told = await report(h)
    assert "Must be reported outside by" in told[-1] and "(case 3 of this category within 30 days)" in told[-1]
    assert (await incident(h, "INC-2026-000004")).reportable_reasons == [{"code": "repeat", "count": 3, "days": 30}]


async def test_an_officer_marks_an_incident_for_the_outside_report_by_hand(harness: Harness) -> None:
    """A4(5): other must-report cases; the reason (who marked it) is recorded and shown."""
    h = harness
    await crew(h)
    await report(h)
    await h.press(WANG, ack())
    answers = await h.press(WANG, IncidentCb(action="flag", id=1))
    assert answers[0] == "Marked: it must be reported outside."
    assert ("📤 Record the outside report", "inc:file:1:0") in h.buttons(WANG)  # the refreshed card
    card = (await h.send(REPORTER, "/incident INC-2026-000001"))[-1]
    assert "📤 Must be reported outside by 3 Mar 2026, 09:00 (marked by Wang)." in card
    assert "must be reported outside: marked by Wang" in card


async def test_a_department_can_have_its_own_case_limit(database_url: str, clock: ManualClock) -> None:
    """A4(4), configurable per department: at the office two cases in 30 days, counted in the office; elsewhere the
    organisation's three, counted across the organisation."""
    default = load_policy(None)
    third_case = default.incidents.third_case.model_copy(
        update={"per_department": {"office": CaseLimit(count=2, window_days=30)}}
    )
    incidents = default.incidents.model_copy(update={"third_case": third_case})
    app, _session, h = await started(database_url, clock, policy=default.model_copy(update={"incidents": incidents}))
    try:
        await crew(h)
        await member(h, OUTSIDER, "Outsider Ou", ["staff"], department="finance")
        assert "reported outside" not in (await report(h, OUTSIDER))[-1]
        assert "reported outside" not in (await report(h))[-1]  # the office's first
        assert "(case 2 of this category within 30 days)" in (await report(h))[-1]  # counted in the office only
        assert "(case 4 of this category within 30 days)" in (await report(h, OUTSIDER))[-1]  # finance: all four
    finally:
        await app.close()
