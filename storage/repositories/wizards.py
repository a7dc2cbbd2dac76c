from __future__ import annotations

from typing import Any

from sqlalchemy import delete

from storage.models import WizardState
from storage.repositories.base import Repository


class WizardRepository(Repository):
    """aiogram's wizard state and data, one row per storage key."""

    async def get(self, key: str) -> WizardState | None:
        return await self.session.get(WizardState, key)

    async def put(self, key: str, state: str | None, data: dict[str, Any]) -> None:
        """Saves the wizard; an empty one (no state, no data) is removed."""
        if state is None and not data:
            await self.session.execute(delete(WizardState).where(WizardState.key == key))
        else:
            await self.session.execute(self.upsert(WizardState, ["key"], key=key, state=state, data=data))
