"""incidents.submission_key: a report's Submit pressed twice files it once (A1)

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("incidents") as batch:
        batch.add_column(sa.Column("submission_key", sa.String(length=40), nullable=True))
        batch.create_unique_constraint("uq_incidents_submission_key", ["submission_key"])


def downgrade() -> None:
    with op.batch_alter_table("incidents") as batch:
        batch.drop_constraint("uq_incidents_submission_key", type_="unique")
        batch.drop_column("submission_key")
