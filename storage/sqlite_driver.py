"""SQLite for the bot: its one connection runs statements on the event loop's own thread; long reads run on
a connection of their own in aiosqlite's thread (issue 15).

A statement of ours takes SQLite a few microseconds (indexed reads and writes of one row). Sent through
aiosqlite's thread, each also cost a queue put, a wake-up of that thread, the GIL handed back and forth and a
wake-up of the event loop through its self-pipe: ~100 µs of the event loop's CPU, more than all of SQLAlchemy's
own work for it. The bot's connection (`InlineConnection`) therefore runs them inline. SQLite is one
connection for writes anyway, so a statement that waited for aiosqlite's thread held up every other
transaction as long as it now holds up the loop. Each statement still gives the other ready tasks their turn,
as the trip to the thread did (one pass of the loop, ~15 µs): without it, 50 reports submitted at once ran
one after the other, and the first alert left after the last of them was stored (0.5 s instead of 48 ms).

What takes long is read-only: a year's /stats, an export. Those run on the reading engine
(`storage.db.create_reading_engine`): a second connection (WAL: the writer and the reader never wait for each
other) whose statements go through aiosqlite's thread, one trip per statement (`OneHopCursor`; SQLAlchemy's
adapter makes four for a SELECT: open a cursor, execute, fetch, close), so alerts go on being written and sent
meanwhile (README, "Performance")."""

from __future__ import annotations

import asyncio
import collections
import sqlite3
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import AsyncAdapt_aiosqlite_connection, AsyncAdapt_aiosqlite_dbapi
from sqlalchemy.util.concurrency import await_

Outcome = tuple[Any, list[Any], int, Any]  # description, rows, rowcount, lastrowid


def _run(connection: sqlite3.Connection, begin: str | None, many: bool, operation: str, parameters: Any) -> Outcome:
    """The whole statement, its rows included, and the transaction's BEGIN before its first statement."""
    cursor = connection.cursor()
    try:
        if begin:
            cursor.execute(begin)
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


class OneHopCursor:
    """The DBAPI cursor SQLAlchemy's async adapter expects, with its results fetched in the same hop."""

    server_side = False
    __slots__ = ("_adapt_connection", "_connection", "_rows", "description", "rowcount", "lastrowid")
    arraysize = 1

    def __init__(self, adapt_connection: AsyncAdapt_aiosqlite_connection) -> None:
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._rows: collections.deque[Any] = collections.deque()
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: Any = None

    async def _async_soft_close(self) -> None:
        """Nothing to close: the thread closed its cursor already."""

    def close(self) -> None:
        self._rows.clear()

    def _call(self, many: bool, operation: Any, parameters: Any) -> None:
        try:
            self._take(await_(self._hop(many, operation, parameters)))
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    async def _hop(self, many: bool, operation: Any, parameters: Any) -> Outcome:
        adapted = self._adapt_connection
        async with adapted._execute_mutex:
            begin = adapted.take_begin()  # type: ignore[attr-defined]
            return await self._connection._execute(_run, self._connection._conn, begin, many, operation, parameters)  # type: ignore[no-any-return]

    def execute(self, operation: Any, parameters: Any = None) -> None:
        self._call(False, operation, parameters)

    def executemany(self, operation: Any, seq_of_parameters: Any) -> None:
        self._call(True, operation, seq_of_parameters)

    def _take(self, outcome: Outcome) -> None:
        self.description, rows, self.rowcount, self.lastrowid = outcome
        self._rows = collections.deque(rows)

    def setinputsizes(self, *inputsizes: Any) -> None:
        """Not used by SQLite."""

    def __enter__(self) -> OneHopCursor:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def __iter__(self) -> Any:
        while self._rows:
            yield self._rows.popleft()

    def fetchone(self) -> Any:
        return self._rows.popleft() if self._rows else None

    def fetchmany(self, size: int | None = None) -> list[Any]:
        rows = self._rows
        return [rows.popleft() for _ in range(min(size or self.arraysize, len(rows)))]

    def fetchall(self) -> list[Any]:
        rows = list(self._rows)
        self._rows.clear()
        return rows


class OneHopConnection(AsyncAdapt_aiosqlite_connection):
    """`begin` (the engine's "begin" event) asks for the transaction's BEGIN; it runs in the same trip as the
    transaction's first statement, right before it, as it would have on a trip of its own. A reading
    connection's is deferred (a snapshot, no lock), the bot's is IMMEDIATE (its writes never interleave)."""

    __slots__ = ("begin_pending",)
    _cursor_cls = OneHopCursor  # type: ignore[assignment]
    begin_statement = "BEGIN"

    def __init__(self, dbapi: Any, connection: Any) -> None:
        super().__init__(dbapi, connection)
        self.begin_pending = False

    def begin(self) -> None:
        self.begin_pending = True

    def take_begin(self) -> str | None:
        """The BEGIN to run before this statement, if it is the transaction's first."""
        begin, self.begin_pending = self.begin_pending, False
        return self.begin_statement if begin else None

    def commit(self) -> None:
        self.begin_pending = False  # a transaction without statements: nothing was begun
        super().commit()

    def rollback(self) -> None:
        self.begin_pending = False
        super().rollback()


class InlineCursor(OneHopCursor):
    """A statement on the event loop's thread, straight on the sqlite3 connection."""

    __slots__ = ()

    def _call(self, many: bool, operation: Any, parameters: Any) -> None:
        adapted = self._adapt_connection
        try:
            self._take(_run(self._connection._conn, adapted.take_begin(), many, operation, parameters))  # type: ignore[attr-defined]
        except Exception as error:
            adapted._handle_exception(error)
        await_(asyncio.sleep(0))  # the other ready tasks' turn (see above)


class InlineConnection(OneHopConnection):
    """The bot's connection: statements, commits and rollbacks on the event loop's thread."""

    __slots__ = ()
    _cursor_cls = InlineCursor  # type: ignore[assignment]
    begin_statement = "BEGIN IMMEDIATE"

    def commit(self) -> None:
        self.begin_pending = False
        self._connection._conn.commit()

    def rollback(self) -> None:
        self.begin_pending = False
        self._connection._conn.rollback()


class SqliteDbapi(AsyncAdapt_aiosqlite_dbapi):
    """Passed as `module=` to the engine: aiosqlite's adapter with one of the connections above. aiosqlite
    still opens and closes the connection, on its thread; an inline one is then used from the loop's."""

    def __init__(self, connection: type[OneHopConnection]) -> None:
        super().__init__(aiosqlite, sqlite3)
        self._connection_class = connection

    def connect(self, *arg: Any, **kw: Any) -> OneHopConnection:
        if self._connection_class is InlineConnection:
            kw["check_same_thread"] = False
        adapted = super().connect(*arg, **kw)
        return self._connection_class(self, adapted._connection)


def inline_dbapi() -> SqliteDbapi:
    return SqliteDbapi(InlineConnection)


def reading_dbapi() -> SqliteDbapi:
    return SqliteDbapi(OneHopConnection)
