"""Approvers' asks through the real Dispatcher (issue 14; C3, C4, C5, C7, D2, F1, F3): transfer (转交) a
step to another holder of its role, nudge (催办) the approver at most once per interval, copy (抄送) a
request to a member for information, confirm weighty approvals with a second tap, and protect every
message that shows classified data set details."""

from __future__ import annotations

import pytest
from aiogram.methods import SendMessage
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot.outgoing.access import AccessCb
from bot.outgoing.approvals import AnswerCb, ApprovalCb, PickCb, RequestCb
from bot.outgoing.cards import Card
from bot.outgoing.telegram import render
from bot.services.actor import Actor
from bot.services.errors import Conflict
from handlers.access_buttons import ReportCb
from storage.approval_models import ApprovalDecision, ApprovalStep
from tests.conftest import Harness
from tests.support import publication
from tests.support.access import approve, audit, current_step, dataset_id, member, open_task, submit
from tests.support.org import (
    COMPANY_HEAD,
    HEAD,
    IC_OFFICER,
    LEADER,
    OFFICE_OWNER,
    OWNER,
    REQUESTER,
    organisation,
)

OTHER_HEAD = 3400  # head of finance: holds the department_head role elsewhere
DEPUTY = 3401  # staff of marketing: holds no approver role


def last_text(h: Harness, user_id: int) -> str:
    texts = h.session.texts(user_id)
    return texts[-1] if texts else ""


def labels(h: Harness, user_id: int) -> list[str]:
    return [text for text, _ in h.buttons(user_id)]


async def member_id(h: Harness, telegram_id: int) -> int:
    found = await h.app.members.find(telegram_id)
    assert found is not None
    return found.id


async def people(h: Harness) -> None:
    await organisation(h, "company_head")
    await member(h, OTHER_HEAD, ["department_head"], "finance", "Ma Head")
    await member(h, DEPUTY, ["staff"], "marketing", "Deputy Staff")


# 1. Transfer (转交) ----------------------------------------------------------------------------------------


async def test_an_approver_transfers_the_step_to_another_holder_of_its_role(harness: Harness) -> None:
    """C3: only holders of the step's role are offered, never the requester; the new approver gets the
    card, the old one is edited, the old approver can no longer decide, and it is audited (F1)."""
    h = harness
    await people(h)
    await submit(h, REQUESTER, "financial_reports")  # 秘密: the department head
    step = await current_step(h)
    answers = await h.press(HEAD, ApprovalCb(action="tr", step=step.id))
    assert answers[-1].startswith("Transfer this step to whom?")
    offered = labels(h, HEAD)
    assert "Ma Head · Finance department" in offered and any(o.startswith("Zheng Yi") for o in offered)
    assert not any(o.startswith(("Zhang San", "Li Si", "Deputy Staff", "Wang Wu")) for o in offered)
    ma = await member_id(h, OTHER_HEAD)
    done = await h.press(HEAD, PickCb(action="tr", id=step.id, member=ma))
    assert "Transferred to Ma Head: they have the card now and yours was closed." in done
    assert any(text.endswith("🔀 Transferred to Ma Head by Li Si.") for text in h.session.texts(HEAD))
    card = last_text(h, OTHER_HEAD)
    assert card.startswith("🔀 Li Si transferred this request to you: you decide this step now.")
    assert "🔀 department head: Li Si · transferred to Ma Head" in card  # the history shows it
    assert "with Ma Head" in last_text(h, REQUESTER)  # the requester knows who holds it now
    assert (await h.send(REQUESTER, "/requests"))[0].endswith("with Ma Head.")
    assert "Only the approvers of this step can decide it." in await h.press(
        HEAD, ApprovalCb(action="ok", step=step.id)
    )
    await approve(h, OTHER_HEAD)
    assert any("was approved" in text for text in h.session.texts(REQUESTER))
    [entry] = await audit(h, "approval", "transferred")
    assert entry.details["to"] == ma and entry.details["step"] == 1


async def test_a_forged_or_foreign_transfer_changes_nothing_and_is_audited(harness: Harness) -> None:
    """F3, C3: a press naming the requester or a member without the role is refused; so is a press by
    someone who is not an approver of the step."""
    h = harness
    await people(h)
    await submit(h, REQUESTER, "financial_reports")
    step = await current_step(h)
    refusal = "That member cannot take this step: it needs someone who holds its role, not the requester."
    for target in (REQUESTER, DEPUTY, HEAD):
        forged = PickCb(action="tr", id=step.id, member=await member_id(h, target))
        assert refusal in await h.press(HEAD, forged)
    stranger = PickCb(action="tr", id=step.id, member=await member_id(h, OTHER_HEAD))
    assert "Only the approvers of this step can decide it." in await h.press(OWNER, stranger)
    assert "Only the approvers of this step can decide it." in await h.press(
        DEPUTY, ApprovalCb(action="tr", step=step.id)
    )
    assert len(await audit(h, "approval", "refused")) == 5
    assert await audit(h, "approval", "transferred") == []
    assert "Step 1 of 1" in last_text(h, HEAD) and "A request waits" not in last_text(h, OTHER_HEAD)


async def test_a_transferred_step_gets_a_fresh_window_and_escalates_above(harness: Harness) -> None:
    """C7: the new approver has a whole step window; idle, they are reminded, then it climbs to the
    superiors above the step, not back to the approver who passed it on."""
    h = harness
    await people(h)
    await submit(h, REQUESTER, "financial_reports")  # Monday 09:00
    step = await current_step(h)
    h.clock.advance(hours=20)
    await h.press(HEAD, PickCb(action="tr", id=step.id, member=await member_id(h, OTHER_HEAD)))
    before = len(h.session.texts(HEAD))
    await h.advance(hours=4)  # the head's original window would end now
    assert "Reminder" not in last_text(h, OTHER_HEAD) and "Reminder" not in last_text(h, HEAD)
    await h.advance(hours=20)
    assert last_text(h, OTHER_HEAD).startswith("⏰ Reminder")
    await h.advance(days=1)
    assert last_text(h, COMPANY_HEAD).startswith("⏫ Escalated to you: Ma Head did not decide")
    assert h.session.texts(HEAD)[before:] == []  # nothing goes back to the head who passed it on


async def test_the_transfer_offer_and_card_come_in_the_readers_language(harness: Harness) -> None:
    """Simplified Chinese first: a Chinese-reading approver transfers to a Chinese-reading colleague."""
    h = harness
    await people(h)
    await h.app.members.set_language(HEAD, "zh_Hans")
    await h.app.members.set_language(OTHER_HEAD, "zh_Hans")
    await submit(h, REQUESTER, "financial_reports")
    step = await current_step(h)
    assert "🔀 转交" in labels(h, HEAD) and "📨 抄送…" in labels(h, HEAD)
    offer = await h.press(HEAD, ApprovalCb(action="tr", step=step.id))
    assert offer[-1].startswith("将此步骤转交给谁？")
    done = await h.press(HEAD, PickCb(action="tr", id=step.id, member=await member_id(h, OTHER_HEAD)))
    assert any(answer.startswith("已转交给Ma Head：") for answer in done)
    assert last_text(h, OTHER_HEAD).startswith("🔀 Li Si将此申请转交给您")
    sent = h.session.last(OTHER_HEAD, SendMessage)
    assert sent is not None and sent.protect_content is True  # 秘密: protected


async def test_nobody_else_holding_the_role_means_nothing_to_transfer(harness: Harness) -> None:
    h = harness
    await organisation(h)  # the only department head is the approver
    await submit(h, REQUESTER, "financial_reports")
    step = await current_step(h)
    answers = await h.press(HEAD, ApprovalCb(action="tr", step=step.id))
    assert answers[-1] == "Nobody else holds the role this step needs, so it cannot be transferred."
    assert RequestCb(action="cc", request=1).pack() in [data for _, data in h.buttons(HEAD)]
    assert (await current_step(h)).id == step.id


# 2. Nudge (催办) -------------------------------------------------------------------------------------------


async def test_the_requester_nudges_the_approver_once_per_interval(harness: Harness) -> None:
    """C7: /requests lists what is waiting with a Nudge button; the approver gets a reminder card with
    the decision buttons; a second nudge within the policy interval (default 4 hours) is refused with
    the time left and reaches nobody; after it, nudging works again."""
    h = harness
    await people(h)
    await submit(h, REQUESTER, "financial_reports")
    listing = await h.send(REQUESTER, "/requests")
    assert listing == ["Data access: #1 Financial reports · read-only\nAt step 1 of 1 (department head), with Li Si."]
    assert labels(h, REQUESTER) == ["🔔 Nudge the approver", "📨 Copy to…"]
    assert await h.press(REQUESTER, RequestCb(action="nudge", request=1)) == ["🔔 Reminder sent to Li Si."]
    card = last_text(h, HEAD)
    assert card.startswith("🔔 Zhang San is waiting and asks you to decide this request.")
    assert "🔔 department head: Zhang San · nudged the approver" in card
    assert labels(h, HEAD)[:2] == ["✅ Approve", "⛔ Reject"]
    before = len(h.session.texts(HEAD))
    h.clock.advance(minutes=75)
    again = await h.press(REQUESTER, RequestCb(action="nudge", request=1))
    assert again == ["You nudged this request at 2 Mar 2026, 09:00. You can nudge again in 2 h 45 min."]
    assert h.session.texts(HEAD)[before:] == []
    h.clock.advance(hours=2, minutes=45)
    assert await h.press(REQUESTER, RequestCb(action="nudge", request=1)) == ["🔔 Reminder sent to Li Si."]
    assert len(await audit(h, "approval", "nudged")) == 2


async def test_only_the_requester_nudges_and_not_while_a_question_waits_for_them(harness: Harness) -> None:
    """F3: anyone else's nudge is refused and audited; with an approver's question open, the requester
    is asked to answer it instead; a decided request cannot be nudged."""
    h = harness
    await people(h)
    await submit(h, REQUESTER, "financial_reports")
    step = await current_step(h)
    for other in (DEPUTY, HEAD):
        assert await h.press(other, RequestCb(action="nudge", request=1)) == [
            "Only the requester can nudge this request."
        ]
    assert len(await audit(h, "approval", "refused")) == 2
    await h.press(HEAD, ApprovalCb(action="ask", step=step.id))
    await h.send(HEAD, "Which customers exactly?")
    assert await h.press(REQUESTER, RequestCb(action="nudge", request=1)) == [
        "The approver is waiting for your answer to their question; answer it first."
    ]
    await h.app.members.set_language(REQUESTER, "zh_Hans")
    assert await h.press(REQUESTER, RequestCb(action="nudge", request=1)) == ["审批人正在等待您回答其提问，请先回答。"]
    await h.app.members.set_language(REQUESTER, "en")
    await approve(h, HEAD)
    assert await h.press(REQUESTER, RequestCb(action="nudge", request=1)) == [
        "This request is no longer waiting for a decision."
    ]
    assert await h.send(REQUESTER, "/requests") == ["None of your requests is waiting for a decision."]
    assert await audit(h, "approval", "nudged") == []


async def test_progress_notes_carry_the_nudge_button(harness: Harness) -> None:
    """After an escalation the requester is told who holds the request, with Nudge under it."""
    h = harness
    await people(h)
    await submit(h, REQUESTER, "customer_archives")  # 机密: head, then data owner
    await approve(h, HEAD)
    assert last_text(h, REQUESTER).startswith("📍 Your request «#1 Customer archives · read-only» is at step 2 of 2")
    assert labels(h, REQUESTER) == ["🔔 Nudge the approver", "📨 Copy to…"]
    assert await h.press(REQUESTER, RequestCb(action="nudge", request=1)) == ["🔔 Reminder sent to Wang Wu."]
    assert last_text(h, OWNER).startswith("🔔 Zhang San is waiting")


# 3. Copy (抄送) --------------------------------------------------------------------------------------------


async def test_an_approver_copies_a_member_who_gets_a_read_only_protected_card(harness: Harness) -> None:
    """The approver picks a member (typing part of a name searches); the member reads the request but
    has no buttons and cannot decide; the copy is in the history and the audit log (F1)."""
    h = harness
    await people(h)
    await submit(h, REQUESTER, "financial_reports")  # 秘密
    step = await current_step(h)
    offer = await h.press(HEAD, RequestCb(action="cc", request=1))
    assert offer[-1].startswith("Who should get a copy for their information?")
    assert "Zhang San · Marketing department" not in labels(h, HEAD)  # the requester knows already
    assert "Li Si · Marketing department" not in labels(h, HEAD)
    found = await h.send(HEAD, "deputy")
    assert found[-1].startswith("Who should get a copy") and labels(h, HEAD) == [
        "Deputy Staff · Marketing department",
        "Cancel",
    ]
    deputy = await member_id(h, DEPUTY)
    done = await h.press(HEAD, PickCb(action="cc", id=1, member=deputy))
    assert done == ["A copy was sent to Deputy Staff. They can read the request but not decide on it."]
    copy = h.session.last(DEPUTY, SendMessage)
    assert copy is not None and copy.text is not None
    assert copy.text.startswith(
        "📨 Li Si sent you a copy of this request for your information. You cannot decide on it."
    )
    assert "Data set: Financial reports (Secret, Finance department)" in copy.text
    assert copy.reply_markup is None and copy.protect_content is True
    assert "Only the approvers of this step can decide it." in await h.press(
        DEPUTY, ApprovalCb(action="ok", step=step.id)
    )
    [entry] = await audit(h, "approval", "copied")
    assert entry.details["to"] == deputy
    await h.press(REQUESTER, RequestCb(action="nudge", request=1))
    assert "📨 department head: Li Si · copied to Deputy Staff" in last_text(h, HEAD)


async def test_the_requester_copies_from_requests_and_nobody_is_copied_twice(harness: Harness) -> None:
    h = harness
    await people(h)
    await submit(h, REQUESTER, "financial_reports")
    await h.send(REQUESTER, "/requests")
    await h.press(REQUESTER, RequestCb(action="cc", request=1))
    await h.send(REQUESTER, "Ma")
    ma = await member_id(h, OTHER_HEAD)
    assert await h.press(REQUESTER, PickCb(action="cc", id=1, member=ma)) == [
        "A copy was sent to Ma Head. They can read the request but not decide on it."
    ]
    assert last_text(h, OTHER_HEAD).startswith("📨 Zhang San sent you a copy")
    assert await h.press(REQUESTER, PickCb(action="cc", id=1, member=ma)) == [
        "Ma Head already has a copy of this request."
    ]
    await h.press(REQUESTER, RequestCb(action="cc", request=1))
    assert not any(label.startswith("Ma Head") for label in labels(h, REQUESTER))
    assert await h.press(REQUESTER, ApprovalCb(action="stop", step=0)) == ["Cancelled. Nothing was changed."]
    assert len(await audit(h, "approval", "copied")) == 1


async def test_only_the_requester_or_a_current_approver_copies(harness: Harness) -> None:
    """F3: an outsider's copy press, forged or not, is refused and audited; nobody copies the requester
    or themselves; a decided request is not copied any more."""
    h = harness
    await people(h)
    await submit(h, REQUESTER, "financial_reports")
    refusal = "Only the requester or an approver of its current step can copy this request."
    assert await h.press(DEPUTY, RequestCb(action="cc", request=1)) == [refusal]
    assert await h.press(OTHER_HEAD, PickCb(action="cc", id=1, member=await member_id(h, DEPUTY))) == [refusal]
    for target in (REQUESTER, HEAD):
        forged = PickCb(action="cc", id=1, member=await member_id(h, target))
        assert await h.press(HEAD, forged) == ["Choose another active member to copy."]
    assert await h.press(HEAD, PickCb(action="cc", id=99, member=1)) == ["This request no longer exists."]
    assert len(await audit(h, "approval", "refused")) == 5
    await approve(h, HEAD)
    assert await h.press(HEAD, RequestCb(action="cc", request=1)) == [
        "This request is no longer waiting for a decision."
    ]
    assert await audit(h, "approval", "copied") == []


# 4. Confirmation of weighty approvals (C4, C5) ---------------------------------------------------------------


async def test_a_top_secret_approval_shows_what_is_granted_and_only_confirm_approves(harness: Harness) -> None:
    """绝密: the first tap shows what, to whom, until when, protected; Back approves nothing; Confirm does."""
    h = harness
    await organisation(h, "hr")
    await submit(h, REQUESTER, "hr_files")  # 绝密: head, data owner, leader
    step = await current_step(h)
    first = await h.press(HEAD, ApprovalCb(action="ok", step=step.id))
    assert first == [
        "⚠️ Please confirm your approval.\n\n"
        "You grant: «Personnel files» (Top secret), read-only\n"
        "To: Zhang San (Marketing department)\n"
        "Until: 9 Mar 2026, 23:59\n\n"
        "Only Confirm approves; Back leaves the request waiting for your decision."
    ]
    assert labels(h, HEAD) == ["✅ Confirm", "◀ Back"]
    assert h.session.last(HEAD, SendMessage).protect_content is True  # type: ignore[union-attr]
    assert (await current_step(h)).id == step.id  # nothing approved yet
    assert await h.press(HEAD, ApprovalCb(action="back", step=step.id)) == [
        "Not approved. The request still waits for your decision."
    ]
    assert (await current_step(h)).id == step.id
    done = await h.press(HEAD, ApprovalCb(action="yes", step=step.id))
    assert done[0].startswith("Approved. The request now goes to Zhou Jiu.")
    assert (await current_step(h)).position == 1


async def test_full_and_export_need_confirmation_but_a_plain_read_only_approval_does_not(harness: Harness) -> None:
    """C4, C5: full access and export confirm at every step; read-only below 绝密 takes one tap."""
    h = harness
    await organisation(h)
    await submit(h, REQUESTER, "financial_reports")  # 秘密, read-only
    step = await current_step(h)
    assert (await h.press(HEAD, ApprovalCb(action="ok", step=step.id)))[0] == "Approved. That was the last step."
    await submit(h, REQUESTER, "financial_reports", "export")  # 秘密, export: head, leader
    for approver in (HEAD, LEADER):
        step = await current_step(h)
        first = await h.press(approver, ApprovalCb(action="ok", step=step.id))
        assert "You grant: «Financial reports» (Secret), export / copy\nTo: Zhang San" in first[0]
        await h.press(approver, ApprovalCb(action="yes", step=step.id))
    await submit(h, REQUESTER, "customer_archives", "full")  # 机密, full
    step = await current_step(h)
    first = await h.press(HEAD, ApprovalCb(action="ok", step=step.id))
    assert "You grant: «Customer archives» (Confidential), full access\n" in first[0]


async def test_both_taps_are_re_authorised_and_the_service_refuses_an_unconfirmed_approval(
    harness: Harness,
) -> None:
    """F3: Confirm is checked again (the step moved on meanwhile); a call without the second tap
    approves nothing."""
    h = harness
    await people(h)
    await member(h, 3402, ["department_head"], "hr", "Hu Head")
    await submit(h, REQUESTER, "financial_reports", "export")
    step = await current_step(h)
    assert "Only the approvers of this step can decide it." in await h.press(
        DEPUTY, ApprovalCb(action="yes", step=step.id)
    )
    await h.press(HEAD, ApprovalCb(action="ok", step=step.id))  # the summary is on the screen
    await h.press(HEAD, PickCb(action="tr", id=step.id, member=await member_id(h, OTHER_HEAD)))
    assert "Only the approvers of this step can decide it." in await h.press(
        HEAD, ApprovalCb(action="yes", step=step.id)
    )
    with pytest.raises(Conflict):
        await h.app.flows.approvals.approve(Actor(OTHER_HEAD, OTHER_HEAD), step.id)
    assert (await current_step(h)).id == step.id
    reasons = [entry.details["reason"] for entry in await audit(h, "approval", "refused")]
    assert reasons[-1] == "Please confirm this approval first; nothing was changed."


async def test_the_confirmation_reads_in_chinese(harness: Harness) -> None:
    h = harness
    await organisation(h, "hr")
    await h.app.members.set_language(HEAD, "zh_Hans")
    await submit(h, REQUESTER, "hr_files")
    step = await current_step(h)
    first = await h.press(HEAD, ApprovalCb(action="ok", step=step.id))
    assert first[0].startswith("⚠️ 请确认您的批准。\n\n授予：「")
    assert "授予对象：Zhang San（市场部）" in first[0]
    assert "（绝密）" in first[0] and labels(h, HEAD) == ["✅ 确认", "◀ 返回"]


# 5. protect_content on classified details ------------------------------------------------------------------


def test_a_protected_card_is_sent_with_protect_content_and_a_plain_one_without() -> None:
    """The platform-neutral card says so; the Telegram renderer turns it into protect_content."""
    protected = Card("Data set: HR files", protect=True).payload()
    assert protected == {"text": "Data set: HR files", "protect": True}
    assert render({"chat_id": 1, **protected}) == {"chat_id": 1, "text": "Data set: HR files", "protect_content": True}
    assert render({"chat_id": 1, **Card("Hello").payload()}) == {"chat_id": 1, "text": "Hello"}


def protected_texts(h: Harness, user_id: int) -> list[tuple[str, bool]]:
    """(text, protect_content) of every message sent to the user."""
    return [(m.text or "", m.protect_content is True) for m in h.session.sent(user_id, SendMessage)]


async def test_every_message_showing_a_classified_request_or_grant_is_protected(harness: Harness) -> None:
    """秘密 and above: cards, the requester's notes, tasks, the holder's notices, /access and /grants
    cannot be forwarded or saved; an internal (unclassified) data set's messages can."""
    h = harness
    await organisation(h, "office")
    await submit(h, REQUESTER, "staff_directory")  # internal: not classified
    await approve(h, OFFICE_OWNER)
    plain = [item for item in protected_texts(h, OFFICE_OWNER) if "Staff directory" in item[0]]
    assert plain and not any(protect for _, protect in plain)
    task = await open_task(h)
    await h.press(IC_OFFICER, AccessCb(action="done", id=task.id))
    before = {user: len(protected_texts(h, user)) for user in (HEAD, REQUESTER, IC_OFFICER)}
    await submit(h, REQUESTER, "financial_reports")  # 秘密
    step = await current_step(h)
    await h.press(HEAD, ApprovalCb(action="ask", step=step.id))
    await h.send(HEAD, "Which quarter?")
    assert protected_texts(h, REQUESTER)[-1] == (
        "❓ Li Si asks about your request «#2 Financial reports · read-only»:\nWhich quarter?",
        True,
    )
    await h.press(REQUESTER, next(data for text, data in h.buttons(REQUESTER) if text == "✍️ Answer"))
    await h.send(REQUESTER, "The first quarter of 2026.")
    await approve(h, HEAD)
    task = await open_task(h)
    await h.press(IC_OFFICER, AccessCb(action="done", id=task.id))
    for user in (HEAD, IC_OFFICER, REQUESTER):  # the card, the task; the question, ready notice
        details = [item for item in protected_texts(h, user)[before[user] :] if "Financial reports" in item[0]]
        assert details and all(protect for _, protect in details), user
    await submit(h, REQUESTER, "customer_archives")  # 机密, waiting for the head
    await h.send(REQUESTER, "/requests")
    assert h.session.last(REQUESTER, SendMessage).protect_content is True  # type: ignore[union-attr]
    await h.send(HEAD, "/approvals")
    assert h.session.last(HEAD, SendMessage).protect_content is True  # type: ignore[union-attr]
    overview = await h.send(REQUESTER, "/access")
    assert "Financial reports" in overview[0] and h.session.last(REQUESTER, SendMessage).protect_content is True  # type: ignore[union-attr]
    await h.send(LEADER, "/grants")
    await h.press(LEADER, ReportCb(action="ds", value=str(await dataset_id(h, "financial_reports"))))
    holders = h.session.last(LEADER, SendMessage)
    assert holders is not None and "Zhang San" in (holders.text or "") and holders.protect_content is True


# The same asks on publication review (D2) -------------------------------------------------------------------


async def test_publication_review_gets_transfer_nudge_and_copy_too(harness: Harness) -> None:
    """D2 runs on the same engine: the marketing head transfers the signing step to the company's head,
    the drafter nudges and copies a colleague; an unclassified form's messages are not protected."""
    h = harness
    await publication.organisation(h)
    await publication.submit(h, publication.DRAFTER)
    step = await publication.active_step(h)
    company_head = await member_id(h, publication.COMPANY_HEAD)
    await h.press(publication.HEAD, ApprovalCb(action="tr", step=step.id))
    assert any(label.startswith("Zheng Yi") for label in labels(h, publication.HEAD))
    await h.press(publication.HEAD, PickCb(action="tr", id=step.id, member=company_head))
    card = h.session.last(publication.COMPANY_HEAD, SendMessage)
    assert card is not None and (card.text or "").startswith("🔀 Li Si transferred this request to you")
    assert card.protect_content is not True
    listing = await h.send(publication.DRAFTER, "/requests")
    assert listing == ["Publication: #1 Spring open day\nAt step 1 of 2 (department head), with Zheng Yi."]
    request_id = (await publication.active_step(h)).request_id
    assert await h.press(publication.DRAFTER, RequestCb(action="nudge", request=request_id)) == [
        "🔔 Reminder sent to Zheng Yi."
    ]
    colleague = await member_id(h, publication.COLLEAGUE)
    await h.press(publication.DRAFTER, PickCb(action="cc", id=request_id, member=colleague))
    assert publication.last_text(h, publication.COLLEAGUE).startswith("📨 Zhang San sent you a copy")
    await publication.decide(h, publication.COMPANY_HEAD)
    assert "Step 2 of 2" in publication.last_text(h, publication.LEADER)


async def test_an_answer_to_a_question_asked_before_a_transfer_reaches_the_new_approver(harness: Harness) -> None:
    """The step's clock stays stopped while the question is open; the answer goes to whoever holds it."""
    h = harness
    await people(h)
    await submit(h, REQUESTER, "financial_reports")
    step = await current_step(h)
    await h.press(HEAD, ApprovalCb(action="ask", step=step.id))
    await h.send(HEAD, "Which quarter?")
    await h.press(HEAD, PickCb(action="tr", id=step.id, member=await member_id(h, OTHER_HEAD)))
    await h.advance(days=3)
    assert "Reminder" not in last_text(h, OTHER_HEAD)
    before = len(h.session.texts(HEAD))
    await h.press(REQUESTER, AnswerCb(question=1))  # the Answer button under the question
    await h.send(REQUESTER, "The first quarter of 2026.")
    card = last_text(h, OTHER_HEAD)
    assert card.startswith("💬 Zhang San answered your question")
    assert "❓ Li Si asked: Which quarter?\n   💬 The first quarter of 2026." in card
    assert h.session.texts(HEAD)[before:] == []


# Forged presses of the new buttons (F3) ---------------------------------------------------------------------

forged_ids = st.one_of(st.integers(-2, 4), st.integers(-(2**63), 2**63 - 1))
forged_presses = st.one_of(
    st.builds(lambda a, i: f"apv:{a}:{i}", st.sampled_from(["tr", "yes", "back"]), forged_ids),
    st.builds(lambda a, i: f"apr:{a}:{i}", st.sampled_from(["nudge", "cc", "zz"]), forged_ids),
    st.builds(lambda a, i, m: f"apk:{a}:{i}:{m}", st.sampled_from(["tr", "cc", "zz"]), forged_ids, forged_ids),
).filter(lambda data: len(data.encode()) <= 64)


async def snapshot(h: Harness) -> tuple:
    async with h.app.uow() as uow:
        steps = [(s.id, s.state, s.transferred_to) for s in await uow.session.scalars(select(ApprovalStep))]
        decisions = await uow.session.scalar(select(func.count()).select_from(ApprovalDecision))
        return steps, decisions


@given(data=forged_presses, presser=st.sampled_from([DEPUTY, OTHER_HEAD, OWNER]))
@example(data=ApprovalCb(action="yes", step=1).pack(), presser=DEPUTY).via("Confirm by a non-approver")
@example(data=PickCb(action="tr", id=1, member=5).pack(), presser=OTHER_HEAD).via("transfer by a non-holder")
@example(data=RequestCb(action="nudge", request=1).pack(), presser=OWNER).via("nudge by another member")
@example(data=f"apk:cc:1:{2**31}", presser=DEPUTY).via("beyond PostgreSQL's integer")
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
async def test_forged_or_foreign_asks_change_nothing_and_are_answered(
    harness: Harness, data: str, presser: int
) -> None:
    """Whoever presses whatever: transfer, confirm, nudge and copy buttons of others, or forged ones,
    change nothing, and every press gets an answer."""
    h = harness
    if await h.app.members.find(REQUESTER) is None:
        await people(h)
        await submit(h, REQUESTER, "financial_reports", "export")  # needs confirmation
    before, calls = await snapshot(h), len(h.session.requests)
    await h.press(presser, data)
    assert h.session.requests[calls:], "the press got no answer at all"
    assert await snapshot(h) == before
