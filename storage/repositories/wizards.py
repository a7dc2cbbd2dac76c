from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, delete, select

from storage.models import WizardState
from storage.repositories.base import Repository, per_dialect

# Every wizard step runs these: built once, run on the connection without the ORM (issue 15)
READ = select(WizardState.state, WizardState.data).where(WizardState.key == bindparam("key"))
REMOVE = delete(WizardState).where(WizardState.key == bindparam("key"))


def _upsert(insert: Any) -> Any:
    statement = insert(WizardState)
    return statement.on_conflict_do_update(
        index_elements=["key"], set_={"state": statement.excluded.state, "data": statement.excluded.data}
    )


SAVE = per_dialect(_upsert)


class WizardRepository(Repository):
    """aiogram's wizard state and data, one row per storage key."""

    async def get(self, key: str) -> WizardState | None:
        return await self.session.get(WizardState, key)

    async def read(self, key: str) -> tuple[str | None, dict[str, Any]] | None:
        """(state, data), or None when there is no wizard under that key."""
        row = (await self.core(READ, {"key": key})).first()
        return (row.state, row.data) if row is not None else None

    async def put_many(self, wizards: list[tuple[str, str | None, dict[str, Any]]]) -> None:
        """`put` for several wizards, in two statements at most; of one key given twice the later wins."""
        latest = {key: (state, data) for key, state, data in wizards}
        empty = {key for key, (state, data) in latest.items() if state is None and not data}  # removed
        saved = [{"key": key, "state": s, "data": d} for key, (s, d) in latest.items() if key not in empty]
        removed = [{"key": key} for key in empty]
        if saved:
            await self.core(SAVE[self.dialect], saved)
        if removed:
            await self.core(REMOVE, removed)

    async def put(self, key: str, state: str | None, data: dict[str, Any]) -> None:
        """Saves the wizard; an empty one (no state, no data) is removed."""
        await self.put_many([(key, state, data)])
