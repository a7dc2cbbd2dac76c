"""data-set names and descriptions keyed by language (issue 12)

Revision ID: 0008
Revises: 0007

A column per language (name_zh, name_en, …) meant a migration for every language added; one JSON object per
text ({"zh_Hans": "…", "en": "…"}) takes any language the bot speaks. Every value is kept, both ways.
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

COLUMNS = {"zh_Hans": ("name_zh", "description_zh"), "en": ("name_en", "description_en")}


def upgrade() -> None:
    with op.batch_alter_table("access_datasets") as batch:
        batch.add_column(sa.Column("names", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("descriptions", sa.JSON(), nullable=True))
    connection = op.get_bind()
    rows = connection.execute(
        sa.text("SELECT id, name_zh, name_en, description_zh, description_en FROM access_datasets")
    ).mappings()
    for row in list(rows):
        names = {code: row[name] for code, (name, _) in COLUMNS.items() if row[name]}
        descriptions = {code: row[text] for code, (_, text) in COLUMNS.items() if row[text]}
        connection.execute(
            sa.text("UPDATE access_datasets SET names = :names, descriptions = :descriptions WHERE id = :id"),
            {
                "names": json.dumps(names, ensure_ascii=False),
                "descriptions": json.dumps(descriptions, ensure_ascii=False),
                "id": row["id"],
            },
        )
    with op.batch_alter_table("access_datasets") as batch:
        batch.alter_column("names", existing_type=sa.JSON(), nullable=False)
        batch.alter_column("descriptions", existing_type=sa.JSON(), nullable=False)
        for name, text in COLUMNS.values():
            batch.drop_column(name)
            batch.drop_column(text)


def downgrade() -> None:
    with op.batch_alter_table("access_datasets") as batch:
        batch.add_column(sa.Column("name_zh", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("name_en", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("description_zh", sa.Text(), nullable=True))
        batch.add_column(sa.Column("description_en", sa.Text(), nullable=True))
    connection = op.get_bind()
    for row in list(connection.execute(sa.text("SELECT id, names, descriptions FROM access_datasets")).mappings()):
        names, descriptions = _loaded(row["names"]), _loaded(row["descriptions"])
        values = {"id": row["id"]}
        for code, (name, text) in COLUMNS.items():
            values[name], values[text] = names.get(code), descriptions.get(code)
        values["name_zh"] = values["name_zh"] or next(iter(names.values()), "")
        connection.execute(
            sa.text(
                "UPDATE access_datasets SET name_zh = :name_zh, name_en = :name_en, "
                "description_zh = :description_zh, description_en = :description_en WHERE id = :id"
            ),
            values,
        )
    with op.batch_alter_table("access_datasets") as batch:
        batch.alter_column("name_zh", existing_type=sa.String(length=200), nullable=False)
        batch.drop_column("names")
        batch.drop_column("descriptions")


def _loaded(value: object) -> dict[str, str]:
    return json.loads(value) if isinstance(value, str) else dict(value or {})  # SQLite gives text, PostgreSQL JSON
