"""Reporting an incident from a phone (A1, A7), through the real Dispatcher."""

from __future__ import annotations

from aiogram.methods import SendLocation, SendMediaGroup, SendPhoto
from aiogram.types import ReplyKeyboardMarkup
from sqlalchemy import select

from handlers.incident_keyboards import ReportCb
from storage.models import WizardState
from tests.conftest import Harness
from tests.support.incidents import LI, REPORTER, WANG, alerts, audit_actions, crew, incident, report, up_to_summary


async def test_the_wizard_stores_the_report_then_alerts_the_officer_on_duty(harness: Harness) -> None:
    """A1: category, severity, what, where (a map pin), when (typed), photos; the reporter gets the number and
    who was alerted; the officer on duty gets summary, map pin, photo and the Acknowledge / Details buttons."""
    h = harness
    await crew(h)
    assert (await h.send(REPORTER, "/report"))[0] == "New incident report. What kind of incident?"
    await h.press(REPORTER, ReportCb(action="cat", value="safety_environment"))
    await h.press(REPORTER, ReportCb(action="sev", value="high"))
    await h.send(REPORTER, "Chemical smell near tank 4")
    await h.app.dispatcher.feed_update(h.app.bot, h.updates.location(REPORTER, 31.2304, 121.4737))
    replies = await h.send(REPORTER, "08:40")
    assert replies == ["Add photos or files if you have any (several are fine), then tap Done."]
    await h.send(REPORTER, None, photo="photo-tank")  # type: ignore[arg-type]
    assert (await h.send(REPORTER, None, photo="photo-tank-2"))[0] == "Added (2). Send more, or tap Done."  # type: ignore[arg-type]
    summary = await h.press(REPORTER, ReportCb(action="done"))
    assert "What happened: Chemical smell near tank 4" in summary[-1]
    assert "Where: see the map pin below" in summary[-1] and "When: 2 Mar 2026, 08:40" in summary[-1]

    told = await h.press(REPORTER, ReportCb(action="submit"))
    assert told[-1].startswith("Reported: INC-2026-000001. Keep this number.\nAlerted: Wang.")
    stored = await incident(h)
    assert (stored.category, stored.department, stored.duty_room) == ("safety_environment", "office", "dispatch")
    assert await audit_actions(h) == ["reported", "alerted"]  # stored first, with its audit entry
    alert = alerts(h, WANG)[-1]
    assert "What happened: Chemical smell near tank 4" in alert and "Reported by: Reporter Ren, General office" in alert
    assert h.buttons(WANG) == [
        ("✅ Acknowledge", "inc:ack:1:0"),
        ("ℹ️ Details", "inc:det:1:0"),
        ("🔗 Duplicate of…", "inc:dup:1:0"),
    ]
    pin = h.session.last(WANG, SendLocation)
    assert pin is not None and (pin.latitude, pin.longitude) == (31.2304, 121.4737)  # type: ignore[attr-defined]
    [album] = h.session.sent(WANG, SendMediaGroup)  # the photos as one album (issue 14)
    assert [p.media for p in album.media] == ["photo-tank", "photo-tank-2"]  # type: ignore[attr-defined]
    assert h.session.sent(WANG, SendPhoto) == []
    assert alerts(h, LI) == []  # the backup waits for the window


async def test_numbers_count_up_within_the_year(harness: Harness) -> None:
    h = harness
    await crew(h)
    assert (await report(h))[-1].startswith("Reported: INC-2026-000001.")
    assert (await report(h))[-1].startswith("Reported: INC-2026-000002.")


async def test_submit_pressed_again_after_a_lost_answer_files_the_report_once(harness: Harness) -> None:
    """A1: a process that dies after storing the report but before it clears the wizard and answers leaves the
    summary and its Submit button as they were (tests/test_scale_out_kill.py found it). The reporter, told
    nothing, presses Submit again: they get the same number, and nothing is stored or alerted twice."""
    h = harness
    await crew(h)
    await report(h, description="Steam leak")  # a first report, so the second's number is not the first
    await up_to_summary(h, description="Oil on the floor", place="Workshop 3")
    async with h.app.uow() as uow:
        [before] = (await uow.session.scalars(select(WizardState).where(WizardState.state.contains("summary")))).all()

    told = await h.press(REPORTER, ReportCb(action="submit"))
    assert told[-1].startswith("Reported: INC-2026-000002. Keep this number.\nAlerted: Wang.")
    async with h.app.uow() as uow:  # the wizard as the dead process left it: still at the summary
        await uow.wizards.put(before.key, before.state, before.data)
        await uow.commit()

    again = await h.press(REPORTER, ReportCb(action="submit"))
    assert again[-1].startswith("Reported: INC-2026-000002. Keep this number.\nAlerted: Wang.")
    async with h.app.uow() as uow:
        assert [i.description for i in await uow.incidents.open_in_room("dispatch")] == [
            "Steam leak",
            "Oil on the floor",
        ]
    assert sum("Oil on the floor" in text for text in alerts(h, WANG)) == 1


async def test_a_submit_refused_keeps_the_summary_and_its_answers(harness: Harness) -> None:
    """The wizard's removal is committed with the report (issue 15), so it is cleared before the report is
    stored; a report refused at the Submit (left open for over a year: A1's moment check) puts the wizard
    back as it was, and the reporter corrects the time from the summary instead of starting again."""
    h = harness
    await crew(h)
    await up_to_summary(h, description="Oil on the floor")
    h.clock.advance(days=367)

    refused = await h.press(REPORTER, ReportCb(action="submit"))
    assert refused == ["That is more than a year ago. Check the date."]
    async with h.app.uow() as uow:
        [wizard] = (await uow.session.scalars(select(WizardState))).all()
    assert wizard.state is not None and wizard.state.endswith("summary")
    assert wizard.data["description"] == "Oil on the floor"

    await h.press(REPORTER, ReportCb(action="edit", value="moment"))
    await h.press(REPORTER, ReportCb(action="ago", value="0"))
    told = await h.press(REPORTER, ReportCb(action="submit"))
    assert told[-1].startswith("Reported: INC-2027-000001. Keep this number.")
    assert (await incident(h, "INC-2027-000001")).description == "Oil on the floor"


async def test_back_cancel_and_editing_from_the_summary(harness: Harness) -> None:
    """Back returns one step, Cancel leaves without reporting, the summary edits any field and comes back."""
    h = harness
    await crew(h)
    await h.send(REPORTER, "/report")
    await h.press(REPORTER, ReportCb(action="cat", value="quality"))
    assert (await h.press(REPORTER, ReportCb(action="back")))[-1] == "What kind of incident?"
    await h.press(REPORTER, ReportCb(action="cat", value="quality"))
    await h.press(REPORTER, ReportCb(action="sev", value="low"))
    await h.send(REPORTER, "Batch 7 out of tolerance")
    assert (await h.send(REPORTER, "◀ Back"))[-1].startswith("What happened?")  # the place step's reply keyboard
    await h.send(REPORTER, "Batch 7 out of tolerance")
    await h.send(REPORTER, "Skip")
    await h.press(REPORTER, ReportCb(action="ago", value="30"))
    await h.press(REPORTER, ReportCb(action="done"))
    assert (await h.press(REPORTER, ReportCb(action="edit", value="severity")))[-1] == "How serious is it?"
    summary = await h.press(REPORTER, ReportCb(action="sev", value="critical"))
    assert "Severity: Critical" in summary[-1] and "Where: not given" in summary[-1]
    assert "When: 2 Mar 2026, 08:30" in summary[-1]
    assert (await h.press(REPORTER, ReportCb(action="cancel")))[-1] == "Cancelled. Nothing was reported."
    assert alerts(h, WANG) == []
    assert await h.send(REPORTER, "/cancel") == ["There is nothing to cancel."]


async def test_bad_answers_get_clear_errors_and_the_step_waits(harness: Harness) -> None:
    """Wizards: a 10,000-character text, a time in the future, a loss that is not a number; nothing is lost."""
    h = harness
    await crew(h)
    await h.send(REPORTER, "/report")
    await h.press(REPORTER, ReportCb(action="cat", value="theft_fraud"))
    await h.press(REPORTER, ReportCb(action="sev", value="medium"))
    assert await h.send(REPORTER, "x" * 10_000) == ["That is too long: at most 2000 characters (yours has 10000)."]
    await h.send(REPORTER, "Laptop stolen from room 301")
    await h.send(REPORTER, "Room 301")
    assert await h.send(REPORTER, "23:59 tomorrow") == [
        "Send the time as 14:30, or the date and time as 2026-03-01 14:30."
    ]
    assert await h.send(REPORTER, "2026-03-03 10:00") == ["That time is in the future. When did it happen?"]
    assert (await h.send(REPORTER, "2026-03-02 07:15"))[-1].startswith("Estimated loss in yuan?")  # theft asks
    assert (await h.send(REPORTER, "a lot"))[-1].startswith("Send the estimated loss in yuan as a number")
    await h.send(REPORTER, "1.2万")
    summary = await h.press(REPORTER, ReportCb(action="done"))
    assert "Estimated loss: 12,000 yuan" in summary[-1] and "What happened: Laptop stolen from room 301" in summary[-1]
    told = await h.press(REPORTER, ReportCb(action="submit"))
    # A4(3): 10,000 yuan or more must be reported outside within 24 hours of the theft (07:15)
    assert "Must be reported outside by 3 Mar 2026, 07:15 (a loss of 12,000 yuan, at or above 10,000 yuan)" in told[-1]


async def test_urgent_path_reports_at_once_and_asks_the_rest_afterwards(harness: Harness) -> None:
    """A1 quick path: /report with a text in one message; then category and place, each shared at once."""
    h = harness
    await crew(h)
    told = await h.send(REPORTER, "/report Fire in the canteen kitchen")
    assert told[0].startswith("Reported: INC-2026-000001.") and "Alerted: Wang." in told[0]
    assert told[1] == "Now the details, if you can. Which category fits best?"
    stored = await incident(h)
    assert (stored.category, stored.severity, stored.description) == ("other", "high", "Fire in the canteen kitchen")
    assert "What happened: Fire in the canteen kitchen" in alerts(h, WANG)[-1]
    await h.press(REPORTER, ReportCb(action="cat", value="fire"))
    await h.app.dispatcher.feed_update(h.app.bot, h.updates.location(REPORTER, 31.2, 121.5))
    await h.app.outbox.drain()
    assert h.session.texts(REPORTER)[-1] == "Thank you. The duty officers see what you added."
    updates = [t for t in h.session.texts(WANG) if t.startswith("✏️ The reporter added details:")]
    assert "INC-2026-000001 · Fire · High" in updates[-1] and "Where: see the map pin below" in updates[-1]
    assert h.session.last(WANG, SendLocation) is not None
    assert (await incident(h)).category == "fire"


async def test_urgent_button_and_a_photo_with_report_in_its_caption(harness: Harness) -> None:
    h = harness
    await crew(h)
    await h.send(REPORTER, "/report")
    await h.press(REPORTER, ReportCb(action="urgent"))
    told = await h.send(REPORTER, None, photo="photo-smoke")  # type: ignore[arg-type]
    assert told[0].startswith("Reported: INC-2026-000001.")
    assert (await incident(h)).description == ""
    assert "What happened: (see the photo or voice note)" in alerts(h, WANG)[-1]
    told = await h.send(REPORTER, None, photo="photo-flood", caption="/report Water in the basement")  # type: ignore[arg-type]
    assert told[0].startswith("Reported: INC-2026-000002.")
    assert [p.photo for p in h.session.sent(WANG, SendPhoto)] == ["photo-smoke", "photo-flood"]  # type: ignore[attr-defined]


async def test_the_persistent_button_starts_the_report_in_chinese(harness: Harness) -> None:
    h = harness
    await crew(h)
    await h.app.members.set_language(REPORTER, "zh_Hans")
    told = await h.send(REPORTER, "/report 仓库冒烟")
    assert told[0].startswith("已报告：INC-2026-000001。")
    keyboards = [m.reply_markup for m in h.session.sent(REPORTER) if isinstance(m.reply_markup, ReplyKeyboardMarkup)]
    assert [[b.text for b in row] for row in keyboards[-1].keyboard] == [["🚨 报告突发事件"]]
    assert keyboards[-1].is_persistent
    await h.send(REPORTER, "/cancel")
    assert await h.send(REPORTER, "🚨 报告突发事件") == ["新的突发事件报告。是哪类事件？"]
    await h.send(REPORTER, "/cancel")
    assert await h.send(REPORTER, "🚨 Report incident") == ["新的突发事件报告。是哪类事件？"]


async def test_changing_the_category_on_the_summary_asks_for_the_loss(harness: Harness) -> None:
    h = harness
    await crew(h)
    await h.send(REPORTER, "/report")
    await h.press(REPORTER, ReportCb(action="cat", value="quality"))
    await h.press(REPORTER, ReportCb(action="sev", value="low"))
    await h.send(REPORTER, "Cash box missing")
    await h.send(REPORTER, "Till 2")
    await h.press(REPORTER, ReportCb(action="ago", value="15"))
    assert "Estimated loss" not in (await h.press(REPORTER, ReportCb(action="done")))[-1]
    await h.press(REPORTER, ReportCb(action="edit", value="category"))
    asked = await h.press(REPORTER, ReportCb(action="cat", value="theft_fraud"))
    assert asked[-1].startswith("Estimated loss in yuan?")
    summary = await h.send(REPORTER, "5000")
    assert "Category: Theft or fraud" in summary[-1] and "Estimated loss: 5,000 yuan" in summary[-1]
