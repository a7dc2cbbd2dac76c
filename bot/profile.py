"""What a stranger sees of the bot before writing to it (issue 14): its description (the "What can this bot
do?" text of an empty chat) and short description (its profile page and shared links), in each language the
organisation offers, and in the organisation's language for every other Telegram language.

Telegram limits how often these may be set, so they are set at start only when their text changed since
the last start (remembered per bot in the database)."""

from __future__ import annotations

import json
import logging

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.utils.i18n import I18n

from bot import languages
from bot.policy import Policy
from bot.services.errors import N_
from storage.uow import UnitOfWorkFactory

DESCRIPTION = N_(
    "The duty desk of your organisation: report incidents from your phone, acknowledge alerts while on duty, "
    "request access to classified data, submit information for publication review and be reminded of "
    "reporting deadlines. For members only: ask your administrator for an invitation link."
)
SHORT_DESCRIPTION = N_("Incident reports, duty alerts, approvals and reporting deadlines. For members only.")
log = logging.getLogger(__name__)
KEY = "profile:"  # + the bot's id and the Telegram language code ("-": every other), in key_values


async def publish_profile(bot: Bot, i18n: I18n, policy: Policy, uow: UnitOfWorkFactory) -> int:
    """setMyDescription and setMyShortDescription per language, where the text changed. Returns how many
    languages were set."""
    default = policy.organisation.default_language
    spoken = [(code, languages.language(code).telegram) for code in policy.organisation.languages]
    changed = 0
    for language, telegram_code in [*spoken, (default, None)]:
        description = i18n.gettext(DESCRIPTION, locale=language)
        short = i18n.gettext(SHORT_DESCRIPTION, locale=language)
        key, wanted = f"{KEY}{bot.id}:{telegram_code or '-'}", json.dumps([description, short], ensure_ascii=False)
        async with uow() as work:
            if await work.key_values.get(key) == wanted:
                continue
        try:
            await bot.set_my_description(description=description, language_code=telegram_code)
            await bot.set_my_short_description(short_description=short, language_code=telegram_code)
        except (TelegramAPIError, OSError, TimeoutError) as error:  # e.g. 429: tried again at the next start
            log.warning("could not set the bot's description (%s): %s", telegram_code or "default", error)
            continue
        async with uow() as work:
            await work.key_values.set(key, wanted)
            await work.commit()
        changed += 1
    return changed
