"""A third language is the language list plus its catalogues (issue 12): a pseudo-locale, made here from the
English catalogues with every text marked ⟦…⟧, is chosen by a member, speaks in replies, in the data-set
wizard and in an alert queued for that member, with the policy's names in it. No code outside the list
changes."""

from __future__ import annotations

import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from babel.messages.pofile import read_po, write_po

from bot import i18n, languages
from bot.clock import ManualClock
from bot.policy import load_policy
from bot.policy.loader import default_policy_path
from handlers.access_buttons import CatalogueCb
from handlers.callbacks import LanguageCb
from tests.conftest import Harness
from tests.support.incidents import WANG, alerts, crew, report, started
from tests.support.org import OWNER, organisation

PSEUDO = languages.Language("en_XA", "Pseudo", "en", "xa", "d MMM y, HH:mm", "d MMM y", "en-US")


def pseudo(text: str) -> str:
    return f"⟦{text}⟧"


@pytest.fixture
def pseudo_locale(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The pseudo-locale added the way a translator adds a language; returns a policy file that uses it."""
    locales = tmp_path / "locales"
    shutil.copytree(i18n.LOCALES_DIR, locales)
    (locales / PSEUDO.code / "LC_MESSAGES").mkdir(parents=True)
    for source in (locales / "en" / "LC_MESSAGES").glob("*.po"):
        with source.open("rb") as file:
            catalogue = read_po(file, locale="en")
        for message in catalogue:
            if message.id and message.string:
                message.string = pseudo(message.string)
        with (locales / PSEUDO.code / "LC_MESSAGES" / source.name).open("wb") as file:
            write_po(file, catalogue)
    monkeypatch.setattr(languages, "LANGUAGES", (*languages.LANGUAGES, PSEUDO))
    monkeypatch.setattr(i18n, "LOCALES_DIR", locales)
    policy = default_policy_path().read_text(encoding="utf-8")
    policy = policy.replace('languages = ["zh_Hans", "en"]', 'languages = ["zh_Hans", "en", "en_XA"]')
    policy = re.sub(r'en = "([^"]*)"', lambda m: f'{m[0]}, en_XA = "{pseudo(m[1])}"', policy)
    path = tmp_path / "policy.toml"
    path.write_text(policy, encoding="utf-8")
    return path


@pytest.fixture
async def pseudo_app(database_url: str, clock: ManualClock, pseudo_locale: Path) -> AsyncIterator[Harness]:
    app, _session, h = await started(database_url, clock, policy=load_policy(pseudo_locale))
    try:
        yield h
    finally:
        await app.close()


async def test_a_member_chooses_the_third_language_and_is_answered_in_it(pseudo_app: Harness) -> None:
    h = pseudo_app
    people = await crew(h)
    await h.send(people.reporter.telegram_id, "/language")
    assert ("Pseudo", LanguageCb(code="en_XA").pack()) in h.buttons(people.reporter.telegram_id)
    confirmation = await h.press(people.reporter.telegram_id, LanguageCb(code="en_XA"))
    assert confirmation[0] == pseudo("Language set to Pseudo.")
    help_text = await h.send(people.reporter.telegram_id, "/help")
    assert help_text and all(text.startswith("⟦") for text in help_text)


async def test_an_alert_queued_for_a_member_is_in_their_third_language(pseudo_app: Harness) -> None:
    """The recipient-language rule, the policy's names and the moment in the third language."""
    h = pseudo_app
    await crew(h)
    await h.app.members.set_language(WANG, "en_XA")
    await report(h)  # the reporter speaks English
    [alert] = alerts(h, WANG)
    assert alert.startswith("🚨 INC-2026-000001 · ⟦Quality problem⟧ · ⟦High⟧\n")
    assert "⟦When: 2 Mar 2026, 09:00⟧" in alert and "⟦Reported by: Reporter Ren, ⟦General office⟧⟧" in alert


async def test_the_data_set_wizard_asks_a_name_in_each_language(pseudo_app: Harness) -> None:
    h = pseudo_app
    await organisation(h)
    await h.app.members.set_language(OWNER, "en")
    await h.press(OWNER, CatalogueCb(action="new"))
    assert (await h.send(OWNER, "客户投诉记录")) == ["Step 2 of 5: send its name in English, or skip."]
    assert (await h.send(OWNER, "Customer complaints")) == ["Step 3 of 5: send its name in Pseudo, or skip."]
    await h.send(OWNER, "⟦Customer complaints⟧")
    await h.press(OWNER, CatalogueCb(action="pick", value="marketing"))
    card = (await h.press(OWNER, CatalogueCb(action="pick", value="secret")))[-1]
    assert card.startswith("客户投诉记录 / Customer complaints / ⟦Customer complaints⟧")
