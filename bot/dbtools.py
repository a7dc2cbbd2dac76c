"""Backup, restore and copy of the database (issue 13).

A SQLite backup uses SQLite's online backup API, so it is consistent while the bot runs (what is still in the
WAL included). A restore holds the bot's instance lock (`bot.instance_lock`) from start to end: it refuses
while a bot runs on the file, and no bot can start on a half-restored one. A copy moves every row of a
SQLite deployment to an empty PostgreSQL database, keeping the primary keys, so the audit chain verifies there.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import make_url

from bot.config import ConfigError
from bot.instance_lock import FileLock, lock_path, sqlite_file
from storage.db import create_engine
from storage.migrate import upgrade
from storage.models import Base

BATCH = 1000  # rows per INSERT when copying


class DatabaseToolError(Exception):
    """The operation was refused; the message says why and what to do."""


def pg_dump_advice(database_url: str) -> str:
    url = make_url(database_url)
    target = f"-h {url.host or 'localhost'} -p {url.port or 5432} -U {url.username or 'postgres'} {url.database}"
    return (
        "DATABASE_URL is PostgreSQL: back it up with PostgreSQL's own tools, consistent while the bot runs:\n"
        f"  pg_dump --format=custom --file=bot.dump {target}\n"
        "and restore into an empty database with:\n"
        f"  pg_restore --clean --if-exists --no-owner --dbname={url.database} "
        f"-h {url.host or 'localhost'} -p {url.port or 5432} -U {url.username or 'postgres'} bot.dump"
    )


def _sqlite_file_of(database_url: str) -> Path:
    database = sqlite_file(database_url)
    if database is None:
        raise ConfigError(pg_dump_advice(database_url))
    return database


def _copy_file(source: Path, target: Path) -> None:
    """SQLite's online backup: page by page, consistent, whatever other connections do meanwhile."""
    reading = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    writing = sqlite3.connect(target)
    try:
        reading.backup(writing)
    finally:
        writing.close()
        reading.close()


def _check_bot_database(path: Path) -> str:
    """The migration revision of a sound database of this bot; DatabaseToolError otherwise."""
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            if connection.execute("PRAGMA integrity_check").fetchone() != ("ok",):
                raise DatabaseToolError(f"{path} is damaged (PRAGMA integrity_check failed).")
            row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        finally:
            connection.close()
    except sqlite3.DatabaseError as error:
        raise DatabaseToolError(f"{path} is not a database of this bot ({error}).") from None
    if row is None:
        raise DatabaseToolError(f"{path} is not a database of this bot (it has no migration revision).")
    return row[0]


@dataclass(frozen=True)
class BackupReport:
    path: Path
    size: int
    revision: str


def backup(database_url: str, target: Path, *, force: bool = False) -> BackupReport:
    source = _sqlite_file_of(database_url)
    if not source.exists():
        raise DatabaseToolError(f"there is no database at {source} to back up.")
    if target.exists() and not force:
        raise DatabaseToolError(f"{target} exists; choose another file or add --force to overwrite it.")
    partial = target.with_name(target.name + ".partial")  # a crash mid-backup leaves no half file under the name
    partial.unlink(missing_ok=True)
    _copy_file(source, partial)
    revision = _check_bot_database(partial)
    partial.replace(target)
    return BackupReport(target, target.stat().st_size, revision)


@dataclass(frozen=True)
class RestoreReport:
    kept: Path | None  # where the database it replaced was moved
    revision: str


async def restore(database_url: str, source: Path) -> RestoreReport:
    lock = FileLock(lock_path(database_url) or Path())
    report = _swap_in(_sqlite_file_of(database_url), source, lock)
    try:
        engine = create_engine(database_url)
        try:
            await upgrade(engine)  # a backup from an older version is brought up to this one
        finally:
            await engine.dispose()
    finally:
        lock.release()
    return report


def _swap_in(database: Path, source: Path, lock: FileLock) -> RestoreReport:
    """Take the instance lock (kept until the caller releases it), move the current database aside and copy
    the backup in its place."""
    if not source.exists():
        raise DatabaseToolError(f"there is no backup at {source}.")
    revision = _check_bot_database(source)
    if not lock.try_acquire():
        raise DatabaseToolError(
            f"a bot is running on {database}: stop it first (a restore would pull the database from under it)."
        )
    try:
        kept = None
        if database.exists():
            kept = database.with_name(f"{database.name}.before-restore-{datetime.now(UTC):%Y%m%dT%H%M%SZ}")
            for suffix in ("", "-wal", "-shm"):  # what a killed bot left in its WAL belongs to the kept copy
                part = database.with_name(database.name + suffix)
                if part.exists():
                    part.replace(kept.with_name(kept.name + suffix))
        _copy_file(source, database)
    except BaseException:
        lock.release()
        raise
    return RestoreReport(kept, revision)


async def copy(source_url: str, target_url: str) -> dict[str, int]:
    """Every row of every table, in foreign-key order; returns the rows copied per table."""
    if make_url(target_url).get_backend_name() != "postgresql":
        raise DatabaseToolError("--to must be a PostgreSQL URL, e.g. postgresql+asyncpg://user:password@host/bot")
    source, target = create_engine(source_url), create_engine(target_url)
    tables = Base.metadata.sorted_tables
    copied: dict[str, int] = {}
    try:
        await upgrade(source)
        await upgrade(target)
        async with target.connect() as connection:
            for table in tables:
                if await connection.scalar(select(func.count()).select_from(table)):
                    raise DatabaseToolError(
                        f"the target database is not empty (table {table.name} has rows): copy into a new, empty "
                        "database (e.g. createdb bot), so that nothing is mixed."
                    )
        async with source.connect() as reading, target.begin() as writing:  # all or nothing
            for table in tables:
                copied[table.name] = 0
                result = await reading.stream(select(table))
                async for rows in result.mappings().partitions(BATCH):
                    await writing.execute(insert(table), [dict(row) for row in rows])
                    copied[table.name] += len(rows)
                if (column := table.autoincrement_column) is not None:  # new rows go on after the copied ids
                    await writing.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column.name}'), "
                            f"COALESCE((SELECT MAX({column.name}) FROM {table.name}), 0) + 1, false)"
                        )
                    )
        async with target.connect() as connection:
            for table in tables:
                there = await connection.scalar(select(func.count()).select_from(table))
                if there != copied[table.name]:
                    raise DatabaseToolError(f"{table.name}: {copied[table.name]} rows read but {there} in the target.")
    finally:
        await source.dispose()
        await target.dispose()
    return copied
