"""/access: the request wizard and the member's overview (C1, C3, C4, C5, C7), through the real Dispatcher."""

from __future__ import annotations

from bot.outgoing.access import AccessCb
from handlers.access_buttons import AskCb
from tests.conftest import Harness
from tests.support.access import dataset_id, request_access
from tests.support.org import HEAD, OWNER, REQUESTER, organisation


async def start(h: Harness) -> list[str]:
    await h.send(REQUESTER, "/access")
    return await h.press(REQUESTER, AccessCb(action="new"))


async def up_to_the_duration(h: Harness) -> None:
    """Customer archives, read-only, a purpose: the wizard now asks until when."""
    await start(h)
    await h.press(REQUESTER, AskCb(action="ds", value=str(await dataset_id(h, "customer_archives"))))
    await h.press(REQUESTER, AskCb(action="next"))
    await h.send(REQUESTER, "Prepare the customer visit plan for April.")


async def test_search_by_name_or_browse_by_department(harness: Harness) -> None:
    """C1: a data set is found by part of its name (any language) or under its owning department."""
    h = harness
    await organisation(h)
    answers = await start(h)
    assert answers[-1].startswith("New request — step 1: which data set?")
    assert "Marketing department" in [text for text, _ in h.buttons(REQUESTER)]
    assert await h.send(REQUESTER, "archive") == ["Tap the data set:"]
    assert [text for text, _ in h.buttons(REQUESTER)][0] == "Customer archives"
    await h.send(REQUESTER, "客户")  # the Chinese name matches too
    assert {text for text, _ in h.buttons(REQUESTER)} >= {"Customer archives", "Customer-risk statistics"}
    assert await h.send(REQUESTER, "payroll of the moon") == [
        "No data set matches. Type another part of the name, or browse by department."
    ]
    await h.press(REQUESTER, AskCb(action="dept", value="finance"))
    assert [text for text, _ in h.buttons(REQUESTER)][0] == "Financial reports"


async def test_read_only_is_preselected_and_only_allowed_modes_are_offered(harness: Harness) -> None:
    """C4: the mode defaults to read-only; a data set offers only its own modes."""
    h = harness
    await organisation(h)
    await start(h)
    answers = await h.press(REQUESTER, AskCb(action="ds", value=str(await dataset_id(h, "financial_reports"))))
    assert "Step 2: which access do you need? Read-only is preselected" in answers[-1]
    modes = [text for text, _ in h.buttons(REQUESTER)][:2]
    assert modes == ["✅ read-only", "▫️ export / copy"]  # no full access for financial reports
    forged = await h.press(REQUESTER, AskCb(action="mode", value="full"))
    assert forged == ["This access mode cannot be requested for this data set."]
    await h.press(REQUESTER, AskCb(action="next"))
    assert (await h.send(REQUESTER, "Check the figures of the annual report draft."))[0].startswith(
        "Step 4: until when?"
    )


async def test_full_access_needs_a_written_reason_and_the_top_step(harness: Harness) -> None:
    """C4: full access asks why read-only is not enough, and the approvers see the reason."""
    h = harness
    await organisation(h)
    await start(h)
    await h.press(REQUESTER, AskCb(action="ds", value=str(await dataset_id(h, "customer_archives"))))
    await h.press(REQUESTER, AskCb(action="mode", value="full"))
    answers = await h.press(REQUESTER, AskCb(action="next"))
    assert answers[-1] == "Full access needs a written reason: why is read-only not enough?"
    assert await h.send(REQUESTER, "fix") == ["Please write at least one full sentence (10 characters or more)."]
    await h.send(REQUESTER, "Wrong addresses must be corrected in place.")
    await h.send(REQUESTER, "Update the archive after the spring campaign.")
    await h.press(REQUESTER, h.buttons(REQUESTER)[0][1])
    confirm = (await h.press(REQUESTER, AskCb(action="accept")))[-1]
    assert "Why full access is needed: Wrong addresses must be corrected in place." in confirm
    assert "Approvals: department head → data owner → Leader" in confirm
    await h.press(REQUESTER, AskCb(action="submit"))
    assert "Why full access is needed: Wrong addresses must be corrected in place." in h.session.texts(HEAD)[-1]


async def test_bad_answers_are_refused_clearly_and_nothing_is_lost(harness: Harness) -> None:
    h = harness
    await organisation(h)
    await start(h)
    await h.press(REQUESTER, AskCb(action="ds", value=str(await dataset_id(h, "customer_archives"))))
    await h.press(REQUESTER, AskCb(action="next"))
    assert await h.send(REQUESTER, "字" * 10_000) == ["That is too long: at most 1000 characters."]
    await h.send(REQUESTER, "Prepare the customer visit plan for April.")
    assert await h.send(REQUESTER, "next tuesday") == ["That is not a date I understand. Send it like 2026-03-31."]
    assert await h.send(REQUESTER, "2026-03-01") == ["That day has passed; choose today or a later day."]
    assert await h.send(REQUESTER, "2026-12-31") == ["At most 90 days for this mode: choose 2026-05-31 or earlier."]
    answers = await h.send(REQUESTER, "2026-04-30")
    assert answers[0].startswith("Step 5: the notice. Data you receive must not be given to third parties")
    confirm = (await h.press(REQUESTER, AskCb(action="accept")))[-1]
    assert "Purpose: Prepare the customer visit plan for April." in confirm
    assert "Until: 2026-04-30 (end of the day)" in confirm


async def test_back_walks_the_steps_in_reverse_and_cancel_leaves_nothing(harness: Harness) -> None:
    h = harness
    await organisation(h)
    await up_to_the_duration(h)
    assert (await h.press(REQUESTER, AskCb(action="back")))[-1].startswith("Step 3: what do you need the data for?")
    assert "Step 2: which access" in (await h.press(REQUESTER, AskCb(action="back")))[-1]
    assert "step 1: which data set?" in (await h.press(REQUESTER, AskCb(action="back")))[-1]
    assert (await h.press(REQUESTER, AskCb(action="cancel")))[-1] == "Cancelled. Nothing was submitted."
    overview = (await h.send(REQUESTER, "/access"))[0]
    assert overview.endswith("You have no requests or grants yet.")
    assert h.session.texts(HEAD) == []  # nobody was asked to approve


async def test_the_overview_shows_where_each_request_is_and_who_holds_it(harness: Harness) -> None:
    """The requester sees where the request is and who holds it; a pending one can be withdrawn."""
    h = harness
    await organisation(h)
    answers = await request_access(h, REQUESTER, "customer_archives")
    assert answers[-1] == "Request #1 submitted. It is at step 1 of 2 (department head), with Li Si."
    overview = (await h.send(REQUESTER, "/access"))[0]
    assert "#1 Customer archives · read-only — waiting: step 1 of 2 (department head), with Li Si" in overview
    withdraw = AccessCb(action="withdraw", id=1)
    assert withdraw.pack() in [data for _, data in h.buttons(REQUESTER)]
    assert await h.press(OWNER, withdraw) == ["This is not your request."]
    assert (await h.press(REQUESTER, withdraw))[-1] == "Request #1 was withdrawn."
    assert "— withdrawn" in (await h.send(REQUESTER, "/access"))[0]
    assert h.session.texts(HEAD)[-1].endswith("— Withdrawn; nothing to decide.")


async def test_the_no_third_party_notice_must_be_accepted(harness: Harness) -> None:
    """C5: there is no way past the notice without accepting it; submit is only offered after it."""
    h = harness
    await organisation(h)
    await up_to_the_duration(h)
    await h.press(REQUESTER, h.buttons(REQUESTER)[0][1])
    assert [text for text, _ in h.buttons(REQUESTER)] == ["✅ I accept", "◀ Back", "Cancel"]
    answers = await h.press(REQUESTER, AskCb(action="submit"))  # forged: submit before accepting
    assert answers == ["This button is no longer valid. Please start again."]
    assert h.session.texts(HEAD) == []
