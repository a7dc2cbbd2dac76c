"""incidents at scale: one index that answers /stats by itself (A5)

Revision ID: 0007
Revises: 0006

/stats reads, for the incidents that occurred in a period, only the columns below. With them all in one index
ordered by the moment of occurrence, the database reads the period's index entries and never the rows: at
1,000,000 incidents a month's figures take a few milliseconds instead of a table lookup per incident
(bench/footprint.py). It begins with occurred_at, so it replaces the index on occurred_at alone.
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

FIGURES = (
    "occurred_at",
    "category",
    "department",
    "ack_seconds",
    "ack_in_window",
    "external_state",
    "external_missed",
    "external_due_at",
)


def upgrade() -> None:
    op.create_index("ix_incidents_figures", "incidents", list(FIGURES))
    op.drop_index("ix_incidents_occurred", table_name="incidents")


def downgrade() -> None:
    op.create_index("ix_incidents_occurred", "incidents", ["occurred_at"])
    op.drop_index("ix_incidents_figures", table_name="incidents")
