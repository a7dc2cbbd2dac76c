"""The information publication form (信息发布管理表) in chat: every field, the exaggeration pre-check
(D3), the prohibited-content checklist (D4), Back/Cancel and clear errors, through the real Dispatcher."""

from __future__ import annotations

from handlers.publication_buttons import FormCb
from tests.conftest import Harness
from tests.support.publication import DRAFTER, fill_form, member, tick_checklist


async def test_the_form_asks_every_field_and_refuses_bad_values_clearly(harness: Harness) -> None:
    """D1: kind, title, text, files, channels, audience, quantity, planned time, embargo, options."""
    h = harness
    await member(h, DRAFTER, ["staff"])
    replies = await h.send(DRAFTER, "/publish")
    assert "what would you like to submit?" in replies[0]
    assert [t for t, _ in h.buttons(DRAFTER)] == ["🆕 New item", "Cancel"]  # nothing published to change yet
    replies = await h.press(DRAFTER, FormCb(action="kind", value="new"))
    assert any(r.startswith("Step 1 of 9 · Title") for r in replies)
    assert (await h.send(DRAFTER, "   "))[0] == "Please send the title as text."
    replies = await h.send(DRAFTER, "Spring   open day")
    assert replies[0].startswith("Step 2 of 9 · Text")
    replies = await h.send(DRAFTER, "字" * 10_000)
    assert replies == ["The text is too long: 10000 characters, at most 3500. Shorten it or attach it as a file."]
    replies = await h.send(DRAFTER, "Visit us on Saturday.")
    assert replies[0].startswith("Step 3 of 9 · Files")
    replies = await h.send(DRAFTER, None, document=True, file_name="tool.exe", mime_type="application/x-msdownload")
    assert replies == ["Only images, PDF and Word (DOC, DOCX) files can be attached."]
    replies = await h.send(DRAFTER, None, document=True, file_name="flyer.pdf")
    assert replies[0] == "Attached: flyer.pdf." and "(1 attached, at most 10)" in replies[1]
    replies = await h.press(DRAFTER, FormCb(action="next"))
    assert any(r.startswith("Step 4 of 9 · Channels") for r in replies)
    assert await h.press(DRAFTER, FormCb(action="next")) == ["Choose at least one channel."]
    await h.press(DRAFTER, FormCb(action="ch", value="wechat"))
    await h.press(DRAFTER, FormCb(action="ch", value="website"))
    await h.press(DRAFTER, FormCb(action="next"))
    await h.send(DRAFTER, "customers")
    assert (await h.send(DRAFTER, "many"))[0] == "Please send the quantity as a whole number, e.g. 1 or 5000."
    replies = await h.send(DRAFTER, "5,000")
    assert replies[0].startswith("Step 7 of 9 · Planned publication time")
    assert (await h.send(DRAFTER, "tomorrow"))[0] == "Please send a date and time like 2026-03-05 09:30."
    assert (await h.send(DRAFTER, "2026-02-30 09:00"))[0] == "Please send a date and time like 2026-03-05 09:30."
    replies = await h.send(DRAFTER, "2020-01-01 09:00")
    assert replies == ["That time has already passed. Please send a time in the future."]
    await h.send(DRAFTER, "2026年3月5日 9:30")
    await h.send(DRAFTER, "2026-03-05 09:00")
    await h.press(DRAFTER, FormCb(action="opt", value="designated_first"))
    sheet = "\n".join(await h.press(DRAFTER, FormCb(action="next")))
    for expected in (
        "Title: Spring open day",
        "Visit us on Saturday.",
        "Files (1): flyer.pdf",
        "Channels: Company website, WeChat official account",  # in the policy's order
        "Audience: customers",
        "Quantity: 5000",
        "Planned: 5 Mar 2026, 09:30",
        "Embargo: nothing appears anywhere before 5 Mar 2026, 09:00",
        "Designated platform first: Company website",
        "Pre-check: no exaggerated advertising words found.",
        "☐ Prohibited-content checklist: 0 of 9 items ticked.",
    ):
        assert expected in sheet


async def test_exaggeration_words_are_flagged_in_context_and_the_drafter_may_still_go_on(harness: Harness) -> None:
    """D3: each flagged word with the text around it; Latin words only as whole words."""
    h = harness
    await member(h, DRAFTER, ["staff"])
    sheet = "\n".join(
        await fill_form(
            h, DRAFTER, title="行业第一的理财产品", body="收益最高，100%保本。The best choice; bestow trust."
        )
    )
    assert "⚠️ Pre-check: 4 possibly exaggerated words:" in sheet
    assert "• 第一: 行业【第一】的理财产品" in sheet
    assert "• 最: 收益【最】高，100%保本。The…" in sheet
    assert "• 100%: 收益最高，【100%】保本。The best …" in sheet
    assert "• best: …，100%保本。The 【best】 choice; bes…" in sheet  # not "bestow"
    replies = await tick_checklist(h, DRAFTER)
    assert "✅ Prohibited-content checklist: the drafter confirmed all 9 items." in "\n".join(replies)


async def test_the_checklist_must_be_complete_before_submission(harness: Harness) -> None:
    """D4: every one of the nine kinds must be ticked; unticking one blocks submission again."""
    h = harness
    await member(h, DRAFTER, ["staff"])
    await fill_form(h, DRAFTER)
    answers = await h.press(DRAFTER, FormCb(action="submit"))
    assert "Tick every item of the prohibited-content checklist first (9 left)." in answers
    await tick_checklist(h, DRAFTER)
    await h.press(DRAFTER, FormCb(action="edit", value="checklist"))
    await h.press(DRAFTER, FormCb(action="chk", value="rumours"))
    await h.press(DRAFTER, FormCb(action="next"))
    answers = await h.press(DRAFTER, FormCb(action="submit"))
    assert "Tick every item of the prohibited-content checklist first (1 left)." in answers


async def test_back_cancel_and_editing_one_field_from_the_sheet(harness: Harness) -> None:
    h = harness
    await member(h, DRAFTER, ["staff"])
    await h.send(DRAFTER, "/publish")
    await h.press(DRAFTER, FormCb(action="kind", value="new"))
    await h.send(DRAFTER, "Title one")
    replies = await h.press(DRAFTER, FormCb(action="back"))
    assert any(r.startswith("Step 1 of 9 · Title") for r in replies)
    replies = await h.press(DRAFTER, FormCb(action="back"))
    assert any("what would you like to submit?" in r for r in replies)
    assert await h.press(DRAFTER, FormCb(action="cancel")) == ["Cancelled. Nothing was submitted."]
    assert await h.send(DRAFTER, "hello") == ["To start, send a command. /help lists what you can do."]

    await fill_form(h, DRAFTER, title="Old title")
    replies = await h.press(DRAFTER, FormCb(action="edit", value="title"))
    assert any(r.startswith("Title: send the title") for r in replies)  # no step counter when editing
    sheet = "\n".join(await h.send(DRAFTER, "New title"))
    assert "Title: New title" in sheet and "Audience: customers" in sheet  # the rest is kept
    await h.press(DRAFTER, FormCb(action="edit", value="audience"))
    sheet = "\n".join(await h.press(DRAFTER, FormCb(action="back")))
    assert "Audience: customers" in sheet
    assert await h.send(DRAFTER, "/cancel") == ["Cancelled. Nothing was saved."]


async def test_only_staff_can_draft(harness: Harness) -> None:
    h = harness
    await member(h, 7002, ["duty_officer"])
    assert await h.send(7002, "/publish") == ["Only staff can submit information for publication."]
