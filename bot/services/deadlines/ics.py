"""A small iCalendar (RFC 5545) writer for the deadline export: escaped text, lines folded at 75
octets without splitting a UTF-8 character, times in UTC, UIDs stable across exports."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bot.policy.schema import format_offset

PRODID = "-//duty-desk-bot//deadlines//EN"
UID_DOMAIN = "duty-desk-bot"
LINE_OCTETS = 75


@dataclass(frozen=True)
class IcsEvent:
    uid: str
    start: datetime  # aware
    summary: str
    description: str = ""
    tentative: bool = False  # e.g. computed on a provisional calendar
    alarms: Iterable[timedelta] = field(default_factory=tuple)  # before the start


def escape(text: str) -> str:
    """TEXT values (RFC 5545 §3.3.11): backslash, semicolon, comma and newlines are escaped."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def fold(line: str) -> str:
    """Split a content line into chunks of at most 75 octets, continuation lines starting with a space
    (RFC 5545 §3.1); a multi-byte character is never cut."""
    chunks, current, size, limit = [], "", 0, LINE_OCTETS
    for char in line:
        width = len(char.encode())
        if size + width > limit:
            chunks.append(current)
            current, size, limit = "", 0, LINE_OCTETS - 1  # the leading space takes one octet
        current += char
        size += width
    chunks.append(current)
    return "\r\n ".join(chunks)


def utc_stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def duration(offset: timedelta) -> str:
    """A negative duration before the event: -P7D, -PT2H, -PT30M."""
    text = format_offset(offset)  # "7d", "2h" or "30m", as reminders are written in the policy
    amount, unit = text[:-1], text[-1]
    return f"-P{amount}D" if unit == "d" else f"-PT{amount}{unit.upper()}"


def write_calendar(name: str, events: Iterable[IcsEvent], now: datetime) -> bytes:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN", "METHOD:PUBLISH"]
    lines.append(f"X-WR-CALNAME:{escape(name)}")
    for event in events:
        lines += [
            "BEGIN:VEVENT",
            f"UID:{event.uid}@{UID_DOMAIN}",
            f"DTSTAMP:{utc_stamp(now)}",
            f"DTSTART:{utc_stamp(event.start)}",
            f"SUMMARY:{escape(event.summary)}",
        ]
        if event.description:
            lines.append(f"DESCRIPTION:{escape(event.description)}")
        lines.append("STATUS:TENTATIVE" if event.tentative else "STATUS:CONFIRMED")
        for offset in event.alarms:
            lines += [
                "BEGIN:VALARM",
                "ACTION:DISPLAY",
                f"TRIGGER:{duration(offset)}",
                f"DESCRIPTION:{escape(event.summary)}",
                "END:VALARM",
            ]
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return ("\r\n".join(fold(line) for line in lines) + "\r\n").encode()
