"""Periods of /stats and /export as [start, end) in UTC: whole days in the organisation's time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def period_bounds(period: str, now: datetime, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The named period ending now (or the calendar month/year) as [start, end) in UTC."""
    today = now.astimezone(zone).date()
    if period == "7d":
        first, last = today - timedelta(days=6), today
    elif period == "month":
        first, last = today.replace(day=1), today
    elif period == "last_month":
        last = today.replace(day=1) - timedelta(days=1)
        first = last.replace(day=1)
    elif period == "year":
        first, last = today.replace(month=1, day=1), today
    else:  # 30d
        first, last = today - timedelta(days=29), today
    return day_bounds(first, last, zone)


def day_bounds(first: date, last: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime.combine(first, time(), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time(), tzinfo=zone).astimezone(UTC)
    return start, end
