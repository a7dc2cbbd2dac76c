"""aiogram FSM storage in the database, so a restart in the middle of a wizard loses nothing."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder, KeyBuilder, StateType, StorageKey

from storage.models import WizardState
from storage.uow import UnitOfWorkFactory


class SqlStorage(BaseStorage):
    def __init__(self, uow: UnitOfWorkFactory, key_builder: KeyBuilder | None = None) -> None:
        self._uow = uow
        self._keys = key_builder or DefaultKeyBuilder(with_destiny=True)

    async def _load(self, key: StorageKey) -> WizardState | None:
        async with self._uow() as uow:
            return await uow.session.get(WizardState, self._keys.build(key))

    async def _save(self, key: StorageKey, **changes: Any) -> None:
        async with self._uow() as uow:
            row = await uow.session.get(WizardState, self._keys.build(key))
            if row is None:
                row = WizardState(key=self._keys.build(key), state=None, data={})
                uow.session.add(row)
            for name, value in changes.items():
                setattr(row, name, value)
            if row.state is None and not row.data:
                if row in uow.session.new:  # clearing a key that was never saved: nothing to delete
                    uow.session.expunge(row)
                else:
                    await uow.session.delete(row)
            await uow.commit()

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        await self._save(key, state=state.state if isinstance(state, State) else state)

    async def get_state(self, key: StorageKey) -> str | None:
        row = await self._load(key)
        return row.state if row else None

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        await self._save(key, data=dict(data))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        row = await self._load(key)
        return dict(row.data) if row else {}

    async def update_data(self, key: StorageKey, data: Mapping[str, Any]) -> dict[str, Any]:
        """Read and write in one transaction (aiogram's default takes two; each costs round trips to SQLite)."""
        async with self._uow() as uow:
            row = await uow.session.get(WizardState, self._keys.build(key))
            if row is None:
                row = WizardState(key=self._keys.build(key), state=None, data={})
                uow.session.add(row)
            row.data = {**row.data, **data}
            merged = dict(row.data)
            await uow.commit()
            return merged

    async def close(self) -> None:
        """The engine is closed by the application, not by the storage."""
