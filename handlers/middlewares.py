"""Per-update context: de-duplication, the member and their language, domain errors as replies."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import CallbackQuery, Message, TelegramObject, Update, User
from aiogram.utils.i18n import I18n

from bot.clock import Clock
from bot.i18n import pick_language
from bot.services.errors import DomainError
from bot.services.members import MembershipService
from storage.uow import UnitOfWorkFactory

log = logging.getLogger(__name__)
Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class OncePerUpdate(BaseMiddleware):
    """A redelivered update (webhook retry, polling overlap) is processed once."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        assert isinstance(event, Update)
        async with self._uow() as uow:
            first = await uow.processed_updates.first_time(event.update_id, self._clock.now())
            await uow.commit()
        if not first:
            log.info("update %s seen before; skipped", event.update_id)
            return None
        return await handler(event, data)


class MemberContext(BaseMiddleware):
    """Loads the member behind the update from the database (fresh roles on every update),
    picks the language, and turns domain errors into a polite, translated answer."""

    def __init__(self, members: MembershipService, i18n: I18n, default_language: str) -> None:
        self._members = members
        self._i18n = i18n
        self._default = default_language

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        member = await self._members.find(user.id) if user else None
        language = pick_language(
            member.language if member else None, user.language_code if user else None, self._default
        )
        data["member"], data["language"] = member, language
        with self._i18n.context(), self._i18n.use_locale(language):
            try:
                return await handler(event, data)
            except DomainError as error:
                await answer_error(event, self._i18n.gettext(error.msgid).format(**error.params))
                return None


async def answer_error(event: TelegramObject, text: str) -> None:
    if isinstance(event, Update):
        event = event.event
    if isinstance(event, CallbackQuery):
        await event.answer(text, show_alert=True)
    elif isinstance(event, Message):
        await event.answer(text)
