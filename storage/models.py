"""Tables of the foundation: members, invitations, audit, outbox, timers, wizard state."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from storage.types import UTCDateTime


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON(), list[str]: JSON()}


class Member(Base):
    """A person who joined through an invitation (F2)."""

    __tablename__ = "members"

    id: Mapped[int] = mapped_column(primary_key=True)
    telegram_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    name: Mapped[str] = mapped_column(String(128))
    username: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str | None] = mapped_column(String(8))
    # Telegram's language_code as of the member's latest update (issue 14): their language until they choose one
    telegram_language: Mapped[str | None] = mapped_column(String(16))
    phone: Mapped[str | None] = mapped_column(String(16), index=True)  # E.164, for SMS and voice alerts
    department: Mapped[str] = mapped_column(String(32), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    joined_at: Mapped[datetime]
    deactivated_at: Mapped[datetime | None]
    invitation_id: Mapped[int | None] = mapped_column(ForeignKey("invitations.id"))

    role_rows: Mapped[list[MemberRole]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="MemberRole.role"
    )

    @property
    def roles(self) -> frozenset[str]:
        return frozenset(row.role for row in self.role_rows)


class MemberRole(Base):
    __tablename__ = "member_roles"

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(32), primary_key=True, index=True)


class Invitation(Base):
    """A single-use, expiring invitation bound to the first account that uses it (F2)."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str | None] = mapped_column(String(128))
    department: Mapped[str] = mapped_column(String(32))
    roles: Mapped[list[str]]
    phone: Mapped[str | None] = mapped_column(String(16))  # from `users import`: the member's once joined
    created_by: Mapped[int | None]  # a member id; None when made from the command line
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    used_by_telegram_id: Mapped[int | None] = mapped_column(BigInteger)


class AuditEntry(Base):
    """Append-only, hash-chained record of every state change (F1)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor_telegram_id: Mapped[int | None] = mapped_column(BigInteger)
    chat_id: Mapped[int | None] = mapped_column(BigInteger)
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    details: Mapped[dict[str, Any]]
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (Index("ix_audit_entity", "entity", "entity_id"),)


class AuditHead(Base):
    """One row holding the chain's tip; locking it serialises appends across processes."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    last_hash: Mapped[str] = mapped_column(String(64))


class OutboxMessage(Base):
    """A Bot API call to make after the transaction that wanted it has committed."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(160), unique=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    method: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]]
    state: Mapped[str] = mapped_column(String(16), default="pending")
    due_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    edit_of: Mapped[int | None] = mapped_column(ForeignKey("outbox.id"))
    on_failure: Mapped[str | None] = mapped_column(String(64))
    ref: Mapped[str | None] = mapped_column(String(128))
    claimed_until: Mapped[datetime | None]
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]

    __table_args__ = (
        Index("ix_outbox_state_due", "state", "due_at"),
        Index("ix_outbox_chat", "chat_id", "state", "id"),
        Index("ix_outbox_ref", "ref"),
        Index("ix_outbox_message", "chat_id", "message_id"),  # a reply in a group names its message (0012)
    )


class Timer(Base):
    """A durable timer; the runner fires it once, in the transaction of its effect."""

    __tablename__ = "timers"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    ref: Mapped[str] = mapped_column(String(128))
    key: Mapped[str] = mapped_column(String(160), unique=True)
    due_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    fired_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_timers_state_due", "state", "due_at"), Index("ix_timers_ref", "kind", "ref"))


class ProcessedUpdate(Base):
    """Telegram update ids already handled, so a redelivered update is processed once."""

    __tablename__ = "processed_updates"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(index=True)


class WizardState(Base):
    """aiogram FSM state and data, so a restart mid-wizard loses nothing."""

    __tablename__ = "wizard_states"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    state: Mapped[str | None] = mapped_column(String(200))
    data: Mapped[dict[str, Any]]


class KeyValue(Base):
    """Small facts the process learns at run time (e.g. the bot's username for links)."""

    __tablename__ = "key_values"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


import storage.access_models  # noqa: E402,F401  (registers the tables)
import storage.approval_models  # noqa: E402,F401  (registers the tables)
import storage.channel_models  # noqa: E402,F401  (registers the tables)
import storage.deadlines_models  # noqa: E402,F401  (registers the tables)
import storage.incidents_models  # noqa: E402,F401  (registers the tables)
import storage.publication_models  # noqa: E402,F401  (registers the tables)
import storage.roster_models  # noqa: E402,F401  (registers the tables)
