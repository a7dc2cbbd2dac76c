"""Simplified Chinese is the first language and must be complete; English too (issue 2 §6)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = {"_": None, "__": None, "N_": None, "gettext": None, "lazy_gettext": None}
PLACEHOLDER = re.compile(r"\{(\w*)\}")


def extracted_messages() -> set[str]:
    messages: set[str] = set()
    for folder in ("bot", "handlers"):
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT / folder, method_map=[("**.py", "python")], keywords=KEYWORDS
        ):
            messages.add(message if isinstance(message, str) else message[0])
    return messages


def translations(language: str) -> dict[str, str]:
    merged: dict[str, str] = {}
    for path in sorted((ROOT / "locales" / language / "LC_MESSAGES").glob("*.po")):
        with path.open("rb") as source:
            for message in read_po(source):
                if message.id and message.string and not message.fuzzy:
                    merged[message.id] = message.string
    return merged


@pytest.mark.parametrize("language", ["zh_Hans", "en"])
def test_every_message_is_translated_with_the_same_placeholders(language: str) -> None:
    catalogue = translations(language)
    missing = sorted(m for m in extracted_messages() if m not in catalogue)
    assert not missing, f"{language} lacks {len(missing)} translations, e.g. {missing[:5]}"
    wrong = [
        m for m in extracted_messages() if sorted(PLACEHOLDER.findall(m)) != sorted(PLACEHOLDER.findall(catalogue[m]))
    ]
    assert not wrong, f"{language}: placeholders differ in {wrong[:5]}"


def test_the_template_is_up_to_date() -> None:
    """locales/messages.pot is what translators work from; ./locales/update.sh refreshes it."""
    with (ROOT / "locales" / "messages.pot").open("rb") as source:
        template = {message.id for message in read_po(source) if message.id}
    assert template == extracted_messages()
