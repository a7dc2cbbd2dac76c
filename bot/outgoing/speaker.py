"""Saying things in one member's language: message ids, moments, days, numbers and the names the policy
gives to codes. Replies use the language of the member who wrote; messages queued for other members use
each recipient's, chosen by the one rule below (`language_of`)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Protocol

from aiogram.utils.i18n import I18n

from bot.i18n import format_day, format_moment, format_number, pick_language, translate
from bot.policy import Policy

if TYPE_CHECKING:
    from storage.models import Member

Translate = Callable[[str], str]  # a message id in the reader's language


class Recipient(Protocol):
    """A member as stored (`storage.models.Member`) or as services hand it on (`MemberView`)."""

    @property
    def language(self) -> str | None: ...

    @property
    def telegram_language(self) -> str | None: ...


def language_of(member: Recipient | None, policy: Policy) -> str:
    """The recipient-language rule, the same as for replies (`bot.i18n.pick_language`): a member's chosen
    language, else the language of their Telegram app as recorded at join or at their latest update, else the
    organisation's (nobody known, or a member who never wrote since an administrator added them)."""
    if member is None:
        return policy.organisation.default_language
    return pick_language(member.language, member.telegram_language, policy.organisation.default_language)


@dataclass(frozen=True)
class Speaker:
    """Texts in one language."""

    i18n: I18n
    policy: Policy
    language: str

    def _(self, msgid: str) -> str:
        return translate(self.i18n, msgid, self.language)  # a context (`NC_`) respected

    def gettext(self, msgid: str, **params: object) -> str:
        """``msgid`` translated, then its placeholders filled in."""
        return self._(msgid).format(**params)

    def other(self, language: str) -> Speaker:
        return dataclasses.replace(self, language=language)

    def moment(self, at: datetime) -> str:
        return format_moment(at, self.language, self.policy.organisation.zone)

    def day(self, day: date) -> str:
        return format_day(day, self.language)

    def number(self, value: float) -> str:
        return format_number(value, self.language)

    # The policy's names; a code the policy no longer knows is shown as it is ----------------------------
    def department(self, code: str) -> str:
        return self._name(self.policy.department, code)

    def room(self, code: str) -> str:
        return self._name(self.policy.duty_room, code)

    def role(self, code: str) -> str:
        return self._name(self.policy.role, code)

    def category(self, code: str) -> str:
        return self._name(self.policy.incidents.category, code)

    def severity(self, code: str) -> str:
        return self._name(self.policy.incidents.severity, code)

    def channel(self, code: str) -> str:
        names = {channel.code: channel.name for channel in self.policy.publication.channels}
        return names[code].get(self.language) if code in names else code

    def _name(self, find: Callable[[str], object], code: str) -> str:
        try:
            return find(code).name.get(self.language)  # type: ignore[attr-defined]
        except KeyError:
            return code


class Speakers:
    """Who hears what in which language."""

    def __init__(self, i18n: I18n, policy: Policy) -> None:
        self.i18n = i18n
        self.policy = policy

    def language_of(self, member: Member | None) -> str:
        return language_of(member, self.policy)

    def to(self, member: Member | None) -> Speaker:
        return self.in_language(self.language_of(member))

    def in_language(self, language: str | None) -> Speaker:
        return Speaker(self.i18n, self.policy, language or self.policy.organisation.default_language)
