"""When the policy's weekly shift patterns actually run (B1).

Shift times are wall-clock times in the organisation's zone. A shift belongs to the date it
starts on: 20:00–08:00 on Monday is Monday's night shift and ends on Tuesday morning; an end
equal to the start means 24 hours.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.policy.schema import DutyRoom, Shift

WEEKDAY_CODES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True, slots=True)
class ShiftTime:
    """One occurrence of a shift: the room's `shift` starting on local date `day`."""

    room: str
    shift: str
    day: date
    starts_at: datetime  # UTC
    ends_at: datetime  # UTC

    @property
    def key(self) -> str:
        return f"{self.room}:{self.day.isoformat()}:{self.shift}"


def runs_on(shift: Shift, day: date) -> bool:
    return WEEKDAY_CODES[day.weekday()] in shift.days


def shift_time(room: DutyRoom, shift: Shift, day: date, zone: ZoneInfo) -> ShiftTime:
    start = datetime.combine(day, shift.start, tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1) if shift.crosses_midnight else day, shift.end, tzinfo=zone)
    return ShiftTime(room.code, shift.code, day, start.astimezone(UTC), end.astimezone(UTC))


def shift_times(room: DutyRoom, start: datetime, end: datetime, zone: ZoneInfo) -> list[ShiftTime]:
    """Every occurrence that overlaps [start, end), earliest first."""
    found = []
    day = start.astimezone(zone).date() - timedelta(days=1)  # yesterday's night shift may still run
    last = end.astimezone(zone).date()
    while day <= last:
        for shift in room.shifts:
            if runs_on(shift, day):
                occurrence = shift_time(room, shift, day, zone)
                if occurrence.starts_at < end and occurrence.ends_at > start:
                    found.append(occurrence)
        day += timedelta(days=1)
    return sorted(found, key=lambda o: (o.starts_at, o.shift))


def current_shift(room: DutyRoom, at: datetime, zone: ZoneInfo) -> ShiftTime | None:
    """The shift running at `at`; where two overlap, the one that started last (the fresher crew)."""
    running = shift_times(room, at, at + timedelta(microseconds=1), zone)
    return running[-1] if running else None


def next_shift(room: DutyRoom, at: datetime, zone: ZoneInfo) -> ShiftTime | None:
    """The first shift starting after `at` (within a week: every pattern repeats weekly)."""
    return next((o for o in shift_times(room, at, at + timedelta(days=8), zone) if o.starts_at > at), None)


def find_shift(room: DutyRoom, code: str) -> Shift | None:
    return next((shift for shift in room.shifts if shift.code == code), None)
