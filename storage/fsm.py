"""aiogram FSM storage in the database, so a restart in the middle of a wizard loses nothing."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder, KeyBuilder, StateType, StorageKey
from aiogram.methods import AnswerCallbackQuery, SendChatAction, TelegramMethod

from storage.uow import HANDLING, DuplicateUpdate, UnitOfWorkFactory, UpdateMark, WizardRow


@dataclass
class _Wizard:
    state: str | None
    data: dict[str, Any]
    changed: bool = False

    @classmethod
    def of(cls, row: tuple[str | None, dict[str, Any]] | None) -> _Wizard:
        return cls(row[0], dict(row[1])) if row else cls(None, {})


@dataclass
class _Batch:
    """The wizards one update touched: each read once; changes written together (`SqlStorage.batched`), or
    with the update's next commit while it runs (`storage.uow.UpdateMark`)."""

    wizards: dict[str, _Wizard] = field(default_factory=dict)
    open: bool = True

    def changes(self) -> list[WizardRow]:
        return [(key, wizard.state, dict(wizard.data)) for key, wizard in self.wizards.items() if wizard.changed]

    def unsaved(self) -> list[WizardRow]:
        return self.changes() if self.open else []  # a closed batch writes its own at its end

    def saved(self) -> None:
        for wizard in self.wizards.values():
            wizard.changed = False


@dataclass(eq=False)  # each write is itself (`in` a group)
class _Write:
    wizards: list[WizardRow]
    mark: UpdateMark | None  # the update's, if none of its commits has recorded it yet
    done: asyncio.Future[None]

    def tell(self, error: Exception | None) -> None:
        if self.done.done():  # its writer was cancelled meanwhile
            return
        if error is None:
            self.done.set_result(None)
        else:
            self.done.set_exception(error)


class GroupCommit:
    """The wizard writes of updates handled at the same time, committed together: each waits for its group's
    commit before the bot speaks, as it waited for a transaction of its own. Under load a write queues behind
    other updates' transactions for the one SQLite connection anyway, and those queued meanwhile share one
    transaction, one statement for their marks and one for their wizards (issue 15). An update handled
    before (its mark was there) writes nothing and is told so (`DuplicateUpdate`), as a rollback told it."""

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow
        self._waiting: list[_Write] = []
        self._committing: asyncio.Task[None] | None = None

    async def commit(self, wizards: list[WizardRow]) -> None:
        mark = HANDLING.get()
        pending = mark if mark is not None and not mark.recorded else None
        write = _Write(wizards, pending, asyncio.get_running_loop().create_future())
        self._waiting.append(write)
        if self._committing is None:  # outside any update's context: the group is not one update's
            self._committing = asyncio.create_task(self._commit_waiting(), context=contextvars.Context())
        await write.done

    async def _commit_waiting(self) -> None:
        group: list[_Write] = []
        try:
            while self._waiting:
                group, self._waiting = self._waiting, []
                try:
                    handled_before = await self._commit_group(group)
                except Exception as error:  # the database refused: every writer of the group hears it
                    for write in group:
                        write.tell(error)
                    continue
                for write in group:
                    if write in handled_before:
                        write.tell(DuplicateUpdate(write.mark.update_id))  # type: ignore[union-attr]
                    else:
                        if write.mark is not None:
                            write.mark.recorded = True
                        write.tell(None)
        except asyncio.CancelledError:
            for write in [*group, *self._waiting]:
                write.done.cancel()
            raise
        finally:
            self._committing = None

    async def _commit_group(self, group: list[_Write]) -> set[_Write]:
        """Commit the group's marks, and the wizards of the updates not handled before; the writes of those
        that were (the first delivery of an update in a group is the one that counts)."""
        first_writes: dict[int, _Write] = {}
        marks: dict[int, datetime] = {}
        for write in group:
            if write.mark is not None and write.mark.update_id not in marks:
                first_writes[write.mark.update_id], marks[write.mark.update_id] = write, write.mark.at
        async with self._uow.statements() as work:
            recorded = await work.processed_updates.first_times(list(marks.items())) if marks else set()
            handled_before = {
                write
                for write in group
                if write.mark is not None
                and (write.mark.update_id not in recorded or first_writes[write.mark.update_id] is not write)
            }
            wizards = [row for write in group if write not in handled_before for row in write.wizards]
            await work.wizards.put_many(wizards)
            await work.commit()
        return handled_before


class SqlStorage(BaseStorage):
    def __init__(self, uow: UnitOfWorkFactory, key_builder: KeyBuilder | None = None) -> None:
        self._uow = uow
        self._keys = key_builder or DefaultKeyBuilder(with_destiny=True)
        self._batch: ContextVar[_Batch | None] = ContextVar("wizard_batch", default=None)
        self._writes = GroupCommit(uow)

    def key_of(self, key: StorageKey) -> str:
        """The wizard's key in the database."""
        return self._keys.build(key)

    @staticmethod
    def batch_of(key: str | None, wizard: tuple[str | None, dict[str, Any]] | None) -> _Batch:
        """A batch for one update, its wizard (under `key`) as the caller read it: no read of its own."""
        batch = _Batch()
        if key is not None:
            batch.wizards[key] = _Wizard.of(wizard)
        return batch

    @asynccontextmanager
    async def batched(self, batch: _Batch | None = None) -> AsyncIterator[None]:
        """Within the block, a wizard is read from the database once and its changes are written together,
        before the bot next says something (`SaveWizardsBeforeSending`) and when the block ends: a wizard
        step reads and writes its state ~4 times, and each would cost a transaction."""
        batch = batch or _Batch()
        token = self._batch.set(batch)
        try:
            yield
        finally:
            self._batch.reset(token)
            batch.open = False  # a task started inside and still running afterwards gets a batch of its own
            await self._write(batch)

    async def save_pending(self) -> None:
        """Write what the current update changed so far (nothing outside an update)."""
        batch = self._batch.get()
        if batch is not None and batch.open:
            await self._write(batch)

    async def _write(self, batch: _Batch) -> None:
        if changes := batch.changes():
            await self._writes.commit(changes)
            batch.saved()

    async def _wizard(self, key: StorageKey) -> _Wizard:
        """The wizard as this batch sees it (read from the database on first use)."""
        batch = self._batch.get()
        assert batch is not None and batch.open
        built = self._keys.build(key)
        if built not in batch.wizards:
            async with self._uow.statements() as work:
                row = await work.wizards.read(built)
            batch.wizards[built] = _Wizard.of(row)
        return batch.wizards[built]

    @asynccontextmanager
    async def _in_batch(self) -> AsyncIterator[None]:
        """The update's batch, or, outside an update, a batch of this one call."""
        batch = self._batch.get()
        if batch is not None and batch.open:
            yield
        else:
            async with self.batched():
                yield

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        async with self._in_batch():
            wizard = await self._wizard(key)
            name = state.state if isinstance(state, State) else state
            if name != wizard.state:  # the same state again is no change to write
                wizard.state, wizard.changed = name, True

    async def get_state(self, key: StorageKey) -> str | None:
        async with self._in_batch():
            return (await self._wizard(key)).state

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        async with self._in_batch():
            wizard = await self._wizard(key)
            wizard.data, wizard.changed = dict(data), True

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        async with self._in_batch():
            return dict((await self._wizard(key)).data)

    async def update_data(self, key: StorageKey, data: Mapping[str, Any]) -> dict[str, Any]:
        async with self._in_batch():
            wizard = await self._wizard(key)
            wizard.data, wizard.changed = {**wizard.data, **data}, True
            return dict(wizard.data)

    async def close(self) -> None:
        """The engine is closed by the application, not by the storage."""


class SaveWizardsBeforeSending(BaseRequestMiddleware):
    """Every Bot API call that tells the user something first writes the wizard state the update changed: what
    the bot says must follow from a saved state, or a process killed right after a question leaves the stored
    wizard a step behind the user's answer (tests/test_crash_recovery.py). A button press's bare
    acknowledgement and a "typing…" status say nothing, so they do not write: a wizard step's press cost two
    transactions for it, the acknowledgement's and the question's (issue 15)."""

    def __init__(self, storage: SqlStorage) -> None:
        self._storage = storage

    async def __call__(
        self, make_request: NextRequestMiddlewareType[Any], bot: Bot, method: TelegramMethod[Any]
    ) -> Any:
        if not _says_nothing(method):
            await self._storage.save_pending()
        return await make_request(bot, method)


def _says_nothing(method: TelegramMethod[Any]) -> bool:
    if isinstance(method, AnswerCallbackQuery):
        return not method.text and not method.url
    return isinstance(method, SendChatAction)
