"""Timeliness figures (E4, A5), the calendar export, the provisional-calendar warning (E3) and
recomputation when the policy changes — through the real Dispatcher."""

from __future__ import annotations

import datetime as dt

from aiogram.types import BufferedInputFile
from sqlalchemy import select

from bot.clock import ManualClock
from bot.outgoing.deadlines import DeadlineCb
from bot.policy.deadlines import HolidayOverride
from bot.services.deadlines import TallyRow
from bot.services.deadlines.timeliness import Tally
from handlers.callbacks import LanguageCb
from storage.models import AuditEntry
from tests.conftest import ADMIN_ID, Harness
from tests.support.deadlines import (  # noqa: F401  (deadline_harness is the fixture dh)
    FINANCE,
    HEAD,
    LEADER_ID,
    OWNER,
    STAFF,
    TEST_DEADLINES,
    advance_to,
    build_harness,
    deadline_harness,
    deadline_policy,
    instance,
    instances,
    join_en,
    local,
)

PNG = b"\x89PNG\r\n\x1a\n"


async def people(h: Harness) -> None:
    await join_en(h, OWNER, ["information_officer"], "branch_a")
    await join_en(h, HEAD, ["department_head"], "branch_a")
    await join_en(h, FINANCE, ["information_officer"], "finance")
    await join_en(h, LEADER_ID, ["leader"], "company")
    await h.start()


def photos(h: Harness, user_id: int) -> list[bytes]:
    return [method.photo.data for method in h.session.sent(user_id, "sendPhoto")]  # type: ignore[attr-defined]


async def test_e4_monthly_report_on_the_first_working_day_to_heads_and_leaders(dh: Harness) -> None:
    """E4: October 2025's figures go out on Mon 3 Nov 2025 at 09:00 (1 Nov is a Saturday): the
    branch's head gets the branch with a chart, leaders all departments side by side."""
    h = dh
    await people(h)
    flash = await instance(h, "flash", "2025-09")
    await advance_to(h, local(2025, 10, 1, 10))
    await h.press(FINANCE, DeadlineCb(action="done", id=flash.id))  # on time
    await advance_to(h, local(2025, 11, 3, 8, 59))  # branch_risk for September was missed on 15 Oct
    assert not any(text.startswith("Timeliness") for text in h.session.texts(HEAD))
    await advance_to(h, local(2025, 11, 3, 9, 0))
    assert h.session.texts(HEAD)[-1] == (
        "Timeliness of reporting deadlines, October 2025\n"
        "East City Branch: on time 0 · with extension 0 · late 0 · missed 1 · on-time rate 0%\n"
        "Counted by the original deadline; an extension does not count as on time."
    )
    assert [data[:8] for data in photos(h, HEAD)] == [PNG]
    report = [text for text in h.session.texts(LEADER_ID) if text.startswith("Timeliness")][-1]
    assert "Finance department: on time 1 · with extension 0 · late 0 · missed 0 · on-time rate 100%" in report
    assert "East City Branch: on time 0" in report
    assert "All departments: on time 1 · with extension 0 · late 0 · missed 1 · on-time rate 50%" in report
    assert len(photos(h, LEADER_ID)) == 1
    async with h.app.uow() as uow:
        [next_report] = await uow.timers.pending("deadline_report")
    assert next_report.due_at == local(2025, 12, 1, 9, 0)  # Mon 1 Dec


async def test_e4_a_month_with_nothing_due_sends_nothing_and_the_report_waits_for_the_holiday(dh: Harness) -> None:
    """The first working day of October 2025 is Thu 9 Oct (1-8 Oct off); nothing fell due in September."""
    h = dh
    await people(h)
    async with h.app.uow() as uow:
        [october] = await uow.timers.pending("deadline_report")
    assert october.due_at == local(2025, 10, 9, 9, 0)
    await advance_to(h, local(2025, 10, 9, 9, 1))
    assert not any(text.startswith("Timeliness") for text in h.session.texts(LEADER_ID))


async def test_e4_timeliness_on_demand_for_any_period(dh: Harness) -> None:
    h = dh
    await people(h)
    await join_en(h, STAFF, ["staff"], "branch_a")
    await advance_to(h, local(2025, 10, 20))
    replies = await h.send(HEAD, "/timeliness 2025-10-01 2025-10-31")
    assert replies[0].startswith("Timeliness of reporting deadlines, October 2025\nEast City Branch: on time 0")
    assert "Finance" not in replies[0]  # a department head sees their own department
    assert [data[:8] for data in photos(h, HEAD)] == [PNG]
    leader = (await h.send(LEADER_ID, "/timeliness 2025-Q4"))[0]
    assert "Timeliness of reporting deadlines, 1 Oct 2025 – 31 Dec 2025" in leader and "Finance department" in leader
    assert "\nNo deadlines fell due in this period.\n" in (await h.send(HEAD, "/timeliness 2025-09"))[0]
    assert (await h.send(HEAD, "/timeliness soon"))[0].startswith("Which period?")
    assert await h.send(STAFF, "/timeliness") == [
        "Only department heads, leaders and administrators can see timeliness figures."
    ]


async def test_a5_other_flows_add_their_figures_to_the_same_report(dh: Harness) -> None:
    """The extension point for the incident flow's reporting windows: a source appended to
    ``TimelinessService.sources`` adds up per department and is listed by source."""
    h = dh
    await people(h)

    async def incident_windows(uow, start, end):  # noqa: ANN001, ANN202
        return [TallyRow("branch_a", "Incident reports", Tally(on_time=2, late=1))]

    h.app.dispatcher["timeliness"].sources.append(incident_windows)
    await advance_to(h, local(2025, 10, 14))  # September's customer-risk data is late
    report = (await h.send(HEAD, "/timeliness 2025-10"))[0]
    assert "East City Branch: on time 2 · with extension 0 · late 2 · missed 0 · on-time rate 50%" in report
    assert "  · Reporting deadlines: on time 0 · with extension 0 · late 1 · missed 0" in report
    assert "  · Incident reports: on time 2 · with extension 0 · late 1 · missed 0" in report


async def test_e4_managers_export_the_department_deadlines_as_icalendar(dh: Harness) -> None:
    h = dh
    await people(h)
    await join_en(h, STAFF, ["staff"], "branch_a")
    await h.send(HEAD, "/deadlines ics")
    [document] = h.session.sent(HEAD, "sendDocument")
    upload = document.document  # type: ignore[attr-defined]
    assert isinstance(upload, BufferedInputFile) and upload.filename == "deadlines.ics"
    text = upload.data.decode()
    assert text.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n") and text.endswith("END:VCALENDAR\r\n")
    assert "UID:deadline-branch_risk-2025-09@duty-desk-bot" in text
    assert "DTSTART:20251013T155900Z" in text  # 13 Oct 2025 23:59 in Shanghai
    assert "TRIGGER:-P3D" in text and "TRIGGER:-PT2H" in text
    assert "flash" not in text  # another department's
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    assert await h.send(STAFF, "/deadlines ics") == [
        "Only department heads and leaders can export their department's deadlines."
    ]


async def test_e4_heads_see_their_departments_open_deadlines_and_leaders_everyones(dh: Harness) -> None:
    h = dh
    await people(h)
    await join_en(h, STAFF, ["staff"], "branch_a")
    head = (await h.send(HEAD, "/deadlines"))[0]
    assert "Your department's open deadlines:\n⏳ Customer-risk data · September 2025" in head
    assert "Flash report" not in head
    leader = (await h.send(LEADER_ID, "/deadlines"))[0]
    assert "All open deadlines:" in leader and "Flash report" in leader and "Customer-risk data" in leader
    assert (await h.send(STAFF, "/deadlines"))[0].startswith("Your deadlines:\nNothing is open for you.")


async def test_e3_administrators_hear_in_december_that_next_year_is_provisional(
    database_url: str, clock: ManualClock
) -> None:
    """E3: the installed calendar has no official 2027 schedule. On 1 December 2026 administrators are
    told; December's customer-risk deadline (in January 2027) is marked provisional."""
    clock.set(local(2026, 11, 20, 9))
    h = await build_harness(database_url, clock, deadline_policy())
    try:
        await join_en(h, OWNER, ["information_officer"], "branch_a")
        await h.press(ADMIN_ID, LanguageCb(code="en"))
        await h.start()
        await advance_to(h, local(2026, 12, 1, 8, 59))
        assert not any("2027" in text for text in h.session.texts(ADMIN_ID))
        await advance_to(h, local(2026, 12, 1, 9, 0))
        assert h.session.texts(ADMIN_ID)[-1].startswith(
            "📅 Working-day deadlines for 2027 are provisional: the official holiday schedule for 2027"
        )
        listing = (await h.send(OWNER, "/deadlines"))[0]
        assert "Customer-risk data · December 2026 · due 7 Jan 2027, 23:59 (provisional date)" in listing
        assert "November 2026 · due 4 Dec 2026, 23:59\n" in listing  # computed on the official 2026 notice
        await advance_to(h, local(2027, 1, 6, 23, 59))
        assert "this date was computed before the official holiday schedule" in h.session.texts(OWNER)[-1]
    finally:
        await h.app.close()


async def test_e3_a_year_entered_in_the_overrides_is_no_longer_provisional(
    database_url: str, clock: ManualClock
) -> None:
    """Starting in December: the check runs at once. With 2027 listed in complete_years (its days in
    holiday_overrides) nobody is warned and nothing is provisional; the override moves the deadline."""
    clock.set(local(2026, 12, 10, 9))
    overrides = [HolidayOverride(date=dt.date(2027, 1, 4), working=False, note="company day off")]
    policy = deadline_policy(holiday_overrides=overrides, complete_years=[2027])
    h = await build_harness(database_url, clock, policy)
    try:
        await h.start()
        assert not any("provisional" in text for text in h.session.texts(ADMIN_ID))
        row = await instance(h, "branch_risk", "2026-12")
        assert (row.due_at, row.provisional) == (local(2027, 1, 8, 23, 59), False)
    finally:
        await h.app.close()


async def test_e1_e3_a_changed_policy_recomputes_pending_instances_and_withdraws_removed_ones(
    database_url: str, clock: ManualClock
) -> None:
    clock.set(local(2025, 9, 25, 9))
    h = await build_harness(database_url, clock, deadline_policy())
    await h.start()
    before = {(row.obligation, row.period): row.id for row in await instances(h)}
    await h.app.close()

    seven_days = {"anchor": "month_end", "offset": 7, "unit": "working_days"}
    changed = [dict(TEST_DEADLINES["obligations"][0], rule=seven_days)]
    h = await build_harness(database_url, clock, deadline_policy(obligations=changed))
    try:
        await h.start()
        rows = {(row.obligation, row.period): row for row in await instances(h)}
        assert {key: row.id for key, row in rows.items()} == before  # the same instances, no duplicates
        assert rows["branch_risk", "2025-09"].due_at == local(2025, 10, 16, 23, 59)  # 7 working days
        assert rows["flash", "2025-09"].state == "withdrawn"
        async with h.app.uow() as uow:
            actions = [entry.action for entry in await uow.session.scalars(select(AuditEntry))]
            reminders = await uow.timers.pending("deadline_remind")
        assert actions.count("recomputed") == 2 and actions.count("withdrawn") == 2
        september = [timer.due_at for timer in reminders if timer.ref == str(rows["branch_risk", "2025-09"].id)]
        assert september == [local(2025, 10, 13, 23, 59), local(2025, 10, 15, 23, 59), local(2025, 10, 16, 21, 59)]
    finally:
        await h.app.close()
