"""Small parts of the deadlines flow on their own: the iCalendar writer (RFC 5545), the period input
of /timeliness, period names in both languages, the chart, and files carried by the outbox."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from aiogram.types import BufferedInputFile

from bot.policy import PolicyError, default_policy_path, load_policy, parse_policy
from bot.services.deadlines.catalogue import Catalogue
from bot.services.deadlines.chart import timeliness_chart
from bot.services.deadlines.ics import IcsEvent, escape, fold, write_calendar
from bot.services.deadlines.views import DeadlineTexts
from bot.services.messages import queue_file
from handlers.deadline_ui import parse_day, parse_period
from tests.conftest import Harness


def test_ics_text_is_escaped_and_lines_fold_at_75_octets_without_cutting_characters() -> None:
    assert escape("a;b,c\\d\r\ne") == "a\\;b\\,c\\\\d\\ne"
    line = "SUMMARY:" + "客户风险统计数据报送监管" * 5  # 3 octets per character
    folded = fold(line)
    chunks = folded.split("\r\n ")
    assert "".join(chunks) == line
    assert len(chunks[0].encode()) <= 75 and all(len(chunk.encode()) <= 74 for chunk in chunks[1:])
    assert all(chunk.encode().decode() == chunk for chunk in chunks)  # every chunk is valid UTF-8 on its own
    assert fold("SHORT") == "SHORT"


def test_ics_calendar_has_stable_uids_utc_times_and_alarms() -> None:
    now = datetime(2025, 9, 25, 1, tzinfo=UTC)
    event = IcsEvent(
        uid="deadline-branch_risk-2025-09",
        start=datetime(2025, 10, 13, 23, 59, tzinfo=UTC) - timedelta(hours=8),
        summary="报送, 截止",
        tentative=True,
        alarms=(timedelta(days=3), timedelta(minutes=30)),
    )
    text = write_calendar("Deadlines", [event], now).decode()
    assert "UID:deadline-branch_risk-2025-09@duty-desk-bot\r\n" in text
    assert "DTSTART:20251013T155900Z\r\nSUMMARY:报送\\, 截止\r\nSTATUS:TENTATIVE\r\n" in text
    assert "TRIGGER:-P3D" in text and "TRIGGER:-PT30M" in text
    assert text == write_calendar("Deadlines", [event], now).decode()  # the same export twice is identical


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", (date(2026, 3, 1), date(2026, 3, 31))),  # last month
        ("2026-02", (date(2026, 2, 1), date(2026, 2, 28))),
        ("2024-02", (date(2024, 2, 1), date(2024, 2, 29))),
        ("2026-q1", (date(2026, 1, 1), date(2026, 3, 31))),
        ("2026-H2", (date(2026, 7, 1), date(2026, 12, 31))),
        ("2025", (date(2025, 1, 1), date(2025, 12, 31))),
        ("2026-01-05 2026-01-20", (date(2026, 1, 5), date(2026, 1, 20))),
        ("2026/1/5..2026/1/20", (date(2026, 1, 5), date(2026, 1, 20))),
        ("2026-13", None),
        ("2026-Q5", None),
        ("2026-01-20 2026-01-05", None),
        ("next month", None),
    ],
)
def test_timeliness_periods(text: str, expected: tuple[date, date] | None) -> None:
    assert parse_period(text, date(2026, 4, 2)) == expected


def test_dates_typed_in_forms() -> None:
    assert parse_day(" 2026-05-15 ") == date(2026, 5, 15)
    assert parse_day("2026/5/15") == date(2026, 5, 15)
    assert parse_day("2026-02-30") is None and parse_day("15 May") is None


@pytest.mark.parametrize(
    ("label", "zh", "en"),
    [
        ("2025-09", "2025年9月", "September 2025"),
        ("2025-Q3", "2025年第3季度", "Q3 2025"),
        ("2025-H1", "2025年上半年", "first half of 2025"),
        ("FY2025", "2025财年", "fiscal year 2025"),
        ("2025", "2025年度", "year 2025"),
    ],
)
def test_period_names_in_both_languages(label: str, zh: str, en: str) -> None:
    from bot.i18n import load_catalogues

    policy = load_policy(None)
    texts = DeadlineTexts(load_catalogues(), policy, Catalogue(policy))
    assert texts.period_label(label, "zh_Hans") == zh
    assert texts.period_label(label, "en") == en


def test_the_chart_is_a_png() -> None:
    png = timeliness_chart("Timeliness", [("Finance", [3, 1, 0, 1], "60%")], ["On time", "Extended", "Late", "Missed"])
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 1000


async def test_the_outbox_sends_bytes_queued_by_a_service_as_a_photo(harness: Harness) -> None:
    """Files produced by a service travel in the outbox row and go out after the commit."""
    h = harness
    async with h.app.uow() as uow:
        await queue_file(uow, h.clock.now(), key="chart:1", chat_id=777, data=b"\x89PNG-bytes", filename="c.png",
                         as_photo=True, caption="Chart")  # fmt: skip
        await uow.commit()
    await h.app.outbox.drain()
    [sent] = h.session.sent(777, "sendPhoto")
    assert isinstance(sent.photo, BufferedInputFile)  # type: ignore[attr-defined]
    assert (sent.photo.data, sent.photo.filename, sent.caption) == (b"\x89PNG-bytes", "c.png", "Chart")  # type: ignore[attr-defined]


def test_e3_the_policys_new_deadline_settings_are_checked_at_their_line() -> None:
    """complete_years needs the year's days in holiday_overrides; report_time is a time of day."""
    text = default_policy_path().read_text()
    years, report = "complete_years = []", 'report_time = "09:00"'
    where = {setting: text.splitlines().index(setting) + 1 for setting in (years, report)}
    with pytest.raises(PolicyError) as error:
        parse_policy(text.replace(years, "complete_years = [2027]"), "p.toml")
    assert str(error.value).startswith(f"p.toml:{where[years]}: deadlines.complete_years: 2027 is listed")
    with pytest.raises(PolicyError) as error:
        parse_policy(text.replace(report, 'report_time = "9 am"'), "p.toml")
    assert str(error.value).startswith(f"p.toml:{where[report]}: deadlines.report_time:")
    entered = text.replace(years, "complete_years = [2027]").replace(
        "holiday_overrides = []", "holiday_overrides = [{ date = 2027-01-04, working = false }]"
    )
    assert parse_policy(entered).deadlines.complete_years == (2027,)
