"""The approval engine through the real Dispatcher, with data-access requests as its subject:
every chain by classification and mode (C2, C4, C5), the rules of who may decide (C3, F3),
reject with a reason, the question round trip, idle reminders and escalation (C7), delegation."""

from __future__ import annotations

from datetime import datetime

import pytest

from bot.outgoing.approvals import AnswerCb, ApprovalCb
from bot.services.actor import Actor
from bot.services.approvals import ApprovalKind, StepWindow
from handlers.away import AwayCb
from handlers.callbacks import MemberCb
from storage.approval_models import ApprovalRequest
from storage.uow import UnitOfWork
from tests.conftest import ADMIN_ID, Harness
from tests.support.access import approve, audit, current_step, member, submit
from tests.support.org import (
    COMPANY_HEAD,
    FINANCE_OWNER,
    HEAD,
    HR_OWNER,
    LEADER,
    OFFICE_OWNER,
    OWNER,
    REQUESTER,
    organisation,
)

CHAINS = [
    # data set, mode, who approves each step, in order
    ("staff_directory", "read_only", [OFFICE_OWNER]),  # internal → data owner
    ("financial_reports", "read_only", [HEAD]),  # 秘密 → department head
    ("customer_archives", "read_only", [HEAD, OWNER]),  # 机密 → head, then data owner
    ("hr_files", "read_only", [HEAD, HR_OWNER, LEADER]),  # 绝密 → head, owner, general manager
    ("customer_archives", "full", [HEAD, OWNER, LEADER]),  # C4: full access adds the top step
    ("financial_reports", "export", [HEAD, LEADER]),  # C5: export adds the top step
]


def last_text(h: Harness, user_id: int) -> str:
    texts = h.session.texts(user_id)
    return texts[-1] if texts else ""


@pytest.mark.parametrize(("code", "mode", "approvers"), CHAINS)
async def test_every_chain_by_classification_and_mode(
    harness: Harness, code: str, mode: str, approvers: list[int]
) -> None:
    """C2, C4, C5: each step reaches exactly its approver, in order, and says where it stands."""
    h = harness
    await organisation(h, "finance", "hr", "office")
    view = await submit(h, REQUESTER, code, mode)
    assert view.status is not None and (view.status.position, view.status.total) == (1, len(approvers))
    everyone = {HEAD, OWNER, LEADER, FINANCE_OWNER, HR_OWNER, OFFICE_OWNER}
    for position, approver in enumerate(approvers, start=1):
        card = last_text(h, approver)
        assert card.startswith("📝 A request waits for your decision.")
        assert f"Step {position} of {len(approvers)}" in card
        for other in everyone - set(approvers[:position]):
            assert "A request waits" not in last_text(h, other)  # nobody ahead of their turn
        await approve(h, approver)
    assert any("was approved" in text for text in h.session.texts(REQUESTER))


async def test_a_requester_never_approves_their_own_request(harness: Harness) -> None:
    """C3: a department head's own request goes to the head above; their own press is refused and audited."""
    h = harness
    await organisation(h, "company_head")
    await submit(h, HEAD, "financial_reports")  # 秘密: the requester's department head
    step = await current_step(h)
    assert "A request waits" in last_text(h, COMPANY_HEAD)
    assert "A request waits" not in last_text(h, HEAD)
    answers = await h.press(HEAD, ApprovalCb(action="ok", step=step.id))
    assert "You cannot decide on your own request." in answers
    assert (await current_step(h)).id == step.id  # nothing changed
    assert [e.details["reason"] for e in await audit(h, "approval", "refused")] == [
        "You cannot decide on your own request."
    ]


async def test_one_person_approves_at_most_one_step(harness: Harness) -> None:
    """C3: the head who also owns the data set approves step 1; step 2 must go to someone else."""
    h = harness
    await member(h, REQUESTER, ["staff"], "marketing")
    await member(h, HEAD, ["department_head", "information_officer"], "marketing")
    await member(h, LEADER, ["leader"], "company")
    await submit(h, REQUESTER, "customer_archives")  # 机密: head, then data owner
    await approve(h, HEAD)
    step = await current_step(h)
    answers = await h.press(HEAD, ApprovalCb(action="ok", step=step.id))
    assert "You have already approved another step of this request; someone else must decide this one." in answers
    assert "Step 2 of 2" in last_text(h, LEADER)  # the owner's superiors take the step instead
    await approve(h, LEADER)
    assert any("was approved" in text for text in h.session.texts(REQUESTER))


async def test_unauthorised_stale_and_forged_presses_change_nothing(harness: Harness) -> None:
    """F3: only the step's approvers may press; a decided step or a garbage button is refused and audited."""
    h = harness
    await organisation(h)
    await member(h, 3100, ["staff"], "marketing")
    await submit(h, REQUESTER, "customer_archives")
    step = await current_step(h)
    assert "Only the approvers of this step can decide it." in await h.press(
        3100, ApprovalCb(action="ok", step=step.id)
    )
    assert "Only the approvers of this step can decide it." in await h.press(
        OWNER, ApprovalCb(action="no", step=step.id)
    )
    await approve(h, HEAD)
    stale = await h.press(HEAD, ApprovalCb(action="ok", step=step.id))
    assert "This step has already been decided; nothing was changed." in stale
    assert "This request no longer exists." in await h.press(HEAD, ApprovalCb(action="ok", step=999))
    assert await h.press(HEAD, "apv:ok:not-a-number") == ["This button is no longer valid. Please start again."]
    assert len(await audit(h, "approval", "refused")) == 4
    assert (await current_step(h)).position == 1  # still waiting for the data owner


async def test_reject_asks_for_a_reason_and_the_requester_reads_it(harness: Harness) -> None:
    h = harness
    await organisation(h)
    await submit(h, REQUESTER, "customer_archives")
    step = await current_step(h)
    prompt = await h.press(HEAD, ApprovalCb(action="no", step=step.id))
    assert any(a.startswith("Why do you reject this request?") for a in prompt)
    assert await h.send(HEAD, "x") == ["Please write a few words."]  # still waiting for a reason
    replies = await h.send(HEAD, "Use the anonymised extract instead.")
    assert replies[0] == "Rejected. The requester has been told why."
    assert replies[1].endswith("\n\n⛔ Rejected by Li Si.")  # the card lost its buttons
    assert last_text(h, REQUESTER) == (
        "⛔ Your request «#1 Customer archives · read-only» was rejected by Li Si.\n"
        "Reason: Use the anonymised extract instead."
    )
    overview = (await h.send(REQUESTER, "/access"))[0]
    assert "#1 Customer archives · read-only — rejected" in overview
    assert "A request waits" not in last_text(h, OWNER)  # the chain stopped


async def test_a_question_goes_to_the_requester_and_the_answer_back_to_the_approver(harness: Harness) -> None:
    """While a question is open the step is not idle: no reminder, no escalation (C7)."""
    h = harness
    await organisation(h, "company_head")
    await submit(h, REQUESTER, "financial_reports")
    step = await current_step(h)
    await h.press(HEAD, ApprovalCb(action="ask", step=step.id))
    assert await h.send(HEAD, "Which customers exactly?") == [
        "Your question was sent. The answer will come to this chat."
    ]
    assert (
        last_text(h, REQUESTER)
        == "❓ Li Si asks about your request «#1 Financial reports · read-only»:\nWhich customers exactly?"
    )
    answer = next(data for text, data in h.buttons(REQUESTER) if text == "✍️ Answer")
    await h.advance(days=3)
    assert "Reminder" not in last_text(h, HEAD) and "Escalated" not in last_text(h, COMPANY_HEAD)
    assert await h.press(HEAD, answer) == ["Only the requester can answer this question."]
    await h.press(REQUESTER, answer)
    assert await h.send(REQUESTER, "The 40 customers of the spring campaign.") == [
        "Your answer was sent to the approver."
    ]
    card = last_text(h, HEAD)
    assert card.startswith("💬 Zhang San answered your question")
    assert "❓ Li Si asked: Which customers exactly?\n   💬 The 40 customers of the spring campaign." in card
    await approve(h, HEAD)
    assert await h.press(REQUESTER, AnswerCb.unpack(answer)) == ["This question is closed; nothing was changed."]


async def test_an_idle_approver_is_reminded_then_the_step_escalates_to_the_superior(harness: Harness) -> None:
    """C7: one working day → reminder; another → the head of the parent department; then the leaders."""
    h = harness
    await organisation(h, "company_head")
    await submit(h, REQUESTER, "financial_reports")  # submitted Monday 09:00
    await h.advance(hours=23)
    assert "Reminder" not in last_text(h, HEAD)
    await h.advance(hours=1)  # Tuesday 09:00
    assert last_text(h, HEAD).startswith("⏰ Reminder: this request is still waiting for your decision.")
    await h.advance(days=1)  # Wednesday 09:00
    assert last_text(h, COMPANY_HEAD).startswith("⏫ Escalated to you: Li Si did not decide within the time allowed.")
    assert "with Zheng Yi" in last_text(h, REQUESTER)  # the requester sees who holds it now
    await h.advance(days=1)  # Thursday: the head of the company is reminded
    await h.advance(days=1)  # Friday: up to the leaders
    assert last_text(h, LEADER).startswith("⏫ Escalated to you: Zheng Yi")
    await approve(h, COMPANY_HEAD)  # anyone reached so far may still decide
    assert any("was approved" in text for text in h.session.texts(REQUESTER))
    assert [e.details["level"] for e in await audit(h, "approval", "escalated")] == [1, 2]


async def test_the_step_window_counts_working_days_over_a_weekend(harness: Harness) -> None:
    """C7: submitted on Friday, the reminder comes on Monday, not on Saturday."""
    h = harness
    h.clock.advance(days=4)  # Friday 6 March 2026, 09:00 in Shanghai
    await organisation(h)
    await submit(h, REQUESTER, "financial_reports")
    await h.advance(days=1)
    assert "Reminder" not in last_text(h, HEAD)
    await h.advance(days=2)  # Monday
    assert last_text(h, HEAD).startswith("⏰ Reminder")


async def test_a_delegate_decides_while_the_approver_is_away_and_it_shows(harness: Harness) -> None:
    """/away until a date names a delegate: waiting requests pass to them, and every decision says so."""
    h = harness
    await organisation(h, "hr")
    await member(h, 3200, ["staff"], "company", "Chen Deputy")
    await submit(h, REQUESTER, "hr_files")  # 绝密: head, data owner, leader
    await approve(h, HEAD)
    await h.send(LEADER, "/away")
    await h.send(LEADER, "2026-03-20")
    pick = next(data for text, data in h.buttons(LEADER) if text == "Chen Deputy")
    done = await h.press(LEADER, pick)
    assert any("Chen Deputy decides for you until 20 Mar 2026, 23:59" in a for a in done)
    await approve(h, HR_OWNER)  # step 3 opens while the leader is away
    card = last_text(h, 3200)
    assert "You decide for Zhao Liu, who is away; your decision will say so." in card
    assert "Step 3 of 3" in card
    await approve(h, 3200)
    history = await h.send(REQUESTER, "/access")
    assert "#1 Personnel files · read-only — approved" in history[0]
    async with h.app.uow() as uow:
        decisions = await uow.approvals.decisions(1)
    assert decisions[-1].member_id != decisions[-1].principal_id and decisions[-1].principal_id is not None
    edited = h.session.texts(3200)[-1]
    assert edited.endswith("✅ Approved by Chen Deputy (delegate of Zhao Liu).")
    assert await h.press(LEADER, AwayCb(action="off")) == ["Welcome back: you decide yourself again."]


async def test_going_away_passes_waiting_requests_to_the_delegate(harness: Harness) -> None:
    h = harness
    await organisation(h)
    await member(h, 3201, ["staff"], "marketing", "Deputy Head")
    await submit(h, REQUESTER, "financial_reports")
    await h.send(HEAD, "/away 2026-03-06")
    pick = next(data for text, data in h.buttons(HEAD) if text == "Deputy Head")
    done = await h.press(HEAD, pick)
    assert any("1 waiting requests were passed on" in a for a in done)
    assert "You decide for Li Si" in last_text(h, 3201)
    queue = (await h.send(3201, "/approvals"))[0]
    assert "Data access: #1 Financial reports · read-only — from Zhang San" in queue
    assert "for Li Si, as their delegate" in queue
    await h.send(HEAD, "/away off")
    assert (await h.send(3201, "/approvals")) == ["Nothing waits for your decision."]


async def test_approvals_lists_what_waits_oldest_first_and_opens_a_card(harness: Harness) -> None:
    h = harness
    await organisation(h)
    await member(h, 3300, ["staff"], "marketing", "Xu Second")
    await submit(h, REQUESTER, "customer_archives")
    h.clock.advance(minutes=5)
    await submit(h, 3300, "financial_reports")
    queue = (await h.send(HEAD, "/approvals"))[0]
    first, second = queue.index("#1 Customer archives"), queue.index("#2 Financial reports")
    assert queue.startswith("Waiting for your decision (2), oldest first:") and first < second
    open_first = h.buttons(HEAD)[0][1]
    card = (await h.press(HEAD, open_first))[-1]
    assert card.startswith("🔐 Data access request #1") and "Step 1 of 2: department head" in card
    assert [text for text, _ in h.buttons(HEAD)] == [
        "✅ Approve",
        "⛔ Reject",
        "❓ Ask a question",
        "🔀 Transfer",
        "📨 Copy to…",
    ]
    assert h.session.last(HEAD).protect_content is True  # 机密: the card cannot be forwarded
    assert await h.send(REQUESTER, "/approvals") == ["Nothing waits for your decision."]


async def test_an_unreachable_approver_does_not_hold_the_request(harness: Harness) -> None:
    """An approver who blocked the bot: the step moves on to the superior at once."""
    h = harness
    await organisation(h, "company_head")
    h.session.block(HEAD)
    await submit(h, REQUESTER, "financial_reports")
    assert last_text(h, COMPANY_HEAD).startswith("🔀 Passed to you")


async def test_a_kind_that_allows_revision_gets_returns_and_resubmissions(harness: Harness) -> None:
    """The engine as issue 5 uses it (D2): return for revision with a comment; a changed resubmission
    resets earlier approvals and starts again, an unchanged one goes back to the step that returned it."""
    h = harness
    await organisation(h)
    engine = h.app.flows.approvals
    approved: list[int] = []
    returned: list[str] = []

    async def title(uow: UnitOfWork, request: ApprovalRequest, language: str) -> str:
        return f"Memo {request.subject_id}"

    async def render(uow: UnitOfWork, request: ApprovalRequest, language: str) -> str:
        return f"Memo {request.subject_id}, revision {request.revision}"

    async def on_approved(uow: UnitOfWork, request: ApprovalRequest, now: datetime) -> None:
        approved.append(request.subject_id)

    async def on_returned(uow: UnitOfWork, request: ApprovalRequest, comment: str, now: datetime) -> None:
        returned.append(comment)

    engine.register(
        ApprovalKind("memo", "Memo", title, render, on_approved, on_returned=on_returned, window=StepWindow(hours=4))
    )

    async def call(method: str, subject: int, **kwargs: object) -> None:
        async with h.app.uow() as uow:
            requester = await uow.members.by_telegram_id(REQUESTER)
            actor = Actor(REQUESTER, REQUESTER)
            if method == "submit":
                steps = ["department_head", "role:leader"]
                await engine.submit(uow, actor, kind="memo", subject_id=subject, requester=requester, steps=steps)
            else:
                await engine.resubmit(uow, actor, await uow.approvals.by_subject("memo", subject), **kwargs)
            await uow.commit()
        await h.app.outbox.drain()

    for subject, changed in ((1, True), (2, False)):
        await call("submit", subject)
        await approve(h, HEAD)
        step = await current_step(h)
        assert "↩️ Return for revision" in [text for text, _ in h.buttons(LEADER)]
        await h.press(LEADER, ApprovalCb(action="ret", step=step.id))
        assert (await h.send(LEADER, "Shorten the second paragraph."))[0] == (
            "Returned for revision. The requester has your comment."
        )
        await call("resubmit", subject, content_changed=changed)
        if changed:
            card = last_text(h, HEAD)
            assert card.startswith("📝") and "Memo 1, revision 2" in card and "Step 1 of 2" in card
            assert "🔄 department head: approval reset: the content changed" in card
            await approve(h, HEAD)
        assert "↩️ Leader: Zhao Liu · returned for revision" in last_text(h, LEADER)
        await approve(h, LEADER)
    assert returned == ["Shorten the second paragraph."] * 2 and approved == [1, 2]
    await h.advance(hours=5)
    assert "Reminder" not in last_text(h, HEAD)  # nothing is waiting any more


async def test_when_nobody_can_decide_administrators_are_told_and_a_new_holder_is_reached(harness: Harness) -> None:
    """A chain step nobody holds is not silently stuck: administrators hear of it, and once someone
    holds the role the next window reaches them."""
    h = harness
    await member(h, REQUESTER, ["staff"], "marketing", "Zhang San")
    await submit(h, REQUESTER, "staff_directory")  # internal: the office's data owner; there is none, nor a leader
    assert h.session.texts(ADMIN_ID)[-1].startswith("⚠️「#1 员工通讯录 · 只读」的第 1 步（数据所有者）无人可以审批")
    await member(h, OFFICE_OWNER, ["information_officer"], "office", "Wu Shi")
    await h.advance(days=1)
    assert last_text(h, OFFICE_OWNER).startswith("⏰ Reminder")
    await approve(h, OFFICE_OWNER)
    assert any("was approved" in text for text in h.session.texts(REQUESTER))


async def test_a_deactivated_approver_s_step_goes_to_the_next_person_up(harness: Harness) -> None:
    h = harness
    await organisation(h, "company_head")
    await submit(h, REQUESTER, "financial_reports")
    head = await h.app.members.find(HEAD)
    assert head is not None
    await h.press(ADMIN_ID, MemberCb(action="deact_ok", member_id=head.id))
    assert last_text(h, COMPANY_HEAD).startswith("🔀 Passed to you")
    await approve(h, COMPANY_HEAD)
    assert any("was approved" in text for text in h.session.texts(REQUESTER))


async def test_each_person_reads_the_request_in_their_own_language(harness: Harness) -> None:
    """Simplified Chinese first: a Chinese-speaking requester and an English-speaking approver each
    get their own language, whoever triggered the message."""
    h = harness
    await organisation(h)
    await h.app.members.set_language(REQUESTER, "zh_Hans")
    await submit(h, REQUESTER, "customer_archives")
    assert "Step 1 of 2: department head" in last_text(h, HEAD)
    step = await current_step(h)
    await h.press(HEAD, ApprovalCb(action="no", step=step.id))
    await h.send(HEAD, "请使用脱敏后的数据。")
    assert last_text(h, REQUESTER) == "⛔ 您的申请「#1 客户档案 · 只读」被Li Si驳回。\n理由：请使用脱敏后的数据。"
    overview = (await h.send(REQUESTER, "/access"))[0]
    assert overview.startswith("我的数据存取权限") and "#1 客户档案 · 只读 — 已驳回" in overview
