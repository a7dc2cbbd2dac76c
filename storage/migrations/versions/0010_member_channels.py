"""a second messenger (Feishu): members' addresses there and the messages rows became (issue 12)

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "member_channels",
        sa.Column("member_id", sa.Integer(), sa.ForeignKey("members.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("channel", sa.String(length=16), primary_key=True),
        sa.Column("address", sa.String(length=128), nullable=False),
        sa.Column("linked_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ux_member_channels_address", "member_channels", ["channel", "address"], unique=True)
    op.create_table(
        "channel_messages",
        sa.Column("outbox_id", sa.Integer(), sa.ForeignKey("outbox.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("message_id", sa.String(length=128), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("channel_messages")
    op.drop_index("ux_member_channels_address", table_name="member_channels")
    op.drop_table("member_channels")
