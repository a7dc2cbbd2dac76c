"""The languages the bot speaks, in one place (issue 12): adding one is a line here plus its catalogues in
``locales/<code>/LC_MESSAGES``. The first is the source language: every policy text must have it and
every other text falls back to it.

Other modules ask the functions below rather than import ``LANGUAGES``, so the list is read when used.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Language:
    code: str  # the catalogue folder and the key of policy texts, e.g. zh_Hans
    name: str  # in the language itself, for the language picker
    babel_locale: str  # dates, numbers and percentages
    telegram: str  # the prefix of Telegram's language_code that picks it
    moment: str  # a moment as Babel writes it: "2025年10月9日 08:00", "9 Oct 2025, 08:00"
    day: str
    speech: str  # the language of a voice call's text-to-speech (BCP 47)


LANGUAGES: tuple[Language, ...] = (
    Language("zh_Hans", "简体中文", "zh_Hans_CN", "zh", "y年M月d日 HH:mm", "y年M月d日", "zh-CN"),
    Language("en", "English", "en", "en", "d MMM y, HH:mm", "d MMM y", "en-US"),
)


def codes() -> tuple[str, ...]:
    return tuple(language.code for language in LANGUAGES)


def source() -> str:
    """The language every text has, and the one others fall back to."""
    return LANGUAGES[0].code


def language(code: str) -> Language:
    """The language ``code`` names; an unknown code gets the source language."""
    return next((known for known in LANGUAGES if known.code == code), LANGUAGES[0])


def from_telegram(language_code: str | None) -> str | None:
    """The language Telegram's ``language_code`` (e.g. "zh-hans", "en-US") asks for, if the bot speaks it."""
    asked = (language_code or "").lower()
    return next((known.code for known in LANGUAGES if asked.startswith(known.telegram)), None) if asked else None
