"""What the roster does by itself as the clock moves: daily gap reports (B1), the handover at shift
change and /handover notes (B2)."""

from __future__ import annotations

from datetime import timedelta

from bot.app import build_app
from bot.clock import ManualClock
from bot.services.actor import Actor
from tests.conftest import ADMIN_ID, Harness, settings_for
from tests.support.recording_session import RecordingSession
from tests.support.roster import MONDAY, officer, put_on, put_on_days, roster_of

HEAD = 3000
GAP = "Duty roster gap in Dispatch room: these shifts in the next 48 hours have no primary officer:"


async def started(h: Harness) -> None:
    """What the process does at every start: the flows' start hooks plan the roster's timers."""
    await h.app.run_startup()


def gap_reports(h: Harness, chat_id: int) -> list[str]:
    return [text for text in h.session.texts(chat_id) if text.startswith(GAP)]


async def test_a_gap_is_reported_to_the_owner_every_day_until_it_is_fixed(harness: Harness) -> None:
    """B1: a shift with no primary in the next 48 hours is reported to the room's owner at the daily
    check, again the next day while it lasts, and no more once every shift has a primary."""
    h = harness
    await officer(h, HEAD, "Head Zhou", roles=("staff", "department_head"))
    wang = await officer(h, 2001, "Wang")
    await started(h)
    await h.advance(hours=23, minutes=59)
    assert gap_reports(h, HEAD) == []  # the check runs at 09:00, once a day

    await h.advance(minutes=1)  # Tuesday 09:00
    [report] = gap_reports(h, HEAD)
    lines = report.splitlines()
    assert lines[1] == "• Dispatch room · Day shift: 3 Mar 2026, 08:00 – 3 Mar 2026, 20:00"  # running, uncovered
    assert "• Dispatch room · Night shift: 4 Mar 2026, 20:00 – 5 Mar 2026, 08:00" in lines
    assert lines[-1] == "Assign someone with /roster."

    await put_on_days(h, wang, "day", 7)
    await h.advance(days=1)  # Wednesday: the day shifts are covered, the nights are not
    assert len(gap_reports(h, HEAD)) == 2
    assert "Day shift" not in gap_reports(h, HEAD)[-1] and "Night shift" in gap_reports(h, HEAD)[-1]

    await put_on_days(h, wang, "night", 7)
    await h.advance(days=1)
    await h.advance(days=1)
    assert len(gap_reports(h, HEAD)) == 2  # fixed: no more reports
    # the information centre's desk has no head in this organisation: its gaps go to the administrators
    assert any(t.startswith("信息中心值班值班表有空缺") for t in h.session.texts(ADMIN_ID))


async def test_the_gap_report_is_sent_once_a_day_even_after_restarts(harness: Harness) -> None:
    h = harness
    await officer(h, HEAD, "Head Zhou", roles=("staff", "department_head"))
    await started(h)
    await h.advance(days=1)
    await started(h)  # the process restarts later the same day: no second report
    await h.advance(hours=1)
    assert len(gap_reports(h, HEAD)) == 1


async def test_the_incoming_officer_gets_the_handover_at_shift_change_past_midnight(harness: Harness) -> None:
    """B2: at 08:00 the day officer gets the handover from the night shift that began the evening
    before: open items from the incidents flow and the note the night officer left with /handover."""
    h = harness
    night, day, backup = (
        await officer(h, 2001, "Night Owl"),
        await officer(h, 2002, "Day"),
        await officer(h, 2003, "Bak"),
    )
    tuesday = MONDAY + timedelta(days=1)
    await put_on(h, night, "night", MONDAY)
    await put_on(h, day, "day", tuesday)
    await put_on(h, backup, "day", tuesday, position="backup")

    async def open_items(uow, room: str, language: str) -> list[str]:  # noqa: ANN001
        return ["INC-2026-000007 Fire alarm, east gate (acknowledged)"] if room == "dispatch" else []

    roster_of(h).handover_sources.append(open_items)
    await h.advance(hours=11)  # Monday 20:00: the night shift begins; the night officer gets the handover
    assert h.session.texts(2001)[-1].startswith("Shift handover — Dispatch room · Night shift")
    assert await h.send(2001, "/handover Gate camera 3 is down; the police were told at 02:10.") == [
        "Your note is kept for the handover (1 duty room(s))."
    ]
    assert not any("Shift handover" in t for t in h.session.texts(2002))

    await h.advance(hours=12)  # Tuesday 08:00
    handover = h.session.texts(2002)[-1]
    assert handover.splitlines() == [
        "Shift handover — Dispatch room · Day shift, 3 Mar 2026, 08:00 to 3 Mar 2026, 20:00.",
        "Primary: Day. Backup: Bak.",
        "",
        "Open incidents and external-report deadlines:",
        "• INC-2026-000007 Fire alarm, east gate (acknowledged)",
        "",
        "Notes from the previous shift:",
        "• Night Owl (2 Mar 2026, 20:00): Gate camera 3 is down; the police were told at 02:10.",
    ]
    assert h.session.texts(2003)[-1] == handover  # the backup officer gets it too
    await h.advance(hours=12)  # the next shift has nobody on it: nothing is sent, nothing twice
    assert h.session.texts(2002)[-1] == handover


async def test_a_swap_after_planning_sends_the_handover_to_the_new_officer(harness: Harness) -> None:
    """The shift-change timer reads the roster when it fires, so a late swap is respected."""
    h = harness
    wang, li = await officer(h, 2001, "Wang"), await officer(h, 2002, "Li")
    await put_on(h, wang, "night")
    await roster_of(h).swap(Actor.command_line(), room="dispatch", shift="night", day=MONDAY, member_id=li.id)
    await h.advance(hours=11)
    assert h.session.texts(2002)[-1].startswith("Shift handover — Dispatch room · Night shift")
    assert not any(t.startswith("Shift handover") for t in h.session.texts(2001))


async def test_a_note_written_just_after_the_shift_goes_to_the_new_crew_at_once(harness: Harness) -> None:
    h = harness
    day, night = await officer(h, 2001, "Day"), await officer(h, 2002, "Night")
    await put_on(h, day, "day")
    await put_on(h, night, "night")
    await h.advance(hours=11, minutes=30)  # 20:30, the night shift has begun
    assert await h.send(2001, "/handover Keys are in the drawer.") == [
        "Your note is kept for the handover (1 duty room(s))."
    ]
    assert h.session.texts(2002)[-1] == "Handover note from Day (Dispatch room): Keys are in the drawer."


async def test_handover_needs_a_shift_and_a_sensible_note(harness: Harness) -> None:
    h = harness
    wang = await officer(h, 2001, "Wang")
    assert await h.send(2001, "/handover All quiet.") == ["You are not on duty now, so there is no shift to hand over."]
    await put_on(h, wang, "day")
    assert await h.send(2001, "/handover " + "长" * 10_000) == ["The note is too long: at most 1000 characters."]
    assert await h.send(2001, "/handover") == ["Write your handover note for the next shift:"]
    assert await h.send(2001, "Radio 2 needs charging.") == ["Your note is kept for the handover (1 duty room(s))."]
    assert await h.send(2001, "/handover") == ["Write your handover note for the next shift:"]
    assert await h.send(2001, "/cancel") == ["Cancelled. Nothing was saved."]


async def test_a_handover_due_while_the_bot_was_down_is_sent_once_after_restart(
    sqlite_url: str, clock: ManualClock
) -> None:
    """Timers live in the database: after a restart the missed shift change fires once, not twice."""
    first = await build_app(settings_for(sqlite_url), clock=clock, session=RecordingSession())
    h = Harness(first, first.bot.session, clock)  # type: ignore[arg-type]
    night = await officer(h, 2001, "Night Owl")
    await put_on(h, night, "night")
    await first.close()

    clock.advance(hours=11, minutes=5)  # 20:05: the night shift began while the bot was down
    sent_after_each_start = []
    for _start in range(2):
        session = RecordingSession()
        app = await build_app(settings_for(sqlite_url), clock=clock, session=session)
        await app.timers.run_due()
        await app.outbox.drain()
        await app.close()
        sent_after_each_start.append([t for t in session.texts(2001) if t.startswith("Shift handover")])
    assert [len(sent) for sent in sent_after_each_start] == [1, 0]
