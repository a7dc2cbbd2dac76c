"""Bad input, property-based (issue 7), through the incident report wizard (/report): whatever a reporter
types as what happened, where, when or the loss is either stored exactly and shown back exactly — in the
summary, the "Reported" answer and the duty officer's alert (sent as plain text, no parse mode, so `<b>` or
`*_[` is shown, never interpreted) — or refused with a clear answer and nothing stored. Rule A1.
The text-storage property runs on PostgreSQL too (NUL, lengths): see the database_url fixture."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram.client.default import Default
from aiogram.methods import SendMessage
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot.clock import ManualClock
from bot.services.incidents.reporting import MAX_LOSS, MAX_PLACE, MAX_TEXT
from bot.services.text import visible_text
from handlers.incident_keyboards import ReportCb
from storage.incidents_models import Incident
from tests.conftest import Harness
from tests.support.incidents import REPORTER, WANG, alerts, crew, started

examples = settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
fewer = settings(examples, max_examples=5)
INJECTIONS = [
    "<b>bold</b> </code> <a href='tg://user?id=1'>link</a> &amp; &lt;",
    "*bold* _italic_ `code` [link](http://example.com) ||spoiler|| *_[",
    "'); DROP TABLE incidents; --",
    "1' OR '1'='1'; SELECT * FROM members WHERE 'a'='a",
    "王芳\u200b\u202e反转\u0301",
    "👨‍👩‍👧 family",
    "tab\tnewline\nreturn\r end",
    "nul\x00byte\x07bell\x1b[31m",
]
# Control (Cc) and format (Cf) characters, spaces, CJK, symbols, combining marks; never surrogates (Cs).
unusual = st.characters(codec="utf-8", categories=["Cc", "Cf", "Zs", "Lo", "So", "Mn", "Po", "Sm"])
hostile_text = st.one_of(
    st.sampled_from(INJECTIONS),
    st.text(min_size=1, max_size=300),
    st.text(alphabet=unusual, min_size=1, max_size=300),
    st.integers(MAX_TEXT - 2, MAX_TEXT + 2).map(lambda size: "长" * size),
).filter(lambda text: text.strip() and not text.startswith("/"))
TOO_LONG = "That is too long: at most {limit} characters (yours has {length})."
PLACE_REFUSED = f"Type the place in at most {MAX_PLACE} characters, or send your location."
LOSS_REFUSED = "Send the estimated loss in yuan as a number, e.g. 12000 or 1.2万."
PLACE_WORDS = {"Cancel", "◀ Back", "Skip"}  # the place step's reply keyboard


@pytest.fixture
async def sqlite_harness(sqlite_url: str, clock: ManualClock) -> AsyncIterator[Harness]:
    app, _session, h = await started(sqlite_url, clock)
    try:
        yield h
    finally:
        await app.close()


async def ready(h: Harness) -> None:
    """The crew once per harness (hypothesis runs every example on the same one); no wizard left open."""
    if await h.app.members.find(REPORTER) is None:
        await crew(h)
    await h.send(REPORTER, "/cancel")


async def stored(h: Harness) -> list[Incident]:
    async with h.app.uow() as uow:
        return list(await uow.session.scalars(select(Incident).order_by(Incident.id)))


async def incidents(h: Harness) -> int:
    async with h.app.uow() as uow:
        return await uow.session.scalar(select(func.count()).select_from(Incident)) or 0


def plain(h: Harness, chat_id: int) -> None:
    """Everything sent to the chat is plain text: what a member typed can never turn into markup."""
    assert h.app.bot.default.parse_mode is None
    for sent in h.session.sent(chat_id, SendMessage):
        assert isinstance(sent.parse_mode, Default) or sent.parse_mode is None, sent.parse_mode
        assert sent.entities is None


async def through_description(h: Harness, category: str = "quality") -> None:
    await h.send(REPORTER, "/report")
    await h.press(REPORTER, ReportCb(action="cat", value=category))
    await h.press(REPORTER, ReportCb(action="sev", value="high"))


@given(description=hostile_text, where=hostile_text.filter(lambda text: text not in PLACE_WORDS))
@example(description="nul\x00byte\x07bell", where="room\x00 1").via("PostgreSQL cannot store NUL in text")
@example(description="x" * 10_000, where="y" * 10_000).via("10,000 characters")
@example(description=" <b>Fire</b> &amp; </code> *_[ ", where="'); DROP TABLE incidents; --")
@example(description="'; DELETE FROM incidents; --", where="<i>Hall</i>\n\n  B")
@examples
async def test_what_and_where_are_stored_and_shown_back_exactly_or_refused(
    harness: Harness, description: str, where: str
) -> None:
    h = harness
    await ready(h)
    before = await incidents(h)
    await through_description(h)
    replies = await h.send(REPORTER, description)
    expected = visible_text(description).strip()
    if len(expected) > MAX_TEXT:
        assert replies == [TOO_LONG.format(limit=MAX_TEXT, length=len(expected))]
        assert await incidents(h) == before
        await h.press(REPORTER, ReportCb(action="cancel"))
        return
    if not expected:  # only invisible characters: nothing to report
        assert replies == ["Describe what happened in a few words, or send a photo or voice note."]
        return
    assert replies == ["Where? Tap the button to send your location, or type the place."]
    replies = await h.send(REPORTER, where)
    place = " ".join(visible_text(where).split())
    if not place or len(place) > MAX_PLACE:
        assert replies == [PLACE_REFUSED]
        await h.send(REPORTER, "Skip")
        place = ""
    else:
        assert replies[0] == "📍 Noted."
    await h.press(REPORTER, ReportCb(action="ago", value="0"))
    summary = (await h.press(REPORTER, ReportCb(action="done")))[-1]
    assert f"\nWhat happened: {expected}\nWhere: {place or 'not given'}\n" in summary
    told = (await h.press(REPORTER, ReportCb(action="submit")))[-1]
    assert told.startswith(f"Reported: INC-2026-{before + 1:06d}.")
    newest = (await stored(h))[-1]
    assert (newest.description, newest.location_text) == (expected, place or None)
    alert = alerts(h, WANG)[-1]
    assert f"\nWhat happened: {expected}\nWhere: {place or 'not given'}\n" in alert
    plain(h, WANG)
    plain(h, REPORTER)


losses = st.one_of(
    hostile_text,
    st.sampled_from(["Infinity", "-Infinity", "NaN", "sNaN", "1e999999", "9" * 5000, "-1", "0.5", "1e12", "1.2万"]),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.integers(-(2**70), 2**70).map(str),
    st.from_regex(r"[¥￥]?\s?[0-9]{1,15}([.,][0-9]{1,3})?\s?(万|元|yuan)?", fullmatch=True),
).filter(lambda text: text.strip() and not text.startswith("/"))


@given(loss=losses)
@example(loss="Infinity").via("OverflowError from int(Decimal('Infinity'))")
@example(loss="1e999999999").via("decimal.Overflow when multiplied")
@example(loss=str(MAX_LOSS + 1))
@example(loss="12,000元")
@fewer
async def test_any_loss_answer_is_a_number_within_bounds_or_a_clear_question_again(
    sqlite_harness: Harness, loss: str
) -> None:
    """Theft/fraud asks the loss (A4(3)): whatever is typed, the step answers, and what is stored is the
    number the summary and the alert show. (Parsing, not storage: SQLite only, to stay quick.)"""
    h = sqlite_harness
    await ready(h)
    before = await incidents(h)
    await through_description(h, category="theft_fraud")
    await h.send(REPORTER, "Cash box missing")
    await h.send(REPORTER, "Skip")
    await h.press(REPORTER, ReportCb(action="ago", value="0"))
    replies = await h.send(REPORTER, loss)
    if replies == [LOSS_REFUSED]:
        await h.press(REPORTER, ReportCb(action="skip"))  # the step waited; "unknown" moves on
        shown = "?"
    else:
        assert replies == ["Add photos or files if you have any (several are fine), then tap Done."]
        shown = None
    summary = (await h.press(REPORTER, ReportCb(action="done")))[-1]
    await h.press(REPORTER, ReportCb(action="submit"))
    assert await incidents(h) == before + 1
    newest = (await stored(h))[-1]
    if shown is None:
        assert newest.loss_yuan is not None and 0 <= newest.loss_yuan <= MAX_LOSS
        shown = f"{newest.loss_yuan:,}"
        assert f"Estimated loss: {shown} yuan" in alerts(h, WANG)[-1]
    else:
        assert newest.loss_yuan is None
    assert f"\nEstimated loss: {shown} yuan\n" in summary


moments = st.one_of(
    hostile_text,
    st.sampled_from(
        [
            "2026-02-30 10:00",
            "2026-13-01 10:00",
            "31/13/2026",
            "0000-01-01 00:00",
            "9999-12-31 23:59",
            "1900-01-01 00:00",
            "2026-03-02 24:00",
            "25:61",
            "99:99",
            "2026-03-02 09:04",
            "2025-03-01 10:00",
        ]
    ),
    st.from_regex(r"([0-9]{4}-)?[0-9]{1,2}-[0-9]{1,2} [0-9]{1,2}:[0-9]{2}", fullmatch=True),
    st.from_regex(r"[0-9]{1,2}[:：][0-9]{2}", fullmatch=True),
).filter(lambda text: text.strip() and not text.startswith("/"))
MOMENT_ANSWERS = (
    "Send the time as 14:30, or the date and time as 2026-03-01 14:30.",
    "That time is in the future. When did it happen?",
    "That is more than a year ago. Check the date.",
)


@given(moment=moments)
@example(moment="2026-02-30 10:00").via("no 30 February")
@example(moment="0000-01-01 00:00").via("year 0")
@example(moment="9999-12-31 23:59").via("far future")
@fewer
async def test_any_time_typed_is_taken_or_asked_again_clearly(sqlite_harness: Harness, moment: str) -> None:
    h = sqlite_harness
    await ready(h)
    await through_description(h)
    await h.send(REPORTER, "Valve stuck")
    await h.send(REPORTER, "Skip")
    replies = await h.send(REPORTER, moment)
    if replies[0] in MOMENT_ANSWERS:
        assert len(replies) == 1
        replies = await h.send(REPORTER, "08:15")  # the step waited for a time it can take
        typed = "When: 2 Mar 2026, 08:15"
    else:
        typed = "When: "
    assert replies == ["Add photos or files if you have any (several are fine), then tap Done."]
    summary = (await h.press(REPORTER, ReportCb(action="done")))[-1]
    when = next(line for line in summary.splitlines() if line.startswith("When: "))
    assert when.startswith(typed) and ("2025" in when or "2026" in when)  # never after now, at most a year back
