"""incidents at scale: indexes for /stats and a department head's /incidents (A5)

Revision ID: 0007
Revises: 0006

Measured at 1,000,000 incidents (bench/footprint.py):
- /stats reads, for the incidents that occurred in a period, only the FIGURES columns. In one index ordered by
  the moment of occurrence they are read without the rows (a month: ~1.5 MB of index instead of ~13 MB of
  rows). It begins with occurred_at, so it replaces the index on occurred_at alone.
- A department head's /incidents (open incidents of their departments, newest first) walked every incident of
  the department, open or closed (~0.8 s); by department, status and id it reads only the open ones.
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
    op.create_index("ix_incidents_department_open", "incidents", ["department", "status", "id"])


def downgrade() -> None:
    op.drop_index("ix_incidents_department_open", table_name="incidents")
    op.create_index("ix_incidents_occurred", "incidents", ["occurred_at"])
    op.drop_index("ix_incidents_figures", table_name="incidents")
