"""/feishu (issue 12): a member of Telegram has their alerts and approval cards sent to Feishu instead. The
bot answers with a one-time code to send to the bot in Feishu; ``/feishu off`` brings the cards back here.
Only installed when Feishu is set up (bot/feishu_inbound.py)."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from bot.i18n import format_moment
from bot.policy import Policy
from bot.services.member_channels import MemberChannels
from handlers.admin import actor_of
from handlers.filters import IsMember


async def feishu(
    message: Message, command: CommandObject, member_channels: MemberChannels, policy: Policy, language: str
) -> None:
    actor = actor_of(message)
    if (command.args or "").strip().lower() == "off":
        if await member_channels.unlink(actor):
            await message.answer(_("Done: alerts and approval cards come to Telegram again."))
        else:
            await message.answer(_("Your Feishu account is not linked."))
        return
    link = await member_channels.link_code(actor)
    lines = [
        _("Send this code to the bot in Feishu before {moment}:").format(
            moment=format_moment(link.expires_at, language, policy.organisation.zone)
        ),
        link.code,
        _("Then your alerts, approval cards and notices come to Feishu instead of Telegram. /feishu off undoes it."),
    ]
    if link.linked_already:
        lines.insert(0, _("Your Feishu account is linked already; a new code links another one."))
    await message.answer("\n".join(lines))


def build() -> Router:
    router = Router(name=__name__)
    router.message.filter(IsMember())
    router.message.register(feishu, Command("feishu"))
    return router
