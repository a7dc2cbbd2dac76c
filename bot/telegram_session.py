"""The HTTP session to the Bot API."""

from __future__ import annotations

from typing import Any

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.exceptions import TelegramNetworkError
from aiogram.methods import TelegramMethod
from aiogram.methods.base import Response
from aiogram.types import InputFile
from aiohttp import ClientError

JSON = {"Content-Type": "application/json"}


class TelegramSession(AiohttpSession):
    """aiogram reads every answer as `Response[T]`, a pydantic model class made on first use and cached by
    pydantic only weakly: under load the garbage collector kept dropping them, and each answer built its
    class again (~10 ms of CPU). Holding one of each keeps pydantic's cache warm.

    A call that uploads no file goes as one JSON body, which the Bot API takes for every method, instead of a
    form whose keyboards and entities are JSON strings escaped once more field by field (issue 15)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._response_types: dict[Any, Any] = {}

    def check_response(self, bot: Bot, method: TelegramMethod[Any], status_code: int, content: str) -> Response[Any]:
        returning = method.__returning__
        if returning not in self._response_types:
            self._response_types[returning] = Response[returning]  # type: ignore[valid-type]
        return super().check_response(bot, method, status_code, content)

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[Any],
        timeout: int | None = None,  # noqa: ASYNC109 (aiogram's)
    ) -> Any:
        body = self.json_body(bot, method)
        if body is None:
            return await super().make_request(bot, method, timeout)  # a file: multipart, as aiogram sends it
        session = await self.create_session()
        url = self.api.api_url(token=bot.token, method=method.__api_method__)
        try:
            async with session.post(
                url, data=body, headers=JSON, timeout=self.timeout if timeout is None else timeout
            ) as response:
                content = await response.text()
        except TimeoutError as error:
            raise TelegramNetworkError(method=method, message="Request timeout error") from error
        except ClientError as error:
            raise TelegramNetworkError(method=method, message=f"{type(error).__name__}: {error}") from error
        return self.check_response(bot, method, response.status, content).result

    def json_body(self, bot: Bot, method: TelegramMethod[Any]) -> bytes | None:
        """The call's parameters as JSON, left out as aiogram's form leaves them out; None if it uploads a file."""
        files: dict[str, InputFile] = {}
        parameters = {}
        for key, value in method.model_dump(warnings=False, exclude_none=True).items():  # None is left out anyway
            prepared = self.prepare_value(value, bot=bot, files=files, _dumps_json=False)
            if prepared is not None and prepared != "":
                parameters[key] = prepared
        return None if files else self.json_dumps(parameters).encode()
