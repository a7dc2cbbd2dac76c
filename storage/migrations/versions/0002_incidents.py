"""incidents: reports, their media and alerts, yearly numbering (A1–A7)

Revision ID: 0002
Revises: 0003

The brief asks for down_revision "0001"; it follows 0003 (the duty roster, written beside it on the same branch)
so that the branch has one head. The lead re-chains migrations when merging.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0002"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "incident_counters",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("year"),
    )
    op.create_table(
        "incidents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=48), nullable=False),
        sa.Column("severity", sa.String(length=48), nullable=False),
        sa.Column("department", sa.String(length=32), nullable=False),
        sa.Column("duty_room", sa.String(length=48), nullable=False),
        sa.Column("reporter_id", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("location_text", sa.String(length=300), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("loss_yuan", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("details_pending", sa.Boolean(), nullable=False),
        sa.Column("occurred_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("reported_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("acknowledged_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("acknowledged_by", sa.Integer(), nullable=True),
        sa.Column("ack_seconds", sa.Integer(), nullable=True),
        sa.Column("ack_in_window", sa.Boolean(), nullable=True),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("resolved_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("closed_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.Column("alert_round", sa.Integer(), nullable=False),
        sa.Column("reportable_reasons", sa.JSON(), nullable=False),
        sa.Column("external_due_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("external_state", sa.String(length=12), nullable=True),
        sa.Column("external_missed", sa.Boolean(), nullable=False),
        sa.Column("external_filed_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("external_body", sa.String(length=200), nullable=True),
        sa.Column("external_reference", sa.String(length=100), nullable=True),
        sa.Column("external_file_id", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["acknowledged_by"],
            ["members.id"],
        ),
        sa.ForeignKeyConstraint(
            ["assignee_id"],
            ["members.id"],
        ),
        sa.ForeignKeyConstraint(
            ["reporter_id"],
            ["members.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("number"),
        sa.UniqueConstraint("year", "seq", name="uq_incident_year_seq"),
    )
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.create_index("ix_incidents_assignee", ["assignee_id", "status"], unique=False)
        batch_op.create_index("ix_incidents_category", ["category", "occurred_at"], unique=False)
        batch_op.create_index("ix_incidents_department", ["department", "occurred_at"], unique=False)
        batch_op.create_index("ix_incidents_occurred", ["occurred_at"], unique=False)
        batch_op.create_index("ix_incidents_reporter", ["reporter_id", "id"], unique=False)
        batch_op.create_index("ix_incidents_room", ["duty_room", "status"], unique=False)
        batch_op.create_index("ix_incidents_status", ["status", "id"], unique=False)

    op.create_table(
        "incident_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=True),
        sa.Column("reachable", sa.Boolean(), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("incident_alerts", schema=None) as batch_op:
        batch_op.create_index("ix_incident_alerts_incident", ["incident_id", "round"], unique=False)

    op.create_table(
        "incident_media",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("file_id", sa.String(length=200), nullable=False),
        sa.Column("added_by", sa.Integer(), nullable=True),
        sa.Column("added_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("incident_media", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_incident_media_incident_id"), ["incident_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("incident_media", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incident_media_incident_id"))

    op.drop_table("incident_media")
    with op.batch_alter_table("incident_alerts", schema=None) as batch_op:
        batch_op.drop_index("ix_incident_alerts_incident")

    op.drop_table("incident_alerts")
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_index("ix_incidents_status")
        batch_op.drop_index("ix_incidents_room")
        batch_op.drop_index("ix_incidents_reporter")
        batch_op.drop_index("ix_incidents_occurred")
        batch_op.drop_index("ix_incidents_department")
        batch_op.drop_index("ix_incidents_category")
        batch_op.drop_index("ix_incidents_assignee")

    op.drop_table("incidents")
    op.drop_table("incident_counters")
