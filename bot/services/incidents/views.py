"""Plain values the incident services take and return."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from storage.incidents_models import Incident

PAGE_SIZE = 10


@dataclass(frozen=True)
class Attachment:
    kind: str  # photo | document | voice
    file_id: str


@dataclass(frozen=True)
class Draft:
    """A report as the wizard collected it (A1)."""

    category: str
    severity: str
    description: str
    occurred_at: datetime
    location_text: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    loss_yuan: int | None = None
    attachments: tuple[Attachment, ...] = ()
    submission_key: str | None = None  # one per wizard run: its Submit pressed again files nothing new


@dataclass(frozen=True)
class Submitted:
    """What the reporter is told once the report is stored: its number and who was alerted."""

    incident_id: int
    number: str
    alerted: tuple[str, ...]
    incident: Incident


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    action: str
    details: dict[str, Any]


@dataclass(frozen=True)
class IncidentCard:
    """An incident for one reader: the row (detached, read only), names, timeline and the reader's actions."""

    incident: Incident
    reporter: str
    acknowledged_by: str | None = None
    assignee: str | None = None
    media: int = 0
    timeline: tuple[TimelineEntry, ...] = ()
    actions: tuple[str, ...] = ()
    duplicate_of: str | None = None  # the number of the incident this report was linked to (issue 14)
    duplicates: tuple[str, ...] = ()  # the numbers of the reports linked to this incident


@dataclass(frozen=True)
class Page:
    items: tuple[Incident, ...]
    total: int
    page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))


@dataclass(frozen=True)
class OpenItem:
    """An open incident or a pending outside report of a duty room, for the shift handover (B2)."""

    incident_id: int
    number: str
    category: str
    status: str
    description: str
    external_due_at: datetime | None


@dataclass(frozen=True)
class Figures:
    """/stats for a period (A5): counts, time to acknowledge, outside-report deadlines."""

    start: datetime
    end: datetime
    total: int
    by_category: list[tuple[str, int]]
    by_department: list[tuple[str, int]]
    acknowledged: int
    in_window: int
    median_seconds: int | None
    p90_seconds: int | None
    external: dict[str, int] = field(default_factory=dict)
    duplicates: int = 0  # reports marked as duplicates of others: the same cases, not in the counts above

    @property
    def in_window_share(self) -> float | None:
        return self.in_window / self.acknowledged if self.acknowledged else None
