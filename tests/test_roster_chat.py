"""The duty roster in chat (B1, B2, F3), through the real Dispatcher with the injected clock."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from handlers.callbacks import LanguageCb, MemberCb
from handlers.roster_keyboards import RosterCb
from storage.models import AuditEntry
from tests.conftest import ADMIN_ID, Harness
from tests.support.roster import MONDAY, local, officer, put_on, roster_of

HEAD = 3000  # the security department's head keeps the dispatch room's roster


async def crew_at(h: Harness, when: str, room: str = "dispatch"):  # noqa: ANN201
    async with h.app.uow() as uow:
        return await roster_of(h).on_duty_in(uow, room, local(when))


async def head(h: Harness) -> None:
    await officer(h, HEAD, "Head Zhou", roles=("staff", "department_head"))


async def test_duty_shows_who_is_on_duty_now_and_next_in_every_room(harness: Harness) -> None:
    """B1: /duty names the primary and backup now and next, with times in the member's locale."""
    h = harness
    wang, li = await officer(h, 2001, "Wang"), await officer(h, 2002, "Li")
    await put_on(h, wang, "day")
    await put_on(h, li, "day", position="backup")
    reply = (await h.send(2001, "/duty"))[0]
    assert reply.splitlines()[:4] == [
        "【Dispatch room】",
        "On duty now:",
        "  Day shift, 2 Mar 2026, 08:00 – 2 Mar 2026, 20:00",
        "  Primary: Wang",
    ]
    assert "  Backup: Li" in reply
    night = reply.split("Next:")[1]
    assert "Night shift, 2 Mar 2026, 20:00 – 3 Mar 2026, 08:00" in night and "nobody — a gap in the roster!" in night
    assert "【Information centre duty desk】" in reply

    await h.join(2003, ["staff"])  # a member who kept the organisation's language
    chinese = (await h.send(2003, "/duty"))[0]
    assert "【调度室】" in chinese and "白班，2026年3月2日 08:00 – 2026年3月2日 20:00" in chinese
    assert "主班：Wang" in chinese


async def test_the_owner_assigns_a_member_to_dates_with_back_and_cancel(harness: Harness) -> None:
    """B1: assign a member to dates in chat; Back returns a step, bad dates are explained."""
    h = harness
    await head(h)
    wang = await officer(h, 2001, "Wang")
    assert "which duty room?" in (await h.send(HEAD, "/roster"))[0]
    # the head of security keeps the dispatch room's roster only
    assert [text for text, _ in h.buttons(HEAD)] == ["Dispatch room", "Import a CSV file", "Cancel"]
    await h.press(HEAD, RosterCb(action="room", value="dispatch"))
    await h.press(HEAD, RosterCb(action="do", value="assign"))
    answers = await h.press(HEAD, RosterCb(action="shift", value="night"))
    assert answers[-1] == "Who stands the shift?" and (
        "Wang",
        RosterCb(action="member", value=str(wang.id)).pack(),
    ) in h.buttons(HEAD)
    await h.press(HEAD, RosterCb(action="member", value=str(wang.id)))
    assert (await h.press(HEAD, RosterCb(action="back")))[-1] == "Who stands the shift?"
    await h.press(HEAD, RosterCb(action="member", value=str(wang.id)))
    await h.press(HEAD, RosterCb(action="pos", value="primary"))
    assert await h.send(HEAD, "next tuesday") == ["Write a date like 2026-03-05, or two dates for a range."]
    assert await h.send(HEAD, "2026-02-30") == ["Write a date like 2026-03-05, or two dates for a range."]
    summary = (await h.send(HEAD, "2026-03-02 2026-03-04"))[0]
    assert summary.splitlines() == [
        "Shift: Dispatch room · Night shift",
        "Member: Wang (Primary)",
        "Dates: 2026-03-02 to 2026-03-04",
    ]
    saved = await h.press(HEAD, RosterCb(action="save"))
    assert saved[-1] == "Saved: Wang is on the roster for 3 shift(s), 2026-03-02 to 2026-03-04."
    assert [m.name for m in (await crew_at(h, "2026-03-05 02:00")).primary] == ["Wang"]  # the night of the 4th
    assert not (await crew_at(h, "2026-03-06 02:00")).covered
    told = h.session.texts(2001)[-1]
    assert told.startswith("You are on the duty roster: Dispatch room · Night shift (primary), 3 shift(s)")

    await h.send(HEAD, "/roster")
    await h.press(HEAD, RosterCb(action="room", value="dispatch"))
    assert (await h.press(HEAD, RosterCb(action="cancel")))[-1] == "Cancelled. The roster was not changed."


async def test_the_owner_swaps_one_shift_and_both_officers_are_told(harness: Harness) -> None:
    """B1: an override for one shift; the officer replaced and the one taking over are told."""
    h = harness
    await head(h)
    wang, li = await officer(h, 2001, "Wang"), await officer(h, 2002, "Li")
    tuesday = MONDAY + timedelta(days=1)
    await put_on(h, wang, "day", tuesday)
    await h.send(HEAD, "/roster")
    for action, value in (
        ("room", "dispatch"),
        ("do", "swap"),
        ("shift", "day"),
        ("member", str(li.id)),
        ("pos", "primary"),
    ):
        await h.press(HEAD, RosterCb(action=action, value=value))
    answers = await h.press(HEAD, RosterCb(action="day", value=tuesday.isoformat()))
    assert answers[-1] == "Whom does Li replace?" and (
        "Instead of Wang",
        RosterCb(action="repl", value=str(wang.id)).pack(),
    ) in h.buttons(HEAD)
    summary = (await h.press(HEAD, RosterCb(action="repl", value=str(wang.id))))[-1]
    assert summary.splitlines()[-1] == "Date: 2026-03-03, instead of Wang"
    assert (await h.press(HEAD, RosterCb(action="save")))[-1].startswith("Saved: Li takes the shift on 2026-03-03.")
    assert [m.name for m in (await crew_at(h, "2026-03-03 09:00")).primary] == ["Li"]
    assert h.session.texts(2001)[-1].startswith("You are no longer on duty: Dispatch room · Day shift, 1 shift(s)")
    assert h.session.texts(2002)[-1].startswith("You are on the duty roster: Dispatch room · Day shift (primary)")


async def test_members_without_the_right_cannot_open_or_press_the_roster_wizard(harness: Harness) -> None:
    """B1, F3: duty officers and heads of other departments are refused and audited; the information
    centre's head keeps only that room's roster, so a forged press for the dispatch room fails."""
    h = harness
    wang = await officer(h, 2001, "Wang")
    await officer(h, 2002, "Finance head", department="finance", roles=("department_head",))
    await officer(h, 2003, "IC head", department="information_centre", roles=("department_head",))
    refusal = "Only administrators and the duty room's owner can change its roster."
    assert await h.send(2001, "/roster") == [refusal]
    assert await h.send(2002, "/roster") == [refusal]
    await h.send(2003, "/roster")
    assert [text for text, _ in h.buttons(2003)] == ["Information centre duty desk", "Import a CSV file", "Cancel"]
    assert refusal in await h.press(2003, RosterCb(action="room", value="dispatch"))
    for forged in (RosterCb(action="save"), RosterCb(action="member", value=str(wang.id))):
        assert await h.press(2001, forged) == ["This button is no longer valid. Please start again."]
    await h.send(ADMIN_ID, "/roster")
    await h.press(ADMIN_ID, RosterCb(action="room", value="dispatch"))
    await h.press(ADMIN_ID, RosterCb(action="do", value="assign"))
    await h.press(ADMIN_ID, RosterCb(action="shift", value="day"))
    garbled = await h.press(ADMIN_ID, RosterCb(action="member", value="1; drop table"))
    assert garbled == ["该按钮已失效，请重新开始。"]  # the administrator reads Chinese
    async with h.app.uow() as uow:
        refused = await uow.session.scalars(select(AuditEntry.actor_telegram_id).where(AuditEntry.action == "refused"))
        assert {2001, 2002, 2003} <= set(refused)
    assert not (await crew_at(h, "2026-03-02 10:00")).covered


async def test_deactivating_a_member_with_future_shifts_asks_to_reassign_them_first(harness: Harness) -> None:
    """B2: nobody leaves the roster without handover; once swapped out, deactivation works."""
    h = harness
    wang, li = await officer(h, 2001, "Wang"), await officer(h, 2002, "Li")
    await put_on(h, wang, "night", MONDAY + timedelta(days=2))
    await h.press(ADMIN_ID, LanguageCb(code="en"))
    answers = await h.press(ADMIN_ID, MemberCb(action="deact_ok", member_id=wang.id))
    # in the administrator's language, the reasons too (one language rule for every message, issue 14)
    assert any(a.startswith("Reassign these first: Wang stands 1 shift(s) in Dispatch room") for a in answers)
    assert await h.app.members.find(2001) is not None
    await roster_of(h).swap(
        __import__("bot.services.actor", fromlist=["Actor"]).Actor(ADMIN_ID),
        room="dispatch",
        shift="night",
        day=MONDAY + timedelta(days=2),
        member_id=li.id,
    )
    await h.press(ADMIN_ID, MemberCb(action="deact_ok", member_id=wang.id))
    assert await h.app.members.find(2001) is None


async def test_the_owner_sees_the_next_seven_days_with_the_gaps(harness: Harness) -> None:
    """B1: the week view lists every shift of the room from now on, gaps marked; Back returns."""
    h = harness
    await head(h)
    wang = await officer(h, 2001, "Wang")
    await put_on(h, wang, "night")
    await h.send(HEAD, "/roster")
    await h.press(HEAD, RosterCb(action="room", value="dispatch"))
    week = (await h.press(HEAD, RosterCb(action="do", value="week")))[-1].split("\n\n")
    assert week[0] == "Dispatch room" and len(week) == 1 + 15  # 8 day shifts (now's to next Monday's), 7 nights
    assert week[1].splitlines() == [
        "Day shift, 2 Mar 2026, 08:00 – 2 Mar 2026, 20:00",
        "Primary: nobody — a gap in the roster!",
        "Backup: —",
    ]
    assert week[2].splitlines()[1] == "Primary: Wang"
    assert (await h.press(HEAD, RosterCb(action="back")))[-1] == "Dispatch room: what would you like to do?"
