"""deadlines: recorded events and obligation instances (E1–E6)

Revision ID: 0005
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deadline_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=48), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("department", sa.String(length=32), nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=False),
        sa.Column("recorded_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["recorded_by"],
            ["members.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "deadline_instances",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("obligation", sa.String(length=48), nullable=False),
        sa.Column("period", sa.String(length=40), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("department", sa.String(length=32), nullable=False),
        sa.Column("owner_role", sa.String(length=32), nullable=True),
        sa.Column("owner_members", sa.JSON(), nullable=False),
        sa.Column("anchor", sa.Date(), nullable=False),
        sa.Column("due_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("provisional", sa.Boolean(), nullable=False),
        sa.Column("rule_hash", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("outcome", sa.String(length=12), nullable=True),
        sa.Column("done_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("done_by", sa.Integer(), nullable=True),
        sa.Column("evidence_note", sa.Text(), nullable=True),
        sa.Column("evidence_file", sa.String(length=256), nullable=True),
        sa.Column("extended_due", storage.types.UTCDateTime(), nullable=True),
        sa.Column("extension_reason", sa.Text(), nullable=True),
        sa.Column("extended_by", sa.Integer(), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["deadline_events.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("obligation", "period", name="uq_deadline_instances_period"),
    )
    with op.batch_alter_table("deadline_instances", schema=None) as batch_op:
        batch_op.create_index("ix_deadline_instances_department", ["department", "due_at"], unique=False)
        batch_op.create_index("ix_deadline_instances_state_due", ["state", "due_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("deadline_instances", schema=None) as batch_op:
        batch_op.drop_index("ix_deadline_instances_state_due")
        batch_op.drop_index("ix_deadline_instances_department")

    op.drop_table("deadline_instances")
    op.drop_table("deadline_events")
