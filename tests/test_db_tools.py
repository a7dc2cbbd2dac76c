"""`python -m bot db backup | restore | copy` (issue 13): on real SQLite files and a real PostgreSQL, with the
audit chain (F1) verified after each."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.app import App
from bot.clock import ManualClock
from bot.dbtools import DatabaseToolError, copy
from bot.instance_lock import FileLock, lock_path
from storage.db import create_engine
from storage.incidents_models import Incident
from storage.models import Base
from tests.conftest import POSTGRES_URL, Harness, reset_postgres
from tests.support.incidents import crew, report, started
from tests.support.updates import UpdateFactory

ROOT = Path(__file__).resolve().parent.parent


async def reopened(url: str) -> tuple[App, Harness]:
    """The bot started again on a database; its updates carry ids the first run did not use."""
    app, _session, h = await started(url, ManualClock())
    h.updates = UpdateFactory(first_update_id=10_000)
    return app, h


async def cli(database_url: str, *args: str) -> tuple[int, str]:
    """The command line as an operator runs it; returns its exit code and what it printed."""
    environment = {k: v for k, v in os.environ.items() if k not in {"BOT_POLICY", "ADMIN_IDS", "WEBHOOK_URL"}}
    environment.update(PYTHONPATH=str(ROOT), DATABASE_URL=database_url)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        env=environment,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    assert process.returncode is not None
    return process.returncode, output.decode()


def incidents_in(path: Path) -> int:
    with sqlite3.connect(path) as connection:
        return connection.execute("SELECT count(*) FROM incidents").fetchone()[0]


@pytest.fixture
async def office(tmp_path: Path) -> Path:
    """A database the bot filled: members, a roster, one incident report with its alerts and audit entries."""
    database = tmp_path / "bot.sqlite3"
    app, _session, h = await started(f"sqlite+aiosqlite:///{database}", ManualClock())
    try:
        await crew(h)
        await report(h)
    finally:
        await app.close()
    return database


async def test_backup_while_the_bot_writes_is_complete_and_its_audit_chain_verifies(
    office: Path, tmp_path: Path
) -> None:
    url = f"sqlite+aiosqlite:///{office}"
    app, h = await reopened(url)
    try:
        await report(h, description="Second leak, still in the WAL")  # the bot is running and has written
        code, output = await cli(url, "db", "backup", str(tmp_path / "backup.sqlite3"))
        assert code == 0 and "integrity checked" in output, output
        assert incidents_in(tmp_path / "backup.sqlite3") == 2
        code, output = await cli(url, "db", "backup", str(tmp_path / "backup.sqlite3"))
        assert code == 1 and "exists; choose another file or add --force" in output
    finally:
        await app.close()
    code, output = await cli(f"sqlite+aiosqlite:///{tmp_path / 'backup.sqlite3'}", "audit", "verify")
    assert code == 0 and "audit chain intact" in output, output


async def test_backup_of_postgresql_says_how_to_use_pg_dump() -> None:
    code, output = await cli("postgresql+asyncpg://bot:secret@db.internal:5433/duty", "db", "backup", "x.dump")
    assert code == 2
    assert "pg_dump --format=custom --file=bot.dump -h db.internal -p 5433 -U bot duty" in output
    assert "secret" not in output


async def test_restore_refuses_while_a_bot_runs_then_restores_and_keeps_the_replaced_database(
    office: Path, tmp_path: Path
) -> None:
    url = f"sqlite+aiosqlite:///{office}"
    backup = tmp_path / "monday.sqlite3"
    assert (await cli(url, "db", "backup", str(backup)))[0] == 0
    app, h = await reopened(url)
    await report(h, description="Reported after the backup")
    await app.close()
    running = FileLock(lock_path(url))  # type: ignore[arg-type]
    assert running.try_acquire()  # what a running bot holds (bot.leader)
    try:
        code, output = await cli(url, "db", "restore", str(backup))
        assert code == 1 and "a bot is running" in output and "stop it first" in output
        assert incidents_in(office) == 2  # untouched
    finally:
        running.release()
    code, output = await cli(url, "db", "restore", str(backup))
    assert code == 0 and "kept as" in output, output
    assert incidents_in(office) == 1
    kept = output.split("kept as ")[1].strip()
    assert incidents_in(Path(kept)) == 2
    code, output = await cli(url, "audit", "verify")
    assert code == 0 and "audit chain intact" in output, output


async def test_restore_refuses_a_file_that_is_not_a_database_of_this_bot(office: Path, tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{office}"
    (tmp_path / "notes.txt").write_text("not a database")
    code, output = await cli(url, "db", "restore", str(tmp_path / "notes.txt"))
    assert code == 1 and "is not a database of this bot" in output
    code, output = await cli(url, "db", "restore", str(tmp_path / "missing.sqlite3"))
    assert code == 1 and "there is no backup at" in output
    assert incidents_in(office) == 1


@pytest.mark.skipif(not POSTGRES_URL, reason="needs TEST_POSTGRES_URL (CI sets it)")
async def test_copy_to_postgresql_moves_every_row_and_the_audit_chain_verifies_there(office: Path) -> None:
    assert POSTGRES_URL
    await reset_postgres(POSTGRES_URL)
    url = f"sqlite+aiosqlite:///{office}"
    code, output = await cli(url, "db", "copy", "--to", POSTGRES_URL)
    assert code == 0 and "rows copied" in output, output
    copied = await copy_counts(url), await copy_counts(POSTGRES_URL)
    assert copied[0] == copied[1] and copied[0]["audit_log"] > 0 and copied[0]["incidents"] == 1
    code, output = await cli(POSTGRES_URL, "audit", "verify")
    assert code == 0 and f"({copied[0]['audit_log']} entries)" in output, output
    # the bot goes on there: new rows get new ids (the sequences were moved past the copied ones)
    app, h = await reopened(POSTGRES_URL)
    try:
        await report(h, description="First report on PostgreSQL")
        async with app.uow() as uow:
            numbers = list(await uow.session.scalars(select(Incident.number).order_by(Incident.id)))
        assert numbers == ["INC-2026-000001", "INC-2026-000002"]
    finally:
        await app.close()
    code, output = await cli(url, "db", "copy", "--to", POSTGRES_URL)
    assert code == 1 and "the target database is not empty" in output


async def copy_counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return {
                table.name: await connection.scalar(select(func.count()).select_from(table))
                for table in Base.metadata.sorted_tables
            }
    finally:
        await engine.dispose()


def test_copy_refuses_a_target_that_is_not_postgresql(tmp_path: Path) -> None:
    with pytest.raises(DatabaseToolError, match="--to must be a PostgreSQL URL"):
        asyncio.run(copy(f"sqlite+aiosqlite:///{tmp_path / 'a.sqlite3'}", "sqlite+aiosqlite:///b.sqlite3"))
