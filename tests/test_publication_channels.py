"""Publishing an approved form (D5, D6) through the real Dispatcher: the bot's own scheduled post to
the organisation's Telegram channel (not before the embargo, exactly as approved), records of other
channels, "designated platform first", changes and take-downs of the post, search and export."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator

import pytest
from aiogram.methods import DeleteMessage, EditMessageText, SendDocument, SendMessage, SendPhoto
from openpyxl import load_workbook

from bot.app import build_app
from bot.clock import ManualClock
from bot.outgoing.publication import PubCb
from bot.policy import load_policy
from handlers.publication_buttons import FormCb
from tests.conftest import Harness, settings_for
from tests.support.publication import (
    COLLEAGUE,
    DRAFTER,
    HEAD,
    LEADER,
    OFFICER,
    decide,
    last_text,
    organisation,
    submit,
    tick_checklist,
)
from tests.support.recording_session import RecordingSession

CHANNEL = -1001234567890  # the organisation's Telegram channel


@pytest.fixture
async def harness(database_url: str, clock: ManualClock) -> AsyncIterator[Harness]:
    """The default policy, with the bot posting the "telegram" channel's items to CHANNEL itself."""
    policy = load_policy(None)
    channels = tuple(
        c.model_copy(update={"telegram_chat_id": CHANNEL}) if c.code == "telegram" else c
        for c in policy.publication.channels
    )
    policy = policy.model_copy(update={"publication": policy.publication.model_copy(update={"channels": channels})})
    session = RecordingSession()
    app = await build_app(settings_for(database_url), clock=clock, session=session, policy=policy)
    try:
        yield Harness(app, session, clock)
    finally:
        await app.close()


async def approved(h: Harness, **fields: object) -> None:
    await submit(h, DRAFTER, **fields)  # type: ignore[arg-type]
    await decide(h, HEAD)
    await decide(h, LEADER)


async def record(h: Harness, user_id: int, channel: str, link: str | None, when: str | None = None) -> list[str]:
    """Record a channel's publication from the form's card: channel, link (or skip), time (or Now)."""
    await h.press(user_id, PubCb(action="rec", id=1))
    await h.press(user_id, PubCb(action="recch", id=1, value=channel))
    if link is None:
        await h.press(user_id, PubCb(action="skip", id=1))
    else:
        await h.send(user_id, link)
    if when is None:
        return await h.press(user_id, PubCb(action="now", id=1))
    return await h.send(user_id, when)


def posts(h: Harness) -> list[object]:
    return h.session.sent(CHANNEL)


async def test_the_bot_posts_at_the_planned_time_but_not_before_the_embargo_exactly_as_approved(
    harness: Harness,
) -> None:
    """D5: planned 12:00, embargo 14:00 (Shanghai): nothing before 14:00, then the approved text with its
    formatting and the photo."""
    h = harness  # the clock starts on Monday 2 March 2026, 09:00 in Shanghai
    await organisation(h)
    await approved(
        h,
        title="Spring open day",
        body="Visit our branch on Saturday.",
        channels=("telegram",),
        planned="2026-03-02 12:00",
        embargo="2026-03-02 14:00",
        photo=True,
        bold=True,
    )
    await h.advance(hours=3)  # 12:00, the planned time, still under embargo
    assert posts(h) == []
    await h.advance(hours=1, minutes=59)
    assert posts(h) == []
    await h.advance(minutes=1)  # 14:00
    text, photo = posts(h)
    assert isinstance(text, SendMessage) and isinstance(photo, SendPhoto)
    assert text.text == "Spring open day\n\nVisit our branch on Saturday."
    assert [(e.type, e.offset, e.length) for e in text.entities or []] == [("bold", 0, 15), ("bold", 17, 5)]
    assert photo.photo == "poster"
    card = (await h.press(DRAFTER, PubCb(action="open", id=1)))[-1]
    assert "#1 · New item · published" in card
    assert "• Telegram channel: published 2 Mar 2026, 14:00 · the bot" in card
    await h.advance(days=1)
    assert len(posts(h)) == 2  # posted once


async def test_designated_platform_first_orders_every_record_and_the_bots_own_post(harness: Harness) -> None:
    """D5: with "designated platform first", no other channel — record or bot post — before the website."""
    h = harness
    await organisation(h)
    await approved(h, channels=("website", "wechat", "telegram"), options=("designated_first",))
    await h.advance(minutes=5)
    assert posts(h) == []  # the bot waits for the designated platform
    refused = await record(h, DRAFTER, "wechat", "https://mp.weixin.qq.com/s/1")
    assert refused == [
        "The designated platform (Company website) must be recorded first, and nothing may appear elsewhere earlier."
    ]
    assert await record(h, COLLEAGUE, "website", None) == [
        "Only the drafter or an information officer can record publication."
    ]
    assert await record(h, DRAFTER, "website", "https://example.com/news/1", "2026-03-02 09:03") == [
        "Recorded. Thank you."
    ]
    await h.advance(minutes=1)
    assert [type(p) for p in posts(h)] == [SendMessage]  # now the bot posts too
    early = await record(h, OFFICER, "wechat", None, "2026-03-02 09:02")
    assert early == [
        "The designated platform (Company website) must be recorded first, and nothing may appear elsewhere earlier."
    ]
    assert await record(h, OFFICER, "wechat", None, "2026-03-02 09:04") == ["Recorded. Thank you."]
    card = (await h.press(DRAFTER, PubCb(action="open", id=1)))[-1]
    assert "• Company website: published 2 Mar 2026, 09:03 · Zhang San · https://example.com/news/1" in card
    assert "• WeChat official account: published 2 Mar 2026, 09:04 · Sun Ba" in card
    assert "not recorded yet" not in card


async def test_records_are_refused_before_approval_and_before_the_embargo(harness: Harness) -> None:
    h = harness
    await organisation(h)
    await submit(h, DRAFTER, channels=("website",), embargo="2026-03-02 10:00")
    assert await h.press(DRAFTER, PubCb(action="rec", id=1)) == ["Nothing is waiting to be recorded for this channel."]
    await decide(h, HEAD)
    await decide(h, LEADER)
    replies = await record(h, DRAFTER, "website", None)
    assert replies[0].startswith("That is before the form was approved or before its embargo")
    await h.advance(hours=1)
    assert await record(h, DRAFTER, "website", None) == ["Recorded. Thank you."]


async def test_an_approved_change_edits_the_post_and_a_take_down_deletes_it(harness: Harness) -> None:
    """D2: changing or taking down a published item runs the same chain, then the bot applies it."""
    h = harness
    await organisation(h)
    await approved(h, title="Open day", body="Saturday 10:00.", channels=("telegram", "website"), photo=True)
    await h.advance(minutes=1)
    original = posts(h)[0]
    assert isinstance(original, SendMessage)

    await h.send(DRAFTER, "/publish")
    await h.press(DRAFTER, FormCb(action="kind", value="change"))
    sheet = "\n".join(await h.press(DRAFTER, FormCb(action="item", value="1")))
    assert "Change to published item #1" in sheet and "Saturday 10:00." in sheet
    await h.press(DRAFTER, FormCb(action="edit", value="body"))
    await h.send(DRAFTER, "Saturday 14:00.")
    await h.press(DRAFTER, FormCb(action="edit", value="files"))
    await h.press(DRAFTER, FormCb(action="skip", value="clear"))  # remove all files
    await h.send(DRAFTER, None, photo="new-poster")  # type: ignore[arg-type]
    await h.press(DRAFTER, FormCb(action="next"))
    await tick_checklist(h, DRAFTER)
    await h.press(DRAFTER, FormCb(action="submit"))
    card = last_text(h, HEAD)
    assert "Change to published item #1" in card
    await decide(h, HEAD)
    await decide(h, LEADER)
    await h.advance(minutes=1)
    edit, removed, photo = posts(h)[-3:]
    assert isinstance(edit, EditMessageText)
    assert edit.text == "Open day\n\nSaturday 14:00." and edit.message_id == 1  # the post, not a new one
    assert isinstance(removed, DeleteMessage) and removed.message_id == 2  # the old photo goes
    assert isinstance(photo, SendPhoto) and photo.photo == "new-poster"
    found = await h.send(COLLEAGUE, "/publications 14:00")
    assert found[0] == "Published items found: 1"

    await h.send(DRAFTER, "/publish")
    await h.press(DRAFTER, FormCb(action="kind", value="takedown"))
    await h.press(DRAFTER, FormCb(action="item", value="1"))
    await h.send(DRAFTER, "The event was cancelled.")
    sheet = "\n".join(await h.press(DRAFTER, FormCb(action="skip")))
    assert "Take-down of published item #1" in sheet and "Reason: The event was cancelled." in sheet
    await h.press(DRAFTER, FormCb(action="submit"))
    await decide(h, HEAD)
    await decide(h, LEADER)
    await h.advance(minutes=1)
    deleted = [p for p in posts(h) if isinstance(p, DeleteMessage)]
    assert [d.message_id for d in deleted] == [2, 1, 3]  # the old photo earlier; now the text and the new photo
    item = (await h.press(DRAFTER, PubCb(action="open", id=1)))[-1]
    assert "#1 · New item · taken down" in item
    takedown = (await h.press(DRAFTER, PubCb(action="open", id=3)))[-1]
    assert "• Telegram channel: removed" in takedown and "• Company website: not recorded yet" in takedown
    history = (await h.press(DRAFTER, PubCb(action="hist", id=1)))[-1]
    assert "new published version from change form · #2 (v2)" in history
    assert "#3 The event was cancelled." in history


async def test_published_items_are_searchable_by_text_and_date_and_exported(harness: Harness) -> None:
    """D6: search by words and dates; a period exported as CSV and XLSX by a manager only."""
    h = harness
    await organisation(h)
    await approved(h, title="年度报告摘要", body="本公司2025年度报告。", channels=("website",))
    await record(h, DRAFTER, "website", "https://example.com/ar")
    assert (await h.send(COLLEAGUE, "/publications 年度报告 2026-03-02"))[0] == "Published items found: 1"
    assert await h.send(COLLEAGUE, "/publications 年度报告 2026-03-03 2026-03-31") == ["No published item matches."]

    assert await h.press(COLLEAGUE, PubCb(action="export")) and (await h.send(COLLEAGUE, "2026-03"))
    refused = await h.press(COLLEAGUE, PubCb(action="fmt", value="csv"))
    assert refused == ["Only department heads, leaders and information officers can export."]
    for fmt in ("csv", "xlsx"):
        await h.press(LEADER, PubCb(action="export"))
        assert await h.send(LEADER, "2026-03") == ["Which format?"]
        await h.press(LEADER, PubCb(action="fmt", value=fmt))
        document = h.session.last(LEADER, SendDocument)
        assert isinstance(document, SendDocument)
        assert document.document.filename == f"publications-20260301-20260401.{fmt}"  # type: ignore[union-attr]
        data = document.document.data  # type: ignore[union-attr]
        if fmt == "csv":
            rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
        else:
            rows = [list(row) for row in load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True)]
        assert rows[0][:4] == ["form", "kind", "item", "title"]
        assert rows[1][3] == "年度报告摘要" and rows[1][6] == "published"
        assert "website published 2026-03-02 09:00 https://example.com/ar" in rows[1][12]
        assert "Li Si approved" in rows[1][13] and "Zhao Liu approved" in rows[1][13]


async def test_when_the_bot_cannot_post_the_drafter_is_told_and_records_it_by_hand(harness: Harness) -> None:
    """D5, D6: a post that never appeared is not recorded as published."""
    h = harness
    await organisation(h)
    h.session.block(CHANNEL)  # the bot was removed from the channel
    await approved(h, channels=("telegram",))
    await h.advance(minutes=1)
    assert last_text(h, DRAFTER).startswith("⚠️ The bot could not post your form #1 «Spring open day»")
    card = (await h.press(DRAFTER, PubCb(action="open", id=1)))[-1]
    assert "#1 · New item · approved for publication" in card
    assert "• Telegram channel: not recorded yet" in card
    assert await record(h, DRAFTER, "telegram", "https://t.me/our_channel/7") == ["Recorded. Thank you."]
    card = (await h.press(DRAFTER, PubCb(action="open", id=1)))[-1]
    assert "• Telegram channel: published 2 Mar 2026, 09:01 · Zhang San · https://t.me/our_channel/7" in card
