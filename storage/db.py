"""Engine and session factory: SQLite by default, PostgreSQL for scale."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from storage.sqlite_driver import OneHopConnection, one_hop_dbapi


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """SQLite gets one connection in WAL mode with immediate transactions: writes never
    interleave, so read-then-write transactions cannot fail with a stale snapshot."""
    if not is_sqlite(url):
        return create_async_engine(url, pool_pre_ping=True, **kwargs)
    kwargs.pop("pool_size", None), kwargs.pop("max_overflow", None)  # SQLite: one connection, see above
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    if make_url(url).get_driver_name() == "aiosqlite":  # one trip to aiosqlite's thread per statement
        kwargs.setdefault("module", one_hop_dbapi())
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
            adapted.begin_immediate()  # in the same trip to aiosqlite's thread as the first statement
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
