"""Babel catalogues and locale-aware formatting.

Catalogues are read from the `.po` files with Babel and compiled in memory at start, so an
install needs no separate compile step and a catalogue can never be stale.
"""

from __future__ import annotations

import gettext
import io
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import I18n, get_i18n
from babel import Locale
from babel.dates import format_date, format_datetime
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

from bot import languages

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"


def load_catalogues(default_locale: str | None = None, path: Path | None = None) -> I18n:
    """aiogram's I18n, fed from `.po` files instead of pre-compiled `.mo` files.

    Each flow keeps its own file (core.po, incidents.po, ...) in a locale's LC_MESSAGES folder;
    they are merged into one catalogue per locale."""
    path = path or LOCALES_DIR
    i18n = I18n(path=path, default_locale=default_locale or languages.source(), domain="messages")
    i18n.locales = {code: _compile(path / code / "LC_MESSAGES") for code in languages.codes()}
    return i18n


def _compile(folder: Path) -> gettext.GNUTranslations:
    merged = Catalog(locale=folder.parent.name)
    for po_path in sorted(folder.glob("*.po")):
        with po_path.open("rb") as source:
            for message in read_po(source, locale=folder.parent.name):
                if message.id:
                    merged[message.id] = message
    compiled = io.BytesIO()
    write_mo(compiled, merged, use_fuzzy=False)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


class InContext(str):
    """A message id with its gettext context (``msgctxt``): the same English words meaning different things
    in two flows ("late" for an incident's acknowledgement and for a reporting deadline) are separate
    entries, so one flow never shows the other's translation. Behaves as the plain English id everywhere
    else (formatting, audit entries)."""

    context: str

    def __new__(cls, context: str, message: str) -> InContext:
        made = super().__new__(cls, message)
        made.context = context
        return made


def NC_(context: str, message: str) -> str:  # noqa: N802 (gettext's naming)
    """Marks a message with a context for extraction (``pybabel -k NC_:1c,2``); translated at display time
    by `translate` (or a `Speaker`)."""
    return InContext(context, message)


def translate(i18n: I18n, message: str, locale: str | None = None) -> str:
    """``message`` in ``locale`` (default: the current update's), its context respected."""
    translator = i18n.locales.get(locale or i18n.current_locale)
    if translator is None:
        return str(message)
    context = getattr(message, "context", None)
    return translator.pgettext(context, message) if context else translator.gettext(message)


def pgettext(context: str, message: str) -> str:
    """Like aiogram's ``gettext`` (the current update's language), for a message with a context."""
    return translate(get_i18n(), InContext(context, message))


def pick_language(stored: str | None, telegram_code: str | None, default: str) -> str:
    """The one rule for the language of every message to someone (issue 14): the member's stored choice wins;
    then Telegram's language (of the update being answered, or as recorded for the member at join or at their
    latest update); then the organisation's default. Replies (handlers/middlewares.py) and messages queued for
    a member (`bot.outgoing.speaker.language_of`) both ask it."""
    if stored in languages.codes():
        return stored
    return languages.from_telegram(telegram_code) or default


def babel_locale(language: str) -> Locale:
    return Locale.parse(languages.language(language).babel_locale)


def format_moment(moment: datetime, language: str, tz: ZoneInfo) -> str:
    """A UTC moment shown in the organisation's time zone, in the member's locale (minutes, no seconds)."""
    pattern = languages.language(language).moment
    return format_datetime(moment.astimezone(tz), pattern, tzinfo=tz, locale=babel_locale(language))


def format_day(day: date, language: str) -> str:
    """A day in the style of ``format_moment``: "9 Oct 2025", "2025年10月9日"."""
    return format_date(day, languages.language(language).day, locale=babel_locale(language))


def format_number(value: float, language: str) -> str:
    return format_decimal(value, locale=babel_locale(language))
