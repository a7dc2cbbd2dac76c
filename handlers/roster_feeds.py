"""/calendar: a member's shifts as a one-off .ics file and the secret addresses of their calendar
feeds (their own shifts, the rosters of the rooms they keep or serve in); `/calendar revoke` replaces
every address (the old ones stop working). The service decides who gets what (F3)."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import BufferedInputFile, Message
from aiogram.utils.i18n import gettext as _

from bot.policy import Policy
from bot.services.roster_feeds import CalendarFeeds, CalendarOffer
from handlers.admin import actor_of

REVOKE = ("revoke", "撤销")


async def show_calendar(
    message: Message, command: CommandObject, roster_feeds: CalendarFeeds, policy: Policy, language: str
) -> None:
    args = (command.args or "").strip().lower()
    if args and args not in REVOKE:
        await message.answer(_("Send /calendar for your calendar, or /calendar revoke to replace its addresses."))
        return
    actor = actor_of(message)
    offer = await (roster_feeds.revoke(actor) if args else roster_feeds.offer(actor))
    if args:
        await message.answer(_("The old calendar addresses no longer work. Subscribe again with the new ones below."))
    await message.answer_document(
        BufferedInputFile(offer.file, "shifts.ics"),
        caption=_("Your duty shifts as a calendar file: open it, or import it into your calendar app."),
    )
    await message.answer(feeds_text(offer, policy, language))


def feeds_text(offer: CalendarOffer, policy: Policy, language: str) -> str:
    if not offer.feeds:
        return _("You have no calendar feed.")
    if any(feed.url is None for feed in offer.feeds):
        return _(
            "Calendar subscriptions are not set up on this server yet; an administrator can set its public address."
        )
    lines = [_("Subscribe in your calendar app to stay up to date (keep these addresses to yourself):")]
    for feed in offer.feeds:
        name = _("My shifts") if feed.room is None else policy.duty_room(feed.room).name.get(language)
        lines.append(f"• {name}: {feed.url}")
    lines += ["", _("Someone else has an address? Send /calendar revoke for new ones.")]
    return "\n".join(lines)


def register(router: Router) -> None:
    router.message.register(show_calendar, Command("calendar"))
