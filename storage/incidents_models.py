"""Tables of incidents (A1–A7): the incident, its media, who was alerted, and yearly numbering.

The timeline of an incident is its audit entries (entity "incident"), so every change is recorded once (F1).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base

REPORTED, ACKNOWLEDGED, IN_PROGRESS, RESOLVED, CLOSED = "reported", "acknowledged", "in_progress", "resolved", "closed"
STATUSES = (REPORTED, ACKNOWLEDGED, IN_PROGRESS, RESOLVED, CLOSED)
OPEN_STATUSES = (REPORTED, ACKNOWLEDGED, IN_PROGRESS, RESOLVED)
EXTERNAL_PENDING, EXTERNAL_FILED, EXTERNAL_MISSED = "pending", "filed", "missed"
EXTERNAL_OPEN = (EXTERNAL_PENDING, EXTERNAL_MISSED)


class Incident(Base):
    """One reported incident with every moment the rules measure (A5) and its outside report (A4)."""

    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)  # INC-2026-000123
    year: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    category: Mapped[str] = mapped_column(String(48))
    severity: Mapped[str] = mapped_column(String(48))
    department: Mapped[str] = mapped_column(String(32))  # the reporter's department
    duty_room: Mapped[str] = mapped_column(String(48))
    reporter_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    description: Mapped[str] = mapped_column(Text)
    location_text: Mapped[str | None] = mapped_column(String(300))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    loss_yuan: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), default=REPORTED)
    details_pending: Mapped[bool] = mapped_column(Boolean, default=False)  # an urgent report, details to follow
    occurred_at: Mapped[datetime]
    reported_at: Mapped[datetime]
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    ack_seconds: Mapped[int | None] = mapped_column(Integer)  # reported → acknowledged
    ack_in_window: Mapped[bool | None] = mapped_column(Boolean)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    resolution: Mapped[str | None] = mapped_column(Text)
    alert_round: Mapped[int] = mapped_column(Integer, default=0)  # 0: the primary on duty; then chain steps
    reportable_reasons: Mapped[list[Any]] = mapped_column(JSON, default=list)  # [{"code": ..., params}]
    external_due_at: Mapped[datetime | None]
    external_state: Mapped[str | None] = mapped_column(String(12))  # pending | filed | missed
    external_missed: Mapped[bool] = mapped_column(Boolean, default=False)  # stays true if filed late
    external_filed_at: Mapped[datetime | None]
    external_body: Mapped[str | None] = mapped_column(String(200))
    external_reference: Mapped[str | None] = mapped_column(String(100))
    external_file_id: Mapped[str | None] = mapped_column(String(200))
    # Linked reports (issue 14): the incident this report was marked a duplicate of; a duplicate is closed,
    # stops escalating and does not count for A4(4). Migration 0012.
    duplicate_of: Mapped[int | None] = mapped_column(Integer)
    duplicate_marked_at: Mapped[datetime | None]
    # The wizard run that filed it: a second press of its Submit (the first answer lost to a process that died
    # after storing the report) finds this report instead of filing another (A1). Migration 0015.
    submission_key: Mapped[str | None] = mapped_column(String(40), unique=True)

    __table_args__ = (
        UniqueConstraint("year", "seq", name="uq_incident_year_seq"),
        Index("ix_incidents_status", "status", "id"),
        # /stats reads only these columns of a period's incidents: the index alone answers it (migration 0007)
        Index(
            "ix_incidents_figures",
            "occurred_at",
            "category",
            "department",
            "ack_seconds",
            "ack_in_window",
            "external_state",
            "external_missed",
            "external_due_at",
        ),
        Index("ix_incidents_category", "category", "occurred_at"),
        Index("ix_incidents_department", "department", "occurred_at"),
        Index("ix_incidents_department_open", "department", "status", "id"),  # a department head's /incidents
        Index("ix_incidents_reporter", "reporter_id", "id"),
        Index("ix_incidents_room", "duty_room", "status"),
        Index("ix_incidents_assignee", "assignee_id", "status"),
        Index("ix_incidents_duplicate_of", "duplicate_of"),
    )

    @property
    def is_open(self) -> bool:
        return self.status != CLOSED

    @property
    def external_open(self) -> bool:
        """The outside report is due or overdue and not yet filed."""
        return self.external_state in EXTERNAL_OPEN


class IncidentMedia(Base):
    """A photo, file or voice note of an incident, kept as Telegram file ids and re-sent by id."""

    __tablename__ = "incident_media"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(12))  # photo | document | voice
    file_id: Mapped[str] = mapped_column(String(200))
    added_by: Mapped[int | None] = mapped_column(Integer)
    added_at: Mapped[datetime]


class IncidentAlert(Base):
    """One alert message sent for an incident: to a member (or the duty room's group when member_id is None)."""

    __tablename__ = "incident_alerts"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    round: Mapped[int] = mapped_column(Integer)
    member_id: Mapped[int | None] = mapped_column(Integer)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    outbox_id: Mapped[int | None] = mapped_column(Integer)
    reachable: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]

    __table_args__ = (Index("ix_incident_alerts_incident", "incident_id", "round"),)


class IncidentCounter(Base):
    """The last sequence number given out in a year (INC-<year>-<sequence>)."""

    __tablename__ = "incident_counters"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(Integer)
