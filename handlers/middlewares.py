"""Per-update context: de-duplication, the member and their language, domain errors as replies."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from contextlib import nullcontext
from typing import Any

from aiogram import BaseMiddleware
from aiogram.fsm.middleware import FSMContextMiddleware
from aiogram.types import CallbackQuery, Message, TelegramObject, Update, User
from aiogram.utils.i18n import I18n

from bot.clock import Clock
from bot.i18n import pick_language, translate
from bot.logs import bind, unbind
from bot.services.errors import DomainError
from bot.services.members import MembershipService, MemberView
from storage.fsm import SqlStorage
from storage.repositories.members import UPDATE_MEMBER, MemberSnapshot
from storage.uow import HANDLING, DuplicateUpdate, UnitOfWorkFactory, UpdateMark

log = logging.getLogger(__name__)
Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class UpdateContext(BaseMiddleware):
    """In one statement: skips a redelivered update (webhook retry, polling overlap), loads the member behind it
    from the database (fresh roles on every update) and reads their wizard. Then picks the language, and turns
    domain errors into a polite, translated answer. The wizard's changes are written together, before the bot
    answers (`storage.fsm.SqlStorage.batched`). The member as read here serves the update's next transaction
    too (`storage.repositories.members.MemberSnapshot`)."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        members: MembershipService,
        i18n: I18n,
        default_language: str,
        fsm: FSMContextMiddleware,
    ) -> None:
        self._uow = uow
        self._fsm = fsm
        self._clock = clock
        self._members = members
        self._i18n = i18n
        self._default = default_language

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        assert isinstance(event, Update)
        user: User | None = data.get("event_from_user")
        wizards = self._fsm.storage if isinstance(self._fsm.storage, SqlStorage) else None
        wizard = self._fsm.resolve_event_context(data["bot"], data) if wizards else None
        wizard_key = wizards.key_of(wizard.key) if wizards and wizard else None
        async with self._uow.statements() as work:
            opening = await work.processed_updates.opening(event.update_id, user.id if user else None, wizard_key)
        if opening.handled_before:
            log.info("update %s seen before; skipped", event.update_id)
            return None
        batch = wizards.batch_of(wizard_key, opening.wizard) if wizards else None
        loaded = opening.member
        record = loaded if loaded is not None and loaded.active else None  # deactivated: a stranger
        if record is not None and user is not None:
            record = await self._members.seen(record, user.language_code)
        member = MemberView.of(record) if record is not None else None
        language = pick_language(
            member.language if member else None, user.language_code if user else None, self._default
        )
        data["member"], data["language"] = member, language
        fields = bind(update_id=event.update_id, member_id=member.id if member else None)
        mark = UpdateMark(event.update_id, self._clock.now(), wizards=batch)
        handling = HANDLING.set(mark)
        snapshot = UPDATE_MEMBER.set(MemberSnapshot(record))
        try:
            async with wizards.batched(batch) if wizards else nullcontext():
                with self._i18n.context(), self._i18n.use_locale(language):
                    try:
                        return await handler(event, data)
                    except DomainError as error:
                        await answer_error(event, translate(self._i18n, error.msgid).format(**error.params))
                        return None
        except DuplicateUpdate:
            log.info("update %s handled by another delivery meanwhile; skipped", event.update_id)
            return None
        finally:
            UPDATE_MEMBER.reset(snapshot)
            HANDLING.reset(handling)
            unbind(fields)
            if not mark.recorded:  # nothing was committed: remember it on its own
                async with self._uow.statements() as work:
                    await work.processed_updates.first_time(event.update_id, mark.at)
                    await work.commit()


async def answer_error(event: TelegramObject, text: str) -> None:
    if isinstance(event, Update):
        event = event.event
    if isinstance(event, CallbackQuery):
        await event.answer(text, show_alert=True)
    elif isinstance(event, Message):
        await event.answer(text)
