"""Working-day and trading-day calendar for due dates (RULES.md E2, E3).

E3 asks for deadlines counted in working days on the *official* Chinese
calendar, including the make-up working weekends (调休) that the State
Council announces every November/December for the following year. E2 counts
in trading (transfer) days of the Shanghai Stock Exchange.

Both come from the ``holidays`` package:

* ``holidays.China(years=Y)`` lists the days off of year ``Y``: statutory
  holidays, Saturday/Sunday holidays moved to the next workday ("observed")
  and the substituted days off of the official notice. The make-up working
  weekends are in the object's ``weekend_workdays`` set and
  ``HolidayBase.is_working_day`` honours them. The substituted days of a year
  (the official notice) live in ``special_public_holidays`` keyed by year; a
  year missing from that mapping has no official schedule in the installed
  package, and its holidays are only the library's projection of the statutes
  (lunar dates, observed rule) without 调休 - we call such dates *provisional*.
* ``holidays.financial_holidays("XSHG", years=Y)`` is the exchange's closing
  days. The exchange never trades on a weekend, make-up Saturdays included
  (the package clears ``weekend_workdays`` for XSHG).

Objects are built lazily, one per year, the first time a date of that year
is asked for; nothing is built at import time.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Literal

import holidays

RollConvention = Literal["none", "following", "preceding", "modified_following"]
BusinessDays = Literal["working", "trading"]

ROLL_CONVENTIONS: tuple[str, ...] = ("none", "following", "preceding", "modified_following")

# How far ``roll`` and the day-by-day walks may search before giving up; a
# calendar with no working day in this many days is a configuration error.
_MAX_SEARCH_DAYS = 366


class WorkCalendar:
    """The organisation's working days and the exchange's trading days (E2, E3).

    ``overrides`` are the organisation's own days (True = working, False =
    non-working); they win over the official calendar for *working* days.
    ``trading_overrides`` does the same for trading days (for example an
    exchange closure the installed package does not know yet); organisation
    overrides never change trading days - the exchange does not open because
    the organisation works.
    """

    def __init__(
        self,
        overrides: Mapping[date, bool] | None = None,
        *,
        trading_overrides: Mapping[date, bool] | None = None,
    ) -> None:
        self._overrides: dict[date, bool] = dict(overrides or {})
        self._trading_overrides: dict[date, bool] = dict(trading_overrides or {})
        self._official: dict[int, holidays.HolidayBase] = {}
        self._exchange: dict[int, holidays.HolidayBase] = {}

    # -- lazily built library objects -------------------------------------

    def _official_year(self, year: int) -> holidays.HolidayBase:
        cal = self._official.get(year)
        if cal is None:
            cal = holidays.China(years=year)
            self._official[year] = cal
        return cal

    def _exchange_year(self, year: int) -> holidays.HolidayBase:
        cal = self._exchange.get(year)
        if cal is None:
            cal = holidays.financial_holidays("XSHG", years=year)
            self._exchange[year] = cal
        return cal

    # -- day predicates -----------------------------------------------------

    def is_working_day(self, d: date) -> bool:
        """True if ``d`` is a working day (E3): overrides, else the official calendar.

        Official: Monday-Friday that is not a holiday or substituted day off,
        plus the make-up working weekends (调休) of the State Council notice.
        """
        d = _as_date(d)
        override = self._overrides.get(d)
        if override is not None:
            return override
        return self._official_year(d.year).is_working_day(d)

    def is_trading_day(self, d: date) -> bool:
        """True if the Shanghai Stock Exchange trades on ``d`` (E2).

        A trading day is a Monday-Friday that is not an exchange holiday;
        make-up working Saturdays/Sundays are never trading days.
        """
        d = _as_date(d)
        override = self._trading_overrides.get(d)
        if override is not None:
            return override
        return d.weekday() < 5 and d not in self._exchange_year(d.year)

    def is_business_day(self, d: date, business: BusinessDays = "working") -> bool:
        """``is_working_day`` or ``is_trading_day`` depending on ``business``."""
        if business == "working":
            return self.is_working_day(d)
        if business == "trading":
            return self.is_trading_day(d)
        raise ValueError(f"unknown business-day kind {business!r}; expected 'working' or 'trading'")

    # -- arithmetic ---------------------------------------------------------

    def add_working_days(self, d: date, n: int) -> date:
        """The ``n``-th working day strictly after ``d`` (before it when ``n`` < 0).

        ``n == 0`` returns ``d`` unchanged (use ``roll`` to move it onto a
        working day). For a working day ``d``,
        ``add_working_days(add_working_days(d, n), -n) == d``.
        """
        return self._add_business_days(d, n, "working")

    def add_trading_days(self, d: date, n: int) -> date:
        """The ``n``-th trading day strictly after ``d`` (before it when ``n`` < 0). E2."""
        return self._add_business_days(d, n, "trading")

    def _add_business_days(self, d: date, n: int, business: BusinessDays) -> date:
        d = _as_date(d)
        step = timedelta(days=1 if n > 0 else -1)
        remaining = abs(n)
        searched = 0
        while remaining:
            d += step
            searched += 1
            if self.is_business_day(d, business):
                remaining -= 1
                searched = 0
            elif searched > _MAX_SEARCH_DAYS:
                raise ValueError(f"no {business} day within {_MAX_SEARCH_DAYS} days of {d}")
        return d

    def roll(self, d: date, convention: str, *, business: BusinessDays = "working") -> date:
        """Move ``d`` onto a business day according to ``convention`` (E3 "postponed over holidays").

        * ``none``: ``d`` unchanged.
        * ``following``: ``d`` if it is a business day, else the next one.
        * ``preceding``: ``d`` if it is a business day, else the previous one.
        * ``modified_following``: following, unless that leaves the month of
          ``d``, then preceding.

        ``business`` selects working days (default) or trading days.
        """
        d = _as_date(d)
        if convention not in ROLL_CONVENTIONS:
            raise ValueError(f"unknown roll convention {convention!r}; expected one of {ROLL_CONVENTIONS}")
        if convention == "none" or self.is_business_day(d, business):
            return d
        if convention == "preceding":
            return self._nearest(d, -1, business)
        following = self._nearest(d, 1, business)
        if convention == "modified_following" and following.month != d.month:
            return self._nearest(d, -1, business)
        return following

    def _nearest(self, d: date, direction: int, business: BusinessDays) -> date:
        step = timedelta(days=direction)
        for _ in range(_MAX_SEARCH_DAYS):
            d += step
            if self.is_business_day(d, business):
                return d
        raise ValueError(f"no {business} day within {_MAX_SEARCH_DAYS} days of {d}")

    # -- provisional years --------------------------------------------------

    def has_official_schedule(self, year: int) -> bool:
        """Whether the installed ``holidays`` package holds the State Council notice for ``year``.

        The notice (with its substituted days off and make-up working
        weekends) is published each November/December for the next year.
        The package keeps those entries in ``special_public_holidays`` keyed
        by year; without an entry the package only projects the statutory
        holidays, so every date of that year is provisional. Years before
        2001 are also reported as unofficial (the package only checks
        notices from 2001 on).
        """
        specials = getattr(self._official_year(year), "special_public_holidays", None) or {}
        return year in specials

    def is_provisional(self, d: date) -> bool:
        """True if ``d``'s working/trading status is a projection, not the official notice."""
        return not self.has_official_schedule(_as_date(d).year)


def _as_date(d: date) -> date:
    """Accept ``datetime`` too, but compare as a plain date."""
    if type(d) is not date:
        return date(d.year, d.month, d.day)
    return d
