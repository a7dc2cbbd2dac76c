"""Days typed by members: 2026-03-20, 2026/3/20, 2026年3月20日, or without the year (3-20, 3月20日)."""

from __future__ import annotations

import re
from datetime import date

FULL = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")
SHORT = re.compile(r"(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")


def parse_day(text: str, today: date) -> date | None:
    """The day meant, or None. Without a year the next such day is meant (this year or the next)."""
    text = text.strip()
    try:
        if match := FULL.fullmatch(text):
            return date(int(match[1]), int(match[2]), int(match[3]))
        if match := SHORT.fullmatch(text):
            day = date(today.year, int(match[1]), int(match[2]))
            return day if day >= today else date(today.year + 1, day.month, day.day)
    except ValueError:  # 2026-02-30 and the like
        return None
    return None


def parse_period(text: str, today: date) -> tuple[date, date] | None:
    """Two days separated by a space, "~", "至" or "to"."""
    parts = [part for part in re.split(r"\s*(?:~|至|到|\bto\b|\s)\s*", text.strip()) if part]
    if len(parts) != 2:
        return None
    start, end = parse_day(parts[0], today), parse_day(parts[1], today)
    return (start, end) if start and end else None
