"""Linked reports (issue 14; A1, A2, A4(4), F1, F3): three people reporting one theft are one incident, one
escalation and one case of the month — through the real Dispatcher."""

from __future__ import annotations

from datetime import timedelta

from aiogram.methods import SendMessage

from bot.outgoing.incidents import IncidentCb
from bot.services.incidents.similar import haversine_metres, similar
from bot.services.incidents.timeliness import acknowledgements
from storage.incidents_models import CLOSED, EXTERNAL_PENDING
from tests.conftest import Harness
from tests.support.incidents import (
    LI,
    OUTSIDER,
    REPORTER,
    WANG,
    ack,
    alerts,
    audit_actions,
    crew,
    edits,
    member,
    report,
)

SECOND, THIRD = 3003, 3004


def press(action: str, incident_id: int, value: int = 0) -> IncidentCb:
    return IncidentCb(action=action, id=incident_id, value=value)


async def three_reporters(h: Harness) -> None:
    await crew(h)
    await member(h, SECOND, "Second Sun", ["staff"])
    await member(h, THIRD, "Third Tang", ["staff"])
    h.session.clear()


async def stored(h: Harness, incident_id: int):  # type: ignore[no-untyped-def]
    async with h.app.uow() as uow:
        found = await uow.incidents.get(incident_id)
        assert found is not None
        return found


def timeline(card: str) -> list[str]:
    return [line.split(" · ", 1)[1] for line in card.split("Timeline:\n")[1].splitlines()]


async def test_a_report_marked_duplicate_stops_escalating_and_its_false_third_case_deadline_is_withdrawn(
    harness: Harness,
) -> None:
    """A4(4): the third report of one leak started a 24-hour outside-report deadline as "case 3 of the month".
    The officer marks it a duplicate of the first (picked from the alert's suggestions): it closes and joins
    the first's timeline, its reporter is told, its escalation stops, and the false deadline is withdrawn with
    an audit entry — no reminder comes later."""
    h = harness
    await three_reporters(h)
    await report(h, REPORTER, description="Steam leaking from boiler 2")
    await h.advance(minutes=1)
    await report(h, SECOND, description="Boiler 2 is hissing")
    second_alert = alerts(h, WANG)[-1]
    assert "🔗 Possibly the same as INC-2026-000001 (occurred 2 Mar 2026, 09:00)." in second_alert
    await h.advance(minutes=1)
    told = await report(h, THIRD, description="Steam in the boiler house")
    assert "case 3 of this category within 30 days" in told[-1]  # A4(4) counted three reports
    third = await stored(h, 3)
    assert third.external_state == EXTERNAL_PENDING

    assert h.buttons(WANG)[-1] == ("🔗 Duplicate of…", "inc:dup:3:0")
    await h.press(WANG, press("dup", 3))
    assert h.session.texts(WANG)[-1] == (
        "Which incident is INC-2026-000003 the same as? Tap one, or type its number (e.g. INC-2026-000123)."
    )
    assert [text for text, _data in h.buttons(WANG)] == [
        "🔗 INC-2026-000002 · 2 Mar 2026, 09:01",
        "🔗 INC-2026-000001 · 2 Mar 2026, 09:00",
        "Cancel",
    ]
    answer = await h.press(WANG, press("dupof", 3, 1))
    assert answer[0] == (
        "INC-2026-000003 is marked as a duplicate of INC-2026-000001: its alerts stopped and its reporter was told."
    )

    third = await stored(h, 3)
    assert (third.duplicate_of, third.status) == (1, CLOSED)
    assert (third.external_due_at, third.external_state, third.reportable_reasons) == (None, None, [])
    assert h.session.texts(THIRD)[-1] == (
        "🔗 Your report INC-2026-000003 is the same incident as INC-2026-000001, which was reported already; "
        "Wang linked them and it is handled there. Thank you for reporting."
    )
    edited = edits(h, WANG)[-1]
    assert edited.text.endswith("\n\n🔗 Marked by Wang as a duplicate of INC-2026-000001; it is handled there.")
    assert "Acknowledge within" not in edited.text
    assert (await audit_actions(h, 3))[-2:] == ["marked_duplicate", "external_withdrawn"]

    await h.advance(minutes=3)  # the window passes: the backup is alerted for the first two, not the duplicate
    assert [text.splitlines()[0].split(" · ")[0] for text in alerts(h, LI)] == [
        "🚨 INC-2026-000001",
        "🚨 INC-2026-000002",
    ]
    await h.advance(hours=13)  # no outside-report reminder for a deadline that no longer exists
    assert not any("INC-2026-000003 must be reported outside" in text for text in h.session.texts(WANG))

    card = (await h.send(WANG, "/incident INC-2026-000001"))[-1]
    assert "🔗 Also reported as: INC-2026-000003" in card
    assert (
        "INC-2026-000003 (reported by Third Tang) is the same incident; linked by Wang — Steam in the boiler house"
    ) in timeline(card)
    card = (await h.send(WANG, "/incident INC-2026-000003"))[-1]
    assert "🔗 Duplicate of INC-2026-000001" in card and "Status: closed" in card
    assert timeline(card)[-2:] == [
        "Wang marked it as a duplicate of INC-2026-000001",
        "the outside report deadline was withdrawn: it was marked as a duplicate of another report",
    ]
    assert h.session.sent(WANG, SendMessage)[-1].reply_markup is None  # type: ignore[attr-defined]  # handled as the first
    assert await h.press(WANG, ack(3)) == ["INC-2026-000003 is already marked as a duplicate of INC-2026-000001."]
    async with h.app.uow() as uow:  # A5: the duplicate's alert was stopped, not missed
        [row] = await acknowledgements(uow, h.clock.now() - timedelta(days=1), h.clock.now())
    assert (row.tally.on_time, row.tally.late, row.tally.missed) == (0, 0, 2)


async def test_a_duplicate_does_not_count_toward_the_third_case_and_a_later_report_is_recounted(
    harness: Harness,
) -> None:
    """A4(4): once the second report is marked the first's duplicate, a third report is only case 2 — and a
    deadline the third report already got from counting the duplicate is withdrawn, with the reason why."""
    h = harness
    await three_reporters(h)
    await report(h, REPORTER)
    await report(h, SECOND)
    await report(h, THIRD)
    assert (await stored(h, 3)).external_state == EXTERNAL_PENDING
    await h.press(WANG, press("dup", 2))
    replies = await h.send(WANG, "1")  # the sequence alone: the report's own year
    assert (
        "INC-2026-000002 is marked as a duplicate of INC-2026-000001: its alerts stopped and its reporter was told."
    ) in replies
    assert (
        "📤 INC-2026-000003 no longer has to be reported outside: a report counted for it was marked as a "
        "duplicate, so the cases of the month are fewer. Its deadline is withdrawn."
    ) in replies
    third = await stored(h, 3)
    assert (third.external_due_at, third.external_state) == (None, None)
    assert third.duplicate_of is None and third.status != CLOSED  # a separate case, only no longer the third
    assert (await audit_actions(h, 3))[-1] == "external_withdrawn"

    told = await report(h, REPORTER, description="Another leak, boiler 3")  # a real third case still counts
    assert "case 3 of this category within 30 days" in told[-1]


async def test_a_loss_that_made_the_duplicate_reportable_passes_to_the_incident_it_joins(harness: Harness) -> None:
    """A4(3): the second reporter gave the loss of the theft; linking the reports keeps the outside report."""
    h = harness
    await three_reporters(h)
    await report(h, REPORTER, category="theft_fraud", description="Laptop stolen from office 3", loss="0")
    await report(h, SECOND, category="theft_fraud", description="Office 3 broken into", loss="1.5万")
    assert (await stored(h, 1)).external_due_at is None and (await stored(h, 2)).external_due_at is not None
    await h.press(WANG, press("dup", 2))
    await h.press(WANG, press("dupof", 2, 1))
    first, second = await stored(h, 1), await stored(h, 2)
    assert second.external_state is None
    assert first.external_state == EXTERNAL_PENDING
    assert [reason["code"] for reason in first.reportable_reasons] == ["loss"]
    assert first.external_due_at == first.occurred_at + timedelta(hours=24)


async def test_typed_numbers_wrong_choices_and_other_members_are_refused(harness: Harness) -> None:
    """F3: the picker and the choice are checked on the server; bad numbers get a clear answer and the form
    waits; Cancel changes nothing."""
    h = harness
    await three_reporters(h)
    await member(h, OUTSIDER, "Outsider Ou", ["staff"], department="finance")
    await report(h, REPORTER)
    await report(h, SECOND)
    assert await h.press(OUTSIDER, press("dup", 2)) == [
        "Only the officer handling this incident or its chain can change it."
    ]
    assert await h.press(OUTSIDER, press("dupof", 2, 1)) == [
        "Only the officer handling this incident or its chain can change it."
    ]
    assert (await audit_actions(h, 2)).count("refused") == 2
    await h.press(WANG, press("dup", 2))
    assert await h.send(WANG, "boiler") == [
        "Send the incident's number, e.g. INC-2026-000123, or tap one of the incidents."
    ]
    assert await h.send(WANG, "INC-2026-000099") == ["No incident with that number. Numbers look like INC-2026-000123."]
    assert await h.send(WANG, "inc-2026-000002") == [
        "A report cannot be a duplicate of itself. Choose another incident."
    ]
    assert await h.press(WANG, press("dupno", 2)) == ["Cancelled. Nothing was changed."]
    assert (await stored(h, 2)).duplicate_of is None
    await h.press(WANG, press("dupof", 2, 1))
    assert await h.press(WANG, press("dupof", 2, 1)) == [
        "INC-2026-000002 is already marked as a duplicate of INC-2026-000001."
    ]
    await report(h, THIRD)  # a report marked a duplicate of a duplicate joins the first report
    await h.press(WANG, press("dupof", 3, 2))
    assert (await stored(h, 3)).duplicate_of == 1
    await report(h, REPORTER, description="Boiler 2 again")  # the first report turns out to duplicate a fourth:
    await h.press(WANG, press("dupof", 1, 4))  # its duplicates follow it, so every chain is one link long
    assert [(await stored(h, i)).duplicate_of for i in (1, 2, 3)] == [4, 4, 4]
    card = (await h.send(WANG, "/incident INC-2026-000004"))[-1]
    assert "🔗 Also reported as: INC-2026-000001, INC-2026-000002, INC-2026-000003" in card


async def test_suggestions_need_the_same_room_and_category_the_window_and_nearby_pins(harness: Harness) -> None:
    """The policy's window and distance (haversine) decide what an alert suggests."""
    h = harness
    await three_reporters(h)
    await report(h, REPORTER)
    await report(h, SECOND, category="fire")  # another category
    await report(h, THIRD)
    await h.advance(minutes=121)
    await report(h, REPORTER)  # outside the 120-minute window
    assert 1100 < haversine_metres((31.2304, 121.4737), (31.2404, 121.4737)) < 1120
    async with h.app.uow() as uow:
        one, three, four = [await uow.incidents.get(i) for i in (1, 3, 4)]
        assert [s.number for s in await similar(uow, h.app.policy, three)] == ["INC-2026-000001"]  # type: ignore[arg-type]
        assert await similar(uow, h.app.policy, four) == []  # type: ignore[arg-type]
        one.latitude, one.longitude = 31.2304, 121.4737  # type: ignore[union-attr]
        three.latitude, three.longitude = 31.2330, 121.4737  # type: ignore[union-attr]  # ~290 m
        [near] = await similar(uow, h.app.policy, three)  # type: ignore[arg-type]
        assert near.metres is not None and 280 < near.metres < 300
        three.latitude = 31.2404  # type: ignore[union-attr]  # ~1.1 km: too far for the default 500 m
        assert await similar(uow, h.app.policy, three) == []  # type: ignore[arg-type]
        await uow.rollback()
