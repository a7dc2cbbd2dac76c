"""SQLite through aiosqlite's thread, one hop per statement (issue 15).

SQLAlchemy's aiosqlite adapter makes four trips to aiosqlite's thread for a SELECT (open a cursor, execute,
fetch all rows, close the cursor) and three for any other statement; each trip is a queue put, a wake-up of the
thread, and a wake-up of the event loop through its self-pipe, and the single connection is held meanwhile.
This cursor does the four in one function on that thread. The statements still run on aiosqlite's thread, never
on the event loop's: an export or a year's /stats does not stall an alert (README, "Performance")."""

from __future__ import annotations

import collections
import sqlite3
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import AsyncAdapt_aiosqlite_connection, AsyncAdapt_aiosqlite_dbapi
from sqlalchemy.util.concurrency import await_

Outcome = tuple[Any, list[Any], int, Any]  # description, rows, rowcount, lastrowid


def _run(connection: sqlite3.Connection, begin: bool, many: bool, operation: str, parameters: Any) -> Outcome:
    """On aiosqlite's thread: the whole statement, its rows included, and the transaction's BEGIN before its
    first statement."""
    cursor = connection.cursor()
    try:
        if begin:
            cursor.execute("BEGIN IMMEDIATE")
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
            self.description, rows, self.rowcount, self.lastrowid = await_(self._hop(many, operation, parameters))
            self._rows = collections.deque(rows)
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    async def _hop(self, many: bool, operation: Any, parameters: Any) -> Outcome:
        adapted = self._adapt_connection
        async with adapted._execute_mutex:
            begin, adapted.begin_pending = adapted.begin_pending, False  # type: ignore[attr-defined]
            return await self._connection._execute(_run, self._connection._conn, begin, many, operation, parameters)  # type: ignore[no-any-return]

    def execute(self, operation: Any, parameters: Any = None) -> None:
        self._call(False, operation, parameters)

    def executemany(self, operation: Any, seq_of_parameters: Any) -> None:
        self._call(True, operation, seq_of_parameters)

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
    """`begin_immediate` (the engine's "begin" event) asks for BEGIN IMMEDIATE; it runs in the same trip as
    the transaction's first statement, right before it, as it would have on a trip of its own."""

    __slots__ = ("begin_pending",)
    _cursor_cls = OneHopCursor  # type: ignore[assignment]

    def __init__(self, dbapi: Any, connection: Any) -> None:
        super().__init__(dbapi, connection)
        self.begin_pending = False

    def begin_immediate(self) -> None:
        self.begin_pending = True

    def commit(self) -> None:
        self.begin_pending = False  # a transaction without statements: nothing was begun
        super().commit()

    def rollback(self) -> None:
        self.begin_pending = False
        super().rollback()


class OneHopDbapi(AsyncAdapt_aiosqlite_dbapi):
    """Passed as `module=` to the engine: aiosqlite's adapter with the one-hop cursor."""

    def connect(self, *arg: Any, **kw: Any) -> OneHopConnection:
        adapted = super().connect(*arg, **kw)
        return OneHopConnection(self, adapted._connection)


def one_hop_dbapi() -> OneHopDbapi:
    return OneHopDbapi(aiosqlite, sqlite3)
