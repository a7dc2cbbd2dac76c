"""Feishu as a second messenger (issue 12), through the real app against the local fake of Feishu's API and
long connection: a member joins by sending their invitation code (F2), gets the alert card and acknowledges it
from the card (A2: the chain stops and the Telegram officers' alerts are edited as for a Telegram ack), approves
and rejects an approval card (C3), a forged or stale action is refused and audited (F3), and a Feishu user who
cannot be reached is skipped at once with the administrators told, exactly as a blocked Telegram chat."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import pytest

from bot.app import App
from bot.channels.feishu import stand_in_chat_id
from bot.clock import ManualClock
from bot.config import ConfigError
from bot.feishu_ws import FeishuLongConnection
from bot.outgoing.approvals import ApprovalCb
from bot.services.actor import Actor
from bot.services.members import MemberView
from storage.incidents_models import ACKNOWLEDGED, REPORTED
from tests.conftest import ADMIN_ID, Harness
from tests.support import deadlines
from tests.support.access import audit, current_step, submit
from tests.support.fake_feishu import FakeFeishu, SentCard
from tests.support.incidents import LI, WANG, ack, alerts, crew, edits, incident, report, started
from tests.support.org import HEAD, REQUESTER, organisation
from tests.support.roster import put_on

ZHOU = "ou_feishu00000000000000000000000zhou"
QIAN = "ou_feishu00000000000000000000000qian"


@dataclass
class Feishu:
    h: Harness
    fake: FakeFeishu
    app: App

    async def join(
        self, open_id: str, roles: list[str], *, department: str = "security", name: str = "Zhou"
    ) -> MemberView:
        """An administrator's invitation, redeemed by sending its code to the bot in Feishu."""
        invitation = await self.app.members.invite(Actor.command_line(), roles=roles, department=department, name=name)
        await self.fake.say(open_id, invitation.code)
        await self.app.outbox.drain()
        welcome = self.last(open_id)
        assert welcome.buttons == [("简体中文", "lang:zh_Hans"), ("English", "lang:en")]
        answer = await self.fake.press(open_id, "lang:en")  # the language buttons under the welcome
        assert answer["toast"] == {"type": "success", "content": "Language set to English."}
        member = await self.app.members.find(stand_in_chat_id(open_id))
        assert member is not None and member.language == "en"
        return member

    def last(self, open_id: str) -> SentCard:
        return self.fake.cards_to(open_id)[-1]


@asynccontextmanager
async def with_feishu(database_url: str, clock: ManualClock, **app_options: object) -> AsyncIterator[Feishu]:
    """The app with Feishu set up against the fake, its long connection open."""
    async with FakeFeishu() as fake:
        app, _session, h = await started(database_url, clock, sms_env=fake.env(FEISHU_TIMEOUT="0.5"), **app_options)
        [connection] = [worker for worker in app.workers if isinstance(worker, FeishuLongConnection)]
        running = asyncio.create_task(connection.run())
        try:
            await asyncio.wait_for(connection.connected.wait(), 5)
            yield Feishu(h, fake, app)
        finally:
            connection.stop()
            await asyncio.wait_for(running, 5)
            await app.close()


@pytest.fixture
async def feishu(database_url: str, clock: ManualClock) -> AsyncIterator[Feishu]:
    async with with_feishu(database_url, clock) as feishu:
        yield feishu


async def test_joining_by_invitation_code_over_feishu_once(feishu: Feishu) -> None:
    """F2: the code joins the Feishu user who sends it first; it is used up; a wrong code is refused."""
    fake, app = feishu.fake, feishu.app
    await fake.say(QIAN, "not-a-code-of-ours")
    await app.outbox.drain()
    assert feishu.last(QIAN).text == "该邀请链接无效。请向管理员索取新的邀请。"  # a stranger: the default language
    invitation = await app.members.invite(Actor.command_line(), roles=["staff"], department="office", name="Zhou")
    await fake.say(ZHOU, f"https://t.me/duty_bot?start={invitation.code}")
    await app.outbox.drain()
    zhou = await app.members.find(stand_in_chat_id(ZHOU))
    assert zhou is not None and zhou.name == "Zhou" and zhou.roles == {"staff"}
    assert feishu.last(ZHOU).text.startswith("欢迎，Zhou。")
    await fake.say(QIAN, invitation.code)  # the same code from someone else: already used
    await app.outbox.drain()
    assert feishu.last(QIAN).text == "该邀请已被使用。请向管理员索取新的邀请。"
    assert await app.members.find(stand_in_chat_id(QIAN)) is None
    async with app.uow() as uow:
        assert [e.action for e in await uow.audit.for_entity("member", zhou.id)] == ["joined", "linked"]


async def test_a_feishu_officer_gets_the_alert_card_and_acknowledges_it_from_the_card(feishu: Feishu) -> None:
    h, fake = feishu.h, feishu.fake
    await crew(h)  # Wang (Telegram) primary on the day shift, Li backup
    zhou = await feishu.join(ZHOU, ["staff", "duty_officer"])
    await put_on(h, zhou, "day")
    await report(h)
    [card] = [c for c in fake.cards_to(ZHOU) if c.text.startswith("🚨 INC-2026-000001")]
    assert len(alerts(h, WANG)) == 1  # the Telegram officer on duty too
    # "Duplicate of…" opens a picker in the Telegram chat: Feishu cards leave it off
    assert [label for label, _id in card.buttons] == ["✅ Acknowledge", "ℹ️ Details"]
    answer = await fake.press(ZHOU, card.buttons[0][1], message_id=card.message_id)
    assert answer["toast"] == {
        "type": "success",
        "content": "Acknowledged. You are handling INC-2026-000001; the reporter was told.",
    }
    await h.app.outbox.drain()
    found = await incident(h)
    assert found.status == ACKNOWLEDGED and found.acknowledged_by == zhou.id
    [telegram_edit] = edits(h, WANG)  # Wang's alert now says who acknowledged, as for a Telegram ack
    assert "Zhou" in (telegram_edit.text or "")
    [updated] = fake.updated(card.message_id)  # and so does Zhou's card, which lost its Acknowledge button
    assert [label for label, _id in SentCard(ZHOU, updated, "").buttons] == ["ℹ️ Details"]
    await h.advance(minutes=10)
    assert not alerts(h, LI)  # the chain stopped
    again = await fake.press(ZHOU, card.buttons[0][1])
    assert again["toast"]["type"] == "error" and again["toast"]["content"].startswith("Already acknowledged by Zhou")


async def test_a_forged_or_unauthorised_action_is_refused_and_audited(feishu: Feishu) -> None:
    h, fake = feishu.h, feishu.fake
    await crew(h)
    await feishu.join(QIAN, ["staff"], department="office", name="Qian")  # not on duty, not in the chain
    await report(h)
    refused = await fake.press(QIAN, "inc:ack:1:0")
    assert refused["toast"] == {
        "type": "error",
        "content": "Only the officers on duty and this incident's chain can acknowledge it.",
    }
    forged = await fake.press(QIAN, "inc:ack:not-a-number:0")
    assert forged["toast"]["content"] == "This button is no longer valid. Please start again."
    stranger = await fake.press("ou_someone_else", "inc:ack:1:0")
    assert stranger["toast"]["content"] == "您还不是成员。请向管理员索取邀请。"
    assert (await incident(h)).status == REPORTED
    [refusal] = await audit(h, "incident", "refused")
    assert refusal.chat_id == stand_in_chat_id(QIAN)  # F1: the entry says the press came from Feishu
    assert len(await audit(h, "button", "refused")) == 2


async def test_an_approval_card_is_approved_from_feishu(feishu: Feishu) -> None:
    """C3: a department head in Feishu gets the card and approves it there; the step moves on."""
    h, fake = feishu.h, feishu.fake
    await organisation(h)
    qian = await feishu.join(QIAN, ["staff", "department_head"], department="marketing", name="Qian")
    await submit(h, REQUESTER, "customer_archives")
    step = await current_step(h)
    card = feishu.last(QIAN)
    assert ("✅ Approve", ApprovalCb(action="ok", step=step.id).pack()) in card.buttons
    answer = await fake.press(QIAN, ApprovalCb(action="ok", step=step.id).pack(), message_id=card.message_id)
    assert answer["toast"]["type"] == "success" and answer["toast"]["content"].startswith("Approved.")
    await h.app.outbox.drain()
    assert (await current_step(h)).position == 1  # now the data owner's
    [approved] = await audit(h, "approval", "approved")
    assert approved.actor_id == qian.id and approved.actor_telegram_id == qian.telegram_id
    # Li Si's card in Telegram and Qian's in Feishu both say who decided, and lost their buttons
    assert h.session.texts(HEAD)[-1].endswith("✅ Approved by Qian.")
    [updated] = fake.updated(card.message_id)
    closed = SentCard(QIAN, updated, "")
    assert closed.text.endswith("✅ Approved by Qian.") and closed.buttons == []
    stale = await fake.press(QIAN, ApprovalCb(action="ok", step=step.id).pack())
    assert stale["toast"]["content"] == "This step has already been decided; nothing was changed."


async def test_a_full_access_request_is_confirmed_from_feishu_before_it_is_approved(feishu: Feishu) -> None:
    """C4: full access takes a second tap in Feishu too: the first shows what is granted, Back leaves it
    waiting, Confirm approves. Buttons a Feishu card cannot act on (Transfer, Copy) are left off it."""
    h, fake = feishu.h, feishu.fake
    await organisation(h)
    qian = await feishu.join(QIAN, ["staff", "department_head"], department="marketing", name="Qian")
    await submit(h, REQUESTER, "customer_archives", "full")
    step = await current_step(h)
    assert [label for label, _id in feishu.last(QIAN).buttons] == [
        "✅ Approve",
        "⛔ Reject",
        "❓ Ask a question",
    ]
    answer = await fake.press(QIAN, ApprovalCb(action="ok", step=step.id).pack())
    assert answer["toast"]["content"] == "Sent."
    await h.app.outbox.drain()
    confirmation = feishu.last(QIAN)
    assert [label for label, _id in confirmation.buttons] == ["✅ Confirm", "◀ Back"]
    assert (await current_step(h)).id == step.id  # nothing approved by the first tap
    back = await fake.press(QIAN, confirmation.buttons[1][1])
    assert back["toast"]["content"] == "Not approved. The request still waits for your decision."
    confirmed = await fake.press(QIAN, confirmation.buttons[0][1])
    assert confirmed["toast"]["content"].startswith("Approved.")
    [approved] = await audit(h, "approval", "approved")
    assert approved.actor_id == qian.id


async def test_reject_from_feishu_takes_the_reason_from_the_next_message(feishu: Feishu) -> None:
    h, fake = feishu.h, feishu.fake
    await organisation(h)
    await feishu.join(QIAN, ["staff", "department_head"], department="marketing", name="Qian")
    await submit(h, REQUESTER, "customer_archives")
    step = await current_step(h)
    await fake.press(QIAN, ApprovalCb(action="ask", step=step.id).pack())
    await fake.press(QIAN, "lang:en")  # another button: the question is no longer awaited
    await fake.say(QIAN, "Which customers?")
    await h.app.outbox.drain()
    assert fake.cards_to(QIAN)[-1].text.startswith("Alerts and approval cards come to this chat")
    prompt = await fake.press(QIAN, ApprovalCb(action="no", step=step.id).pack())
    assert prompt["toast"]["content"].startswith("Why do you reject this request?")
    await fake.say(QIAN, "x")
    await h.app.outbox.drain()
    assert fake.cards_to(QIAN)[-1].text == "Please write a few words."  # still waiting for a reason
    await fake.say(QIAN, "Use the anonymised extract instead.")
    await h.app.outbox.drain()
    assert "Rejected. The requester has been told why." in [c.text for c in fake.cards_to(QIAN)]
    assert h.session.texts(REQUESTER)[-1].endswith("Reason: Use the anonymised extract instead.")


async def test_an_unreachable_feishu_officer_is_skipped_and_the_administrators_are_told(feishu: Feishu) -> None:
    """As for a blocked Telegram chat: the next step is alerted at once, the administrators hear of it."""
    h, fake = feishu.h, feishu.fake
    await crew(h, primary=False)  # nobody on Telegram as primary: Zhou alone
    zhou = await feishu.join(ZHOU, ["staff", "duty_officer"])
    await put_on(h, zhou, "day")
    fake.unreachable.add(ZHOU)
    await report(h)
    assert len(alerts(h, LI)) == 1  # the backup at once, not after the window
    told = [text for text in h.session.texts(ADMIN_ID) if "could not reach Zhou" in text]
    assert told == [  # Feishu's own reason, not "they never started the bot or blocked it"
        "⚠️ INC-2026-000001: could not reach Zhou in Feishu: send card: Feishu 230013: Bot has NO availability to "
        "this user. They were skipped."
    ]


async def test_a_deadline_owner_unreachable_in_feishu_is_reported_to_their_head_as_such(
    database_url: str, clock: ManualClock
) -> None:
    """E4 over Feishu: the owner's reminder is refused by Feishu, and the department head is told so, not that
    Telegram refused it (the bot blocked)."""
    clock.set(deadlines.local(2025, 9, 25, 9))
    async with with_feishu(database_url, clock, policy=deadlines.deadline_policy()) as feishu:
        h = feishu.h
        await feishu.join(ZHOU, ["information_officer"], department="branch_a")
        await deadlines.join_en(h, HEAD, ["department_head"], "branch_a")
        await h.start()
        feishu.fake.unreachable.add(ZHOU)
        await deadlines.advance_to(h, deadlines.local(2025, 10, 11))
        assert h.session.texts(HEAD)[-1] == (
            "📵 A message about Customer-risk data (September 2025) could not be delivered to Zhou in Feishu. "
            "Please make sure they know."
        )


@pytest.mark.parametrize("fault", ["5xx", "rate_limit", "http429", "timeout"])
async def test_a_passing_failure_is_retried_and_the_card_arrives(
    feishu: Feishu, clock: ManualClock, fault: str
) -> None:
    h, fake = feishu.h, feishu.fake
    await crew(h, primary=False)
    zhou = await feishu.join(ZHOU, ["staff", "duty_officer"])
    await put_on(h, zhou, "day")
    before = len(fake.cards_to(ZHOU))
    fake.fail_next(fault)
    await report(h)
    assert len(fake.cards_to(ZHOU)) == before and not alerts(h, LI)
    await h.advance(seconds=5)  # the retry: Feishu's wait, or the backoff
    assert fake.cards_to(ZHOU)[-1].text.startswith("🚨 INC-2026-000001")
    assert not alerts(h, LI)  # a passing failure does not move the escalation on


async def test_feishu_members_messages_go_undelivered_when_feishu_is_off(database_url: str, clock: ManualClock) -> None:
    """A member who joined over Feishu, after FEISHU_* was removed: their alerts are undeliverable (never sent
    to Telegram as a chat that does not exist), so the escalation moves on."""
    async with FakeFeishu() as fake:
        app, _session, h = await started(database_url, clock, sms_env=fake.env())
        [connection] = [worker for worker in app.workers if isinstance(worker, FeishuLongConnection)]
        running = asyncio.create_task(connection.run())
        await asyncio.wait_for(connection.connected.wait(), 5)
        zhou = await Feishu(h, fake, app).join(ZHOU, ["staff", "duty_officer"])
        connection.stop()
        await running
        await app.close()
    app, session, h = await started(database_url, clock, sms_env={})
    try:
        assert not [w for w in app.workers if isinstance(w, FeishuLongConnection)]
        await crew(h, primary=False)
        await put_on(h, zhou, "day")
        await report(h)
        assert len(alerts(h, LI)) == 1
        assert not session.sent(zhou.telegram_id)
    finally:
        await app.close()


async def test_the_long_connection_comes_back_and_takes_an_event_in_parts(feishu: Feishu) -> None:
    """Feishu closes the connection: the bot opens it again (after Feishu's reconnect interval, none in the
    fake) and takes the next event, here an invitation code split over three frames."""
    fake, app = feishu.fake, feishu.app
    [connection] = [worker for worker in app.workers if isinstance(worker, FeishuLongConnection)]
    await fake.drop()
    await asyncio.wait_for(fake.connected.wait(), 10)
    await asyncio.wait_for(connection.connected.wait(), 10)
    invitation = await app.members.invite(Actor.command_line(), roles=["staff"], department="office", name="Zhou")
    answer = await fake.say(ZHOU, invitation.code, parts=3)
    assert answer["code"] == 200
    assert await app.members.find(stand_in_chat_id(ZHOU)) is not None
    assert fake.pings >= 2  # a ping as each connection opens, as lark-oapi does


async def test_a_telegram_member_links_feishu_with_a_one_time_code_and_unlinks_it(feishu: Feishu) -> None:
    """/feishu: a code in the member's own chat (F2), sent to the bot in Feishu, moves their cards there; a card
    sent to Telegram before is still edited in Telegram; the code works once; /feishu off brings cards back."""
    h, fake, app = feishu.h, feishu.fake, feishu.app
    await crew(h)
    await report(h)  # Wang's first alert goes to Telegram
    [reply] = await h.send(WANG, "/feishu")
    assert reply.startswith("Send this code to the bot in Feishu before ")
    code = reply.split("\n")[1]
    await fake.say(ZHOU, code)
    await app.outbox.drain()
    assert feishu.last(ZHOU).text.startswith("Welcome, Wang.")
    await fake.say(QIAN, code)  # used up
    await app.outbox.drain()
    assert feishu.last(QIAN).text == "该邀请链接无效。请向管理员索取新的邀请。"
    assert await app.members.find(stand_in_chat_id(QIAN)) is None
    assert (await h.press(LI, ack(1)))[0].startswith("Acknowledged.")
    assert len(edits(h, WANG)) == 1  # the Telegram alert is edited where it is
    await report(h, description="Smoke in the cable room")
    assert len(alerts(h, WANG)) == 1  # the second alert is not in Telegram ...
    assert feishu.last(ZHOU).text.startswith("🚨 INC-2026-000002")  # ... but in Feishu
    answer = await fake.press(ZHOU, feishu.last(ZHOU).buttons[0][1])
    assert answer["toast"]["type"] == "success"  # acting as Wang, the member linked
    assert (await incident(h, "INC-2026-000002")).acknowledged_by == (await app.members.find(WANG)).id
    [again] = await h.send(WANG, "/feishu")
    assert again.startswith("Your Feishu account is linked already; a new code links another one.\n")
    assert await h.send(WANG, "/feishu off") == ["Done: alerts and approval cards come to Telegram again."]
    assert await h.send(WANG, "/feishu off") == ["Your Feishu account is not linked."]
    assert await app.members.find(WANG) is not None
    await report(h, description="Water on the floor")
    assert len(alerts(h, WANG)) == 2  # Telegram again
    wang = await app.members.find(WANG)
    async with app.uow() as uow:
        actions = [e.action for e in await uow.audit.for_entity("member", wang.id)]
    assert actions[-4:] == ["link_code", "linked", "link_code", "unlinked"]


async def test_a_wrong_feishu_setting_stops_the_start_with_one_sentence(database_url: str, clock: ManualClock) -> None:
    with pytest.raises(ConfigError, match="^FEISHU_APP_ID is set but FEISHU_APP_SECRET is not"):
        await started(database_url, clock, sms_env={"FEISHU_APP_ID": "cli_a1"})
