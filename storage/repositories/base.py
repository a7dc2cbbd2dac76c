from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession


def per_dialect(build: Callable[[Any], Any]) -> dict[str, Any]:
    """A statement built once for each supported database from its dialect's `insert` (ON CONFLICT differs):
    for the hot paths, where building a statement and its cache key cost more than running it (issue 15)."""
    return {"sqlite": build(sqlite.insert), "postgresql": build(postgresql.insert)}


class Repository:
    """Storage of one kind of row. Its `session` is the unit of work's ORM session, or, in the statements-only
    unit of work (`storage.uow.StatementsOnly`), a bare connection: then only `core` statements run."""

    def __init__(self, session: AsyncSession | AsyncConnection) -> None:
        self.session: Any = session

    async def core(self, statement: Any, parameters: dict[str, Any] | list[dict[str, Any]]) -> Any:
        """A prepared Core statement on the session's connection, in its transaction: no ORM on the way (each
        update's own reads and writes, issue 15); a list of parameters runs it for each. It does not flush the
        session first."""
        connection = self.session if isinstance(self.session, AsyncConnection) else await self.session.connection()
        return await connection.execute(statement, parameters)

    @property
    def dialect(self) -> str:
        bind = self.session if isinstance(self.session, AsyncConnection) else self.session.get_bind()
        return str(bind.dialect.name)

    def _insert(self, model: type, **values: Any) -> Any:
        insert = postgresql.insert if self.dialect == "postgresql" else sqlite.insert
        return insert(model).values(**values)

    def insert_ignoring_conflict(self, model: type, index: list[str], **values: Any) -> Any:
        """INSERT ... ON CONFLICT DO NOTHING for both supported databases."""
        return self._insert(model, **values).on_conflict_do_nothing(index_elements=index)

    def upsert(self, model: type, index: list[str], **values: Any) -> Any:
        """INSERT ... ON CONFLICT DO UPDATE (the other columns) for both supported databases."""
        statement = self._insert(model, **values)
        changes = {name: statement.excluded[name] for name in values if name not in index}
        return statement.on_conflict_do_update(index_elements=index, set_=changes)
