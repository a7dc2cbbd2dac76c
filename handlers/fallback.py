"""What is left over: strangers, unknown commands, free text, stale buttons. Never silence."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.services.actor import Actor
from bot.services.audit import AuditService
from bot.services.members import MemberView
from handlers.texts import not_a_member


async def unknown_command(message: Message, member: MemberView | None) -> None:
    if member is None:
        await message.answer(not_a_member())
    else:
        await message.answer(_("I don't know that command. Send /help to see what you can do."))


async def free_text(message: Message, member: MemberView | None, state: FSMContext) -> None:
    if member is None:
        await message.answer(not_a_member())
    elif await state.get_state() is not None:
        await message.answer(_("Please answer the question above, or send /cancel to leave the form."))
    else:
        await message.answer(_("To start, send a command. /help lists what you can do."))


async def stale_button(query: CallbackQuery, member: MemberView | None, audit: AuditService) -> None:
    await audit.stale_button(
        Actor(query.from_user.id, query.message.chat.id if query.message else None), query.data or ""
    )
    if member is None:
        await query.answer(not_a_member(), show_alert=True)
    else:
        await query.answer(_("This button is no longer valid. Please start again."), show_alert=True)


def build() -> Router:
    router = Router(name=__name__)
    router.message.register(unknown_command, F.text.startswith("/"))
    router.message.register(free_text)
    router.callback_query.register(stale_button)
    return router
