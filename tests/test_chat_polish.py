"""Chat polish (issue 14), through the real Dispatcher: each flow shows its own word where two flows share the
English one, one rule decides every message's language, command menus follow a member's roles, and the bot
shows that it is working while a file is prepared."""

from __future__ import annotations

from aiogram.methods import (
    DeleteMyCommands,
    SendChatAction,
    SetMyCommands,
    SetMyDescription,
    SetMyShortDescription,
)

from bot.outgoing.deadlines import DeadlineCb
from bot.profile import publish_profile
from bot.services.actor import Actor
from bot.services.deadlines.service import MAX_NOTE
from bot.services.members import InvitationView
from bot.services.roster_watch import MAX_NOTE as MAX_HANDOVER
from handlers.callbacks import LanguageCb, MemberCb
from handlers.incident_keyboards import PeriodCb
from tests.conftest import ADMIN_ID, Harness
from tests.support.deadlines import HEAD as DEADLINE_HEAD
from tests.support.deadlines import (  # noqa: F401  (deadline_harness is the fixture dh)
    OWNER,
    advance_to,
    deadline_harness,
    instance,
    local,
)
from tests.support.incidents import HEAD, LEADER, REPORTER, crew, report
from tests.support.roster import officer, put_on


# 1. The same English words, each flow's own Chinese ------------------------------------------------------
async def test_a_long_handover_note_is_called_a_handover_note_in_chinese(harness: Harness) -> None:
    """B2: the roster's length error speaks of the handover record, not of a deadline's evidence note."""
    h = harness
    wang = await officer(h, 2001, "王", language="zh_Hans")
    await put_on(h, wang, "day")
    replies = await h.send(2001, "/handover " + "长" * (MAX_HANDOVER + 1))
    assert replies == [f"交接记录太长：最多 {MAX_HANDOVER} 个字符。"]


async def test_a_long_evidence_note_is_called_a_note_in_chinese(dh: Harness) -> None:
    """E4: the deadline's evidence note has its own length error, whatever the roster calls its notes."""
    h = dh
    await h.join(OWNER, ["information_officer"], department="branch_a")
    await h.press(OWNER, LanguageCb(code="zh_Hans"))
    await h.start()
    row = await instance(h, "branch_risk", "2025-09")
    await h.press(OWNER, DeadlineCb(action="done", id=row.id))
    assert await h.send(OWNER, "x" * (MAX_NOTE + 1)) == [f"说明过长：最多 {MAX_NOTE} 个字符。"]


# 2. One rule for the language of every message to a member -----------------------------------------------
async def test_an_english_administrator_gets_replies_and_start_up_notices_in_english(harness: Harness) -> None:
    """An administrator from ADMIN_IDS whose Telegram speaks English and who never chose a language: the reply
    and the notices the bot sends by itself after a start (here the roster's gap report, B1) are both English.
    Before they ever wrote, nothing told the bot their language: the organisation's (Chinese)."""
    h = harness
    await h.start()
    await h.advance(days=1)  # the daily gap check: the information centre's desk has no primary, nor a head
    assert h.session.texts(ADMIN_ID)[-1].startswith("信息中心值班值班表有空缺")

    replies = await h.send(ADMIN_ID, "/help", language_code="en")
    assert "Your roles let you:" in replies[0] and "/invite — Invite a new member" in replies[0]
    await h.advance(days=1)
    notice = h.session.texts(ADMIN_ID)[-1]
    assert notice.startswith("Duty roster gap in Information centre duty desk")


async def test_choosing_a_language_wins_over_telegrams(harness: Harness) -> None:
    """The stored choice comes first: an English Telegram with Chinese chosen hears Chinese, replies and
    notices alike; an English Telegram that chose nothing hears English from the first notice on."""
    h = harness
    await h.send(2001, "/start " + (await invite(h)).code, language_code="en")
    await h.send(2002, "/start " + (await invite(h)).code, language_code="en")
    await h.press(2002, LanguageCb(code="zh_Hans"))
    for telegram_id in (2001, 2002):
        member = await h.app.members.find(telegram_id)
        assert member is not None
        await h.app.members.toggle_role(Actor(ADMIN_ID, ADMIN_ID), member.id, "duty_officer")
    await h.app.outbox.drain()
    assert h.session.texts(2001)[-1].startswith("An administrator changed your roles.")
    assert h.session.texts(2002)[-1].startswith("管理员")
    assert (await h.send(2002, "/cancel", language_code="en")) == ["没有可以取消的操作。"]


async def invite(h: Harness) -> InvitationView:
    return await h.app.members.invite(Actor.command_line(), roles=["staff"], department="office")


# 3. Command menus per member, and what a stranger sees ----------------------------------------------------
def menus(h: Harness, telegram_id: int) -> list[list[str] | None]:
    """The command menus set for one member's chat, oldest first (None: removed, back to everyone's)."""
    found: list[list[str] | None] = []
    for method in h.session.requests:
        scope = getattr(method, "scope", None)
        if isinstance(method, SetMyCommands | DeleteMyCommands) and getattr(scope, "chat_id", None) == telegram_id:
            found.append([c.command for c in method.commands] if isinstance(method, SetMyCommands) else None)
    return found


def menu_text(h: Harness, telegram_id: int) -> dict[str, str]:
    method = next(m for m in reversed(h.session.requests) if isinstance(m, SetMyCommands) and m.scope)
    assert method.scope.chat_id == telegram_id  # type: ignore[union-attr]
    return {c.command: c.description for c in method.commands}


async def test_the_menu_follows_each_role_change_and_the_members_language(harness: Harness) -> None:
    """F3 in the menu too: a duty officer's menu offers /handover and /incidents but not /roster or /stats;
    made department head by an administrator's button, /roster and /stats appear at once; the menu speaks the
    member's language (Telegram's until they choose); deactivated, their menu is removed."""
    h = harness
    officer_view = await h.join(2001, ["staff", "duty_officer"])
    [first] = menus(h, 2001)
    assert first is not None and {"handover", "incidents", "report", "help"} <= set(first)
    assert not {"roster", "stats", "invite", "members"} & set(first)
    assert menu_text(h, 2001)["handover"] == "给下一班留交接记录"

    await h.press(ADMIN_ID, MemberCb(action="role", member_id=officer_view.id, value="department_head"))
    second = menus(h, 2001)[-1]
    assert second is not None and {"roster", "stats", "export", "handover"} <= set(second)
    assert len(menus(h, 2001)) == 2

    await h.press(2001, LanguageCb(code="en"))
    assert menu_text(h, 2001)["roster"] == "Change the duty roster"
    await h.press(2001, LanguageCb(code="en"))  # the same choice again: the same menu, not sent again
    assert len(menus(h, 2001)) == 3

    await h.press(ADMIN_ID, MemberCb(action="deact_ok", member_id=officer_view.id))
    assert menus(h, 2001)[-1] is None


async def test_a_forged_role_press_changes_no_menu(harness: Harness) -> None:
    """F3: a member's own forged press to make themselves administrator is refused; their menu stays."""
    h = harness
    staff = await h.join(2002, ["staff"])
    answers = await h.press(2002, MemberCb(action="role", member_id=staff.id, value="administrator"))
    assert answers and "管理员" in answers[0]
    assert len(menus(h, 2002)) == 1


async def test_menus_are_checked_at_start_and_sent_only_when_changed(harness: Harness) -> None:
    """The administrator of ADMIN_IDS never joined by invitation: the start gives them their menu, with
    /invite and /members; a second start sends nothing new."""
    h = harness
    await h.start()
    [menu] = menus(h, ADMIN_ID)
    assert menu is not None and {"invite", "members", "roster"} <= set(menu)
    await h.start()
    assert len(menus(h, ADMIN_ID)) == 1


async def test_a_stranger_sees_what_the_bot_is_in_each_language_set_only_when_changed(harness: Harness) -> None:
    """setMyDescription / setMyShortDescription per language at start, and not again while unchanged."""
    h = harness
    app = h.app
    assert await publish_profile(app.bot, app.i18n, app.policy, app.uow) == 3  # zh, en, everyone else
    descriptions = {m.language_code: m.description for m in h.session.requests if isinstance(m, SetMyDescription)}
    shorts = {m.language_code: m.short_description for m in h.session.requests if isinstance(m, SetMyShortDescription)}
    assert descriptions["zh"].startswith("本单位的值班台") and descriptions[None] == descriptions["zh"]
    assert descriptions["en"].startswith("The duty desk of your organisation")
    assert shorts["en"] == "Incident reports, duty alerts, approvals and reporting deadlines. For members only."
    assert all(len(text) <= 512 for text in descriptions.values()) and all(len(t) <= 120 for t in shorts.values())
    calls = len(h.session.requests)
    assert await publish_profile(app.bot, app.i18n, app.policy, app.uow) == 0
    assert len(h.session.requests) == calls


# 4. The bot shows it is working while a chart or a file is made --------------------------------------------
def calls_to(h: Harness, chat_id: int) -> list[str]:
    """The Bot API calls made for one chat, in order: a method name, with the action for sendChatAction."""
    names = []
    for method in h.session.requests:
        if getattr(method, "chat_id", None) != chat_id:
            continue
        name = method.__api_method__
        names.append(f"{name}:{method.action}" if isinstance(method, SendChatAction) else name)
    return names


async def test_stats_and_export_show_that_a_photo_or_a_file_is_coming(harness: Harness) -> None:
    """A5: /stats sends its figures, then "sending a photo…" while the chart is drawn, then the chart;
    /export shows "sending a file…" while the table is made."""
    h = harness
    await crew(h)
    await report(h)
    await h.send(HEAD, "/stats 2026-03-01 2026-03-31")
    assert calls_to(h, HEAD)[-3:] == ["sendMessage", "sendChatAction:upload_photo", "sendPhoto"]
    await h.press(LEADER, PeriodCb(what="csv", period="month"))
    assert calls_to(h, LEADER)[-2:] == ["sendChatAction:upload_document", "sendDocument"]


async def test_timeliness_shows_that_a_chart_is_coming(dh: Harness) -> None:
    """E4: the figures, then "sending a photo…", then the chart."""
    h = dh
    await h.join(DEADLINE_HEAD, ["department_head"], department="branch_a")
    await h.join(OWNER, ["information_officer"], department="branch_a")
    await h.start()
    await advance_to(h, local(2025, 10, 20))
    await h.send(DEADLINE_HEAD, "/timeliness 2025-10-01 2025-10-31")
    assert calls_to(h, DEADLINE_HEAD)[-3:] == ["sendMessage", "sendChatAction:upload_photo", "sendPhoto"]


async def test_a_refused_export_shows_nothing_is_coming(harness: Harness) -> None:
    """F3: a reporter's forged export press is refused before any file is made: no "sending a file…"."""
    h = harness
    await crew(h)
    answers = await h.press(REPORTER, PeriodCb(what="csv", period="month"))
    assert answers == ["Only managers can see figures and exports."]
    assert not [call for call in calls_to(h, REPORTER) if call.startswith("sendChatAction")]


async def test_a_refused_description_does_not_stop_the_start_and_is_tried_again(harness: Harness) -> None:
    """Telegram limits how often descriptions may be set: a refusal is logged, the bot starts, and the next
    start sets what was missed."""
    h = harness
    app = h.app
    h.session.fail_next("setMyDescription", None, "server_error")
    assert await publish_profile(app.bot, app.i18n, app.policy, app.uow) == 2
    assert await publish_profile(app.bot, app.i18n, app.policy, app.uow) == 1


async def test_the_menu_follows_telegrams_language_until_the_member_chooses(harness: Harness) -> None:
    """A member who chose nothing and switches their Telegram app to English gets the English menu."""
    h = harness
    await h.join(2003, ["staff"])
    assert menu_text(h, 2003)["report"] == "报告突发事件"
    await h.send(2003, "/help", language_code="en")
    assert menu_text(h, 2003)["report"] == "Report an incident"
    await h.send(2003, "/help", language_code="en")
    assert len(menus(h, 2003)) == 2
