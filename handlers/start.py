"""Joining by invitation (F2) and the welcome."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import CommandObject, CommandStart
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from bot.policy import Policy
from bot.services.members import MembershipService, MemberView
from handlers.commands import CommandInfo
from handlers.incident_keyboards import main_keyboard
from handlers.keyboards import language_keyboard
from handlers.texts import help_text, not_a_member


async def join(
    message: Message,
    command: CommandObject,
    members: MembershipService,
    member: MemberView | None,
    policy: Policy,
    commands: list[CommandInfo],
) -> None:
    user = message.from_user
    assert user is not None
    if member is not None and not command.args:
        await message.answer(help_text(member, policy, commands))
        return
    joined = await members.join(
        command.args or "",
        telegram_id=user.id,
        name=user.full_name,
        username=user.username,
        language=None,
        telegram_language=user.language_code,
    )
    await message.answer(
        _("Welcome, {name}! You have joined as a member.").format(name=joined.name)
        + "\n\n"
        + help_text(joined, policy, commands),
        reply_markup=main_keyboard(),  # the persistent "Report incident" button from the first moment (A1)
    )
    await message.answer(
        _("Which language do you prefer?"), reply_markup=language_keyboard(policy.organisation.languages)
    )


async def start_without_code(
    message: Message, member: MemberView | None, policy: Policy, commands: list[CommandInfo]
) -> None:
    if member is None:
        await message.answer(not_a_member())
    else:
        await message.answer(help_text(member, policy, commands))


def build() -> Router:
    router = Router(name=__name__)
    router.message.register(join, CommandStart(deep_link=True), F.chat.type == "private")
    router.message.register(start_without_code, CommandStart(), F.chat.type == "private")
    return router
