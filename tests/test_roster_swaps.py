"""Officers swap their own shifts (B1, B2, F1, F3; issue 14), through the real Dispatcher: /swap with
Back and Cancel, a named colleague or anyone eligible, accepted or declined, approved by the roster's
keeper when the policy asks for it, expired when the shift starts. Presses by anyone else are refused
and audited; the roster and both officers' reminders follow the swap."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.app import build_app
from bot.clock import ManualClock
from bot.outgoing.roster import SwapCb
from bot.policy import default_policy_path, parse_policy
from bot.services.actor import Actor
from handlers.roster_swaps import SwapStepCb
from storage.models import AuditEntry
from storage.roster_models import SwapRequest
from tests.conftest import ADMIN_ID, Harness, settings_for
from tests.support.recording_session import RecordingSession
from tests.support.roster import MONDAY, local, officer, put_on, roster_of

HEAD = 3000  # head of security: keeps the dispatch room's roster
DEPUTY = 3001  # another head of security
WANG, LI, ZHAO, SUN = 2001, 2002, 2003, 2004
TUESDAY = MONDAY + timedelta(days=1)
NIGHT = "Dispatch room · Night shift (primary), 3 Mar 2026, 20:00 – 4 Mar 2026, 08:00"


async def people(h: Harness) -> dict[int, int]:
    """Wang stands Tuesday's night shift; Li and Zhao are officers of the same department. Returns
    Telegram id -> member id."""
    await officer(h, HEAD, "Head Zhou", roles=("staff", "department_head"))
    wang, li, zhao = await officer(h, WANG, "Wang"), await officer(h, LI, "Li"), await officer(h, ZHAO, "Zhao")
    await officer(h, 2009, "Finance officer", department="finance")  # another department: not eligible
    await put_on(h, wang, "night", TUESDAY)
    return {WANG: wang.id, LI: li.id, ZHAO: zhao.id}


async def ask(h: Harness, colleague: str) -> list[str]:
    """Wang goes through /swap: the Tuesday night, then `colleague` (a member id or "any"), then Send."""
    await h.send(WANG, "/swap")
    [(_text, data), *_] = h.buttons(WANG)
    await h.press(WANG, data)
    await h.press(WANG, SwapStepCb(action="who", value=colleague))
    return await h.press(WANG, SwapStepCb(action="send"))


async def latest_request(h: Harness) -> int:
    async with h.app.uow() as uow:
        return int(await uow.session.scalar(select(func.max(SwapRequest.id))))


async def crew_names(h: Harness, when: str = "2026-03-03 21:00") -> list[str]:
    async with h.app.uow() as uow:
        crew = await roster_of(h).on_duty_in(uow, "dispatch", local(when))
        return [m.name for m in crew.primary]


async def refusals(h: Harness) -> list[tuple[int | None, str]]:
    async with h.app.uow() as uow:
        rows = await uow.session.execute(
            select(AuditEntry.actor_telegram_id, AuditEntry.details).where(AuditEntry.action == "refused")
        )
        return [(who, details.get("reason", "")) for who, details in rows]


def reminders(h: Harness, chat_id: int) -> list[str]:
    return [t for t in h.session.texts(chat_id) if t.startswith("Reminder: your shift")]


async def test_a_named_colleague_accepts_and_the_roster_and_reminders_follow(harness: Harness) -> None:
    """B1: the wizard with Back; only the asked colleague may accept (F3); once accepted, Li stands the
    shift, Wang is off it, the keeper is told, and the reminder goes to Li instead of Wang."""
    h = harness
    ids = await people(h)
    assert (await h.send(WANG, "/swap")) == ["Which of your shifts should a colleague take?"]
    shifts = h.buttons(WANG)
    assert shifts[0][0] == NIGHT and shifts[-1][0] == "Cancel"
    await h.press(WANG, shifts[0][1])
    assert [text for text, _ in h.buttons(WANG)] == ["Li", "Zhao", "Anyone eligible (2)", "◀ Back", "Cancel"]
    assert (await h.press(WANG, SwapStepCb(action="back")))[-1] == "Which of your shifts should a colleague take?"
    await h.press(WANG, shifts[0][1])
    summary = (await h.press(WANG, SwapStepCb(action="who", value=str(ids[LI]))))[-1]
    assert summary.splitlines() == [f"Shift: {NIGHT}", "Ask: Li", "The request expires when the shift starts."]
    sent = (await h.press(WANG, SwapStepCb(action="send")))[-1]
    assert sent == f"Sent: Li is asked to take {NIGHT}. You will be told the answer."
    assert [text for text, _ in h.buttons(WANG)] == ["↩ Withdraw the request"]

    card = h.session.texts(LI)[-1]
    assert card.startswith(f"Wang asks you to take their shift: {NIGHT}.")
    request = await latest_request(h)
    assert [text for text, _ in h.buttons(LI)] == ["✅ Take the shift", "❌ Decline"]
    # Zhao was not asked: a forged press changes nothing, and is refused and audited (F3)
    assert await h.press(ZHAO, SwapCb(action="accept", id=request)) == ["This swap request was not sent to you."]
    assert await h.press(WANG, SwapCb(action="approve", id=request)) == [
        "Only the duty room's keepers can approve swaps."
    ]
    assert await crew_names(h) == ["Wang"]

    done = await h.press(LI, SwapCb(action="accept", id=request))
    assert done[-1] == f"Done: you now stand {NIGHT}. Wang has been told."
    assert await crew_names(h) == ["Li"]
    assert h.session.texts(WANG)[-1] == f"Li takes your shift {NIGHT}. You are no longer on it."
    assert h.session.texts(HEAD)[-1] == (f"Roster change: Li takes Wang's shift {NIGHT}, as the two officers agreed.")
    # a second press, or Wang withdrawing now, is stale
    assert await h.press(LI, SwapCb(action="accept", id=request)) == ["This swap request is no longer open."]
    assert await h.press(WANG, SwapCb(action="withdraw", id=request)) == ["This swap request is no longer open."]

    await h.advance(days=1, hours=10)  # Tuesday 19:00, an hour before the night shift
    assert len(reminders(h, LI)) == 1 and reminders(h, WANG) == []
    assert {(ZHAO, "This swap request was not sent to you."), (WANG, "This swap request is no longer open.")} <= set(
        await refusals(h)
    )
    async with h.app.uow() as uow:
        actions = list(
            await uow.session.scalars(
                select(AuditEntry.action).where(AuditEntry.entity == "roster_swap").order_by(AuditEntry.id)
            )
        )
    assert actions == ["swap_requested", "swap_accepted", "swapped_by_officers"]


async def test_a_named_colleague_declines_and_the_requester_keeps_the_shift(harness: Harness) -> None:
    h = harness
    ids = await people(h)
    await ask(h, str(ids[LI]))
    request = await latest_request(h)
    assert (await h.press(LI, SwapCb(action="decline", id=request)))[-1] == (
        f"You declined {NIGHT}. Wang has been told."
    )
    assert h.session.texts(WANG)[-1] == f"Li declined to take your shift {NIGHT}. You still stand it."
    assert await h.press(LI, SwapCb(action="accept", id=request)) == ["You have already declined this request."]
    assert await crew_names(h) == ["Wang"]
    # asking again is possible once the first request is closed
    assert (await ask(h, str(ids[ZHAO])))[-1].startswith("Sent: Zhao is asked")


async def test_the_wizard_cancels_and_refuses_those_without_shifts(harness: Harness) -> None:
    """Cancel leaves nothing behind; a member who is no duty officer is refused (and audited); an
    officer with no shift ahead is told so."""
    h = harness
    await people(h)
    await h.send(WANG, "/swap")
    assert (await h.press(WANG, SwapStepCb(action="cancel")))[-1] == "Cancelled. Nothing was sent."
    assert await h.send(HEAD, "/swap") == ["Only duty officers can swap their shifts."]
    assert await h.send(LI, "/swap") == ["You have no shift in the next month that could be swapped."]
    # a forged shift button: someone else's assignment
    await h.send(WANG, "/swap")
    assert await h.press(LI, SwapStepCb(action="shift", value="1")) == [
        "This button is no longer valid. Please start again."
    ]
    async with h.app.uow() as uow:
        assert await uow.session.scalar(select(func.count(SwapRequest.id))) == 0


async def test_the_request_expires_when_the_shift_starts(harness: Harness) -> None:
    h = harness
    ids = await people(h)
    await ask(h, str(ids[LI]))
    request = await latest_request(h)
    await h.advance(days=1, hours=11)  # Tuesday 20:00: the shift starts
    assert h.session.texts(WANG)[-1] == (
        f"The swap of {NIGHT}, was not completed before the shift started: Wang stands it."
    )
    assert "This request expired: the shift has started." in h.session.texts(LI)[-1]  # the card loses its buttons
    assert await h.press(LI, SwapCb(action="accept", id=request)) == ["This swap request is no longer open."]
    assert await crew_names(h) == ["Wang"]


@pytest.fixture
async def approving(sqlite_url: str, clock: ManualClock) -> AsyncIterator[Harness]:
    """The dispatch room's policy asks a keeper to approve every officers' swap."""
    text = default_policy_path().read_text(encoding="utf-8").replace("swap_approval = false", "swap_approval = true", 1)
    session = RecordingSession()
    app = await build_app(settings_for(sqlite_url), clock=clock, policy=parse_policy(text), session=session)
    try:
        yield Harness(app, session, clock)
    finally:
        await app.close()


async def test_anyone_eligible_then_the_keeper_approves(approving: Harness) -> None:
    """Asked of anyone: one officer declines, another takes it; the others' cards close; the keeper
    approves (nobody else may), and only then does the roster change."""
    h = approving
    await people(h)
    await officer(h, SUN, "Sun")
    await officer(h, DEPUTY, "Head Qian", roles=("staff", "department_head"))  # a second keeper
    sent = (await ask(h, "any"))[-1]
    assert sent == f"Sent: 3 eligible duty officer(s) are asked to take {NIGHT}. You will be told the answer."
    request = await latest_request(h)
    assert h.session.texts(ZHAO)[-1].startswith("Wang asks any eligible duty officer to take their shift:")
    assert (await h.press(ZHAO, SwapCb(action="decline", id=request)))[-1] == f"You declined {NIGHT}."
    assert not h.session.texts(WANG)[-1].startswith("Every eligible")  # Li may still take it
    accepted = await h.press(LI, SwapCb(action="accept", id=request))
    assert accepted[-1] == f"You accepted {NIGHT}. A keeper of the roster must approve the swap; you will be told."
    assert "Li has taken this shift." in h.session.texts(SUN)[-1]  # Sun's card loses its buttons
    assert h.session.texts(ZHAO)[-1] == f"You declined {NIGHT}."
    assert h.session.texts(WANG)[-1] == (f"Li will take your shift {NIGHT}, once the roster's keeper approves.")
    assert h.session.texts(HEAD)[-1] == f"Li would take Wang's shift {NIGHT}. Approve?"
    assert await crew_names(h) == ["Wang"]  # not before the keeper approves

    assert await h.press(LI, SwapCb(action="approve", id=request)) == [
        "Only the duty room's keepers can approve swaps."
    ]
    approved = await h.press(HEAD, SwapCb(action="approve", id=request))
    assert approved[-1] == f"Approved: Li now stands {NIGHT}. Both officers have been told."
    assert await crew_names(h) == ["Li"]
    assert h.session.texts(LI)[-1] == f"You now stand Wang's shift {NIGHT}."
    assert h.session.texts(DEPUTY)[-1].splitlines() == [
        f"Swap request: Wang's shift {NIGHT}.",
        "Approved by Head Zhou.",
    ]  # the other keeper's card loses its buttons
    assert await h.press(DEPUTY, SwapCb(action="reject", id=request)) == ["This swap request is no longer open."]


async def test_the_keeper_rejects_and_the_requester_may_withdraw(approving: Harness) -> None:
    h = approving
    ids = await people(h)
    await ask(h, str(ids[LI]))
    request = await latest_request(h)
    await h.press(LI, SwapCb(action="accept", id=request))
    rejected = await h.press(HEAD, SwapCb(action="reject", id=request))
    assert rejected[-1] == f"Rejected: Wang still stands {NIGHT}. Both officers have been told."
    told = f"Head Zhou did not approve the swap of {NIGHT}: Wang still stands it."
    assert h.session.texts(WANG)[-1] == told and h.session.texts(LI)[-1] == told
    assert await crew_names(h) == ["Wang"]

    await ask(h, str(ids[ZHAO]))
    second = await latest_request(h)
    assert await h.press(LI, SwapCb(action="withdraw", id=second)) == [
        "Only the officer who asked can withdraw the request."
    ]
    assert (await h.press(WANG, SwapCb(action="withdraw", id=second)))[-1] == f"Withdrawn: you still stand {NIGHT}."
    assert "Wang withdrew this request." in h.session.texts(ZHAO)[-1]
    assert await h.press(ZHAO, SwapCb(action="accept", id=second)) == ["This swap request is no longer open."]


async def test_when_everyone_asked_declines_the_requester_is_told_in_their_language(harness: Harness) -> None:
    h = harness
    await people(h)
    await h.app.members.set_language(WANG, "zh_Hans")
    await ask(h, "any")
    request = await latest_request(h)
    await h.press(LI, SwapCb(action="decline", id=request))
    assert not h.session.texts(WANG)[-1].startswith("所有符合条件的值班员")
    await h.press(ZHAO, SwapCb(action="decline", id=request))
    assert h.session.texts(WANG)[-1].startswith("所有符合条件的值班员都拒绝了替您值班 调度室 · 夜班（主班）")
    assert await crew_names(h) == ["Wang"]


async def test_an_accepted_swap_still_waiting_for_the_keeper_expires_at_the_shift_start(approving: Harness) -> None:
    h = approving
    ids = await people(h)
    await ask(h, str(ids[LI]))
    request = await latest_request(h)
    await h.press(LI, SwapCb(action="accept", id=request))
    await h.advance(days=1, hours=11)  # Tuesday 20:00
    lapsed = f"The swap of {NIGHT}, was not completed before the shift started: Wang stands it."
    assert h.session.texts(WANG)[-1] == lapsed and h.session.texts(LI)[-1] == lapsed
    assert h.session.texts(HEAD)[-1].endswith("This request expired: the shift has started.")
    assert await h.press(HEAD, SwapCb(action="approve", id=request)) == ["This swap request is no longer open."]
    assert await crew_names(h) == ["Wang"]


async def test_a_request_is_void_once_the_keeper_moved_the_requester_off_the_shift(harness: Harness) -> None:
    h = harness
    ids = await people(h)
    await ask(h, str(ids[LI]))
    request = await latest_request(h)
    await roster_of(h).swap(Actor(ADMIN_ID), room="dispatch", shift="night", day=TUESDAY, member_id=ids[ZHAO])
    assert await h.press(LI, SwapCb(action="accept", id=request)) == [
        "The roster has changed: Wang no longer stands this shift."
    ]
    assert await crew_names(h) == ["Zhao"]
    assert await h.press(LI, SwapCb(action="accept", id=request)) == ["This swap request is no longer open."]
