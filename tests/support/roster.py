"""Helpers for the duty roster's tests (B1, B2)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.services.actor import Actor
from bot.services.members import MemberView
from bot.services.roster import RosterService
from tests.conftest import Harness

SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY = date(2026, 3, 2)  # the harness clock starts at 09:00 Shanghai time on this Monday


def local(text: str) -> datetime:
    """'2026-03-02 20:00' in Shanghai time, as the UTC moment the services work with."""
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI).astimezone(UTC)


def roster_of(h: Harness) -> RosterService:
    return h.app.flows.roster


async def officer(
    h: Harness,
    telegram_id: int,
    name: str,
    *,
    department: str = "security",
    language: str = "en",
    roles: tuple[str, ...] = ("staff", "duty_officer"),
) -> MemberView:
    """A member who joined with `roles` and chose `language`."""
    member = await h.join(telegram_id, list(roles), department=department, name=name)
    await h.app.members.set_language(telegram_id, language)
    return member


async def put_on(
    h: Harness, member: MemberView, shift: str, day: date = MONDAY, *, room: str = "dispatch", position: str = "primary"
) -> None:
    await roster_of(h).assign(
        Actor.command_line(), room=room, shift=shift, day=day, member_id=member.id, position=position
    )
    await h.app.outbox.drain()  # the officer's "you are on the roster" message goes out


async def put_on_days(h: Harness, member: MemberView, shift: str, days: int, *, room: str = "dispatch") -> None:
    """`member` as primary on `shift` every day for `days` days from Monday."""
    await roster_of(h).assign_days(
        Actor.command_line(),
        room=room,
        shift=shift,
        first=MONDAY,
        last=MONDAY + timedelta(days=days - 1),
        member_id=member.id,
    )
    await h.app.outbox.drain()
