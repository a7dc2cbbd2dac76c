"""After the acknowledgement (A3, A5, B2, F3): status changes with notes, photos, handing over, reopening, the
card with the full timeline, and the lists — through the real Dispatcher."""

from __future__ import annotations

from bot.outgoing.incidents import IncidentCb
from handlers.callbacks import MemberCb
from handlers.incident_keyboards import ListCb
from storage.incidents_models import CLOSED, IN_PROGRESS
from tests.conftest import ADMIN_ID, Harness
from tests.support.incidents import HEAD, LI, OUTSIDER, REPORTER, WANG, ZHAO, ack, crew, incident, member, report
from tests.support.roster import put_on


def press(action: str, incident_id: int = 1, value: int = 0) -> IncidentCb:
    return IncidentCb(action=action, id=incident_id, value=value)


async def test_the_officer_moves_it_to_resolved_and_closed_and_the_timeline_shows_everything(harness: Harness) -> None:
    """A3: acknowledged → in progress → resolved (with a note) → closed; reopen; every change is on the timeline
    and the reporter hears each status."""
    h = harness
    await crew(h)
    await report(h)
    await h.advance(minutes=1)
    await h.press(WANG, ack())
    card = (await h.press(WANG, press("det")))[-1]
    assert "Status: acknowledged" in card and "Acknowledged: 2 Mar 2026, 09:01 by Wang (within the window)" in card
    assert [text for text, _data in h.buttons(WANG)] == [
        "🛠 In progress",
        "✔️ Resolve",
        "📝 Note or photo",
        "👥 Hand over",
        "📤 Must be reported outside",
        "🔗 Duplicate of…",
    ]
    await h.press(WANG, press("prog"))
    assert (await incident(h)).status == IN_PROGRESS
    assert h.session.texts(REPORTER)[-1] == "INC-2026-000001 is now in progress (Wang)."
    await h.press(WANG, press("note"))
    assert (await h.send(WANG, "Valve closed, pressure falling"))[0] == "Added to the timeline."
    await h.press(WANG, press("note"))
    await h.send(WANG, None, photo="photo-valve")  # type: ignore[arg-type]
    assert (await h.press(WANG, press("res")))[-1] == "How was INC-2026-000001 resolved? Send a short resolution note."
    assert (await h.send(WANG, "x" * 10_000))[0].startswith("That is too long")
    card = (await h.send(WANG, "Gasket replaced; boiler back in service"))[-1]
    assert "Resolution: Gasket replaced; boiler back in service" in card
    assert h.session.texts(REPORTER)[-1] == (
        "INC-2026-000001 is now resolved (Wang).\nResolution: Gasket replaced; boiler back in service"
    )
    await h.advance(minutes=30)
    await h.press(WANG, press("close"))
    stored = await incident(h)
    assert stored.status == CLOSED and stored.closed_at is not None and stored.resolved_at is not None
    await h.press(WANG, press("reopen"))
    card = (await h.send(REPORTER, "/incident inc-2026-000001"))[-1]  # the reporter may read their own
    timeline = card.split("Timeline:\n")[1].splitlines()
    assert [line.split(" · ", 1)[1] for line in timeline] == [
        "reported by Reporter Ren",
        "alerted (officer on duty): Wang",
        "acknowledged by Wang",
        "Wang: in progress",
        "note by Wang: Valve closed, pressure falling",
        "Wang added a photo or file",
        "Wang: resolved — Gasket replaced; boiler back in service",
        "Wang: closed",
        "Wang: in progress",
    ]
    assert "Photos and files: 1" in card


async def test_buttons_that_do_not_fit_the_status_or_the_member_are_refused(harness: Harness) -> None:
    h = harness
    await crew(h)
    await member(h, OUTSIDER, "Outsider Ou", ["staff"], department="finance")
    await report(h)
    assert await h.press(WANG, press("close")) == [
        "That does not fit INC-2026-000001 now: it is waiting for acknowledgement."
    ]
    await h.press(WANG, ack())
    assert await h.press(OUTSIDER, press("prog")) == [
        "Only the officer handling this incident or its chain can change it."
    ]
    assert await h.press(OUTSIDER, press("det")) == ["This incident is not yours to see."]
    assert await h.send(OUTSIDER, "/incident INC-2026-000001") == ["This incident is not yours to see."]
    assert await h.send(OUTSIDER, "/incident INC-2026-999999") == [
        "No incident with that number. Numbers look like INC-2026-000123."
    ]


async def test_handing_over_to_another_officer_and_deactivation_waits_for_it(harness: Harness) -> None:
    """A3: reassignment to another duty officer; B2: a member still handling an open incident is not deactivated."""
    h = harness
    people = await crew(h)
    zhao = await member(h, ZHAO, "Zhao", ["staff", "duty_officer"], department="security")
    await report(h)
    await h.press(WANG, ack())
    await h.press(WANG, press("reas"))
    assert h.buttons(WANG)[:2] == [("Li", f"inc:to:1:{people.backup.id}"), ("Zhao", f"inc:to:1:{zhao.id}")]
    assert await h.press(WANG, press("to", value=people.reporter.id)) == ["Choose an active duty officer."]
    await h.press(WANG, press("to", value=zhao.id))
    assert h.session.texts(ZHAO)[-1] == "📌 Wang handed INC-2026-000001 to you. You are now handling it."
    assert (await incident(h)).assignee_id == zhao.id
    blocked = await h.press(ADMIN_ID, MemberCb(action="deact_ok", member_id=zhao.id))
    assert blocked == ["Reassign these first: INC-2026-000001"]
    await h.press(ZHAO, press("to", value=people.backup.id))
    assert h.session.texts(ZHAO)[-1] != "Zhao handed INC-2026-000001 to Li."  # not told what they did themselves
    assert h.session.texts(LI)[-1] == "📌 Zhao handed INC-2026-000001 to you. You are now handling it."
    await h.press(ADMIN_ID, MemberCb(action="deact_ok", member_id=zhao.id))
    assert await h.app.members.find(ZHAO) is None


async def test_open_incidents_for_officers_and_managers_and_my_reports_for_everyone(harness: Harness) -> None:
    """/incidents lists open incidents (paginated) for duty officers and managers; others are refused (F3)."""
    h = harness
    await crew(h)
    for _ in range(11):
        await h.send(REPORTER, "/report Smoke")
        await h.send(REPORTER, "/cancel")
    listing = (await h.send(WANG, "/incidents"))[0]
    assert listing.startswith("Open incidents — 11 (page 1 of 2)")
    assert "INC-2026-000011 · Other · waiting for acknowledgement" in listing
    second = await h.press(WANG, ListCb(kind="open", page=1))
    assert "INC-2026-000001" in second[-1] and "INC-2026-000011" not in second[-1]
    assert (await h.send(HEAD, "/incidents"))[0].startswith("Open incidents — 11")  # the reporter's department
    assert await h.send(REPORTER, "/incidents") == ["Only duty officers and managers can list open incidents."]
    mine = (await h.send(REPORTER, "/myreports"))[0]
    assert mine.startswith("Your reports — 11 (page 1 of 2)")
    assert (await h.send(WANG, "/myreports"))[0] == "Your reports\nNone."


async def test_the_shift_handover_lists_open_incidents_and_outside_report_deadlines(harness: Harness) -> None:
    """B2: at the shift change the incoming officer reads the room's open incidents and pending outside reports."""
    h = harness
    await crew(h)
    zhao = await member(h, ZHAO, "Zhao", ["staff", "duty_officer"], department="security")
    await put_on(h, zhao, "night")
    await report(h)
    await report(h, category="public_order", description="Crowd at the gate")
    await h.press(WANG, ack(1))
    await h.press(WANG, press("prog"))
    await report(h, description="Minor leak, fixed")
    await h.press(WANG, ack(3))
    await h.press(WANG, press("res", 3))
    await h.send(WANG, "Tightened")
    await h.press(WANG, press("close", 3))
    await h.advance(hours=11)  # 20:00, the night shift begins
    handover = next(t for t in h.session.texts(ZHAO) if t.startswith("Shift handover"))
    assert "INC-2026-000001 · Quality problem · in progress" in handover
    assert (
        "INC-2026-000002 · Public order disturbance · waiting for acknowledgement · outside report due by "
        "3 Mar 2026, 09:00" in handover
    )
    assert "INC-2026-000003" not in handover  # closed
