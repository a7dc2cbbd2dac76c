"""Reading what a member sent: times, amounts of yuan, days, attachments. None means "not understood"."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from aiogram.types import Message

from bot.policy import Policy
from bot.services.incidents import Attachment

TIME_RE = re.compile(r"(?:(?:(\d{4})-)?(\d{1,2})-(\d{1,2})\s+)?(\d{1,2})[:：](\d{2})")
DATE_RE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
LOSS_CAP = Decimal(10**18)  # above any loss the service accepts, so it refuses with its own answer


def parse_moment(text: str, now: datetime, zone: ZoneInfo) -> datetime | None:
    """ "14:30" (today, or yesterday when that is still to come), "03-01 14:30" or "2026-03-01 14:30",
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
        if month is None and moment > local_now:
            moment -= timedelta(days=1)
        return moment.astimezone(UTC)
    except (ValueError, OverflowError):  # 2026-02-30; 0001-01-01 00:00 east of UTC is before year 1 in UTC
        return None


def parse_loss(text: str) -> int | None:
    """ "12000", "12,000", "¥12 000元" or "1.2万" as whole yuan."""
    cleaned = re.sub(r"[\s,，¥￥元]|rmb|cny|yuan", "", text.strip().lower())
    factor = 1
    if cleaned.endswith("万"):
        cleaned, factor = cleaned[:-1], 10_000
    try:
        value = Decimal(cleaned) * factor
    except ArithmeticError:  # not a number, or beyond Decimal's range ("1e999999999")
        return None
    if not value.is_finite() or value < 0 or value != value.to_integral_value():
        return None  # "Infinity" and "NaN" parse as Decimals too
    return int(min(value, LOSS_CAP))  # a bound first: "1e999999" would be a million-digit int


def parse_day(text: str) -> date | None:
    match = DATE_RE.fullmatch(text.strip())
    if not match:
        return None
    try:
        return date(*(int(part) for part in match.groups()))
    except ValueError:
        return None


def attachment_of(message: Message) -> Attachment | None:
    if message.photo:
        return Attachment("photo", message.photo[-1].file_id)
    if message.voice:
        return Attachment("voice", message.voice.file_id)
    if message.document:
        return Attachment("document", message.document.file_id)
    return None


def asks_loss(policy: Policy, data: dict[str, Any]) -> bool:
    try:
        return policy.incidents.category(data.get("category", "")).asks_loss
    except KeyError:
        return False
