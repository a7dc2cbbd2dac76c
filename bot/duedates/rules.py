"""Due-date rules: from a period end or an event to an aware due time (RULES.md E1-E3, E5, E6).

A rule is any object with the attributes ``anchor``, ``date``, ``offset``,
``unit``, ``direction``, ``time`` and ``roll`` (the policy model's rule, or
:class:`DueRule`). Semantics:

* The **anchor** is a period end (``month_end``, ``quarter_end``,
  ``half_year_end``, ``fiscal_year_end``), a fixed day each year (``yearly``
  with ``date = "MM-DD"``; ``02-29`` is 28 February in common years) or an
  ``event`` date given by the caller (E2, E6).
* ``calendar_days``: anchor plus/minus ``offset`` days.
* ``working_days`` / ``trading_days``: the ``offset``-th working / trading day
  strictly after (before) the anchor - "within 4 working days after month
  end" (E3) and "within 2 trading days" (E2). ``offset = 0`` keeps the anchor.
* ``months``: calendar month arithmetic with the end-of-month convention: a
  month-end anchor gives a month end (31 Dec + 4 months = 30 Apr, 30 Jun + 4
  months = 31 Oct, 30 Jun + 2 months = 31 Aug, E1); any other day is clamped
  to the target month's length (30 Jan + 1 month = 28/29 Feb).
* The result is then **rolled** with ``roll`` on the working-day calendar
  (trading-day calendar for ``trading_days`` rules). When a rule's ``roll`` is
  ``None`` the default is ``following`` for ``after`` (E3: deadlines are
  postponed over statutory holidays) and ``preceding`` for ``before`` (a
  notice due on a Sunday must go out on the Friday, E2/E6). An explicit
  ``roll`` is honoured, except that rolling never crosses the anchor: if a
  ``preceding``/``modified_following`` roll would put an ``after`` deadline
  before its anchor, it rolls ``following`` instead (and a ``before``
  deadline that would land after its anchor rolls ``preceding``).
* ``time`` ("HH:MM") applies in the organisation's time zone; ``None`` means
  23:59 (end of the due day).
* Period-end anchors default to the calendar; ``fiscal_year_end`` ("MM-DD",
  a month end) moves the fiscal year end and with it the quarter and
  half-year ends (they are the month ends 3 / 6 months apart from it).

The "5th of each month" (E3 flash reports) is ``month_end + 5 calendar_days
after, roll following``.
"""

from __future__ import annotations

import calendar as _cal
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any, Protocol

from bot.duedates.calendar import ROLL_CONVENTIONS, WorkCalendar

ANCHORS: tuple[str, ...] = (
    "month_end",
    "quarter_end",
    "half_year_end",
    "fiscal_year_end",
    "yearly",
    "event",
)
UNITS: tuple[str, ...] = ("calendar_days", "working_days", "trading_days", "months")
DIRECTIONS: tuple[str, ...] = ("after", "before")
END_OF_DAY = time(23, 59)

# Slack (calendar days) that ``anchor_dates`` allows for weekends, holidays
# and rolling when it has no calendar to compute exact due dates. The longest
# official closure (Spring Festival) is 9 days; overrides can be longer, so
# pass ``calendar=`` for an exact answer.
_SLACK_DAYS = 16


class RuleLike(Protocol):
    """What the engine reads from a rule (the policy model or :class:`DueRule`)."""

    anchor: str
    date: str | None
    offset: int
    unit: str
    direction: str
    time: str | None
    roll: str | None


@dataclass(frozen=True)
class Due:
    """One computed deadline (E4 timeliness is measured against ``utc``).

    ``provisional`` is True when the result depends on the working/trading
    calendar of a year whose official holiday schedule is not in the
    installed ``holidays`` package yet (recompute once it is).
    """

    local: datetime
    utc: datetime
    provisional: bool
    period_label: str


@dataclass(frozen=True)
class DueRule:
    """A due-date rule (E1, E2, E3, E5, E6); validated on construction.

    ``roll=None`` means the direction's default (``following`` after,
    ``preceding`` before); see the module docstring.
    """

    anchor: str
    offset: int = 0
    unit: str = "calendar_days"
    direction: str = "after"
    date: str | None = None
    time: str | None = None
    roll: str | None = None

    def __post_init__(self) -> None:
        _validate(self)

    @classmethod
    def parse(cls, mapping: Mapping[str, Any]) -> DueRule:
        """Build a rule from a mapping (e.g. a TOML table); ValueError with a clear message."""
        if not isinstance(mapping, Mapping):
            raise ValueError(f"due-date rule must be a table/mapping, got {type(mapping).__name__}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(str(k) for k in mapping if k not in known)
        if unknown:
            raise ValueError(f"due-date rule: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(known))}")
        if "anchor" not in mapping:
            raise ValueError("due-date rule: 'anchor' is required")
        return cls(**dict(mapping))


def _validate(rule: RuleLike) -> None:
    """Raise ValueError if ``rule`` is not a well-formed due-date rule."""
    if rule.anchor not in ANCHORS:
        raise ValueError(f"due-date rule: anchor must be one of {', '.join(ANCHORS)}, got {rule.anchor!r}")
    if rule.unit not in UNITS:
        raise ValueError(f"due-date rule: unit must be one of {', '.join(UNITS)}, got {rule.unit!r}")
    if rule.direction not in DIRECTIONS:
        raise ValueError(f"due-date rule: direction must be 'after' or 'before', got {rule.direction!r}")
    if rule.roll is not None and rule.roll not in ROLL_CONVENTIONS:
        raise ValueError(f"due-date rule: roll must be one of {', '.join(ROLL_CONVENTIONS)}, got {rule.roll!r}")
    if isinstance(rule.offset, bool) or not isinstance(rule.offset, int) or rule.offset < 0:
        raise ValueError(f"due-date rule: offset must be an integer >= 0, got {rule.offset!r}")
    if rule.anchor == "yearly":
        if rule.date is None:
            raise ValueError("due-date rule: a 'yearly' anchor needs date = \"MM-DD\"")
        _parse_month_day(rule.date, "date")
    elif rule.date is not None:
        raise ValueError(f"due-date rule: 'date' is only allowed with anchor 'yearly' (anchor is {rule.anchor!r})")
    if rule.time is not None:
        _parse_time(rule.time)


def _parse_month_day(text: object, what: str) -> tuple[int, int]:
    """'MM-DD' -> (month, day); 02-29 is allowed."""
    try:
        if not isinstance(text, str) or len(text) != 5 or text[2] != "-":
            raise ValueError
        month, day = int(text[:2]), int(text[3:])
        date(2000, month, day)  # 2000 is a leap year, so 02-29 passes
    except ValueError:
        raise ValueError(f'due-date rule: {what} must be "MM-DD", got {text!r}') from None
    return month, day


def _parse_time(text: object) -> time:
    try:
        if not isinstance(text, str) or len(text) != 5 or text[2] != ":":
            raise ValueError
        return time(int(text[:2]), int(text[3:]))
    except ValueError:
        raise ValueError(f'due-date rule: time must be "HH:MM" (00:00-23:59), got {text!r}') from None


def _fiscal_year_end_month(fiscal_year_end: str) -> int:
    """Month of a fiscal year end given as the last day of a month ("12-31", "06-30", "02-28")."""
    month, day = _parse_month_day(fiscal_year_end, "fiscal_year_end")
    if day < _cal.monthrange(2001, month)[1]:  # 2001: common year, so 02-28 and 02-29 are both month ends
        raise ValueError(f"fiscal_year_end must be the last day of a month, got {fiscal_year_end!r}")
    return month


# -- date arithmetic --------------------------------------------------------


def _month_end(year: int, month: int) -> date:
    return date(year, month, _cal.monthrange(year, month)[1])


def _is_month_end(d: date) -> bool:
    return d.day == _cal.monthrange(d.year, d.month)[1]


def add_months(d: date, months: int) -> date:
    """Calendar month arithmetic, end-of-month preserving (E1).

    A month-end date maps to the target month's end (30 Jun + 4 = 31 Oct,
    31 Dec + 2 = 28/29 Feb); other days are clamped (30 Jan + 1 = 28/29 Feb).
    """
    index = d.year * 12 + (d.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    last = _cal.monthrange(year, month)[1]
    return date(year, month, last if _is_month_end(d) else min(d.day, last))


def _yearly_date(year: int, month: int, day: int) -> date:
    """MM-DD in ``year``; 02-29 falls on 28 February in common years."""
    return date(year, month, min(day, _cal.monthrange(year, month)[1]))


def _effective_roll(rule: RuleLike) -> str:
    if rule.roll is not None:
        return rule.roll
    return "preceding" if rule.direction == "before" else "following"


def due_date(rule: RuleLike, anchor: date, calendar: WorkCalendar) -> date:
    """The due *day* for ``anchor`` (no time of day); see the module docstring."""
    _validate(rule)
    sign = 1 if rule.direction == "after" else -1
    n = sign * rule.offset
    if rule.unit == "calendar_days":
        nominal = anchor + timedelta(days=n)
    elif rule.unit == "working_days":
        nominal = calendar.add_working_days(anchor, n)
    elif rule.unit == "trading_days":
        nominal = calendar.add_trading_days(anchor, n)
    else:
        nominal = add_months(anchor, n)
    business = "trading" if rule.unit == "trading_days" else "working"
    rolled = calendar.roll(nominal, _effective_roll(rule), business=business)
    # Rolling never crosses the anchor: an "after" deadline is not due before
    # its event, a "before" deadline not after it; roll the other way instead.
    if sign > 0 and rolled < anchor:
        return calendar.roll(nominal, "following", business=business)
    if sign < 0 and rolled > anchor:
        return calendar.roll(nominal, "preceding", business=business)
    return rolled


def _period_label(anchor_kind: str, anchor: date) -> str:
    """ "2025-09", "2025-Q3", "2025-H1", "FY2025", "2025" (yearly) or the ISO date (event).

    Quarter and half-year labels name the calendar quarter / half containing
    the period end; a fiscal year is named after the year it ends in.
    """
    if anchor_kind == "month_end":
        return f"{anchor.year}-{anchor.month:02d}"
    if anchor_kind == "quarter_end":
        return f"{anchor.year}-Q{(anchor.month - 1) // 3 + 1}"
    if anchor_kind == "half_year_end":
        return f"{anchor.year}-H{1 if anchor.month <= 6 else 2}"
    if anchor_kind == "fiscal_year_end":
        return f"FY{anchor.year}"
    if anchor_kind == "yearly":
        return str(anchor.year)
    return anchor.isoformat()


def _touches_provisional(calendar: WorkCalendar, *days: date) -> bool:
    first, last = min(days), max(days)
    return any(not calendar.has_official_schedule(y) for y in range(first.year, last.year + 1))


def due_at(rule: RuleLike, anchor: date, calendar: WorkCalendar, tz: tzinfo) -> Due:
    """The deadline for one period/event ``anchor`` as an aware time in ``tz`` and in UTC (E1-E3, E6).

    ``provisional`` is True when the working/trading calendar was consulted
    (a working/trading-day unit or a roll other than ``none``) for a year
    between the anchor and the due day that has no official schedule yet.
    """
    day = due_date(rule, anchor, calendar)
    at = _parse_time(rule.time) if rule.time is not None else END_OF_DAY
    local = datetime.combine(day, at, tzinfo=tz)
    utc = local.astimezone(UTC)
    uses_calendar = rule.unit in ("working_days", "trading_days") or _effective_roll(rule) != "none"
    provisional = uses_calendar and _touches_provisional(calendar, anchor, day)
    return Due(local=local, utc=utc, provisional=provisional, period_label=_period_label(rule.anchor, anchor))


# -- periods ----------------------------------------------------------------


def _iter_anchors(rule: RuleLike, start: date, fiscal_year_end: str) -> Iterator[date]:
    """Period anchors of ``rule`` in increasing order, the first one >= ``start``."""
    if rule.anchor == "event":
        raise ValueError("an 'event' rule has no periodic anchors; call due_at with the event date (E2, E6)")
    if rule.anchor == "yearly":
        month, day = _parse_month_day(rule.date, "date")
        year = start.year
        while True:
            d = _yearly_date(year, month, day)
            if d >= start:
                yield d
            year += 1
    fy_month = _fiscal_year_end_month(fiscal_year_end)
    step = {"month_end": 1, "quarter_end": 3, "half_year_end": 6, "fiscal_year_end": 12}[rule.anchor]
    # month index (year * 12 + month - 1) of the first period end at or after start's month
    index = start.year * 12 + start.month - 1
    index += (fy_month - 1 - index) % step
    while True:
        year, month0 = divmod(index, 12)
        d = _month_end(year, month0 + 1)
        if d >= start:
            yield d
        index += step


def _span_bound(rule: RuleLike) -> int:
    """An upper bound (calendar days) on |due - anchor| under ordinary calendars."""
    n = rule.offset
    if rule.unit == "calendar_days":
        return n + _SLACK_DAYS
    if rule.unit == "months":
        return 31 * n + _SLACK_DAYS
    return n + 2 * (n // 5 + 1) + _SLACK_DAYS


def _due_window(rule: RuleLike, anchor: date) -> tuple[date, date]:
    """Calendar-free bounds ``(lo, hi)`` of the due day of ``anchor`` (used by ``anchor_dates``)."""
    sign = 1 if rule.direction == "after" else -1
    roll = _effective_roll(rule)
    slack = timedelta(days=_SLACK_DAYS)
    if rule.unit in ("working_days", "trading_days"):
        if rule.offset == 0:
            return anchor - slack, anchor + slack
        near = anchor + timedelta(days=sign * rule.offset)
        far = anchor + timedelta(days=sign * _span_bound(rule))
        return (near, far) if sign > 0 else (far, near)
    if rule.unit == "months":
        nominal = add_months(anchor, sign * rule.offset)
    else:
        nominal = anchor + timedelta(days=sign * rule.offset)
    lo = nominal - slack if roll in ("preceding", "modified_following") else nominal
    hi = nominal + slack if roll in ("following", "modified_following") else nominal
    return lo, hi


def anchor_dates(
    rule: RuleLike,
    start: date,
    end: date,
    fiscal_year_end: str = "12-31",
    *,
    calendar: WorkCalendar | None = None,
) -> list[date]:
    """The period anchors whose due dates could fall in ``[start, end]`` (E1, E3, E5).

    Without ``calendar`` this is a superset: it allows for up to
    ``_SLACK_DAYS`` of weekends, holidays and rolling. With ``calendar`` the
    due days are computed and only the anchors whose due day is in the range
    are returned. Raises ValueError for ``event`` rules.
    """
    _validate(rule)
    if end < start:
        return []
    bound = _span_bound(rule)
    before = rule.direction == "before"
    # after: due is in [anchor - roll slack, anchor + bound]; before: mirrored.
    search_from = start - timedelta(days=_SLACK_DAYS if before else bound)
    result: list[date] = []
    for anchor in _iter_anchors(rule, search_from, fiscal_year_end):
        if anchor > end + timedelta(days=bound if before else _SLACK_DAYS):
            break
        if calendar is not None:
            if start <= due_date(rule, anchor, calendar) <= end:
                result.append(anchor)
            continue
        lo, hi = _due_window(rule, anchor)
        if lo <= end and hi >= start:
            result.append(anchor)
    return result


def next_instances(
    rule: RuleLike,
    after: datetime,
    count: int,
    calendar: WorkCalendar,
    tz: tzinfo,
    fiscal_year_end: str = "12-31",
) -> list[tuple[date, Due]]:
    """The next ``count`` deadlines strictly later than ``after`` (aware), earliest first (E1, E3, E5).

    Due times are non-decreasing in the anchor, so the anchors are walked in
    order from a little before ``after`` and computed exactly.
    """
    _validate(rule)
    if after.tzinfo is None or after.utcoffset() is None:
        raise ValueError("next_instances: 'after' must be a timezone-aware datetime")
    if count <= 0:
        return []
    bound = _span_bound(rule)
    local_day = after.astimezone(tz).date()
    search_from = local_day - timedelta(days=_SLACK_DAYS if rule.direction == "before" else bound)
    found: list[tuple[date, Due]] = []
    for anchor in _iter_anchors(rule, search_from, fiscal_year_end):
        due = due_at(rule, anchor, calendar, tz)
        if due.utc > after:
            found.append((anchor, due))
            if len(found) == count:
                break
    found.sort(key=lambda item: item[1].utc)
    return found
