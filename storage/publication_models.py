"""Tables of publication review (信息发布管理表, rules D1–D6).

Every filled form is a row of ``publications``: a new item, or a change or take-down of a
published item (``target_id``). Each submission and each revision is kept as a numbered row of
``publication_versions`` (nothing is overwritten, D2). An approved change becomes the next
version of the item it changes, so an item's versions are its published history. Each channel's
publication, change or removal is a row of ``publication_records`` (time, link, who; D5, D6).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models import Base


class Publication(Base):
    __tablename__ = "publications"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # new | change | takedown
    target_id: Mapped[int | None] = mapped_column(ForeignKey("publications.id"), index=True)
    drafter_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    department: Mapped[str] = mapped_column(String(32))  # the drafter's, at submission
    # review | returned | rejected | approved | published | taken_down (a new item);
    # review | returned | rejected | approved | applied (a change or a take-down)
    state: Mapped[str] = mapped_column(String(16), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)  # the current version's number
    # Messages the bot posted to Telegram channels for this item and still live there: outbox row ids
    # by channel code, the text first ({"telegram": [12, 13]}).
    posts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime]
    submitted_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]  # final approval or rejection
    published_at: Mapped[datetime | None] = mapped_column(index=True)  # the first channel's record
    applied_at: Mapped[datetime | None]  # a change or take-down carried out; an item taken down

    versions: Mapped[list[PublicationVersion]] = relationship(
        lazy="selectin",
        order_by="PublicationVersion.number",
        cascade="all, delete-orphan",
        foreign_keys="PublicationVersion.publication_id",
    )

    @property
    def current(self) -> PublicationVersion:
        return next(v for v in self.versions if v.number == self.version)

    def numbered(self, number: int) -> PublicationVersion | None:
        return next((v for v in self.versions if v.number == number), None)


class PublicationVersion(Base):
    """One submitted text of a form, exactly as the reviewers saw it."""

    __tablename__ = "publication_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    publication_id: Mapped[int] = mapped_column(ForeignKey("publications.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    entities: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # Telegram formatting of the body
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # {kind, file_id, name}
    channels: Mapped[list[str]]
    audience: Mapped[str] = mapped_column(String(200), default="")
    quantity: Mapped[int | None] = mapped_column(Integer)
    planned_at: Mapped[datetime | None]  # None: as soon as approved
    embargo_until: Mapped[datetime | None]  # nothing appears anywhere before it (D5)
    disclosure: Mapped[bool] = mapped_column(Boolean, default=False)  # adds the external review step (D5)
    designated_first: Mapped[bool] = mapped_column(Boolean, default=False)  # D5 ordering
    flags: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # exaggeration pre-check (D3)
    checklist: Mapped[list[str]]  # prohibited-content items the drafter confirmed (D4)
    note: Mapped[str | None] = mapped_column(Text)  # what the drafter changed, or why to take down
    created_by: Mapped[int] = mapped_column(ForeignKey("members.id"))
    created_at: Mapped[datetime]
    source_id: Mapped[int | None] = mapped_column(ForeignKey("publications.id"))  # the change form it came from

    __table_args__ = (UniqueConstraint("publication_id", "number", name="uq_publication_version"),)


class PublicationRecord(Base):
    """A channel's publication, change or removal: by the bot (Telegram) or recorded by a person."""

    __tablename__ = "publication_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("publications.id"))  # the published item
    form_id: Mapped[int] = mapped_column(ForeignKey("publications.id"))  # the form it carries out
    channel: Mapped[str] = mapped_column(String(48))
    action: Mapped[str] = mapped_column(String(16))  # published | changed | removed
    at: Mapped[datetime]  # when it appeared (or changed, or went) on the channel
    link: Mapped[str | None] = mapped_column(String(500))
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("members.id"))  # None: the bot itself
    recorded_at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("form_id", "channel", name="uq_publication_record"),)
