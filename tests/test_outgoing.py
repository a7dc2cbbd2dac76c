"""Cards in the outbox (issue 12): a service queues text and actions, platform-neutral; the outbox sender
renders them for Telegram when it sends. Rows queued before cards existed still send as they were."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from aiogram.methods import EditMessageText, SendMessage
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.clock import ManualClock
from bot.outbox import OutboxSender
from bot.outgoing.approvals import ApprovalCb, decision_actions
from bot.services.messages import queue_edit, queue_text
from storage.db import create_engine, create_session_factory
from storage.migrate import upgrade
from storage.uow import UnitOfWorkFactory
from tests.conftest import TOKEN
from tests.support.recording_session import RecordingSession


@pytest.fixture
async def uow(database_url: str) -> AsyncIterator[UnitOfWorkFactory]:
    engine = create_engine(database_url)
    await upgrade(engine)
    yield UnitOfWorkFactory(create_session_factory(engine))
    await engine.dispose()


def buttons(method: object) -> list[list[tuple[str, str | None]]]:
    markup = getattr(method, "reply_markup", None)
    assert isinstance(markup, InlineKeyboardMarkup)
    return [[(button.text, button.callback_data) for button in row] for row in markup.inline_keyboard]


async def test_a_card_is_stored_without_telegrams_shape_and_sent_with_its_buttons(
    uow: UnitOfWorkFactory, clock: ManualClock
) -> None:
    session = RecordingSession()
    sender = OutboxSender(uow, Bot(TOKEN, session=session), clock)
    async with uow() as work:
        row_id = await queue_text(
            work, clock.now(), key="card", chat_id=10, text="Approve?", actions=decision_actions(7, True, str)
        )
        await work.commit()
        row = await work.outbox.get(row_id)  # type: ignore[arg-type]
    assert row is not None and "reply_markup" not in row.payload
    assert row.payload["actions"][0][0] == {"id": "apv:ok:7", "label": "✅ Approve"}
    await sender.drain()
    sent = session.last(10, SendMessage)
    assert sent is not None and sent.text == "Approve?"
    assert buttons(sent) == [
        [("✅ Approve", "apv:ok:7"), ("⛔ Reject", "apv:no:7")],
        [("❓ Ask a question", "apv:ask:7"), ("↩️ Return for revision", "apv:ret:7")],
    ]
    assert ApprovalCb.unpack(buttons(sent)[0][1][1] or "") == ApprovalCb(action="no", step=7)
    async with uow() as work:
        await queue_edit(work, clock.now(), key="closed", original_id=row_id, chat_id=10, text="Decided")  # type: ignore[arg-type]
        await work.commit()
    await sender.drain()
    edit = session.last(10, EditMessageText)
    assert edit is not None and edit.text == "Decided" and edit.reply_markup is None  # the buttons come off


async def test_a_row_queued_before_cards_still_sends_with_its_keyboard(
    uow: UnitOfWorkFactory, clock: ManualClock
) -> None:
    """An upgrade must not strand the alerts already waiting in the outbox."""
    session = RecordingSession()
    sender = OutboxSender(uow, Bot(TOKEN, session=session), clock)
    old = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="✅ Acknowledge", callback_data="inc:ack:3:0")]]
    )
    payload = {"chat_id": 10, "text": "🚨 Fire", "reply_markup": old.model_dump(mode="json", exclude_none=True)}
    async with uow() as work:
        await work.outbox.add(key="old", chat_id=10, method="sendMessage", payload=payload, now=clock.now())
        await work.commit()
    assert await sender.drain() == 1
    sent = session.last(10, SendMessage)
    assert sent is not None and sent.text == "🚨 Fire"
    assert buttons(sent) == [[("✅ Acknowledge", "inc:ack:3:0")]]
