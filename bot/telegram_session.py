"""The HTTP session to the Bot API."""

from __future__ import annotations

from typing import Any

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.methods import TelegramMethod
from aiogram.methods.base import Response


class TelegramSession(AiohttpSession):
    """aiogram reads every answer as `Response[T]`, a pydantic model class made on first use and cached by
    pydantic only weakly: under load the garbage collector kept dropping them, and each answer built its
    class again (~10 ms of CPU). Holding one of each keeps pydantic's cache warm."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._response_types: dict[Any, Any] = {}

    def check_response(self, bot: Bot, method: TelegramMethod[Any], status_code: int, content: str) -> Response[Any]:
        returning = method.__returning__
        if returning not in self._response_types:
            self._response_types[returning] = Response[returning]  # type: ignore[valid-type]
        return super().check_response(bot, method, status_code, content)
