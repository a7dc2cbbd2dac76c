"""SQLite's two connections (issue 15, storage/sqlite_driver.py): the bot's runs its statements on the event
loop's thread; long reads (a year's /stats, an export) run on a connection of their own, on aiosqlite's
thread, never hold up the bot's writes, and cannot write."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import create_engine, create_reading_engine, create_session_factory
from storage.migrate import upgrade
from storage.uow import UnitOfWorkFactory


def report_thread(engine: AsyncEngine) -> None:
    """`SELECT thread_id()` answers the thread the statement ran on."""

    @event.listens_for(engine.sync_engine, "connect")
    def _register(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.create_function("thread_id", 0, threading.get_ident)


@pytest.fixture
async def engines(tmp_path: Path) -> Any:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}"
    engine, reading = create_engine(url), create_reading_engine(url)
    assert reading is not None
    await upgrade(engine)
    yield engine, reading
    await engine.dispose()
    await reading.dispose()


async def test_the_bots_statements_run_on_the_event_loops_thread_and_long_reads_do_not(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}"
    engine, reading = create_engine(url), create_reading_engine(url)
    assert reading is not None
    report_thread(engine), report_thread(reading)
    async with engine.connect() as connection:
        bots = (await connection.execute(text("SELECT thread_id()"))).scalar_one()
    async with reading.connect() as connection:
        readers = (await connection.execute(text("SELECT thread_id()"))).scalar_one()
    await engine.dispose()
    await reading.dispose()
    assert bots == threading.get_ident()
    assert readers != threading.get_ident()


async def test_a_long_read_does_not_hold_up_the_bots_writes(engines: Any) -> None:
    """A manager's export keeps its read open across batches; an alert's transaction commits meanwhile, and
    the export goes on reading the state it started from."""
    engine, reading = engines
    uow = UnitOfWorkFactory(create_session_factory(engine), create_session_factory(reading))
    async with uow() as work:
        await work.key_values.set("shift", "day")
        await work.commit()
    async with uow.reading() as export:
        assert await export.key_values.get("shift") == "day"  # its read transaction is open from here
        async with uow() as work:
            await work.key_values.set("shift", "night")
            await asyncio.wait_for(work.commit(), timeout=5)
        assert await export.key_values.get("shift") == "day"
    async with uow.reading() as later:
        assert await later.key_values.get("shift") == "night"


async def test_the_reading_connection_refuses_to_write(engines: Any) -> None:
    engine, reading = engines
    uow = UnitOfWorkFactory(create_session_factory(engine), create_session_factory(reading))
    with pytest.raises(OperationalError, match="readonly"):
        async with uow.reading() as work:
            await work.key_values.set("shift", "day")
            await work.commit()
    async with uow() as work:
        assert await work.key_values.get("shift") is None


def test_postgresql_and_in_memory_databases_have_no_reading_connection() -> None:
    """PostgreSQL's pool gives a long read a connection of its own already; an in-memory database is one
    connection's own (a second would see another, empty database)."""
    assert create_reading_engine("postgresql+asyncpg://bot@localhost/bot") is None
    assert create_reading_engine("sqlite+aiosqlite://") is None
    assert create_reading_engine("sqlite+aiosqlite:///:memory:") is None
