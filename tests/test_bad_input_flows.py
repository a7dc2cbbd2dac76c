"""Bad input, property-based (issue 7), through the wizards of the access, publication and deadline flows:
free texts (arbitrary Unicode, control characters incl. NUL, 10,000 characters, HTML/Markdown and SQL
injection) and typed dates (impossible, far past or future, garbage). Each answer is stored and shown back
exactly (plain text, no parse mode) or refused with a clear answer, nothing stored; nothing crashes.
Rules C1, C4, C7, D1, D5, E4. The texts run on PostgreSQL too (NUL) via the database_url fixture."""

from __future__ import annotations

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot.outgoing.access import AccessCb
from bot.outgoing.deadlines import DeadlineCb
from bot.services.access import MAX_PURPOSE, MIN_PURPOSE
from bot.services.text import visible_text
from handlers.access_buttons import AskCb
from handlers.deadline_ui import DeadlineFormCb
from handlers.publication_buttons import FormCb
from storage.access_models import AccessRequest
from storage.deadlines_models import DeadlineInstance
from storage.publication_models import PublicationVersion
from tests.conftest import Harness
from tests.support import publication as pub
from tests.support.access import dataset_id
from tests.support.deadlines import HEAD, OWNER, deadline_harness, instance, join_en  # noqa: F401  (fixture dh)
from tests.support.org import HEAD as ORG_HEAD
from tests.support.org import REQUESTER, organisation
from tests.test_bad_input_incidents import hostile_text

examples = settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
NUL = "nul\x00byte\x07bell and more"
LONG = "x" * 10_000
dates = st.one_of(
    hostile_text,
    st.sampled_from(
        [
            "2026-02-30",
            "31/13/2026",
            "2026-13-01",
            "0001-01-01",
            "9999-12-31",
            "1900-01-01",
            "2026-3-9",
            "2026年3月9日",
            "3-9",
            "0001-01-01 00:00",
            "9999-12-31 23:59",
            "2026-03-05 24:00",
            "2026-02-29 09:00",
        ]
    ),
    st.from_regex(r"[0-9]{4}[-/.][0-9]{1,2}[-/.][0-9]{1,2}( [0-9]{1,2}:[0-9]{2})?", fullmatch=True),
).filter(lambda text: text.strip() and not text.startswith("/"))


# Access requests (/access) --------------------------------------------------------------------------
async def requests(h: Harness) -> list[AccessRequest]:
    async with h.app.uow() as uow:
        return list(await uow.session.scalars(select(AccessRequest).order_by(AccessRequest.id)))


@given(purpose=hostile_text, until=dates)
@example(purpose=NUL, until="2026-03-09").via("PostgreSQL cannot store NUL")
@example(purpose=LONG, until="2026-02-30")
@example(purpose="<b>Audit</b> </code> &amp; *_[ of the archive", until="31/13/2026")
@example(purpose="'); DROP TABLE access_requests; --", until="9999-12-31")
@examples
async def test_access_purpose_and_any_typed_date(harness: Harness, purpose: str, until: str) -> None:
    h = harness
    if await h.app.members.find(REQUESTER) is None:
        await organisation(h)
    before = len(await requests(h))
    await h.send(REQUESTER, "/access")
    await h.press(REQUESTER, AccessCb(action="new"))
    await h.press(REQUESTER, AskCb(action="ds", value=str(await dataset_id(h, "customer_archives"))))
    await h.press(REQUESTER, AskCb(action="next"))
    replies = await h.send(REQUESTER, purpose)
    expected = visible_text(purpose).strip()
    if len(expected) < MIN_PURPOSE:
        assert replies == ["Please write at least one full sentence (10 characters or more)."]
        expected = "A purpose typed after the refusal."
        replies = await h.send(REQUESTER, expected)
    elif len(expected) > MAX_PURPOSE:
        assert replies == ["That is too long: at most 1000 characters."]
        expected = "A purpose typed after the refusal."
        replies = await h.send(REQUESTER, expected)
    assert replies[-1].startswith("Step 4: until when?")
    replies = await h.send(REQUESTER, until)
    assert len(replies) == 1
    if not replies[0].startswith("Step 5: the notice"):
        assert replies[0].startswith(("That is not a date I understand", "That day has passed", "At most "))
        await h.press(REQUESTER, [data for _, data in h.buttons(REQUESTER) if data.startswith("acw:date:")][0])
    await h.press(REQUESTER, AskCb(action="accept"))
    confirm = h.session.texts(REQUESTER)[-1]
    assert f"\nPurpose: {expected}\n" in confirm
    assert (await h.press(REQUESTER, AskCb(action="submit")))[-1].startswith("Request #")
    stored = await requests(h)
    assert len(stored) == before + 1 and stored[-1].purpose == expected
    assert any(f"Purpose: {expected}" in text for text in h.session.texts(ORG_HEAD))  # the approver reads it too


# Publication review (/publish, 信息发布管理表) ---------------------------------------------------------
async def forms(h: Harness) -> list[PublicationVersion]:
    async with h.app.uow() as uow:
        return list(await uow.session.scalars(select(PublicationVersion).order_by(PublicationVersion.id)))


async def answer(h: Harness, text: str, ok: str, fallback: str) -> str:
    """Type an answer; when the step refuses it (one clear reply, the step waits), type ``fallback``."""
    replies = await h.send(pub.DRAFTER, text)
    assert replies, f"no answer to {text!r}"
    if not any(ok in reply for reply in replies):
        assert len(replies) == 1 and "·" not in replies[0], replies  # a refusal, not the next step
        replies = await h.send(pub.DRAFTER, fallback)
        assert any(ok in reply for reply in replies), replies
        return fallback
    return text


@given(title=hostile_text, body=hostile_text, audience=hostile_text, embargo=dates)
@example(title=NUL, body=NUL, audience=NUL, embargo="2026-02-30 09:00").via("PostgreSQL cannot store NUL")
@example(title=LONG, body=LONG, audience=LONG, embargo="0001-01-01 00:00").via("before year 1 in UTC")
@example(
    title="<b>Open</b> day &amp;",
    body="</code> *_[ `x` <a href='x'>y</a>",
    audience="'; --",
    embargo="9999-12-31 23:59",
)
@examples
async def test_publication_form_fields_and_embargo(
    harness: Harness, title: str, body: str, audience: str, embargo: str
) -> None:
    h = harness
    if await h.app.members.find(pub.DRAFTER) is None:
        await pub.organisation(h)
    before = len(await forms(h))
    await h.send(pub.DRAFTER, "/publish")
    await h.press(pub.DRAFTER, FormCb(action="kind", value="new"))
    title = await answer(h, title, "Step 2 of 9", "Fallback title")
    body = await answer(h, body, "Step 3 of 9", "Fallback body.")
    await h.press(pub.DRAFTER, FormCb(action="next"))
    await h.press(pub.DRAFTER, FormCb(action="ch", value="website"))
    await h.press(pub.DRAFTER, FormCb(action="next"))
    audience = await answer(h, audience, "Step 6 of 9", "customers")
    await h.send(pub.DRAFTER, "1")
    await h.press(pub.DRAFTER, FormCb(action="skip"))
    await answer(h, embargo, "Step 9 of 9", "2026-12-01 09:00")
    sheet = await h.press(pub.DRAFTER, FormCb(action="next"))
    await pub.tick_checklist(h, pub.DRAFTER)
    answers = await h.press(pub.DRAFTER, FormCb(action="submit"))
    assert answers, "the submit got no answer"
    stored = await forms(h)
    if not visible_text(body).strip():  # nothing visible to publish: refused at submit, nothing stored
        assert len(stored) == before
        await h.send(pub.DRAFTER, "/cancel")
        return
    assert len(stored) == before + 1
    form = stored[-1]
    shown_title, shown_audience = " ".join(visible_text(title).split()), " ".join(visible_text(audience).split())
    assert (form.title, form.audience) == (shown_title, shown_audience)
    assert form.body == visible_text(body)  # exactly as typed, less invisible control characters
    assert any(shown_title in text for text in sheet)


# Deadlines: "Need more time" and Done evidence ---------------------------------------------------------
async def rows(h: Harness) -> list[DeadlineInstance]:
    async with h.app.uow() as uow:
        return list(await uow.session.scalars(select(DeadlineInstance).order_by(DeadlineInstance.id)))


@given(reason=hostile_text, due=dates, note=hostile_text)
@example(reason=NUL, due="2025-10-20 18:00", note=NUL).via("PostgreSQL cannot store NUL")
@example(reason=LONG, due="0001-01-01", note=LONG)
@example(reason="<b>late</b> &amp; *_[", due="2025-02-30", note="'); DROP TABLE deadline_instances; --")
@examples
async def test_more_time_reason_new_deadline_and_done_evidence(dh: Harness, reason: str, due: str, note: str) -> None:
    h = dh
    if await h.app.members.find(OWNER) is None:
        await join_en(h, OWNER, ["information_officer"], "branch_a")
        await join_en(h, HEAD, ["department_head"], "branch_a")
        await h.start()
    row = await instance(h, "branch_risk", "2025-09")
    await h.send(OWNER, "/cancel")
    await h.send(HEAD, "/cancel")
    # the owner asks for more time with any reason (while an earlier request waits, the press is refused)
    answers = await h.press(OWNER, DeadlineCb(action="more", id=row.id))
    assert answers, "the press got no answer"
    if answers[-1].startswith("More time for"):
        replies = await h.send(OWNER, reason)
        shown = " ".join(visible_text(reason).split())
        if not shown or len(shown) > 500:
            assert replies in (["Please give a reason."], ["The reason is too long: at most 500 characters."])
            await h.send(OWNER, "/cancel")
        else:
            assert replies == [f"Ask your department head for more time?\nReason: {shown}"]
            assert (await h.press(OWNER, DeadlineFormCb(action="ok")))[-1].startswith("Your request for more time")
            assert h.session.texts(HEAD)[-1].endswith(f"\nReason: {shown}")
    # the head types any new deadline
    answers = await h.press(HEAD, DeadlineCb(action="grant", id=row.id))
    assert answers, "the press got no answer"
    if answers[-1].startswith("More time for"):
        replies = await h.send(HEAD, due)
        assert len(replies) == 1 and replies[0].startswith(
            ("Why is more time given?", "Please send a date such as", "The new deadline ")
        ), replies
        await h.send(HEAD, "/cancel")
    # the owner marks done with any note (the first example that can, does; later ones find it done)
    was_done = (await instance(h, "branch_risk", "2025-09")).done_at is not None
    answers = await h.press(OWNER, DeadlineCb(action="done", id=row.id))
    assert answers
    if was_done:
        return
    replies = await h.send(OWNER, note)
    kept = visible_text(note).strip()
    if not kept or len(kept) > 2000:
        assert len(replies) == 1 and replies[0] in (
            "Send a note, a document or a photo as evidence.",
            "The note is too long: at most 2000 characters.",
        )
        await h.send(OWNER, "/cancel")
        return
    assert replies == [f"Mark it done with this evidence: {kept}?"]
    assert (await h.press(OWNER, DeadlineFormCb(action="ok")))[-1].startswith("✅ Marked done:")
    assert (await instance(h, "branch_risk", "2025-09")).evidence_note == kept
