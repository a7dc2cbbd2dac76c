"""While a file or a chart is made, Telegram shows the member that the bot is working on it ("sending a
file…", "sending a photo…") instead of a silent chat (issue 14).

The first sendChatAction goes out before the work starts; Telegram clears the status after 5 seconds or at
the next message, so a long piece of work repeats it every 4 seconds. Failing to show the status never
stops the work."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from aiogram.enums import ChatAction
from aiogram.exceptions import TelegramAPIError
from aiogram.types import Message

log = logging.getLogger(__name__)
REPEAT_SECONDS = 4.0


@contextlib.asynccontextmanager
async def showing(message: Message, action: ChatAction) -> AsyncIterator[None]:
    """``async with showing(message, ChatAction.UPLOAD_DOCUMENT):`` around making and sending a file."""
    if message.bot is None:
        yield
        return
    bot, chat_id = message.bot, message.chat.id

    async def show() -> None:
        try:
            await bot.send_chat_action(chat_id=chat_id, action=action, message_thread_id=message.message_thread_id)
        except (TelegramAPIError, OSError, TimeoutError) as error:
            log.info("could not show %s in chat %s: %s", action, chat_id, error)

    async def repeat() -> None:
        while True:
            await asyncio.sleep(REPEAT_SECONDS)
            await show()

    await show()
    repeating = asyncio.create_task(repeat(), name="chat-action")
    try:
        yield
    finally:
        repeating.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await repeating
