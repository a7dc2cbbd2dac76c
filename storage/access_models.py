"""Tables of data-access requests (rules C1–C7): the catalogue, requests, grants, the information
centre's tasks, quarterly reviews, and provisioning webhook deliveries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base


class DatasetRow(Base):
    """A data set of the catalogue (C1). Seeded from the policy; information officers edit it in chat."""

    __tablename__ = "access_datasets"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(48), unique=True)
    names: Mapped[dict[str, str]] = mapped_column(JSON)  # by language, the source language first and always
    descriptions: Mapped[dict[str, str]] = mapped_column(JSON)  # by language, any of them
    department: Mapped[str] = mapped_column(String(32))
    owner_role: Mapped[str] = mapped_column(String(32))
    owner_ids: Mapped[list[int]] = mapped_column(JSON)  # named owners; empty: owner_role holders in the department
    classification: Mapped[str] = mapped_column(String(48))
    modes: Mapped[list[str]]
    max_days: Mapped[dict[str, Any]]  # mode -> longest grant in days
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    edited_in_chat: Mapped[bool] = mapped_column(Boolean, default=False)  # the policy no longer overwrites it
    updated_at: Mapped[datetime]

    def name(self, language: str) -> str:
        """In ``language``, else in the first language written (the source language, as the service stores it)."""
        return self.names.get(language) or next(iter(self.names.values()), self.code)

    def description(self, language: str) -> str:
        return self.descriptions.get(language) or next(iter(self.descriptions.values()), "")


class AccessRequest(Base):
    __tablename__ = "access_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    requester_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("access_datasets.id"))
    mode: Mapped[str] = mapped_column(String(16))
    purpose: Mapped[str] = mapped_column(Text)
    full_reason: Mapped[str | None] = mapped_column(Text)  # C4: why read-only is not enough
    until: Mapped[datetime]  # the grant ends at this moment (the end of the chosen day)
    extends_grant_id: Mapped[int | None] = mapped_column(Integer)  # an extension: the grant it continues
    state: Mapped[str] = mapped_column(String(16), default="pending")  # pending approved rejected withdrawn
    notice_accepted_at: Mapped[datetime]  # C5: the no-third-party notice
    created_at: Mapped[datetime] = mapped_column(index=True)  # exports select by period
    closed_at: Mapped[datetime | None]


class AccessGrant(Base):
    """Access a member holds (or held): provisioning → active → revoking → revoked (C3, C6, C7)."""

    __tablename__ = "access_grants"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("access_requests.id"), unique=True)
    holder_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("access_datasets.id"), index=True)
    mode: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), default="provisioning")  # + active revoking revoked superseded
    approved_at: Mapped[datetime]
    granted_at: Mapped[datetime | None]
    expires_at: Mapped[datetime]
    end_reason: Mapped[str | None] = mapped_column(String(16))  # expired deactivated review superseded
    ended_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class AccessTask(Base):
    """A provisioning or revocation task for the data owners and the information centre (C6, C7)."""

    __tablename__ = "access_tasks"

    id: Mapped[int] = mapped_column(primary_key=True)
    grant_id: Mapped[int] = mapped_column(ForeignKey("access_grants.id"), index=True)
    action: Mapped[str] = mapped_column(String(8))  # grant | revoke
    state: Mapped[str] = mapped_column(String(12), default="open")  # open | done | cancelled
    level: Mapped[int] = mapped_column(Integer, default=0)  # 0 = owners and information centre, then superiors
    reminded: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]
    done_by: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    done_at: Mapped[datetime | None]


class AccessReviewItem(Base):
    """One active grant in a periodic access review (recertification) by the data owners."""

    __tablename__ = "access_review_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle: Mapped[str] = mapped_column(String(16))  # e.g. 2026-04
    grant_id: Mapped[int] = mapped_column(ForeignKey("access_grants.id"))
    state: Mapped[str] = mapped_column(String(8), default="open")  # open kept revoked
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    decided_at: Mapped[datetime | None]

    __table_args__ = (UniqueConstraint("cycle", "grant_id", name="uq_access_review_grant"),)


class WebhookDelivery(Base):
    """A JSON POST to make after the transaction that wanted it committed, retried until it succeeds."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(160), unique=True)
    url: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any]]
    state: Mapped[str] = mapped_column(String(12), default="pending")  # pending sending sent failed
    due_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    claimed_until: Mapped[datetime | None]
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_webhook_deliveries_state_due", "state", "due_at"),)
