"""Every migration upgrades, downgrades and upgrades again cleanly (SQLite and PostgreSQL)."""

from __future__ import annotations

import json

from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from storage.db import create_engine
from storage.migrate import alembic_config, downgrade, upgrade
from storage.models import Base


async def table_names(url: str) -> set[str]:
    engine = create_engine(url)
    async with engine.connect() as connection:
        names = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
    await engine.dispose()
    return names - {"alembic_version"}


async def test_up_down_up_over_every_revision(database_url: str) -> None:
    revisions = [script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions()]
    revisions.reverse()  # oldest first
    engine = create_engine(database_url)
    for revision in revisions:  # one step at a time, down and up again at each
        await upgrade(engine, revision)
        await downgrade(engine, "-1")
        await upgrade(engine, revision)
    await downgrade(engine, "base")
    assert await table_names(database_url) == set()
    await upgrade(engine, "head")
    await engine.dispose()
    assert await table_names(database_url) == set(Base.metadata.tables)


async def test_data_set_texts_keep_every_value_when_keyed_by_language(database_url: str) -> None:
    """0008 (issue 12): a column per language becomes one text per language, and back, nothing lost."""
    engine = create_engine(database_url)
    await upgrade(engine, "0007")
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO access_datasets (code, name_zh, name_en, description_zh, description_en, department,"
                " owner_role, owner_ids, classification, modes, max_days, active, edited_in_chat, updated_at)"
                " VALUES ('payroll', '工资表', 'Payroll', '每月工资', NULL, 'office', 'information_officer', '[]',"
                " 'secret', '[\"read_only\"]', '{}', true, true, '2026-01-01 00:00:00')"
            )
        )
    await upgrade(engine, "head")
    async with engine.connect() as connection:
        row = (await connection.execute(text("SELECT names, descriptions FROM access_datasets"))).one()
    assert [_json(value) for value in row] == [{"zh_Hans": "工资表", "en": "Payroll"}, {"zh_Hans": "每月工资"}]
    await downgrade(engine, "0007")
    async with engine.connect() as connection:
        columns = "name_zh, name_en, description_zh, description_en"
        back = (await connection.execute(text(f"SELECT {columns} FROM access_datasets"))).one()
    await engine.dispose()
    assert tuple(back) == ("工资表", "Payroll", "每月工资", None)


def _json(value: object) -> object:
    return json.loads(value) if isinstance(value, str) else value
