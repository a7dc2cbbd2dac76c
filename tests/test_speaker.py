"""One Speaker (issue 12): a member hears every text, moment, day, number and policy name in their own
language; who speaks which language is decided by one rule."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.i18n import load_catalogues
from bot.outgoing.speaker import Speakers
from bot.policy import load_policy
from storage.models import Member


@pytest.fixture(scope="module")
def speakers() -> Speakers:
    return Speakers(load_catalogues(), load_policy(None))


def member(language: str | None) -> Member:
    return Member(telegram_id=1, name="Li", language=language)


def test_the_recipient_hears_their_own_language_else_the_organisations(speakers: Speakers) -> None:
    assert speakers.to(member("en")).language == "en"
    assert speakers.to(member(None)).language == "zh_Hans"  # never chose: the organisation's default
    assert speakers.to(None).language == "zh_Hans"  # nobody known (a group chat, a departed member)


def test_texts_moments_days_and_numbers_in_each_language(speakers: Speakers) -> None:
    english, chinese = speakers.in_language("en"), speakers.in_language("zh_Hans")
    assert english._("✅ Approve") == "✅ Approve" and chinese._("✅ Approve") != "✅ Approve"
    at = datetime(2026, 3, 9, 1, 30, tzinfo=UTC)  # 09:30 in Asia/Shanghai
    assert english.moment(at) == "9 Mar 2026, 09:30" and chinese.moment(at) == "2026年3月9日 09:30"
    assert english.day(date(2025, 10, 9)) == "9 Oct 2025" and chinese.day(date(2025, 10, 9)) == "2025年10月9日"
    assert english.number(12000.5) == "12,000.5"


def test_policy_names_in_each_language_and_a_forgotten_code_as_it_is(speakers: Speakers) -> None:
    policy = speakers.policy
    department = policy.departments[0]
    assert speakers.in_language("en").department(department.code) == department.name.get("en")
    assert speakers.in_language("zh_Hans").department(department.code) == department.name.zh_Hans
    assert speakers.in_language("en").role("leader") == policy.role("leader").name.get("en")
    assert speakers.in_language("en").department("closed_branch") == "closed_branch"
