"""The review chain of the information publication form (D2, D5) on the shared approval engine,
through the real Dispatcher: the whole chain, reject, return-and-revise with the diff, approvals
reset after an edit, the external review of disclosures, self-review and forged presses refused
(F3), an idle reviewer reminded then escalated, a delegate deciding while the head is away."""

from __future__ import annotations

from sqlalchemy import select

from bot.outgoing.approvals import ApprovalCb
from bot.outgoing.publication import PubCb
from handlers.publication_buttons import FormCb
from storage.models import AuditEntry
from storage.publication_models import Publication
from tests.conftest import Harness
from tests.support.publication import (
    COLLEAGUE,
    COMPANY_HEAD,
    DRAFTER,
    EXTERNAL,
    HEAD,
    LEADER,
    active_step,
    decide,
    last_text,
    member,
    organisation,
    submit,
    submit_form,
)


async def form_state(h: Harness, form_id: int = 1) -> str:
    async with h.app.uow() as uow:
        form = await uow.publications.get(form_id)
        assert form is not None
        return form.state


async def refusals(h: Harness) -> list[AuditEntry]:
    async with h.app.uow() as uow:
        return list(await uow.session.scalars(select(AuditEntry).where(AuditEntry.action == "refused")))


async def test_the_whole_chain_head_signs_then_the_leader_approves(harness: Harness) -> None:
    """D2: drafter → own department head → leader → approved for publication; reviewers see the flags
    and the checklist (D3, D4); each step reaches only its reviewer."""
    h = harness
    await organisation(h)
    answers = await submit_form(h, DRAFTER, title="最好的理财产品", body="收益稳定。")
    assert "Form #1: Submitted for review.\nNow at step 1 of 2 (department head), with Li Si." in answers[-1]
    card = last_text(h, HEAD)
    assert card.startswith("📝 A request waits for your decision.")
    for expected in (
        "Information publication form #1 — New item",
        "Drafter: Zhang San · Marketing department · version 1",
        "Title: 最好的理财产品",
        "⚠️ Pre-check: 1 possibly exaggerated words:\n• 最: 【最】好的理财产品",
        "✅ Prohibited-content checklist: the drafter confirmed all 9 items.",
        "Step 1 of 2: department head",
    ):
        assert expected in card
    assert [text for text, _ in h.buttons(HEAD)] == [
        "✅ Approve",
        "⛔ Reject",
        "❓ Ask a question",
        "↩️ Return for revision",
        "🔀 Transfer",
        "📨 Copy to…",
    ]
    assert "waits for your decision" not in last_text(h, LEADER)
    await decide(h, HEAD)
    assert "Step 2 of 2: Leader" in last_text(h, LEADER)
    await decide(h, LEADER)
    assert await form_state(h) == "approved"
    assert last_text(h, DRAFTER).startswith("✅ Your form #1 «最好的理财产品» is approved for publication.")
    card = (await h.press(DRAFTER, PubCb(action="open", id=1)))[-1]
    assert "#1 · New item · approved for publication" in card
    assert "• Company website: not recorded yet" in card
    history = (await h.press(DRAFTER, PubCb(action="hist", id=1)))[-1]
    assert "Zhang San · submitted (v1)" in history
    assert "Li Si · approved · department head (v1)" in history
    assert "Zhao Liu · approved · Leader (v1)" in history


async def test_a_reviewer_rejects_with_a_reason_and_the_drafter_reads_it(harness: Harness) -> None:
    h = harness
    await organisation(h)
    await submit(h, DRAFTER)
    answers = await decide(h, HEAD, "no", " ")
    assert answers[-1] == "Please write a few words."  # a reason is required
    assert await form_state(h) == "review"
    await h.send(HEAD, "Not for the public website.")
    assert await form_state(h) == "rejected"
    assert "Reason: Not for the public website." in last_text(h, DRAFTER)
    assert "waits for your decision" not in last_text(h, LEADER)


async def test_return_revise_and_the_reviewer_sees_what_changed_and_approvals_reset(harness: Harness) -> None:
    """D2: the leader returns with a comment; the drafter edits only the text and resubmits; the head's
    earlier approval is reset, and each reviewer sees the changes since the version they decided on."""
    h = harness
    await organisation(h)
    await submit(h, DRAFTER, title="Spring open day", body="第一行不变。\n我们的产品是最好的。")
    await decide(h, HEAD)
    await decide(h, LEADER, "ret", "Remove the superlative.")
    assert await form_state(h) == "returned"
    notice = last_text(h, DRAFTER)
    assert notice.startswith("↩️ Your form #1 «Spring open day» was returned for revision.")
    assert "Comment: Remove the superlative." in notice
    assert h.buttons(DRAFTER)[0][0] == "✏️ Revise and resubmit"
    assert await h.press(COLLEAGUE, PubCb(action="revise", id=1)) == ["Only the drafter can revise this form."]

    sheet = "\n".join(await h.press(DRAFTER, PubCb(action="revise", id=1)))
    assert "我们的产品是最好的。" in sheet and "✅ Prohibited-content checklist" in sheet  # nothing to retype
    await h.press(DRAFTER, FormCb(action="edit", value="body"))
    await h.send(DRAFTER, "第一行不变。\n我们的产品质量可靠。")
    await h.press(DRAFTER, FormCb(action="edit", value="note"))
    await h.send(DRAFTER, "Superlative removed.")
    answers = "\n".join(await h.press(DRAFTER, FormCb(action="submit")))
    assert "Form #1: Resubmitted as a new version." in answers
    assert "at step 1 of 2 (department head), with Li Si" in answers  # told by the engine

    card = last_text(h, HEAD)
    assert "Drafter: Zhang San · Marketing department · version 2" in card
    assert (
        "Changed since version 1 ([-removed-] {+added+}):\nText:\n  ~ 2: 我们的产品[-是最好的-]{+质量可靠+}。" in card
    )
    assert "第一行不变" not in card.split("Changed since")[1]  # only what changed
    assert "Drafter's note: Superlative removed." in card
    assert "🔄 department head: approval reset: the content changed" in card
    await decide(h, HEAD)
    leader_card = last_text(h, LEADER)
    assert "~ 2: 我们的产品[-是最好的-]{+质量可靠+}。" in leader_card
    await decide(h, LEADER)
    assert await form_state(h) == "approved"
    history = (await h.press(DRAFTER, PubCb(action="hist", id=1)))[-1]
    assert "Zhao Liu · returned for revision · Leader · Remove the superlative. (v1)" in history
    assert "Zhang San · resubmitted a revised version · Superlative removed. (v2)" in history


async def test_an_unchanged_resubmission_keeps_earlier_approvals(harness: Harness) -> None:
    h = harness
    await organisation(h)
    await submit(h, DRAFTER)
    await decide(h, HEAD)
    await decide(h, LEADER, "ret", "Please confirm the date with the branch.")
    await h.press(DRAFTER, PubCb(action="revise", id=1))
    answers = "\n".join(await h.press(DRAFTER, FormCb(action="submit")))
    assert "Resubmitted without changes; earlier approvals stand." in answers
    assert "step 2 of 2 (Leader), with Zhao Liu" in answers
    assert "Changed since version 1" in last_text(h, LEADER) and "\nnothing" in last_text(h, LEADER)


async def test_a_regulatory_disclosure_adds_the_external_review(harness: Harness) -> None:
    """D5: major information is reviewed by the sponsoring broker before disclosure."""
    h = harness
    await organisation(h)
    await submit(h, DRAFTER, options=("disclosure",))
    assert "Regulatory disclosure: reviewed externally before publication" in last_text(h, HEAD)
    await decide(h, HEAD)
    await decide(h, LEADER)
    assert await form_state(h) == "review"
    assert "Step 3 of 3: External reviewer" in last_text(h, EXTERNAL)
    await decide(h, EXTERNAL)
    assert await form_state(h) == "approved"


async def test_nobody_reviews_their_own_form(harness: Harness) -> None:
    """F3: a department head's own form goes to the head above; their own press is refused and audited."""
    h = harness
    await organisation(h)
    await submit(h, HEAD)
    assert "waits for your decision" in last_text(h, COMPANY_HEAD)
    answers = await decide(h, HEAD)
    assert "You cannot decide on your own request." in answers
    assert await form_state(h) == "review"
    assert [entry.details["reason"] for entry in await refusals(h)] == ["You cannot decide on your own request."]


async def test_forged_and_out_of_turn_presses_are_refused_and_audited(harness: Harness) -> None:
    """F3: only the step's holder can decide; the leader cannot jump the head; a colleague cannot revise."""
    h = harness
    await organisation(h)
    await submit(h, DRAFTER)
    step = await active_step(h)
    for presser in (COLLEAGUE, LEADER):
        answers = await h.press(presser, ApprovalCb(action="ok", step=step.id))
        assert answers and "approve" not in answers[0].lower().split()[0]
    assert await form_state(h) == "review" and (await active_step(h)).id == step.id
    assert await h.press(COLLEAGUE, PubCb(action="revise", id=1)) == ["Only the drafter can revise this form."]
    assert await h.press(COLLEAGUE, "pb:open:99999:") == ["This form does not exist or is not yours to see."]
    assert await h.press(COLLEAGUE, "pf:submit:") == ["This button is no longer valid. Please start again."]
    assert len(await refusals(h)) >= 4


async def test_an_idle_reviewer_is_reminded_then_the_step_escalates(harness: Harness) -> None:
    """The step window (policy: 24 hours) passes: a reminder; another window: the head above."""
    h = harness
    await organisation(h)
    await submit(h, DRAFTER)
    await h.advance(hours=23)
    assert "Reminder" not in last_text(h, HEAD)
    await h.advance(hours=1)
    assert last_text(h, HEAD).startswith("⏰ Reminder: this request is still waiting for your decision.")
    await h.advance(hours=24)
    assert last_text(h, COMPANY_HEAD).startswith("⏫ Escalated to you: Li Si did not decide within the time allowed.")
    await decide(h, COMPANY_HEAD)
    assert "Step 2 of 2: Leader" in last_text(h, LEADER)


async def test_a_delegate_reviews_while_the_head_is_away(harness: Harness) -> None:
    """The shared delegation (/away): the deputy decides, and the history says for whom."""
    h = harness
    await organisation(h)
    await member(h, 7100, ["staff"], "marketing", "Deputy Head")
    await h.send(HEAD, "/away 2026-03-06")
    await h.press(HEAD, next(data for text, data in h.buttons(HEAD) if text == "Deputy Head"))
    await submit(h, DRAFTER)
    assert "You decide for Li Si, who is away; your decision will say so." in last_text(h, 7100)
    card = (await h.press(7100, PubCb(action="open", id=1)))[-1]  # the delegate may read the whole form
    assert card.startswith("#1 · New item · in review")
    await decide(h, 7100)
    history = (await h.press(DRAFTER, PubCb(action="hist", id=1)))[-1]
    assert "Deputy Head (delegate of Li Si) · approved · department head (v1)" in history


async def test_submitting_twice_by_a_double_tap_creates_one_form(harness: Harness) -> None:
    h = harness
    await organisation(h)
    await submit_form(h, DRAFTER)
    again = await h.press(DRAFTER, FormCb(action="submit"))
    assert again == ["This button is no longer valid. Please start again."]
    async with h.app.uow() as uow:
        assert len(list(await uow.session.scalars(select(Publication)))) == 1


async def test_each_reviewer_reads_the_form_in_their_own_language(harness: Harness) -> None:
    """Simplified Chinese first: a Chinese-reading head gets the card, flags and checklist in Chinese."""
    h = harness
    await member(h, DRAFTER, ["staff"], "marketing", "Zhang San")
    await member(h, HEAD, ["department_head"], "marketing", "李四", language="zh_Hans")
    await submit(h, DRAFTER, title="行业第一", body="欢迎垂询。")
    card = last_text(h, HEAD)
    assert "信息发布管理表 #1 — 新发布信息" in card
    assert "⚠️ 预检：发现 1 处可能的夸大性宣传用语：\n• 第一: 行业【第一】" in card
    assert "✅ 禁止发布内容核对清单：拟稿人已确认全部 9 项。" in card
    assert "计划发布：审批通过后立即发布" in card
    await decide(h, HEAD, "ret", "请删去“第一”。")
    assert "Comment: 请删去“第一”。" in last_text(h, DRAFTER)  # the drafter reads English
