"""Reading what a member typed: times, amounts of yuan, periods. None means "not understood"."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

TIME_RE = re.compile(r"(?:(?:(\d{4})-)?(\d{1,2})-(\d{1,2})\s+)?(\d{1,2})[:：](\d{2})")
DATE_RE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")


def parse_moment(text: str, now: datetime, zone: ZoneInfo) -> datetime | None:
    """"14:30" (today, or yesterday when that is still to come), "03-01 14:30" or "2026-03-01 14:30",
    in the organisation's time zone; returned in UTC."""
    match = TIME_RE.fullmatch(text.strip())
    if not match:
        return None
    year, month, day, hour, minute = match.groups()
    local_now = now.astimezone(zone)
    try:
        moment = datetime.combine(
            date(int(year or local_now.year), int(month or local_now.month), int(day or local_now.day)),
            time(int(hour), int(minute)),
            tzinfo=zone,
        )
    except ValueError:
        return None
    if month is None and moment > local_now:
        moment -= timedelta(days=1)
    return moment.astimezone(UTC)


def parse_loss(text: str) -> int | None:
    """"12000", "12,000", "¥12 000元" or "1.2万" as whole yuan."""
    cleaned = re.sub(r"[\s,，¥￥元]|rmb|cny|yuan", "", text.strip().lower())
    factor = 1
    if cleaned.endswith("万"):
        cleaned, factor = cleaned[:-1], 10_000
    try:
        value = Decimal(cleaned) * factor
    except InvalidOperation:
        return None
    return int(value) if value == value.to_integral_value() and value >= 0 else None


def parse_day(text: str) -> date | None:
    match = DATE_RE.fullmatch(text.strip())
    if not match:
        return None
    try:
        return date(*(int(part) for part in match.groups()))
    except ValueError:
        return None


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
