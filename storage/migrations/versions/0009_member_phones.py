"""members' phone numbers for SMS and voice escalation steps (issue 12)

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("members") as batch:
        batch.add_column(sa.Column("phone", sa.String(length=16), nullable=True))
        batch.create_index("ix_members_phone", ["phone"])
    with op.batch_alter_table("invitations") as batch:
        batch.add_column(sa.Column("phone", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("invitations") as batch:
        batch.drop_column("phone")
    with op.batch_alter_table("members") as batch:
        batch.drop_index("ix_members_phone")
        batch.drop_column("phone")
