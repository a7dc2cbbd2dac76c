"""A small, self-contained deadlines policy and a harness built on it, so that the deadlines tests do
not depend on the shipped default's numbers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.app import build_app
from bot.clock import ManualClock
from bot.policy import Policy, load_policy
from bot.policy.deadlines import Deadlines
from handlers.callbacks import LanguageCb
from storage.deadlines_models import DeadlineInstance
from tests.conftest import Harness, settings_for
from tests.support.recording_session import RecordingSession

SHANGHAI = ZoneInfo("Asia/Shanghai")
OWNER, HEAD, LEADER_ID, STAFF, SECRETARY, FINANCE = 3001, 3002, 3003, 3004, 3005, 3006

TEST_DEADLINES: dict[str, Any] = {
    "grace_hours": 48,
    "default_reminders": ["3d", "1d", "2h"],
    "notify_late_roles": ["department_head"],
    "notify_missed_roles": ["leader"],
    "obligations": [
        {
            "code": "branch_risk",
            "name": {"zh_Hans": "客户风险数据报送", "en": "Customer-risk data"},
            "department": "branch_a",
            "owner_role": "information_officer",
            "rule": {"anchor": "month_end", "offset": 4, "unit": "working_days"},
            "evidence_required": True,
        },
        {
            "code": "flash",
            "name": {"zh_Hans": "财务快报", "en": "Flash report"},
            "department": "finance",
            "owner_role": "information_officer",
            "rule": {"anchor": "month_end", "offset": 5, "roll": "following"},
            "reminders": ["1d"],
        },
    ],
    "events": [
        {
            "code": "board_resolution",
            "name": {"zh_Hans": "董事会决议", "en": "Board resolution adopted"},
            "department": "office",
            "owner_role": "information_officer",
            "obligations": [
                {
                    "code": "board_disclosure",
                    "name": {"zh_Hans": "董事会决议公告", "en": "Board resolution disclosure"},
                    "rule": {"anchor": "event", "offset": 2, "unit": "trading_days"},
                    "reminders": ["1d", "2h"],
                    "evidence_required": True,
                }
            ],
        },
        {
            "code": "shareholders_meeting",
            "name": {"zh_Hans": "股东大会", "en": "Shareholders' meeting"},
            "department": "office",
            "owner_role": "information_officer",
            "obligations": [
                {
                    "code": "meeting_notice",
                    "name": {"zh_Hans": "股东大会通知", "en": "Meeting notice"},
                    "rule": {"anchor": "event", "offset": 20, "direction": "before"},
                }
            ],
        },
    ],
}


def deadline_policy(**changes: Any) -> Policy:
    """The shipped policy with the small deadlines section above (``changes`` override its keys)."""
    section = Deadlines.model_validate({**TEST_DEADLINES, **changes})
    return load_policy(None).model_copy(update={"deadlines": section})


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


async def advance_to(h: Harness, moment: datetime) -> None:
    """Move the clock to ``moment``, firing the timers on the way in order, then deliver."""
    await h.advance(seconds=(moment - h.clock.now()).total_seconds())


async def join_en(h: Harness, user_id: int, roles: list[str], department: str) -> None:
    """A member who chose English, so that assertions read plainly."""
    await h.join(user_id, roles, department=department, name=f"Member {user_id}")
    await h.press(user_id, LanguageCb(code="en"))


async def instances(h: Harness) -> list[DeadlineInstance]:
    async with h.app.uow() as uow:
        query = select(DeadlineInstance).order_by(DeadlineInstance.due_at, DeadlineInstance.id)
        return list(await uow.session.scalars(query))


async def instance(h: Harness, obligation: str, period: str) -> DeadlineInstance:
    return next(row for row in await instances(h) if row.obligation == obligation and row.period == period)


async def build_harness(database_url: str, clock: ManualClock, policy: Policy) -> Harness:
    session = RecordingSession()
    app = await build_app(settings_for(database_url), clock=clock, session=session, policy=policy)
    return Harness(app, session, clock)


@pytest.fixture(name="dh")
async def deadline_harness(database_url: str, clock: ManualClock) -> AsyncIterator[Harness]:
    """The harness on the deadlines test policy, at Thu 25 Sep 2025 09:00 in Shanghai."""
    clock.set(local(2025, 9, 25, 9))
    h = await build_harness(database_url, clock, deadline_policy())
    try:
        yield h
    finally:
        await h.app.close()
