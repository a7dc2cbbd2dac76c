"""Every migration upgrades, downgrades and upgrades again cleanly (SQLite and PostgreSQL)."""

from __future__ import annotations

from alembic.script import ScriptDirectory
from sqlalchemy import inspect

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
