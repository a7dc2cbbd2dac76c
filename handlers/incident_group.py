"""Duty-room groups in chat (issue 14): a reply in a duty room's group to an incident's alert, with a text or a
photo, adds a note to the incident. The service re-authorises the member who replied (F3); a reply to anything
else in the group is left to the other handlers."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from bot.services.incidents.groups import GroupNotes
from handlers.admin import actor_of
from handlers.incident_parsing import attachment_of

GROUPS = {"group", "supergroup"}


async def reply_note(message: Message, group_notes: GroupNotes) -> None:
    replied = message.reply_to_message
    assert replied is not None
    incident_id = await group_notes.incident_of(message.chat.id, replied.message_id)
    if incident_id is None:
        raise SkipHandler  # not a reply to an incident's alert
    attachment = attachment_of(message) if message.photo else None  # a text or a photo (and its caption)
    incident = await group_notes.add(actor_of(message), incident_id, message.text or message.caption or "", attachment)
    await message.reply(_("📝 Added to the timeline of {number}.").format(number=incident.number))


def build() -> Router:
    router = Router(name=__name__)
    router.message.register(
        reply_note,
        F.chat.type.in_(GROUPS),
        F.reply_to_message,
        F.text | F.photo | F.caption,
        ~F.text.startswith("/"),
    )
    return router
