"""Joining by invitation (F2), roles and administration (F3), through the real Dispatcher."""

from __future__ import annotations

from sqlalchemy import select

from handlers.callbacks import InviteCb, LanguageCb, MemberCb
from storage.models import AuditEntry
from tests.conftest import ADMIN_ID, Harness

STRANGER = 555


async def audit_actions(h: Harness, action: str) -> list[AuditEntry]:
    async with h.app.uow() as uow:
        return list(await uow.session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


async def test_stranger_gets_one_polite_sentence_and_nothing_else(harness: Harness) -> None:
    """F2: anyone without an invitation is told to ask for one, whatever they send."""
    for text in ("hello", "/help", "/start", "/invite"):
        replies = await harness.send(STRANGER, text, language_code="en")
        assert replies == ["This bot is for members only. Please ask your administrator for an invitation."]
    assert await harness.app.members.find(STRANGER) is None


async def test_stranger_in_chinese_is_answered_in_chinese(harness: Harness) -> None:
    replies = await harness.send(STRANGER, "你好", language_code="zh-hans")
    assert replies == ["本机器人仅供成员使用。请向管理员索取邀请链接。"]


async def test_admin_invites_with_buttons_and_the_new_member_joins(harness: Harness) -> None:
    """F2: /invite → roles → department → name → link; the link makes the holder a member."""
    h = harness
    await h.send(ADMIN_ID, "/language")
    await h.press(ADMIN_ID, LanguageCb(code="en"))
    replies = await h.send(ADMIN_ID, "/invite")
    assert "step 1 of 3" in replies[0]
    await h.press(ADMIN_ID, InviteCb(action="role", value="duty_officer"))
    await h.press(ADMIN_ID, InviteCb(action="next"))
    await h.press(ADMIN_ID, InviteCb(action="dept", value="security"))
    replies = await h.send(ADMIN_ID, "  Wang   Fang ")
    assert "Name: Wang Fang" in replies[0]
    assert "Department: Security department" in replies[0]
    answers = await h.press(ADMIN_ID, InviteCb(action="create"))
    link = next(a for a in answers if "https://t.me/" in a).split()[-1]
    assert link.startswith("https://t.me/test_duty_bot?start=")

    replies = await h.send(2001, "/start " + link.split("start=")[1], language_code="en")
    assert replies[0].startswith("Welcome, Wang Fang!")
    welcome = h.session.sent(2001, "sendMessage")[0]
    assert [b.text for row in welcome.reply_markup.keyboard for b in row] == ["🚨 Report incident"]  # A1
    assert "acknowledge incident alerts" in replies[0]  # what the duty officer role allows
    member = await h.app.members.find(2001)
    assert member is not None and member.roles == {"staff", "duty_officer"} and member.department == "security"
    told = "Wang Fang joined with your invitation (Duty officer, Staff; Security department)."
    assert h.session.texts(ADMIN_ID)[-1] == told


async def test_the_invitation_expiry_is_shown_in_the_members_language_and_time_zone(harness: Harness) -> None:
    """Times are stored in UTC and shown in the organisation's zone (Asia/Shanghai: UTC+8)."""
    h = harness  # the manual clock starts at 2026-03-02 01:00 UTC, so 7 days later is 09:00 in Shanghai
    await h.send(ADMIN_ID, "/invite")
    await h.press(ADMIN_ID, InviteCb(action="next"))
    await h.press(ADMIN_ID, InviteCb(action="dept", value="office"))
    await h.press(ADMIN_ID, InviteCb(action="skip"))
    answers = await h.press(ADMIN_ID, InviteCb(action="create"))
    assert any("2026年3月9日 09:00" in a for a in answers)


async def test_invitation_is_single_use_and_bound_to_the_first_account(harness: Harness) -> None:
    h = harness
    invitation = await h.app.members.invite(
        __import__("bot.services.actor", fromlist=["Actor"]).Actor.command_line(), roles=["staff"], department="office"
    )
    assert (await h.send(3001, f"/start {invitation.code}", language_code="en"))[0].startswith("Welcome")
    again = await h.send(3001, f"/start {invitation.code}", language_code="en")
    assert not any("already been used" in r for r in again)  # the same account: harmless
    other = await h.send(3002, f"/start {invitation.code}", language_code="en")
    assert other == ["This invitation has already been used. Ask your administrator for a new one."]
    assert await h.app.members.find(3002) is None


async def test_expired_and_unknown_invitations_say_so(harness: Harness) -> None:
    from bot.services.actor import Actor

    h = harness
    invitation = await h.app.members.invite(Actor.command_line(), roles=["staff"], department="office")
    await h.advance(days=h.app.policy.invitations.expiry_days, seconds=1)
    assert await h.send(3003, f"/start {invitation.code}", language_code="en") == [
        "This invitation has expired. Ask your administrator for a new one."
    ]
    assert await h.send(3003, "/start not-a-real-code", language_code="en") == [
        "This invitation link is not valid. Ask your administrator for a new one."
    ]
    assert await h.app.members.find(3003) is None


async def test_non_member_pressing_an_administrators_button_changes_nothing(harness: Harness) -> None:
    """F3: a forged press by a stranger gets a polite refusal and an audit entry."""
    h = harness
    target = await h.join(4001, ["staff"])
    answers = await h.press(STRANGER, MemberCb(action="deact_ok", member_id=target.id))
    assert answers == ["本机器人仅供成员使用。请向管理员索取邀请链接。"]  # their Telegram speaks Chinese
    assert (await h.app.members.find(4001)) is not None
    assert await audit_actions(h, "refused")


async def test_member_without_the_role_cannot_use_admin_buttons(harness: Harness) -> None:
    """F3: every press is re-authorised on the server; the button's presence proves nothing."""
    h = harness
    staff = await h.join(4002, ["staff"])
    await h.press(4002, LanguageCb(code="en"))
    for data in (
        MemberCb(action="role", member_id=staff.id, value="administrator"),
        MemberCb(action="deact_ok", member_id=staff.id),
        InviteCb(action="next"),
    ):
        answers = await h.press(4002, data)
        assert "Only administrators can do this." in answers or "This button is no longer valid." in answers[0]
    member = await h.app.members.find(4002)
    assert member is not None and member.roles == {"staff"}
    assert len(await audit_actions(h, "refused")) >= 2
    assert await h.send(4002, "/invite") == ["Only administrators can do this."]


async def test_stale_or_garbage_buttons_are_refused_and_audited(harness: Harness) -> None:
    h = harness
    await h.join(4003, ["staff"])
    await h.press(4003, LanguageCb(code="en"))
    for data in ("zz:1:2", "mem:open:notanumber:", "x" * 64):
        answers = await h.press(4003, data)
        assert answers == ["This button is no longer valid. Please start again."]
    refusals = await audit_actions(h, "refused")
    assert {entry.details.get("data") for entry in refusals} >= {"zz:1:2", "x" * 64}


async def test_a_5000_character_name_is_refused_clearly(harness: Harness) -> None:
    h = harness
    await h.send(ADMIN_ID, "/language")
    await h.press(ADMIN_ID, LanguageCb(code="en"))
    await h.send(ADMIN_ID, "/invite")
    await h.press(ADMIN_ID, InviteCb(action="next"))
    await h.press(ADMIN_ID, InviteCb(action="dept", value="office"))
    replies = await h.send(ADMIN_ID, "名" * 5000)
    assert replies == ["The name is too long: at most 128 characters."]
    replies = await h.send(ADMIN_ID, "Li Lei")  # the wizard is still waiting for the name
    assert "Name: Li Lei" in replies[0]


async def test_cancel_leaves_any_wizard_and_back_returns_a_step(harness: Harness) -> None:
    h = harness
    await h.press(ADMIN_ID, LanguageCb(code="en"))
    assert await h.send(ADMIN_ID, "/cancel") == ["There is nothing to cancel."]
    await h.send(ADMIN_ID, "/invite")
    await h.press(ADMIN_ID, InviteCb(action="next"))
    answers = await h.press(ADMIN_ID, InviteCb(action="back"))
    assert any("step 1 of 3" in a for a in answers)
    assert await h.send(ADMIN_ID, "/cancel") == ["Cancelled. Nothing was saved."]
    assert await h.send(ADMIN_ID, "hello") == ["To start, send a command. /help lists what you can do."]


async def test_unknown_commands_and_free_text_get_a_hint(harness: Harness) -> None:
    h = harness
    await h.join(4004, ["staff"])
    await h.press(4004, LanguageCb(code="en"))
    assert await h.send(4004, "/frobnicate") == ["I don't know that command. Send /help to see what you can do."]
    assert await h.send(4004, "what now?") == ["To start, send a command. /help lists what you can do."]


async def test_help_lists_only_what_the_roles_allow(harness: Harness) -> None:
    h = harness
    await h.join(4005, ["staff"])
    await h.press(4005, LanguageCb(code="en"))
    staff_help = (await h.send(4005, "/help"))[0]
    assert "/invite" not in staff_help and "/help" in staff_help
    await h.press(ADMIN_ID, LanguageCb(code="en"))
    admin_help = (await h.send(ADMIN_ID, "/help"))[0]
    assert "/invite" in admin_help and "/members" in admin_help


async def test_language_switch_changes_the_replies(harness: Harness) -> None:
    h = harness
    await h.join(4006, ["staff"])
    await h.press(4006, LanguageCb(code="en"))
    assert await h.send(4006, "/cancel") == ["There is nothing to cancel."]
    await h.press(4006, LanguageCb(code="zh_Hans"))
    assert await h.send(4006, "/cancel") == ["没有可以取消的操作。"]


async def test_admin_changes_roles_and_department_and_deactivates(harness: Harness) -> None:
    h = harness
    member = await h.join(4007, ["staff"])
    await h.press(4007, LanguageCb(code="en"))
    await h.press(ADMIN_ID, LanguageCb(code="en"))
    listing = (await h.send(ADMIN_ID, "/members"))[0]
    assert listing.startswith("Members: 2")
    await h.press(ADMIN_ID, MemberCb(action="role", member_id=member.id, value="duty_officer"))
    assert "You now hold: Duty officer, Staff." in h.session.texts(4007)[-1]
    await h.press(ADMIN_ID, MemberCb(action="dept", member_id=member.id, value="security"))
    updated = await h.app.members.find(4007)
    assert updated is not None and updated.roles == {"staff", "duty_officer"} and updated.department == "security"
    await h.press(ADMIN_ID, MemberCb(action="deact_ok", member_id=member.id))
    assert await h.app.members.find(4007) is None
    replies = await h.send(4007, "/help", language_code="en")
    assert replies == ["This bot is for members only. Please ask your administrator for an invitation."]
    assert [e.entity_id for e in await audit_actions(h, "deactivated")] == [str(member.id)]


async def test_last_administrator_cannot_be_removed(harness: Harness) -> None:
    h = harness
    admin = await h.app.members.find(ADMIN_ID)
    assert admin is not None
    await h.press(ADMIN_ID, LanguageCb(code="en"))
    answers = await h.press(ADMIN_ID, MemberCb(action="role", member_id=admin.id, value="administrator"))
    assert "This is the last administrator; make someone else administrator first." in answers
    assert (await h.app.members.find(ADMIN_ID)).has("administrator")  # type: ignore[union-attr]


async def test_the_same_update_delivered_twice_is_processed_once(harness: Harness) -> None:
    h = harness
    update = h.updates.message(STRANGER, "hello", language_code="en")
    await h.app.dispatcher.feed_update(h.app.bot, update)
    await h.app.dispatcher.feed_update(h.app.bot, update)
    assert len(h.session.texts(STRANGER)) == 1
