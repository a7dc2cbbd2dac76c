"""Members reached through a second messenger (issue 12): which member is which Feishu user, and which
Feishu message an outbox row became (so an edit of the row updates that card)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base


class MemberChannel(Base):
    """A member's address on another messenger: ``channel`` "feishu", ``address`` the user's open_id in
    the organisation's Feishu app. A member has at most one address per channel, and an address belongs to
    one member."""

    __tablename__ = "member_channels"

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    address: Mapped[str] = mapped_column(String(128))
    linked_at: Mapped[datetime]

    __table_args__ = (Index("ux_member_channels_address", "channel", "address", unique=True),)


class ChannelMessage(Base):
    """The other messenger's id of the message an outbox row was delivered as (Feishu: ``om_…``)."""

    __tablename__ = "channel_messages"

    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox.id", ondelete="CASCADE"), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    message_id: Mapped[str] = mapped_column(String(128))
