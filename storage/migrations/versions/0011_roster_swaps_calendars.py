"""officers' swap requests and calendar feeds of the duty roster (issue 14: B1)

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "roster_swap_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("room", sa.String(length=48), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("shift", sa.String(length=48), nullable=False),
        sa.Column("position", sa.String(length=8), nullable=False),
        sa.Column("requester_id", sa.Integer(), nullable=False),
        sa.Column("colleague_id", sa.Integer(), nullable=True),
        sa.Column("taker_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("asked", sa.JSON(), nullable=False),
        sa.Column("declined", sa.JSON(), nullable=False),
        sa.Column("keeper_cards", sa.JSON(), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("starts_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("decided_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["requester_id"], ["members.id"]),
        sa.ForeignKeyConstraint(["colleague_id"], ["members.id"]),
        sa.ForeignKeyConstraint(["taker_id"], ["members.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("roster_swap_requests") as batch:
        batch.create_index("ix_roster_swap_requests_requester_id", ["requester_id"])
        batch.create_index("ix_swap_slot_state", ["room", "day", "shift", "state"])
    op.create_table(
        "roster_calendar_feeds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("room", sa.String(length=48), nullable=True),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("revoked_at", storage.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token"),
    )
    with op.batch_alter_table("roster_calendar_feeds") as batch:
        batch.create_index("ix_roster_calendar_feeds_member_id", ["member_id"])


def downgrade() -> None:
    with op.batch_alter_table("roster_calendar_feeds") as batch:
        batch.drop_index("ix_roster_calendar_feeds_member_id")
    op.drop_table("roster_calendar_feeds")
    with op.batch_alter_table("roster_swap_requests") as batch:
        batch.drop_index("ix_swap_slot_state")
        batch.drop_index("ix_roster_swap_requests_requester_id")
    op.drop_table("roster_swap_requests")
