"""Fault suite (issue 7): two bot processes on one PostgreSQL send each deadline reminder and each approval
reminder and escalation exactly once. Timers are claimed with FOR UPDATE SKIP LOCKED and fire inside the
transaction of their effect; outbox rows are claimed the same way (DESIGN.md). The outbox and generic timers
are in tests/test_faults.py, incident escalation steps in tests/test_incidents_durability.py.

Two applications here are two App instances (each its own engine, timer runner, outbox sender and recorded
Telegram session) on one database and one ManualClock, working at the same moments (asyncio.gather), so the
race is real and the clock is moved, never slept."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import select, update

from bench.common import bench_environment
from bot.app import build_app
from bot.clock import ManualClock
from bot.policy import Policy, load_policy
from bot.services.approval_walk import TIMER as STEP_TIMER
from storage.db import create_engine
from storage.models import OutboxMessage, Timer
from tests.conftest import POSTGRES_URL, Harness, reset_postgres, settings_for
from tests.support.access import member, submit
from tests.support.botapi_server import FakeBotApi
from tests.support.deadlines import HEAD, LEADER_ID, OWNER, deadline_policy, join_en, local
from tests.support.org import COMPANY_HEAD, LEADER, REQUESTER, organisation
from tests.support.org import HEAD as MARKETING_HEAD
from tests.support.recording_session import RecordingSession

pytestmark = pytest.mark.skipif(not POSTGRES_URL, reason="needs TEST_POSTGRES_URL (CI sets it)")


class Pair:
    """Two applications on one PostgreSQL database; `h` drives the first through its Dispatcher."""

    def __init__(self, harnesses: list[Harness]) -> None:
        self.harnesses = harnesses
        self.h = harnesses[0]

    async def both(self, work: Callable[[Harness], object]) -> None:
        await asyncio.gather(*(work(h) for h in self.harnesses))  # type: ignore[misc]

    async def advance_to(self, moment: datetime) -> None:
        """Move the shared clock to `moment`, both firing what fell due and both delivering at once."""
        self.h.clock.set(moment)
        await self.both(lambda h: h.app.timers.run_due())
        await self.both(lambda h: h.app.outbox.drain())
        await self.both(lambda h: h.app.outbox.drain())  # what the first round's failures or edits queued

    async def advance(self, **delta: float) -> None:
        await self.advance_to(self.h.clock.now() + timedelta(**delta))

    def texts(self, chat_id: int) -> list[str]:
        """What the chat received from either application."""
        return [text for h in self.harnesses for text in h.session.texts(chat_id)]


async def pair(clock: ManualClock, policy: Policy) -> Pair:
    assert POSTGRES_URL
    await reset_postgres(POSTGRES_URL)
    harnesses = []
    for _ in range(2):
        session = RecordingSession()
        app = await build_app(settings_for(POSTGRES_URL), clock=clock, session=session, policy=policy)
        harnesses.append(Harness(app, session, clock))
    return Pair(harnesses)


@pytest.fixture
async def deadlines_pair(clock: ManualClock) -> AsyncIterator[Pair]:
    clock.set(local(2025, 9, 25, 9))  # Thu 25 Sep 2025 09:00 in Shanghai, as tests/support/deadlines.py
    two = await pair(clock, deadline_policy())
    try:
        yield two
    finally:
        await two.both(lambda h: h.app.close())


@pytest.fixture
async def approvals_pair(clock: ManualClock) -> AsyncIterator[Pair]:
    two = await pair(clock, load_policy(None))
    try:
        yield two
    finally:
        await two.both(lambda h: h.app.close())


def once_each(texts: list[str]) -> None:
    twice = [text for text, count in Counter(texts).items() if count > 1]
    assert twice == [], f"sent more than once: {twice}"


async def test_two_processes_send_each_deadline_reminder_late_and_missed_notice_once(deadlines_pair: Pair) -> None:
    """E4: both processes start at the same moment (each generates the instances and schedules their timers),
    then both fire timers at every step of the clock: the owner gets each reminder once (3 days, 1 day,
    2 hours before), the late notice once, the head the late notice once, the leader the missed notice once."""
    two = deadlines_pair
    h = two.h
    await join_en(h, OWNER, ["information_officer"], "branch_a")
    await join_en(h, HEAD, ["department_head"], "branch_a")
    await join_en(h, LEADER_ID, ["leader"], "company")
    await two.both(lambda h: h.app.run_startup())  # two processes starting together
    await two.advance_to(local(2025, 9, 25, 9))
    for moment in (
        local(2025, 10, 10, 23, 59),  # 3 days before 13 Oct 23:59
        local(2025, 10, 12, 23, 59),  # 1 day before
        local(2025, 10, 13, 21, 59),  # 2 hours before
        local(2025, 10, 13, 23, 59),  # due: late
        local(2025, 10, 15, 23, 59),  # past the 48 hours' grace: missed
    ):
        await two.advance_to(moment)
    owner = [t for t in two.texts(OWNER) if "Customer-risk data (September 2025)" in t]
    # 3 reminders, late, missed (the two applications' messages are counted, not ordered)
    assert Counter(t.split()[0] for t in owner) == Counter({"⏰": 3, "⚠️": 1, "❌": 1}), owner
    assert len([t for t in two.texts(HEAD) if t.startswith("⚠️ Late: Customer-risk data (September 2025)")]) == 1
    assert len([t for t in two.texts(LEADER_ID) if t.startswith("❌ Missed: Customer-risk data (September 2025)")]) == 1
    once_each(two.texts(HEAD))  # the owner's three reminders read alike; everything else is once
    once_each(two.texts(LEADER_ID))
    async with h.app.uow() as uow:  # and no timer failed in the race (a failure would retry, and repeat)
        states = {timer.state for timer in await uow.session.scalars(select(Timer))}
    assert states <= {"pending", "fired", "cancelled"}, states


async def test_two_processes_send_each_approval_reminder_and_escalation_once(approvals_pair: Pair) -> None:
    """C7: an idle approver is reminded after a working day, then the step escalates to the superior, who is
    reminded, then to the leaders. With two processes firing the step timers at the same moments, each of these
    messages is sent once, and the requester hears of each escalation once."""
    two = approvals_pair
    h = two.h
    await organisation(h, "company_head")
    await member(h, 3011, ["staff"], "marketing", "Second requester")
    await submit(h, REQUESTER, "financial_reports")  # Monday 09:00
    await submit(h, 3011, "financial_reports")
    for _day in range(4):  # Tuesday: reminder; Wednesday: escalated; Thursday: reminder; Friday: the leaders
        await two.advance(days=1)
    head, superior, leader = two.texts(MARKETING_HEAD), two.texts(COMPANY_HEAD), two.texts(LEADER)
    reminders = [t for t in head if t.startswith("⏰ Reminder")]
    assert len(reminders) == 2  # one per request
    assert len([t for t in superior if t.startswith("⏫ Escalated to you")]) == 2
    assert len([t for t in superior if t.startswith("⏰ Reminder")]) == 2
    assert len([t for t in leader if t.startswith("⏫ Escalated to you")]) == 2
    for texts in (head, superior, leader):
        once_each(texts)
    once_each(two.texts(REQUESTER))
    once_each(two.texts(3011))


async def test_two_real_bot_processes_send_each_overdue_approval_reminder_once(tmp_path: Path) -> None:
    """Two `python -m bot` processes, started together on one PostgreSQL database against the fake Bot API
    server: both start at once, then one polls and fires what fell due while no bot ran, and the other waits
    as a standby on the advisory lock (issue 13). Five requests have waited longer than
    the step window (their step timers are moved into the past): the head is reminded of each exactly once."""
    assert POSTGRES_URL
    await reset_postgres(POSTGRES_URL)
    async with FakeBotApi() as server:
        app = await build_app(settings_for(POSTGRES_URL), session=RecordingSession())
        try:
            h = SimpleNamespace(app=app)
            await organisation(h, "company_head")  # type: ignore[arg-type]
            requesters = [3101 + n for n in range(5)]
            for user_id in requesters:
                await member(h, user_id, ["staff"], "marketing", f"Requester {user_id}")  # type: ignore[arg-type]
                until = (datetime.now(UTC) + timedelta(days=5)).date().isoformat()
                await submit(h, user_id, "financial_reports", until=until)  # type: ignore[arg-type]
            async with app.uow() as uow:  # a working day has passed while no bot ran
                past = datetime.now(UTC) - timedelta(seconds=1)
                await uow.session.execute(
                    update(Timer).where(Timer.kind == STEP_TIMER, Timer.state == "pending").values(due_at=past)
                )
                await uow.commit()
        finally:
            await app.close()
        environment = {**bench_environment(tmp_path / "unused.sqlite3", server.base_url), "DATABASE_URL": POSTGRES_URL}
        processes = []
        try:
            for n in range(2):
                log = (tmp_path / f"bot{n}.log").open("w")
                processes.append(
                    await asyncio.create_subprocess_exec(
                        sys.executable, "-m", "bot", env=environment, stdout=log, stderr=log
                    )
                )

            def reminded() -> list[str]:
                return [t for t in server.texts(MARKETING_HEAD) if t.startswith("⏰ Reminder")]

            await server.wait_for(lambda: len(reminded()) >= len(requesters), timeout=120)
            # one polls (deleteWebhook comes right before it); the other waits as a standby (issue 13), and
            # both have their signal handlers
            await server.wait_for(lambda: any(r.method == "deleteWebhook" for r in server.requests), timeout=120)
            await server.wait_for(lambda: "standby" in _logs(tmp_path), timeout=120)
        except TimeoutError as waited:  # say why a process did not get there
            logs = "\n".join((tmp_path / f"bot{n}.log").read_text() for n in range(len(processes)))
            raise AssertionError(f"{waited}\n{logs}") from None
        finally:
            for process in processes:
                if process.returncode is None:
                    process.send_signal(signal.SIGTERM)
            for process in processes:
                try:
                    await asyncio.wait_for(process.wait(), timeout=15)
                except TimeoutError:
                    process.kill()
        logs = _logs(tmp_path)
        assert [p.returncode for p in processes] == [0, 0], logs  # both started, worked and stopped cleanly
        assert server.conflicts == []  # never two getUpdates at once
        assert len(reminded()) == len(requesters), reminded()
        assert all(any(f"Requester {user_id}" in text for text in reminded()) for user_id in requesters)
        assert server.duplicates() == []
        # A second copy would still be in the outbox, queued by the other process: there is none.
        engine = create_engine(POSTGRES_URL)
        try:
            async with engine.connect() as connection:
                rows = (
                    await connection.execute(select(OutboxMessage).where(OutboxMessage.chat_id == MARKETING_HEAD))
                ).all()
        finally:
            await engine.dispose()
        queued = [row for row in rows if str(row.payload.get("text", "")).startswith("⏰ Reminder")]
        assert len(queued) == len(requesters) and all(row.state == "sent" for row in queued), queued


def _logs(folder: Path) -> str:
    return "\n".join(path.read_text() for path in sorted(folder.glob("bot*.log")))
