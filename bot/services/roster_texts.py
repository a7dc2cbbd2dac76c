"""Texts the roster queues for other members, each in the recipient's own language (bot/outgoing/speaker.py)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from aiogram.utils.i18n import I18n

from bot.outgoing.speaker import Speakers, Translate
from bot.policy import Policy
from bot.services.errors import N_
from bot.services.roster_calendar import find_shift
from storage.models import Member
from storage.roster_models import PRIMARY

MAX_MESSAGE = 4000  # Telegram's limit is 4096 characters


class RosterTexts:
    """The roster's phrases; the words themselves come from the recipient's `Speaker`."""

    def __init__(self, i18n: I18n, policy: Policy) -> None:
        self._speakers = Speakers(i18n, policy)
        self._policy = policy
        self.zone = policy.organisation.zone

    def language(self, member: Member) -> str:
        return self._speakers.language_of(member)

    def text(self, language: str, msgid: str, **params: object) -> str:
        return self._speakers.in_language(language).gettext(msgid, **params)

    def translate(self, language: str) -> Translate:
        """Button labels in `language` (bot/outgoing)."""
        speaker = self._speakers.in_language(language)
        return lambda msgid: speaker.gettext(msgid)

    def moment(self, language: str, at: datetime) -> str:
        return self._speakers.in_language(language).moment(at)

    def room(self, language: str, room_code: str) -> str:
        return self._speakers.in_language(language).room(room_code)

    def shift(self, language: str, room_code: str, shift_code: str) -> str:
        shift = find_shift(self._policy.duty_room(room_code), shift_code)
        return f"{self.room(language, room_code)} · {shift.name.get(language) if shift else shift_code}"

    def position(self, language: str, position: str) -> str:
        return self.text(language, N_("primary") if position == PRIMARY else N_("backup"))

    def names(self, members: Iterable[Member]) -> str:
        return ", ".join(member.name for member in members) or "—"

    def bullets(self, language: str, lines: list[str], limit: int = 20) -> list[str]:
        """At most `limit` bullet lines, then how many more there are."""
        shown = [f"• {line}" for line in lines[:limit]]
        if len(lines) > limit:
            shown.append(self.text(language, N_("… and {count} more"), count=len(lines) - limit))
        return shown


def clip(text: str) -> str:
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1] + "…"
