"""approvers' asks: transfer (转交) a step, copy (抄送) and nudge (催办) a request (issue 14)

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("approval_steps") as batch:
        batch.add_column(sa.Column("transferred_to", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_approval_steps_transferred_to", "members", ["transferred_to"], ["id"])
    with op.batch_alter_table("approval_decisions") as batch:
        batch.add_column(sa.Column("target_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_approval_decisions_target_id", "members", ["target_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("approval_decisions") as batch:
        batch.drop_constraint("fk_approval_decisions_target_id", type_="foreignkey")
        batch.drop_column("target_id")
    with op.batch_alter_table("approval_steps") as batch:
        batch.drop_constraint("fk_approval_steps_transferred_to", type_="foreignkey")
        batch.drop_column("transferred_to")
