"""Engine and session factory: SQLite by default, PostgreSQL for scale."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from storage.sqlite_driver import OneHopConnection, inline_dbapi, reading_dbapi


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """SQLite gets one connection in WAL mode with immediate transactions: writes never
    interleave, so read-then-write transactions cannot fail with a stale snapshot. Its statements run on the
    event loop's thread (storage/sqlite_driver.py)."""
    if not is_sqlite(url):
        return create_async_engine(url, pool_pre_ping=True, **kwargs)
    kwargs.pop("pool_size", None), kwargs.pop("max_overflow", None)  # SQLite: one connection, see above
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    if make_url(url).get_driver_name() == "aiosqlite":
        kwargs.setdefault("module", inline_dbapi())
    return _sqlite_engine(url, "BEGIN IMMEDIATE", **kwargs)


def create_reading_engine(url: str) -> AsyncEngine | None:
    """SQLite: a second connection for long reads (a year's /stats, an export), on aiosqlite's thread, so the
    event loop and the bot's connection go on meanwhile; it refuses to write. None for PostgreSQL, whose
    pool gives long reads a connection of their own already, and for an in-memory database (it has one)."""
    if not is_sqlite(url) or make_url(url).database in (None, "", ":memory:"):
        return None
    engine = _sqlite_engine(url, "BEGIN", module=reading_dbapi())

    @event.listens_for(engine.sync_engine, "connect")
    def _read_only(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA query_only=ON")
        cursor.close()

    return engine


def _sqlite_engine(url: str, begin: str, **kwargs: Any) -> AsyncEngine:
    engine = create_async_engine(url, pool_size=1, max_overflow=0, pool_timeout=60, **kwargs)

    @event.listens_for(engine.sync_engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(connection: Any) -> None:
        adapted = connection.connection.dbapi_connection
        if isinstance(adapted, OneHopConnection):
            adapted.begin()  # run with the transaction's first statement
        else:
            connection.exec_driver_sql(begin)

    return engine


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
