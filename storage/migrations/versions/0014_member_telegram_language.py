"""members' Telegram language_code, recorded at join and on later updates (issue 14)

A member who has not chosen a language hears every message in the language their Telegram app speaks,
replies and messages queued for them alike (`bot.i18n.pick_language`).

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("members") as batch:
        batch.add_column(sa.Column("telegram_language", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("members") as batch:
        batch.drop_column("telegram_language")
