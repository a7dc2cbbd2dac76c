"""Wizard state in the database (aiogram's FSM storage): nothing lost, and one write per update."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from aiogram.fsm.storage.base import StorageKey
from aiogram.methods import AnswerCallbackQuery, SendMessage
from sqlalchemy import event

from storage.db import create_engine, create_session_factory
from storage.fsm import SaveWizardsBeforeSending, SqlStorage
from storage.migrate import upgrade
from storage.uow import HANDLING, DuplicateUpdate, UnitOfWorkFactory, UpdateMark

KEY = StorageKey(bot_id=1, chat_id=42, user_id=42)


@pytest.fixture
async def storages(database_url: str) -> AsyncIterator[tuple[SqlStorage, SqlStorage]]:
    """Two storages on one database, as two processes would see it."""
    engine = create_engine(database_url)
    await upgrade(engine)
    uow = UnitOfWorkFactory(create_session_factory(engine))
    yield SqlStorage(uow), SqlStorage(uow)
    await engine.dispose()


async def test_outside_an_update_every_change_is_stored_at_once(storages: tuple[SqlStorage, SqlStorage]) -> None:
    writer, reader = storages
    await writer.set_state(KEY, "Report:place")
    await writer.set_data(KEY, {"category": "quality"})
    assert await writer.update_data(KEY, {"severity": "high"}) == {"category": "quality", "severity": "high"}
    assert await reader.get_state(KEY) == "Report:place"
    assert await reader.get_data(KEY) == {"category": "quality", "severity": "high"}


async def test_an_update_writes_its_wizard_once_when_it_is_done(storages: tuple[SqlStorage, SqlStorage]) -> None:
    writer, reader = storages
    async with writer.batched():
        await writer.set_state(KEY, "Report:severity")
        await writer.update_data(KEY, {"category": "fire"})
        assert await writer.get_data(KEY) == {"category": "fire"}  # the update sees its own changes
        assert await reader.get_state(KEY) is None  # others see them when the update is done
    assert await reader.get_state(KEY) == "Report:severity"
    assert await reader.get_data(KEY) == {"category": "fire"}


async def test_a_finished_wizard_leaves_no_row_behind(storages: tuple[SqlStorage, SqlStorage]) -> None:
    writer, reader = storages
    await writer.set_state(KEY, "Report:place")
    async with writer.batched():
        await writer.set_state(KEY, None)
        await writer.set_data(KEY, {})
    async with reader._uow() as uow:
        assert await uow.wizards.get(reader._keys.build(KEY)) is None


async def test_an_update_that_fails_keeps_the_changes_it_made_before(storages: tuple[SqlStorage, SqlStorage]) -> None:
    writer, reader = storages
    with pytest.raises(RuntimeError):
        async with writer.batched():
            await writer.set_state(KEY, "Report:place")
            raise RuntimeError("the handler failed after moving the wizard on")
    assert await reader.get_state(KEY) == "Report:place"


async def test_two_updates_starting_the_same_wizard_at_once_both_succeed(
    storages: tuple[SqlStorage, SqlStorage],
) -> None:
    """A double tap: both updates found no wizard and both save one; the later one wins, neither fails."""
    first, second = storages

    async def tap(storage: SqlStorage, category: str) -> None:
        async with storage.batched():
            await storage.get_state(KEY)
            await asyncio.sleep(0)  # let the other update read too
            await storage.set_state(KEY, "Report:severity")
            await storage.update_data(KEY, {"category": category})

    await asyncio.gather(tap(first, "fire"), tap(second, "quality"))
    assert await first.get_state(KEY) == "Report:severity"
    assert (await first.get_data(KEY))["category"] in {"fire", "quality"}


async def test_the_wizard_is_saved_before_the_bot_asks_the_next_question(
    storages: tuple[SqlStorage, SqlStorage],
) -> None:
    """A process killed right after the question must not leave the stored wizard a step behind the answer."""
    writer, reader = storages
    seen_by_telegram: list[str | None] = []

    async def ask(_bot: object, _method: object) -> bool:
        seen_by_telegram.append(await reader.get_state(KEY))
        return True

    async with writer.batched():
        await writer.set_state(KEY, "Report:place")
        await SaveWizardsBeforeSending(writer)(ask, None, None)  # type: ignore[arg-type]
        await writer.update_data(KEY, {"place": "Boiler house"})  # after the question: written at the end
    assert seen_by_telegram == ["Report:place"]
    assert await reader.get_data(KEY) == {"place": "Boiler house"}


async def test_a_bare_acknowledgement_of_a_press_does_not_write_the_wizard_but_the_next_question_does(
    storages: tuple[SqlStorage, SqlStorage],
) -> None:
    """Acknowledging a press tells the user nothing, so it needs no saved state (issue 15: one transaction less
    per press); a toast with text does, and so does the question after it."""
    writer, reader = storages
    seen_by_telegram: list[tuple[str, str | None]] = []

    async def call(_bot: object, method: object) -> bool:
        seen_by_telegram.append((type(method).__name__, await reader.get_state(KEY)))
        return True

    send = SaveWizardsBeforeSending(writer)
    async with writer.batched():
        await writer.set_state(KEY, "Report:severity")
        await send(call, None, AnswerCallbackQuery(callback_query_id="1"))  # type: ignore[arg-type]
        await send(call, None, AnswerCallbackQuery(callback_query_id="1", text="Saved"))  # type: ignore[arg-type]
        await writer.set_state(KEY, "Report:description")
        await send(call, None, SendMessage(chat_id=1, text="What happened?"))  # type: ignore[arg-type]
    assert seen_by_telegram == [
        ("AnswerCallbackQuery", None),
        ("AnswerCallbackQuery", "Report:severity"),
        ("SendMessage", "Report:description"),
    ]


async def test_wizards_written_at_the_same_time_share_a_transaction(database_url: str) -> None:
    """Updates of five members saving their wizards at once: each is stored before its writer goes on, and
    the writes queued while one commits go in the next transaction together (issue 15: one statement for
    all their wizards, not a transaction each)."""
    engine = create_engine(database_url)
    await upgrade(engine)
    writer = reader = SqlStorage(UnitOfWorkFactory(create_session_factory(engine)))
    upserts: list[int] = []

    def count(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, many: bool) -> None:
        if statement.startswith("INSERT INTO wizard_states"):
            upserts.append(len(parameters) if many else 1)

    async def step(member: int) -> str | None:
        key = StorageKey(bot_id=1, chat_id=member, user_id=member)
        async with writer.batched():
            await writer.set_state(key, "Report:place")
            await writer.update_data(key, {"place": f"Room {member}"})
        return await reader.get_state(key)

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        states = await asyncio.gather(*(step(member) for member in range(100, 105)))
    finally:
        await engine.dispose()
    assert states == ["Report:place"] * 5
    assert sum(upserts) == 5 and len(upserts) < 5, upserts


async def test_a_second_delivery_of_an_update_writing_at_the_same_time_writes_nothing(
    storages: tuple[SqlStorage, SqlStorage],
) -> None:
    """Two deliveries of one update (a webhook retry while the first is handled): the first write records the
    update and its wizard; the other is told the update was handled (`DuplicateUpdate`) and stores nothing."""
    writer, reader = storages

    async def deliver(place: str) -> None:
        token = HANDLING.set(UpdateMark(7001, datetime.now(UTC)))
        try:
            async with writer.batched():
                await writer.set_state(KEY, "Report:moment")
                await writer.update_data(KEY, {"place": place})
        finally:
            HANDLING.reset(token)

    outcomes = await asyncio.gather(deliver("Boiler house"), deliver("Gate 3"), return_exceptions=True)

    assert outcomes[0] is None and isinstance(outcomes[1], DuplicateUpdate)
    assert await reader.get_data(KEY) == {"place": "Boiler house"}
