"""The Bot API session: a call goes as one JSON body unless it uploads a file (issue 15), and says the same."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramNetworkError, TelegramRetryAfter
from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup

from bot.telegram_session import TelegramSession
from tests.support.botapi_server import FakeBotApi

TOKEN = "42:TEST"


@pytest.fixture
async def server() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi() as fake:
        yield fake


@pytest.fixture
async def bot(server: FakeBotApi) -> AsyncIterator[Bot]:
    session = TelegramSession(api=TelegramAPIServer.from_base(server.base_url), timeout=2)
    real_bot = Bot(TOKEN, session=session, default=DefaultBotProperties(parse_mode="HTML"))
    yield real_bot
    await real_bot.session.close()


async def test_a_message_with_buttons_goes_as_json_and_arrives_whole(server: FakeBotApi, bot: Bot) -> None:
    buttons = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="确认 ✅", callback_data="rep:submit:")]]
    )

    sent = await bot.send_message(7, "<b>告警</b>: 锅炉房漏汽", reply_markup=buttons, disable_notification=False)

    [request] = [r for r in server.requests if r.method == "sendMessage"]
    assert request.content_type == "application/json"
    assert request.params["text"] == "<b>告警</b>: 锅炉房漏汽"
    assert request.params["parse_mode"] == "HTML"  # the bot's default, filled in
    assert request.params["reply_markup"] == {
        "inline_keyboard": [[{"text": "确认 ✅", "callback_data": "rep:submit:"}]]
    }
    assert request.params["disable_notification"] is False
    assert sent.message_id == server.sent_messages(7)[0].message_id
    assert sent.reply_markup is not None
    assert [(b.text, b.callback_data) for b in sent.reply_markup.inline_keyboard[0]] == [("确认 ✅", "rep:submit:")]


async def test_a_file_still_goes_as_a_form_with_the_upload(server: FakeBotApi, bot: Bot) -> None:
    await bot.send_document(7, BufferedInputFile(b"%PDF-1.4 report", "月报.pdf"), caption="2026年11月")

    [request] = [r for r in server.requests if r.method == "sendDocument"]
    assert request.content_type == "multipart/form-data"
    assert request.params["document"].data == b"%PDF-1.4 report"
    assert request.params["caption"] == "2026年11月"


async def test_telegrams_refusals_and_a_lost_connection_read_as_before(server: FakeBotApi, bot: Bot) -> None:
    server.inject("sendMessage", "429:7", chat_id=7)
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(7, "hello")
    assert caught.value.retry_after == 7

    server.inject("sendMessage", "reset", chat_id=7)
    with pytest.raises(TelegramNetworkError):
        await bot.send_message(7, "hello")
