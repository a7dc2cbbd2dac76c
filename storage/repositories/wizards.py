from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, delete, select
from sqlalchemy.dialects import postgresql, sqlite

from storage.models import WizardState
from storage.repositories.base import Repository

# Every wizard step runs these: built once, run on the connection without the ORM (issue 15)
READ = select(WizardState.state, WizardState.data).where(WizardState.key == bindparam("key"))
REMOVE = delete(WizardState).where(WizardState.key == bindparam("key"))


def _upsert(insert: Any) -> Any:
    statement = insert(WizardState)
    return statement.on_conflict_do_update(
        index_elements=["key"], set_={"state": statement.excluded.state, "data": statement.excluded.data}
    )


SAVE = {"sqlite": _upsert(sqlite.insert), "postgresql": _upsert(postgresql.insert)}


class WizardRepository(Repository):
    """aiogram's wizard state and data, one row per storage key."""

    async def get(self, key: str) -> WizardState | None:
        return await self.session.get(WizardState, key)

    async def read(self, key: str) -> tuple[str | None, dict[str, Any]] | None:
        """(state, data), or None when there is no wizard under that key."""
        row = (await self.core(READ, {"key": key})).first()
        return (row.state, row.data) if row is not None else None

    async def put(self, key: str, state: str | None, data: dict[str, Any]) -> None:
        """Saves the wizard; an empty one (no state, no data) is removed."""
        if state is None and not data:
            await self.core(REMOVE, {"key": key})
        else:
            await self.core(SAVE[self.dialect], {"key": key, "state": state, "data": data})
