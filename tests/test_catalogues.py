"""Simplified Chinese is the first language and must be complete; English too (issue 2 §6). The flows' catalogues
are merged at start, so one message id translated two ways would let one flow show another's word (issue 14):
such ids carry a context (``NC_`` / ``pgettext``). Rule codes like (C5) are for the code, not for members."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from bot.i18n import NC_, load_catalogues, translate

ROOT = Path(__file__).resolve().parent.parent
# The same keywords as locales/update.sh: NC_ and pgettext take the context first.
KEYWORDS = {
    "_": None,
    "__": None,
    "N_": None,
    "gettext": None,
    "lazy_gettext": None,
    "NC_": ((1, "c"), 2),
    "pgettext": ((1, "c"), 2),
}
PLACEHOLDER = re.compile(r"\{(\w*)\}")
RULE_CODE = re.compile(r"[（(][A-F][1-9](?:\s*[,，、]\s*[A-F][1-9])*[）)]")
DUTY_STAFF_AS_PEOPLE = re.compile("(值班|主班|备班)人员")
Key = tuple[str | None, str]  # (context, message id)


def extracted_messages() -> set[Key]:
    messages: set[Key] = set()
    for folder in ("bot", "handlers"):
        for _file, _line, message, _comments, context in extract_from_dir(
            ROOT / folder, method_map=[("**.py", "python")], keywords=KEYWORDS
        ):
            messages.add((context, message if isinstance(message, str) else message[0]))
    return messages


def per_flow(language: str) -> dict[Key, dict[str, str]]:
    """Every translated message: for each (context, id), the translation in each flow's catalogue."""
    found: dict[Key, dict[str, str]] = defaultdict(dict)
    for path in sorted((ROOT / "locales" / language / "LC_MESSAGES").glob("*.po")):
        with path.open("rb") as source:
            for message in read_po(source):
                if message.id and message.string and not message.fuzzy:
                    found[(message.context, message.id)][path.stem] = message.string
    return found


def translations(language: str) -> dict[Key, str]:
    return {key: next(iter(flows.values())) for key, flows in per_flow(language).items()}


@pytest.mark.parametrize("language", ["zh_Hans", "en"])
def test_every_message_is_translated_with_the_same_placeholders(language: str) -> None:
    catalogue = translations(language)
    missing = sorted(m for m in extracted_messages() if m not in catalogue)
    assert not missing, f"{language} lacks {len(missing)} translations, e.g. {missing[:5]}"
    wrong = [
        m
        for m in extracted_messages()
        if sorted(PLACEHOLDER.findall(m[1])) != sorted(PLACEHOLDER.findall(catalogue[m]))
    ]
    assert not wrong, f"{language}: placeholders differ in {wrong[:5]}"


@pytest.mark.parametrize("language", ["zh_Hans", "en"])
def test_no_message_id_is_translated_two_ways_across_the_flows(language: str) -> None:
    """Issue 14: 'late' was 逾期 in one flow and 超时 in another, and the merge showed one flow the other's word.
    An id two flows mean differently needs a context in each; an id they mean alike needs one translation."""
    clashes = {
        f"{context + ' | ' if context else ''}{msgid}": flows
        for (context, msgid), flows in per_flow(language).items()
        if len(set(flows.values())) > 1
    }
    assert not clashes, f"{language}: translated two ways (give each flow's a context): {clashes}"


def test_each_flow_shows_its_own_word_when_the_english_is_the_same() -> None:
    """The merged catalogue keeps both: an incident acknowledged late is 超时, a deadline met late 逾期;
    the handover note and a deadline's evidence note each have their own length error."""
    i18n = load_catalogues()
    assert translate(i18n, NC_("incident", "late"), "zh_Hans") == "超时"
    assert translate(i18n, NC_("deadline", "late"), "zh_Hans") == "逾期"
    too_long = "The note is too long: at most {limit} characters."
    assert translate(i18n, NC_("handover note", too_long), "zh_Hans").startswith("交接记录")
    assert translate(i18n, NC_("deadline evidence", too_long), "zh_Hans").startswith("说明")
    assert translate(i18n, NC_("incident", "late"), "en") == "late"
    assert translate(i18n, "This year", "zh_Hans") == "本年"


@pytest.mark.parametrize("language", ["zh_Hans", "en"])
def test_no_rule_code_reaches_a_member(language: str) -> None:
    """Ids like (C5) or (D3) belong in docstrings and tests, never in what a member reads."""
    shown = [text for text in translations(language).values() if RULE_CODE.search(text)]
    assert not shown, f"{language}: rule codes in {shown[:5]}"


def test_alerts_and_duty_officers_are_named_as_duty_offices_write_them() -> None:
    """告警 for an alert (not 警报), 值班员 for duty staff (not 值班人员, 主班人员 or 备班人员), as duty offices write
    them."""
    chinese = translations("zh_Hans").values()
    assert not [text for text in chinese if "警报" in text or DUTY_STAFF_AS_PEOPLE.search(text)]


def test_the_template_is_up_to_date() -> None:
    """locales/messages.pot is what translators work from; ./locales/update.sh refreshes it."""
    with (ROOT / "locales" / "messages.pot").open("rb") as source:
        template = {(message.context, message.id) for message in read_po(source) if message.id}
    assert template == extracted_messages()
