"""Due-date engine tests (RULES.md E1, E2, E3, E5, E6).

Calendar facts used below are those of the State Council notices as the
installed ``holidays`` package (0.109) models them, and the Shanghai Stock
Exchange closing calendar (``holidays.financial_holidays("XSHG")``):

* 2025 notice (国办发明电〔2024〕12号): Spring Festival 28 Jan - 4 Feb off,
  Sun 26 Jan and Sat 8 Feb are make-up working days; Labour Day 1-5 May off,
  Sun 27 Apr works; Dragon Boat 31 May - 2 Jun; National Day + Mid-Autumn
  1-8 Oct off, Sun 28 Sep and Sat 11 Oct are make-up working days.
* 2026 notice (国办发明电〔2025〕7号): New Year 1-3 Jan off, Sun 4 Jan works;
  Spring Festival 15-23 Feb off, Sat 14 Feb and Sat 28 Feb work; Labour Day
  1-5 May off, Sat 9 May works; National Day 1-7 Oct off, Sun 20 Sep and Sat
  10 Oct work.
* The exchange is closed on all of those days off and on every weekend,
  make-up working weekends included.
* The package has no notice for 2027 or later (checked: its
  ``special_public_holidays`` ends at 2026), so those years are provisional.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.duedates import (
    Due,
    DueRule,
    WorkCalendar,
    add_months,
    anchor_dates,
    due_at,
    due_date,
    next_instances,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return WorkCalendar()


def local(d: date, hh: int = 23, mm: int = 59) -> datetime:
    return datetime(d.year, d.month, d.day, hh, mm, tzinfo=SHANGHAI)


# -- the calendar itself (E3 working days, E2 trading days) -----------------


@pytest.mark.parametrize(
    "day",
    [
        date(2025, 1, 26),  # Sun, Spring Festival make-up (2025 notice)
        date(2025, 2, 8),  # Sat, Spring Festival make-up
        date(2025, 4, 27),  # Sun, Labour Day make-up
        date(2025, 9, 28),  # Sun, National Day make-up
        date(2025, 10, 11),  # Sat, National Day make-up
        date(2026, 1, 4),  # Sun, New Year make-up (2026 notice)
        date(2026, 2, 14),  # Sat, Spring Festival make-up
        date(2026, 2, 28),  # Sat, Spring Festival make-up
        date(2026, 5, 9),  # Sat, Labour Day make-up
        date(2026, 9, 20),  # Sun, National Day make-up
        date(2026, 10, 10),  # Sat, National Day make-up
    ],
)
def test_e3_make_up_weekend_is_working_but_e2_not_trading(cal: WorkCalendar, day: date) -> None:
    """E2/E3: 调休 weekends are working days, never trading days."""
    assert day.weekday() >= 5
    assert cal.is_working_day(day)
    assert not cal.is_trading_day(day)


@pytest.mark.parametrize(
    "day",
    [
        date(2025, 1, 28),  # Spring Festival Eve (off since the 2024 revision)
        date(2025, 2, 3),  # substituted day off (for 26 Jan)
        date(2025, 2, 4),  # substituted day off (for 8 Feb)
        date(2025, 5, 5),  # substituted day off
        date(2025, 6, 2),  # Dragon Boat observed
        date(2025, 10, 6),  # Mid-Autumn
        date(2025, 10, 8),  # substituted day off (for 11 Oct)
        date(2026, 1, 2),  # substituted day off (for 4 Jan)
        date(2026, 2, 23),  # substituted day off (for 28 Feb)
        date(2026, 10, 7),  # substituted day off (for 10 Oct)
    ],
)
def test_e3_weekday_days_off_are_neither_working_nor_trading(cal: WorkCalendar, day: date) -> None:
    """E2/E3: weekday holidays and substituted days off close office and exchange."""
    assert day.weekday() < 5
    assert not cal.is_working_day(day)
    assert not cal.is_trading_day(day)


def test_e2_e3_ordinary_days(cal: WorkCalendar) -> None:
    assert cal.is_working_day(date(2025, 9, 30)) and cal.is_trading_day(date(2025, 9, 30))
    assert not cal.is_working_day(date(2025, 10, 12)) and not cal.is_trading_day(date(2025, 10, 12))


def test_e3_four_working_days_after_september_2025(cal: WorkCalendar) -> None:
    """E3: 1-8 Oct off; 9 Oct (1), 10 Oct (2), Sat 11 Oct make-up (3), Mon 13 Oct (4)."""
    assert cal.add_working_days(date(2025, 9, 30), 4) == date(2025, 10, 13)


def test_e2_two_trading_days_after_30_september_2025(cal: WorkCalendar) -> None:
    """E2: exchange closed 1-8 Oct; 9 Oct (1), 10 Oct (2). Sat 11 Oct is not a trading day."""
    assert cal.add_trading_days(date(2025, 9, 30), 2) == date(2025, 10, 10)
    # the make-up Saturday makes the two counts diverge from the 3rd day on
    assert cal.add_trading_days(date(2025, 9, 30), 4) == date(2025, 10, 14)
    assert cal.add_working_days(date(2025, 9, 30), 4) == date(2025, 10, 13)


def test_e2_spring_festival_2025_trading_vs_working(cal: WorkCalendar) -> None:
    """E2/E3: resolution on Fri 24 Jan 2025. Working: Sun 26 Jan (1), Mon 27 (2).

    Trading: Mon 27 Jan (1), exchange closed 28 Jan - 4 Feb, Wed 5 Feb (2).
    """
    assert cal.add_working_days(date(2025, 1, 24), 2) == date(2025, 1, 27)
    assert cal.add_trading_days(date(2025, 1, 24), 2) == date(2025, 2, 5)


def test_e2_spring_festival_2026_trading_vs_working(cal: WorkCalendar) -> None:
    """E2/E3: 2026 Spring Festival 15-23 Feb; Sat 14 Feb and Sat 28 Feb are make-up days."""
    assert cal.add_working_days(date(2026, 2, 13), 1) == date(2026, 2, 14)
    assert cal.add_trading_days(date(2026, 2, 13), 1) == date(2026, 2, 24)
    assert cal.add_working_days(date(2026, 2, 27), 1) == date(2026, 2, 28)
    assert cal.add_trading_days(date(2026, 2, 27), 1) == date(2026, 3, 2)


def test_e2_next_trading_day_skips_make_up_sunday(cal: WorkCalendar) -> None:
    """E2 abnormal-fluctuation notice "on the next trading day": Fri 26 Sep 2025 -> Mon 29 Sep
    (Sun 28 Sep is a make-up working day, but the exchange is closed)."""
    rule = DueRule(anchor="event", offset=1, unit="trading_days")
    assert due_date(rule, date(2025, 9, 26), cal) == date(2025, 9, 29)
    working = DueRule(anchor="event", offset=1, unit="working_days")
    assert due_date(working, date(2025, 9, 26), cal) == date(2025, 9, 28)


def test_add_working_days_negative_and_zero(cal: WorkCalendar) -> None:
    assert cal.add_working_days(date(2025, 10, 13), -4) == date(2025, 9, 30)
    assert cal.add_working_days(date(2025, 10, 9), -1) == date(2025, 9, 30)
    assert cal.add_working_days(date(2025, 10, 5), 0) == date(2025, 10, 5)
    assert cal.add_trading_days(date(2025, 10, 13), -2) == date(2025, 10, 9)


def test_roll_conventions(cal: WorkCalendar) -> None:
    """E3 "postponed over statutory holidays": Sun 31 Aug 2025 and the National Day break."""
    sunday = date(2025, 8, 31)
    assert cal.roll(sunday, "none") == sunday
    assert cal.roll(sunday, "following") == date(2025, 9, 1)
    assert cal.roll(sunday, "preceding") == date(2025, 8, 29)
    assert cal.roll(sunday, "modified_following") == date(2025, 8, 29)
    assert cal.roll(date(2025, 10, 5), "following") == date(2025, 10, 9)
    assert cal.roll(date(2025, 10, 5), "modified_following") == date(2025, 10, 9)
    assert cal.roll(date(2025, 10, 5), "preceding") == date(2025, 9, 30)
    assert cal.roll(date(2025, 10, 11), "following") == date(2025, 10, 11)  # make-up Saturday works
    assert cal.roll(date(2025, 10, 11), "following", business="trading") == date(2025, 10, 13)
    with pytest.raises(ValueError, match="roll convention"):
        cal.roll(sunday, "nearest")


# -- provisional years -------------------------------------------------------


def test_provisional_years(cal: WorkCalendar) -> None:
    """E3: the 2025/2026 notices are in the package; 2027 (not yet in it) and 2035 are not."""
    assert cal.has_official_schedule(2025)
    assert cal.has_official_schedule(2026)
    assert not cal.has_official_schedule(2027)
    assert not cal.has_official_schedule(2035)
    assert cal.is_provisional(date(2035, 10, 9))
    assert not cal.is_provisional(date(2026, 10, 9))


def test_provisional_due_far_future_2035(cal: WorkCalendar) -> None:
    """E3: 2035 holidays are only the statutory projection: Sep 2035 + 4 working days.

    Projected: 1-3 Oct off, Thu 4 (1), Fri 5 (2), Mon 8 (3), Tue 9 (4); flagged provisional.
    """
    rule = DueRule(anchor="month_end", offset=4, unit="working_days")
    due = due_at(rule, date(2035, 9, 30), cal, SHANGHAI)
    assert due.provisional
    assert due.local == local(date(2035, 10, 9))


def test_provisional_when_crossing_into_unknown_year(cal: WorkCalendar) -> None:
    """E3: December 2026 + 4 working days lands in January 2027 (no notice yet) -> provisional."""
    rule = DueRule(anchor="month_end", offset=4, unit="working_days")
    due = due_at(rule, date(2026, 12, 31), cal, SHANGHAI)
    assert due.provisional
    assert due.local.date() == date(2027, 1, 7)
    assert not due_at(rule, date(2026, 11, 30), cal, SHANGHAI).provisional


def test_calendar_free_rule_is_not_provisional(cal: WorkCalendar) -> None:
    """E1: pure month arithmetic without rolling does not depend on the holiday schedule."""
    rule = DueRule(anchor="fiscal_year_end", offset=4, unit="months", roll="none")
    assert not due_at(rule, date(2034, 12, 31), cal, SHANGHAI).provisional
    rolled = DueRule(anchor="fiscal_year_end", offset=4, unit="months")
    assert due_at(rolled, date(2034, 12, 31), cal, SHANGHAI).provisional


# -- E1 periodic reports -------------------------------------------------------


def test_e1_annual_report_four_months_after_fy2025(cal: WorkCalendar) -> None:
    """E1: FY2025 (31 Dec 2025) + 4 months = Thu 30 Apr 2026 end of day (a working day)."""
    rule = DueRule(anchor="fiscal_year_end", offset=4, unit="months")
    due = due_at(rule, date(2025, 12, 31), cal, SHANGHAI)
    assert due == Due(
        local=local(date(2026, 4, 30)),
        utc=datetime(2026, 4, 30, 15, 59, tzinfo=UTC),
        provisional=False,
        period_label="FY2025",
    )


def test_e1_annual_report_fiscal_year_ending_june(cal: WorkCalendar) -> None:
    """E1: a fiscal year ending 30 Jun 2025 + 4 months = Fri 31 Oct 2025 (end-of-month rule)."""
    rule = DueRule(anchor="fiscal_year_end", offset=4, unit="months")
    [(anchor, due)] = next_instances(rule, local(date(2025, 7, 1), 0, 0), 1, cal, SHANGHAI, "06-30")
    assert anchor == date(2025, 6, 30)
    assert due.local == local(date(2025, 10, 31))
    assert due.period_label == "FY2025"


def test_e1_half_year_report_two_months(cal: WorkCalendar) -> None:
    """E1: H1 2025 (30 Jun) + 2 months = Sun 31 Aug 2025 -> following -> Mon 1 Sep 2025."""
    rule = DueRule(anchor="half_year_end", offset=2, unit="months")
    due = due_at(rule, date(2025, 6, 30), cal, SHANGHAI)
    assert due.local == local(date(2025, 9, 1))
    assert due.period_label == "2025-H1"
    # the rule's roll is honoured
    preceding = DueRule(anchor="half_year_end", offset=2, unit="months", roll="preceding")
    assert due_date(preceding, date(2025, 6, 30), cal) == date(2025, 8, 29)
    unrolled = DueRule(anchor="half_year_end", offset=2, unit="months", roll="none")
    assert due_date(unrolled, date(2025, 6, 30), cal) == date(2025, 8, 31)
    # H2 2025 (31 Dec) + 2 months = Sat 28 Feb 2026, a make-up working day: stays
    assert due_date(rule, date(2025, 12, 31), cal) == date(2026, 2, 28)


def test_e1_month_end_clamps() -> None:
    assert add_months(date(2025, 12, 31), 4) == date(2026, 4, 30)
    assert add_months(date(2025, 1, 31), 1) == date(2025, 2, 28)
    assert add_months(date(2025, 1, 30), 1) == date(2025, 2, 28)
    assert add_months(date(2025, 6, 30), 2) == date(2025, 8, 31)  # month end stays month end
    assert add_months(date(2025, 3, 15), 1) == date(2025, 4, 15)
    assert add_months(date(2025, 4, 30), -2) == date(2025, 2, 28)
    assert add_months(date(2025, 11, 30), 3) == date(2026, 2, 28)


def test_e1_leap_years() -> None:
    """E1: 2028 is a leap year."""
    assert add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)
    assert add_months(date(2027, 12, 31), 2) == date(2028, 2, 29)
    assert add_months(date(2028, 2, 29), 12) == date(2029, 2, 28)
    assert add_months(date(2028, 2, 28), 1) == date(2028, 3, 28)
    assert add_months(date(2028, 2, 29), 1) == date(2028, 3, 31)  # month end
    monthly = DueRule(anchor="month_end", roll="none")
    assert anchor_dates(monthly, date(2028, 2, 1), date(2028, 2, 29)) == [date(2028, 2, 29)]
    yearly = DueRule(anchor="yearly", date="02-29", roll="none")
    assert anchor_dates(yearly, date(2027, 1, 1), date(2028, 12, 31)) == [date(2027, 2, 28), date(2028, 2, 29)]


def test_e1_leap_day_due_on_provisional_year(cal: WorkCalendar) -> None:
    rule = DueRule(anchor="month_end", offset=2, unit="months", roll="none")
    due = due_at(rule, date(2027, 12, 31), cal, SHANGHAI)
    assert due.local == local(date(2028, 2, 29))
    assert not due.provisional  # no calendar consulted


# -- E2 / E6 event deadlines ---------------------------------------------------


def test_e2_event_disclosure_within_two_trading_days(cal: WorkCalendar) -> None:
    """E2: board resolution on Tue 30 Sep 2025 -> disclose by Fri 10 Oct 2025 23:59."""
    rule = DueRule(anchor="event", offset=2, unit="trading_days")
    due = due_at(rule, date(2025, 9, 30), cal, SHANGHAI)
    assert due.local == local(date(2025, 10, 10))
    assert due.period_label == "2025-09-30"


def test_e2_annual_meeting_notice_20_days_before(cal: WorkCalendar) -> None:
    """E2: meeting Tue 20 May 2025 - 20 days = Thu 1 May (Labour Day) -> preceding -> Wed 30 Apr."""
    rule = DueRule(anchor="event", offset=20, direction="before")
    assert due_at(rule, date(2025, 5, 20), cal, SHANGHAI).local == local(date(2025, 4, 30))
    # on an ordinary day nothing moves: meeting Fri 27 Jun 2025 -> Sat 7 Jun -> Fri 6 Jun
    assert due_date(rule, date(2025, 6, 27), cal) == date(2025, 6, 6)
    assert due_date(rule, date(2025, 6, 30), cal) == date(2025, 6, 10)  # Tue, no roll


def test_e2_extraordinary_meeting_notice_15_days_before(cal: WorkCalendar) -> None:
    """E2: meeting Mon 20 Oct 2025 - 15 days = Sun 5 Oct (holiday) -> preceding -> Tue 30 Sep."""
    rule = DueRule(anchor="event", offset=15, direction="before")
    assert due_date(rule, date(2025, 10, 20), cal) == date(2025, 9, 30)
    # meeting Sun 26 Oct 2025 - 15 days = Sat 11 Oct, a make-up working day: stays
    assert due_date(rule, date(2025, 10, 26), cal) == date(2025, 10, 11)
    # an explicit roll is honoured: meeting Mon 27 Oct - 15 = Sun 12 Oct -> following -> Mon 13 Oct
    following = DueRule(anchor="event", offset=15, direction="before", roll="following")
    assert due_date(following, date(2025, 10, 27), cal) == date(2025, 10, 13)


def test_e6_filing_30_days_in_advance_and_answer_in_20_working_days(cal: WorkCalendar) -> None:
    """E6: change effective Fri 31 Oct 2025 - 30 days = Wed 1 Oct (holiday) -> Tue 30 Sep.

    Answer within 20 working days after a filing on Mon 15 Sep 2025: 16-19 Sep (4),
    22-26 (9), Sun 28 make-up (10), 29-30 (12), 9-11 Oct incl. Sat 11 (15), 13-17 Oct (20).
    """
    before = DueRule(anchor="event", offset=30, direction="before")
    assert due_date(before, date(2025, 10, 31), cal) == date(2025, 9, 30)
    answer = DueRule(anchor="event", offset=20, unit="working_days")
    assert due_date(answer, date(2025, 9, 15), cal) == date(2025, 10, 17)


def test_roll_never_crosses_the_anchor(cal: WorkCalendar) -> None:
    """E2/E6: a preceding roll never puts an "after" deadline before its event."""
    rule = DueRule(anchor="event", offset=3, roll="preceding")
    # Thu 2 Oct 2025 + 3 = Sun 5 Oct; preceding would be 30 Sep -> following instead
    assert due_date(rule, date(2025, 10, 2), cal) == date(2025, 10, 9)
    before = DueRule(anchor="event", offset=3, direction="before", roll="following")
    # meeting Wed 8 Oct 2025 - 3 = Sun 5 Oct; following would be 9 Oct -> preceding instead
    assert due_date(before, date(2025, 10, 8), cal) == date(2025, 9, 30)


# -- E3 monthly and yearly -----------------------------------------------------


def test_e3_branch_four_and_credit_seven_working_days(cal: WorkCalendar) -> None:
    """E3: September 2025: branches 13 Oct, credit department 16 Oct (9,10,11,13,14,15,16)."""
    branches = DueRule(anchor="month_end", offset=4, unit="working_days")
    credit = DueRule(anchor="month_end", offset=7, unit="working_days")
    assert due_at(branches, date(2025, 9, 30), cal, SHANGHAI).local == local(date(2025, 10, 13))
    assert due_at(credit, date(2025, 9, 30), cal, SHANGHAI).local == local(date(2025, 10, 16))
    assert due_at(branches, date(2025, 9, 30), cal, SHANGHAI).period_label == "2025-09"


def test_e3_corrections_by_noon_on_fifth_working_day(cal: WorkCalendar) -> None:
    """E3: corrections by 12:00 on the 5th working day after month end, in the org's time zone."""
    rule = DueRule(anchor="month_end", offset=5, unit="working_days", time="12:00")
    due = due_at(rule, date(2025, 9, 30), cal, SHANGHAI)
    assert due.local == local(date(2025, 10, 14), 12, 0)
    assert due.utc == datetime(2025, 10, 14, 4, 0, tzinfo=UTC)
    # January 2025: 3-4 Feb are days off; 5,6,7 Feb, Sat 8 Feb make-up, Mon 10 Feb (5th)
    assert due_at(rule, date(2025, 1, 31), cal, SHANGHAI).local == local(date(2025, 2, 10), 12, 0)
    # same rule for an organisation in Berlin (CEST, UTC+2 in October)
    berlin = due_at(rule, date(2025, 9, 30), cal, ZoneInfo("Europe/Berlin"))
    assert berlin.utc == datetime(2025, 10, 14, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("month_end", "expected"),
    [
        (date(2025, 9, 30), date(2025, 10, 9)),  # 5 Oct in the 1-8 Oct break -> Thu 9 Oct
        (date(2025, 12, 31), date(2026, 1, 5)),  # Mon 5 Jan 2026, ordinary
        (date(2026, 1, 31), date(2026, 2, 5)),  # Thu 5 Feb 2026, ordinary
        (date(2026, 4, 30), date(2026, 5, 6)),  # 5 May 2026 is a substituted day off (1-5 May)
        (date(2026, 9, 30), date(2026, 10, 8)),  # 1-7 Oct 2026 off -> Thu 8 Oct
        (date(2025, 4, 30), date(2025, 5, 6)),  # 1-5 May 2025 off -> Tue 6 May
    ],
)
def test_e3_flash_report_by_the_fifth(cal: WorkCalendar, month_end: date, expected: date) -> None:
    """E3: "by the 5th of each month" = month_end + 5 calendar days, roll following."""
    rule = DueRule(anchor="month_end", offset=5, unit="calendar_days", roll="following")
    assert due_at(rule, month_end, cal, SHANGHAI).local == local(expected)


def test_e3_yearly_31_march_and_20_april(cal: WorkCalendar) -> None:
    """E3: 31 Mar 2025 (Mon) and 2026 (Tue) are working days; 20 Apr 2025 is a Sunday -> 21 Apr."""
    march = DueRule(anchor="yearly", date="03-31")
    april = DueRule(anchor="yearly", date="04-20")
    after = local(date(2025, 1, 1), 0, 0)
    got = [(a, d.local.date(), d.period_label) for a, d in next_instances(march, after, 2, cal, SHANGHAI)]
    assert got == [
        (date(2025, 3, 31), date(2025, 3, 31), "2025"),
        (date(2026, 3, 31), date(2026, 3, 31), "2026"),
    ]
    got = [(a, d.local.date()) for a, d in next_instances(april, after, 2, cal, SHANGHAI)]
    assert got == [(date(2025, 4, 20), date(2025, 4, 21)), (date(2026, 4, 20), date(2026, 4, 20))]


# -- organisation overrides (E3) --------------------------------------------------


def test_e3_override_non_working_day_is_skipped() -> None:
    cal = WorkCalendar({date(2025, 10, 13): False})
    assert cal.add_working_days(date(2025, 9, 30), 4) == date(2025, 10, 14)
    assert cal.is_trading_day(date(2025, 10, 13))  # the exchange still trades


def test_e3_override_working_day_counts() -> None:
    sunday = WorkCalendar({date(2025, 10, 12): True})
    assert sunday.add_working_days(date(2025, 9, 30), 4) == date(2025, 10, 12)
    assert not sunday.is_trading_day(date(2025, 10, 12))
    holiday = WorkCalendar({date(2025, 10, 8): True})  # the organisation works on 8 Oct
    assert holiday.add_working_days(date(2025, 9, 30), 4) == date(2025, 10, 11)
    rule = DueRule(anchor="month_end", offset=5, roll="following")
    assert due_date(rule, date(2025, 9, 30), holiday) == date(2025, 10, 8)


def test_e2_trading_overrides() -> None:
    cal = WorkCalendar(trading_overrides={date(2025, 10, 9): False})  # e.g. an unplanned closure
    assert cal.add_trading_days(date(2025, 9, 30), 2) == date(2025, 10, 13)
    assert cal.is_working_day(date(2025, 10, 9))


# -- periods and upcoming instances (E1, E3, E5) ------------------------------------


def test_e3_next_two_periods(cal: WorkCalendar) -> None:
    rule = DueRule(anchor="month_end", offset=4, unit="working_days")
    got = next_instances(rule, local(date(2025, 10, 10), 0, 0), 2, cal, SHANGHAI)
    assert [(a, d.local) for a, d in got] == [
        (date(2025, 9, 30), local(date(2025, 10, 13))),
        (date(2025, 10, 31), local(date(2025, 11, 6))),  # Fri 31 Oct + Mon 3 .. Thu 6 Nov
    ]
    # strictly after: a deadline at exactly `after` is not upcoming
    got = next_instances(rule, local(date(2025, 10, 13)), 1, cal, SHANGHAI)
    assert got[0][0] == date(2025, 10, 31)
    assert next_instances(rule, local(date(2025, 10, 13)), 0, cal, SHANGHAI) == []


def test_next_instances_requires_aware_datetime(cal: WorkCalendar) -> None:
    rule = DueRule(anchor="month_end", offset=4, unit="working_days")
    with pytest.raises(ValueError, match="timezone-aware"):
        next_instances(rule, datetime(2025, 10, 1), 1, cal, SHANGHAI)


def test_e5_quarterly_and_half_yearly_examples(cal: WorkCalendar) -> None:
    """E5: archives verified each quarter, static data each half year (due at the period end)."""
    quarterly = DueRule(anchor="quarter_end", roll="preceding")
    got = next_instances(quarterly, local(date(2025, 7, 1), 0, 0), 3, cal, SHANGHAI)
    assert [(d.local.date(), d.period_label) for _, d in got] == [
        (date(2025, 9, 30), "2025-Q3"),
        (date(2025, 12, 31), "2025-Q4"),
        (date(2026, 3, 31), "2026-Q1"),
    ]
    half = DueRule(anchor="half_year_end", roll="preceding")
    got = next_instances(half, local(date(2025, 7, 1), 0, 0), 2, cal, SHANGHAI)
    assert [(d.local.date(), d.period_label) for _, d in got] == [
        (date(2025, 12, 31), "2025-H2"),
        (date(2026, 6, 30), "2026-H1"),
    ]
    yearly = DueRule(anchor="yearly", date="12-31")
    assert next_instances(yearly, local(date(2025, 7, 1), 0, 0), 1, cal, SHANGHAI)[0][1].period_label == "2025"


def test_anchor_dates_periods_and_fiscal_year() -> None:
    monthly = DueRule(anchor="month_end", offset=4, unit="working_days")
    # due dates in October 2025: only September's (13 Oct) qualifies
    assert anchor_dates(monthly, date(2025, 10, 1), date(2025, 10, 31)) == [date(2025, 9, 30)]
    annual = DueRule(anchor="fiscal_year_end", offset=4, unit="months")
    assert anchor_dates(annual, date(2026, 1, 1), date(2026, 12, 31)) == [date(2025, 12, 31)]
    # fiscal year ending 06-30: FY2025's report was due 31 Oct 2025, FY2026's on 31 Oct 2026
    assert anchor_dates(annual, date(2026, 1, 1), date(2026, 12, 31), "06-30") == [date(2026, 6, 30)]
    half = DueRule(anchor="half_year_end", roll="none")
    assert anchor_dates(half, date(2025, 1, 1), date(2025, 12, 31), "03-31") == [
        date(2025, 3, 31),
        date(2025, 9, 30),
    ]
    with pytest.raises(ValueError, match="last day of a month"):
        anchor_dates(annual, date(2026, 1, 1), date(2026, 12, 31), "06-15")
    with pytest.raises(ValueError, match="event"):
        anchor_dates(DueRule(anchor="event", offset=2), date(2026, 1, 1), date(2026, 12, 31))


def test_anchor_dates_exact_with_calendar(cal: WorkCalendar) -> None:
    flash = DueRule(anchor="month_end", offset=5, roll="following")
    # 9 Oct 2025 is September's due day; the exact answer for 1-8 Oct is empty
    assert anchor_dates(flash, date(2025, 10, 1), date(2025, 10, 8), calendar=cal) == []
    assert anchor_dates(flash, date(2025, 10, 1), date(2025, 10, 9), calendar=cal) == [date(2025, 9, 30)]
    assert date(2025, 9, 30) in anchor_dates(flash, date(2025, 10, 1), date(2025, 10, 8))  # superset


# -- DueRule validation ---------------------------------------------------------------


def test_due_rule_parse_and_defaults() -> None:
    rule = DueRule.parse({"anchor": "month_end", "offset": 4, "unit": "working_days", "time": "12:00"})
    assert rule == DueRule("month_end", 4, "working_days", "after", None, "12:00", None)
    assert DueRule.parse({"anchor": "yearly", "date": "02-29"}).date == "02-29"


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ({"offset": 4}, "'anchor' is required"),
        ({"anchor": "week_end"}, "anchor must be one of"),
        ({"anchor": "month_end", "ofset": 4}, "unknown key"),
        ({"anchor": "month_end", "offset": -1}, "offset must be an integer >= 0"),
        ({"anchor": "month_end", "offset": True}, "offset must be an integer"),
        ({"anchor": "month_end", "offset": "4"}, "offset must be an integer"),
        ({"anchor": "month_end", "unit": "weeks"}, "unit must be one of"),
        ({"anchor": "month_end", "direction": "around"}, "direction must be"),
        ({"anchor": "month_end", "roll": "nearest"}, "roll must be one of"),
        ({"anchor": "month_end", "time": "24:00"}, "time must be"),
        ({"anchor": "month_end", "time": "9:00"}, "time must be"),
        ({"anchor": "yearly"}, "needs date"),
        ({"anchor": "yearly", "date": "02-30"}, "date must be"),
        ({"anchor": "month_end", "date": "03-31"}, "only allowed with anchor 'yearly'"),
    ],
)
def test_due_rule_parse_errors(mapping: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        DueRule.parse(mapping)


def test_due_rule_parse_rejects_non_mapping_and_direct_construction_validates() -> None:
    with pytest.raises(ValueError, match="mapping"):
        DueRule.parse(["anchor"])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="offset"):
        DueRule(anchor="month_end", offset=-3)


def test_duck_typed_rule_object(cal: WorkCalendar) -> None:
    """Callers with their own policy model pass any object with the rule attributes."""

    class PolicyRule:
        anchor = "month_end"
        date = None
        offset = 4
        unit = "working_days"
        direction = "after"
        time = None
        roll = "following"

    assert due_at(PolicyRule(), date(2025, 9, 30), cal, SHANGHAI).local == local(date(2025, 10, 13))


# -- properties (hypothesis) ---------------------------------------------------------------

official_days = st.dates(min_value=date(2024, 1, 1), max_value=date(2026, 12, 31))
offsets = st.integers(min_value=1, max_value=25)


@FAST
@given(d=official_days, n=offsets, back=st.booleans())
def test_e3_property_working_offset_lands_on_working_day(cal: WorkCalendar, d: date, n: int, back: bool) -> None:
    """E3: N working days away is a working day, and exactly N working days are crossed."""
    result = cal.add_working_days(d, -n if back else n)
    assert cal.is_working_day(result)
    assert (result < d) if back else (result > d)
    # days strictly past d up to and including result
    step = timedelta(days=-1 if back else 1)
    crossed = [d + step * i for i in range(1, abs((result - d).days) + 1)]
    assert sum(cal.is_working_day(x) for x in crossed) == n


@FAST
@given(d=official_days, n=offsets, back=st.booleans())
def test_e2_property_trading_offset_lands_on_trading_day(cal: WorkCalendar, d: date, n: int, back: bool) -> None:
    """E2: N trading days away is a weekday the exchange is open (independent oracle)."""
    result = cal.add_trading_days(d, -n if back else n)
    exchange = holidays.financial_holidays("XSHG", years=result.year)
    assert result.weekday() < 5
    assert result not in exchange
    assert (result < d) if back else (result > d)


@FAST
@given(d=official_days, n=st.integers(min_value=-25, max_value=25))
def test_e3_property_working_days_round_trip(cal: WorkCalendar, d: date, n: int) -> None:
    """E3: on a working day, going n working days and back returns to the same day."""
    start = cal.roll(d, "following")
    assert cal.add_working_days(cal.add_working_days(start, n), -n) == start


rules = st.builds(
    DueRule,
    anchor=st.just("event"),
    offset=st.integers(min_value=0, max_value=40),
    unit=st.sampled_from(["calendar_days", "working_days", "trading_days", "months"]),
    direction=st.sampled_from(["after", "before"]),
    time=st.sampled_from([None, "00:00", "09:30", "12:00"]),
    roll=st.sampled_from([None, "none", "following", "preceding", "modified_following"]),
)


@FAST
@given(rule=rules, anchor=official_days)
def test_e2_e6_property_after_never_before_anchor_and_before_never_after(
    cal: WorkCalendar, rule: DueRule, anchor: date
) -> None:
    """E2/E6: "after" deadlines are never before the event, "before" deadlines never after it."""
    due = due_at(rule, anchor, cal, SHANGHAI)
    if rule.direction == "after":
        assert due.local.date() >= anchor
    else:
        assert due.local.date() <= anchor
    assert due.utc == due.local.astimezone(UTC)
    counted = rule.unit in ("working_days", "trading_days") and rule.offset > 0
    if counted or rule.roll != "none":  # roll None means following/preceding
        business = cal.is_trading_day if rule.unit == "trading_days" else cal.is_working_day
        assert business(due.local.date())


period_rules = st.builds(
    DueRule,
    anchor=st.sampled_from(["month_end", "quarter_end", "half_year_end", "fiscal_year_end"]),
    offset=st.integers(min_value=0, max_value=10),
    unit=st.sampled_from(["calendar_days", "working_days", "trading_days", "months"]),
    direction=st.sampled_from(["after", "before"]),
    roll=st.sampled_from([None, "none", "following", "preceding", "modified_following"]),
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rule=period_rules,
    start=st.dates(min_value=date(2024, 3, 1), max_value=date(2026, 6, 30)),
    days=st.integers(min_value=0, max_value=120),
    fye=st.sampled_from(["12-31", "06-30", "03-31"]),
)
def test_e1_property_anchor_dates_superset_and_next_instances_ordered(
    cal: WorkCalendar, rule: DueRule, start: date, days: int, fye: str
) -> None:
    """E1/E5: calendar-free anchor_dates covers the exact answer; upcoming instances are ordered."""
    end = start + timedelta(days=days)
    exact = anchor_dates(rule, start, end, fye, calendar=cal)
    assert set(exact) <= set(anchor_dates(rule, start, end, fye))
    for anchor in exact:
        assert start <= due_date(rule, anchor, cal) <= end
    after = datetime.combine(start, datetime.min.time(), tzinfo=SHANGHAI)
    upcoming = next_instances(rule, after, 3, cal, SHANGHAI, fye)
    assert len(upcoming) == 3
    assert all(due.utc > after for _, due in upcoming)
    assert [a for a, _ in upcoming] == sorted(a for a, _ in upcoming)
    assert [d.utc for _, d in upcoming] == sorted(d.utc for _, d in upcoming)
    # nothing skipped: every anchor whose due day falls between `after` and the last found is listed
    last = upcoming[-1][1].local.date()
    between = anchor_dates(rule, start, last - timedelta(days=1), fye, calendar=cal)
    assert set(between) <= {a for a, _ in upcoming}


# -- more dated examples: Spring Festival 2024/2026, leap years, fiscal years (E1-E3) ----------------


def test_e2_e3_spring_festival_2026_disclosure_and_notice(cal: WorkCalendar) -> None:
    """E2: a resolution on Thu 12 Feb 2026: trading Fri 13 Feb (1), closed 14-23 Feb, Tue 24 Feb (2);
    counted in working days instead, the make-up Saturday 14 Feb is the 2nd. A meeting on Thu 12 Mar
    2026: 20 days before is Fri 20 Feb (a holiday) -> preceding -> Sat 14 Feb, a make-up working day."""
    disclosure = DueRule(anchor="event", offset=2, unit="trading_days")
    assert due_at(disclosure, date(2026, 2, 12), cal, SHANGHAI).local == local(date(2026, 2, 24))
    assert due_date(DueRule(anchor="event", offset=2, unit="working_days"), date(2026, 2, 12), cal) == date(2026, 2, 14)
    notice = DueRule(anchor="event", offset=20, direction="before")
    assert due_date(notice, date(2026, 3, 12), cal) == date(2026, 2, 14)


@pytest.mark.parametrize(
    ("month_end", "offset", "expected"),
    [
        (date(2026, 1, 31), 4, date(2026, 2, 5)),  # Sat 31 Jan: Mon 2 .. Thu 5 Feb, before the break
        (date(2026, 1, 31), 7, date(2026, 2, 10)),  # Feb 2-6 (5), 9 (6), 10 (7)
        (date(2026, 2, 28), 4, date(2026, 3, 5)),  # the anchor is a make-up Saturday; counting starts after it
        (date(2024, 1, 31), 7, date(2024, 2, 8)),  # 2024: Sun 4 Feb is a make-up working day, Sat 3 Feb is not
        (date(2024, 2, 29), 4, date(2024, 3, 6)),  # leap day anchor: Fri 1, Mon 4, Tue 5, Wed 6 Mar
    ],
)
def test_e3_working_days_around_spring_festival_and_leap_day(
    cal: WorkCalendar, month_end: date, offset: int, expected: date
) -> None:
    rule = DueRule(anchor="month_end", offset=offset, unit="working_days")
    assert due_date(rule, month_end, cal) == expected


def test_e1_leap_year_month_end_anchor_and_fiscal_year_ending_in_february(cal: WorkCalendar) -> None:
    """E1: the February month end is the 29th in 2024; a fiscal year ending "02-28" ends on 29 Feb
    2024, and its annual report (4 months) falls on Sun 30 Jun 2024 -> Mon 1 Jul 2024."""
    monthly = DueRule(anchor="month_end", offset=4, unit="working_days")
    [(anchor, _)] = next_instances(monthly, local(date(2024, 3, 1), 0, 0), 1, cal, SHANGHAI)
    assert anchor == date(2024, 2, 29)
    annual = DueRule(anchor="fiscal_year_end", offset=4, unit="months")
    [(anchor, due)] = next_instances(annual, local(date(2024, 3, 1), 0, 0), 1, cal, SHANGHAI, "02-28")
    assert anchor == date(2024, 2, 29)
    assert due.local == local(date(2024, 7, 1))
    assert due.period_label == "FY2024"


def test_e3_before_rule_with_time_of_day(cal: WorkCalendar) -> None:
    """E2/E6: "notice 15 days before, by 17:00": meeting Mon 20 Oct 2025 -> Sun 5 Oct (holiday)
    -> preceding -> Tue 30 Sep 2025 at 17:00 Shanghai, 09:00 UTC."""
    rule = DueRule(anchor="event", offset=15, direction="before", time="17:00")
    due = due_at(rule, date(2025, 10, 20), cal, SHANGHAI)
    assert due.local == local(date(2025, 9, 30), 17, 0)
    assert due.utc == datetime(2025, 9, 30, 9, 0, tzinfo=UTC)


@FAST
@given(
    anchor=official_days,
    n=st.integers(min_value=1, max_value=20),
    at=st.sampled_from(["00:00", "09:30", "12:00", "23:59"]),
    trading=st.booleans(),
)
def test_e3_property_counted_deadline_is_a_business_day_at_the_rules_time(
    cal: WorkCalendar, anchor: date, n: int, at: str, trading: bool
) -> None:
    """E2/E3: an N working/trading-day deadline lands on such a day, at the rule's time of day, and
    strictly after the anchor; it is provisional only when a year without a notice is touched."""
    rule = DueRule(anchor="event", offset=n, unit="trading_days" if trading else "working_days", time=at)
    due = due_at(rule, anchor, cal, SHANGHAI)
    day = due.local.date()
    assert (cal.is_trading_day if trading else cal.is_working_day)(day)
    assert day > anchor
    assert due.local.strftime("%H:%M") == at
    assert due.provisional == (day.year >= 2027)
