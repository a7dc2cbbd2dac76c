"""The deadline export as iCalendar (RFC 5545), written with the `icalendar` library: escaped text,
lines folded at 75 octets without splitting a UTF-8 character, times in UTC, UIDs stable across
exports, properties in a fixed order so the same export twice is byte for byte the same."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from icalendar import Alarm, Calendar, Event, vText
from icalendar.parser import Contentline

PRODID = "-//duty-desk-bot//deadlines//EN"
UID_DOMAIN = "duty-desk-bot"


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
    return vText(text.replace("\r\n", "\n").replace("\r", "\n")).to_ical().decode()


def fold(line: str) -> str:
    """A content line folded at 75 octets, continuation lines starting with a space (RFC 5545 §3.1)."""
    return Contentline(line).to_ical().decode()


def calendar(name: str, prodid: str = PRODID) -> Calendar:
    """An empty published calendar called `name`."""
    found = Calendar()
    found.add("version", "2.0")
    found.add("prodid", prodid)
    found.add("calscale", "GREGORIAN")
    found.add("method", "PUBLISH")
    found.add("x-wr-calname", name)
    return found


def serialise(found: Calendar) -> bytes:
    """In the order the properties were added (the library sorts them otherwise)."""
    return found.to_ical(sorted=False)


def write_calendar(name: str, events: Iterable[IcsEvent], now: datetime) -> bytes:
    found = calendar(name)
    for event in events:
        entry = Event()
        entry.add("uid", f"{event.uid}@{UID_DOMAIN}")
        entry.add("dtstamp", now.astimezone(UTC))
        entry.add("dtstart", event.start.astimezone(UTC))
        entry.add("summary", event.summary)
        if event.description:
            entry.add("description", event.description)
        entry.add("status", "TENTATIVE" if event.tentative else "CONFIRMED")
        for offset in event.alarms:
            alarm = Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("trigger", -offset)
            alarm.add("description", event.summary)
            entry.add_component(alarm)
        found.add_component(entry)
    return serialise(found)
