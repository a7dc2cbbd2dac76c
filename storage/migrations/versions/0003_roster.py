"""duty roster: assignments per shift and date, handover notes (B1, B2)

Revision ID: 0003
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0003"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "handover_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("room", sa.String(length=48), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("written_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("delivered_at", storage.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["author_id"], ["members.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("handover_notes", schema=None) as batch_op:
        batch_op.create_index("ix_handover_room_pending", ["room", "delivered_at"], unique=False)

    op.create_table(
        "roster_assignments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("room", sa.String(length=48), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("shift", sa.String(length=48), nullable=False),
        sa.Column("position", sa.String(length=8), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("assigned_by", sa.Integer(), nullable=True),
        sa.Column("assigned_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("room", "day", "shift", "member_id", name="uq_roster_slot_member"),
    )
    with op.batch_alter_table("roster_assignments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_roster_assignments_member_id"), ["member_id"], unique=False)
        batch_op.create_index("ix_roster_room_day", ["room", "day"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("roster_assignments", schema=None) as batch_op:
        batch_op.drop_index("ix_roster_room_day")
        batch_op.drop_index(batch_op.f("ix_roster_assignments_member_id"))

    op.drop_table("roster_assignments")
    with op.batch_alter_table("handover_notes", schema=None) as batch_op:
        batch_op.drop_index("ix_handover_room_pending")

    op.drop_table("handover_notes")
