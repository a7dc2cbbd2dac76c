"""Babel catalogues and locale-aware formatting.

Catalogues are read from the `.po` files with Babel and compiled in memory at start, so an
install needs no separate compile step and a catalogue can never be stale.
"""

from __future__ import annotations

import gettext
import io
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import I18n
from babel import Locale
from babel.dates import format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
LANGUAGES = ("zh_Hans", "en")
LANGUAGE_NAMES = {"zh_Hans": "简体中文", "en": "English"}


class Catalogues(I18n):
    """aiogram's I18n, fed from `.po` files instead of pre-compiled `.mo` files."""

    def __init__(self, default_locale: str = "zh_Hans", path: Path = LOCALES_DIR) -> None:
        super().__init__(path=path, default_locale=default_locale, domain="messages")

    def find_locales(self) -> dict[str, gettext.GNUTranslations]:
        translations: dict[str, gettext.GNUTranslations] = {}
        for po_path in sorted(Path(self.path).glob(f"*/LC_MESSAGES/{self.domain}.po")):
            locale = po_path.parent.parent.name
            with po_path.open("rb") as source:
                catalogue = read_po(source, locale=locale)
            compiled = io.BytesIO()
            write_mo(compiled, catalogue, use_fuzzy=False)
            compiled.seek(0)
            translations[locale] = gettext.GNUTranslations(compiled)
        return translations


def pick_language(stored: str | None, telegram_code: str | None, default: str) -> str:
    """The member's stored choice wins; then Telegram's language; then the organisation's default."""
    if stored in LANGUAGES:
        return stored
    code = (telegram_code or "").lower()
    if code.startswith("zh"):
        return "zh_Hans"
    if code.startswith("en"):
        return "en"
    return default


def babel_locale(language: str) -> Locale:
    return Locale.parse("zh_Hans_CN" if language == "zh_Hans" else language)


MOMENT_PATTERNS = {"zh_Hans": "y年M月d日 HH:mm", "en": "d MMM y, HH:mm"}


def format_moment(moment: datetime, language: str, tz: ZoneInfo) -> str:
    """A UTC moment shown in the organisation's time zone, in the member's locale (minutes, no seconds)."""
    pattern = MOMENT_PATTERNS.get(language, MOMENT_PATTERNS["en"])
    return format_datetime(moment.astimezone(tz), pattern, tzinfo=tz, locale=babel_locale(language))


def format_number(value: float, language: str) -> str:
    return format_decimal(value, locale=babel_locale(language))
