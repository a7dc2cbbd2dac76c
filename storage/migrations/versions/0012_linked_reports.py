"""linked reports and duty-room groups (issue 14): incidents.duplicate_of, and outbox rows found by message

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("incidents") as batch:
        batch.add_column(sa.Column("duplicate_of", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("duplicate_marked_at", UTCDateTime(), nullable=True))
        batch.create_index("ix_incidents_duplicate_of", ["duplicate_of"])
    op.create_index("ix_outbox_message", "outbox", ["chat_id", "message_id"])


def downgrade() -> None:
    op.drop_index("ix_outbox_message", table_name="outbox")
    with op.batch_alter_table("incidents") as batch:
        batch.drop_index("ix_incidents_duplicate_of")
        batch.drop_column("duplicate_marked_at")
        batch.drop_column("duplicate_of")
