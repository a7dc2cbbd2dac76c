"""The baseline: a minimal aiogram echo bot, run in the same process setup as ours.

Our figures are printed as a ratio to it, so a result still means something on a noisy machine.
`python -m bench.echo_bot` runs it with long polling against TELEGRAM_API_BASE (the footprint baseline).
"""

from __future__ import annotations

import asyncio
import os

from aiogram import Bot, Dispatcher, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import Message

TOKEN = "123456789:BENCH-token-for-the-local-bot-api-server-0"


def echo_bot(base_url: str) -> Bot:
    return Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(base_url)))


def echo_dispatcher() -> Dispatcher:
    router = Router(name="echo")

    @router.message()
    async def echo(message: Message) -> None:
        await message.answer(message.text or "?")

    @router.callback_query()
    async def acknowledge(query: object) -> None:
        await query.answer()  # type: ignore[attr-defined]

    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    return dispatcher


def relay_dispatcher(target_chat: int) -> Dispatcher:
    """The alert-latency baseline: on a message, one message to another chat (as an alert goes to an officer)."""
    router = Router(name="relay")

    @router.message()
    async def relay(message: Message) -> None:
        await message.bot.send_message(target_chat, message.text or "?")  # type: ignore[union-attr]

    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    return dispatcher


async def _main() -> None:
    bot = echo_bot(os.environ["TELEGRAM_API_BASE"])
    await echo_dispatcher().start_polling(bot, handle_signals=True)


if __name__ == "__main__":
    asyncio.run(_main())
