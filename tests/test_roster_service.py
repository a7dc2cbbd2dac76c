"""The roster service other flows build on: who is on duty at a moment (B1), assignments and swaps."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.policy import load_policy
from bot.services.actor import Actor
from bot.services.errors import InvalidInput, NotAllowed
from bot.services.roster_calendar import current_shift, next_shift
from storage.models import AuditEntry
from tests.conftest import Harness
from tests.support.roster import MONDAY, SHANGHAI, local, officer, put_on, put_on_days, roster_of


async def on_duty(h: Harness, room: str, at: str):  # noqa: ANN201
    async with h.app.uow() as uow:
        return await roster_of(h).on_duty_in(uow, room, local(at))


def names(members) -> list[str]:  # noqa: ANN001
    return [m.name for m in members]


async def test_the_day_shift_crew_with_primary_and_backup(harness: Harness) -> None:
    """B1: each shift has a primary and a backup; several people may share a position."""
    h = harness
    wang, li, zhao = (await officer(h, 2001, "Wang"), await officer(h, 2002, "Li"), await officer(h, 2003, "Zhao"))
    await put_on(h, wang, "day")
    await put_on(h, zhao, "day")
    await put_on(h, li, "day", position="backup")

    crew = await on_duty(h, "dispatch", "2026-03-02 12:00")
    assert (crew.room, crew.shift) == ("dispatch", "day")
    assert (crew.starts_at, crew.ends_at) == (local("2026-03-02 08:00"), local("2026-03-02 20:00"))
    assert names(crew.primary) == ["Wang", "Zhao"] and names(crew.backup) == ["Li"]
    evening = await on_duty(h, "dispatch", "2026-03-02 20:00")  # the night shift has begun: nobody on it
    assert evening.shift == "night" and evening.primary == () and not evening.covered


async def test_a_night_shift_belongs_to_the_day_it_starts_and_runs_past_midnight(harness: Harness) -> None:
    """B1: 20:00–08:00 assigned on Monday covers Tuesday 03:00; Tuesday 08:00 is the day shift."""
    h = harness
    night_owl = await officer(h, 2001, "Night Owl")
    await put_on(h, night_owl, "night", MONDAY)

    crew = await on_duty(h, "dispatch", "2026-03-03 03:00")
    assert crew.shift == "night" and names(crew.primary) == ["Night Owl"]
    assert (crew.starts_at, crew.ends_at) == (local("2026-03-02 20:00"), local("2026-03-03 08:00"))
    assert (await on_duty(h, "dispatch", "2026-03-03 07:59")).covered
    morning = await on_duty(h, "dispatch", "2026-03-03 08:00")
    assert morning.shift == "day" and not morning.covered


async def test_a_24_hour_shift_runs_from_start_to_the_same_time_next_day(harness: Harness) -> None:
    h = harness
    desk = await officer(h, 2001, "Desk", department="information_centre")
    await put_on(h, desk, "round_the_clock", room="info_centre")
    assert names((await on_duty(h, "info_centre", "2026-03-03 08:29")).primary) == ["Desk"]
    assert not (await on_duty(h, "info_centre", "2026-03-03 08:30")).covered


async def test_a_swap_replaces_the_assignee_of_one_shift_and_tells_both(harness: Harness) -> None:
    """B1: an override replaces one shift's officer; the others and other days are untouched."""
    h = harness
    wang, li, backup = await officer(h, 2001, "Wang"), await officer(h, 2002, "Li"), await officer(h, 2003, "Bak")
    await put_on_days(h, wang, "day", 2)
    await put_on(h, backup, "day", MONDAY + timedelta(days=1), position="backup")
    await h.advance(seconds=1)
    replaced = await roster_of(h).swap(
        Actor.command_line(),
        room="dispatch",
        shift="day",
        day=MONDAY + timedelta(days=1),
        member_id=li.id,
        replaces=wang.id,
    )
    await h.advance(seconds=1)
    assert replaced == [wang.id]
    tuesday = await on_duty(h, "dispatch", "2026-03-03 10:00")
    assert names(tuesday.primary) == ["Li"] and names(tuesday.backup) == ["Bak"]
    assert names((await on_duty(h, "dispatch", "2026-03-02 10:00")).primary) == ["Wang"]
    assert any(
        t.startswith("You are no longer on duty: Dispatch room · Day shift, 1 shift(s)") for t in h.session.texts(2001)
    )
    assert any("Dispatch room · Day shift (primary), 1 shift(s)" in t for t in h.session.texts(2002))


async def test_members_without_the_owner_role_cannot_change_the_roster(harness: Harness) -> None:
    """B1, F3: only administrators and the room's owner (its owner_role in its department) may
    change a roster; a head of another department may not. Refusals are audited; nothing changes."""
    h = harness
    wang = await officer(h, 2001, "Wang")
    other_head = await officer(h, 2002, "Head of finance", department="finance", roles=("department_head",))
    security_head = await officer(h, 2003, "Head of security", roles=("department_head",))
    for intruder in (wang, other_head):
        with pytest.raises(NotAllowed):
            await roster_of(h).assign(
                Actor(intruder.telegram_id), room="dispatch", shift="day", day=MONDAY, member_id=wang.id
            )
    assert not (await on_duty(h, "dispatch", "2026-03-02 10:00")).covered
    async with h.app.uow() as uow:
        refusals = list(await uow.session.scalars(select(AuditEntry).where(AuditEntry.action == "refused")))
    assert [r.actor_telegram_id for r in refusals] == [2001, 2002]

    await roster_of(h).assign(
        Actor(security_head.telegram_id), room="dispatch", shift="day", day=MONDAY, member_id=wang.id
    )
    assert names((await on_duty(h, "dispatch", "2026-03-02 10:00")).primary) == ["Wang"]


async def test_impossible_assignments_are_refused_with_a_reason(harness: Harness) -> None:
    h = harness
    wang = await officer(h, 2001, "Wang")
    clerk = await officer(h, 2002, "Clerk", roles=("staff",))
    cases = [
        dict(shift="day", day=MONDAY, member_id=clerk.id),  # not a duty officer
        dict(shift="night", day=MONDAY - timedelta(days=1), member_id=wang.id),  # already over
        dict(shift="teatime", day=MONDAY, member_id=wang.id),  # no such shift
        dict(shift="day", day=MONDAY, member_id=wang.id, position="deputy"),
    ]
    for case in cases:
        with pytest.raises(InvalidInput):
            await roster_of(h).assign(Actor.command_line(), room="dispatch", **case)
    assert not (await on_duty(h, "dispatch", "2026-03-02 10:00")).covered


def test_shift_patterns_that_skip_days_leave_time_uncovered() -> None:
    """A pattern only on weekdays: no shift runs on Saturday; the next one starts on Monday."""
    policy = load_policy(None)
    room = policy.duty_room("dispatch")
    office_hours = room.shifts[0].model_copy(update={"days": ("mon", "tue", "wed", "thu", "fri")})
    weekdays = room.model_copy(update={"shifts": (office_hours,)})
    saturday = local("2026-03-07 10:00")
    assert current_shift(weekdays, saturday, SHANGHAI) is None
    upcoming = next_shift(weekdays, saturday, SHANGHAI)
    assert upcoming is not None and upcoming.starts_at == local("2026-03-09 08:00")
