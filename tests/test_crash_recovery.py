"""Fault suite (issue 7): the real bot process (`python -m bot`, polling, a real SQLite file) is killed with
SIGKILL at random points while reporters go through the incident wizard and a manager approves data-access
requests, and is started again each time. Telegram is the fake Bot API server of tests/support/botapi_server.py,
which keeps unconfirmed updates and gives them again to the next process, as Telegram does.

At the end, from what the server received and what the database holds:
- every report whose confirmation ("Reported: INC-…") reached the reporter is stored, as theirs (A1);
- every stored incident's alert reached the officer on duty (A1, A2);
- every approval the manager was told of ("Approved. …") is stored, and its requester was told (C1, C7);
- every timer due by then has fired; the escalation timers that fell due while the bot was down alerted the
  backup officer (A2);
- nothing was sent twice, with the one exception the product makes deliberately (bot/outbox.py, README
  "Performance"): an outbox message whose send was in flight when the process died is sent again, since
  Telegram has no idempotency key. Such a repeat is allowed only for a message first delivered in the last
  IN_FLIGHT seconds before a kill, at most one sender batch per kill; the test prints how many it saw.

The run is seeded: CRASH_SEED=<n> repeats it; the seed is printed (pytest shows it on failure).
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy import update as sql_update

from bench.common import bench_environment, bench_settings
from bot.app import build_app
from bot.outgoing.approvals import ApprovalCb
from bot.services.access import Draft
from bot.services.actor import Actor
from bot.services.errors import DomainError
from bot.services.incidents.escalation import ESCALATE
from handlers.incident_keyboards import ReportCb
from storage.approval_models import ApprovalRequest, ApprovalStep
from storage.db import create_engine
from storage.incidents_models import Incident
from storage.models import Member, OutboxMessage, Timer
from tests.support.access import dataset_id
from tests.support.botapi_server import Delivery, FakeBotApi
from tests.support.recording_session import RecordingSession
from tests.support.updates import UpdateFactory

SEED = int(os.environ.get("CRASH_SEED") or random.SystemRandom().randrange(1_000_000))
KILLS = 3
REPORTERS = tuple(range(4101, 4109))  # staff in the office, two reports each
REPORTS_EACH = 2
REQUESTERS = tuple(range(4201, 4207))  # staff in marketing, one request each for the head to approve
WANG, LI, HEAD, IC = 4001, 4002, 4301, 4302  # primary and backup on duty, head of marketing, information centre
SENDER_BATCH = 50  # OutboxSender's default batch: at most this many rows are in flight when the process dies
IN_FLIGHT = 2.0  # seconds before a kill in which a delivered message may not yet be recorded as sent
GRACE = 4.0  # seconds a user waits after the bot is back before repeating a step that got no answer
QUIET = 2.0  # the end: no new send for this long and nothing due in the outbox
HARD_DEADLINE = 240.0  # seconds for the whole run, however slow the machine (start-up alone is ~20 s at load 7)
SHANGHAI = ZoneInfo("Asia/Shanghai")


# The organisation, set up on the file before the first start ------------------------------------------------
async def organise(database: Path, base_url: str) -> None:
    """Members (joined, reading English), the duty officers on the dispatch room's current shifts, and one
    pending data-access request per requester. Nothing is sent here: the queued messages (roster notices,
    approval cards) wait in the outbox for the bot process."""
    app = await build_app(bench_settings(database, base_url), session=RecordingSession())
    h = SimpleNamespace(app=app)
    try:

        async def join(user_id: int, roles: list[str], department: str) -> int:
            name = f"Member {user_id}"
            invitation = await app.members.invite(Actor.command_line(), roles=roles, department=department, name=name)
            joined = await app.members.join(
                invitation.code, telegram_id=user_id, name=name, username=None, language="en"
            )
            return joined.id

        officers = {WANG: await join(WANG, ["staff", "duty_officer"], "security")}
        officers[LI] = await join(LI, ["staff", "duty_officer"], "security")
        await join(HEAD, ["staff", "department_head"], "marketing")
        await join(IC, ["information_officer"], "information_centre")
        for user_id in REPORTERS:
            await join(user_id, ["staff"], "office")
        roster = app.flows.roster
        today = datetime.now(SHANGHAI).date()
        for day in (today - timedelta(days=1), today):
            for shift in ("day", "night"):
                for user_id, position in ((WANG, "primary"), (LI, "backup")):
                    try:
                        await roster.assign(
                            Actor.command_line(),
                            room="dispatch",
                            shift=shift,
                            day=day,
                            member_id=officers[user_id],
                            position=position,
                        )
                    except DomainError:
                        pass  # that shift is over already
        access = app.flows.access
        reports = await dataset_id(h, "financial_reports")  # type: ignore[arg-type]
        for user_id in REQUESTERS:
            await join(user_id, ["staff"], "marketing")
            draft = Draft(
                reports, "read_only", "Prepare the quarterly customer visit plan.", None, today + timedelta(5)
            )
            await access.submit(Actor(user_id, user_id), draft, notice_accepted=True, language="en")
    finally:
        await app.close()


# The bot process ----------------------------------------------------------------------------------------------
class BotProcess:
    def __init__(self, database: Path, base_url: str, log: Path) -> None:
        self._environment = bench_environment(database, base_url)
        self._log = log
        self.process: asyncio.subprocess.Process | None = None
        self.started = 0.0

    async def start(self) -> None:
        self.started = time.monotonic()
        with self._log.open("a") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", env=self._environment, stdout=log, stderr=log
            )

    async def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    async def stop(self) -> None:
        """SIGTERM (a graceful stop), or SIGKILL when that takes too long."""
        if self.process is None or self.process.returncode is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.process.wait(), timeout=15)
        except TimeoutError:
            await self.kill()


@dataclass
class World:
    server: FakeBotApi
    rng: random.Random
    updates: UpdateFactory = field(default_factory=lambda: UpdateFactory(first_update_id=1))
    ready_at: float | None = None  # None while the bot is down
    kills: list[float] = field(default_factory=list)  # server clock (monotonic) of each kill
    restarts: list[float] = field(default_factory=list)  # seconds from each start to the first poll
    asked: Counter[tuple[int, str]] = field(default_factory=Counter)  # (chat, reply prefix): times a user asked
    told_approved: set[int] = field(default_factory=set)  # approval steps the manager was told were approved
    wizards: int = 0  # wizard runs started (repeats after a lost step included)
    deadline: float = 0.0

    def left(self) -> float:
        return max(0.1, self.deadline - time.monotonic())

    def told(self) -> int:
        """How many reports the reporters were told of so far."""
        return sum(1 for text in self.server.texts(include_edits=False) if text.startswith("Reported: INC-"))

    def sends_to(self, chat: int, start: int) -> tuple[int, list[Delivery]]:
        deliveries = self.server.deliveries
        end = len(deliveries)
        return end, [d for d in deliveries[start:end] if d.chat_id == chat and d.method.startswith("send")]

    async def step(self, chat: int, update: Any, expect: str, *also: str, contains: str = "") -> Delivery | None:
        """Send one update as the user and wait for the reply that starts with `expect`. None when the bot was
        restarted meanwhile and the answer did not come within GRACE after it was back (the update or its
        answer died with the process): the user then starts over, as a person would."""
        for prefix in (expect, *also):
            self.asked[(chat, prefix)] += 1
        seen = len(self.server.deliveries)
        sent = time.monotonic()
        self.server.push_update(update)
        while time.monotonic() < self.deadline:
            seen, replies = self.sends_to(chat, seen)
            for reply in replies:
                if (reply.text or "").startswith(expect) and contains in (reply.text or ""):
                    return reply
            if self.ready_at is not None and time.monotonic() > max(sent, self.ready_at) + GRACE:
                return None
            await asyncio.sleep(0.05)
        return None

    async def think(self) -> None:
        await asyncio.sleep(self.rng.uniform(0.05, 0.3))


async def reporter(world: World, user: int) -> None:
    """Files REPORTS_EACH reports through the whole wizard, starting over after a step that went unanswered."""
    f = world.updates
    for n in range(REPORTS_EACH):
        for attempt in range(8):
            world.wizards += 1
            text = f"Steam leak {user}-{n}-{attempt}"
            steps: list[tuple[Any, str, tuple[str, ...], str]] = [
                (f.command(user, "/report", language_code="en"), "New incident report.", (), ""),
                (f.callback(user, ReportCb(action="cat", value="quality").pack()), "How serious is it?", (), ""),
                (f.callback(user, ReportCb(action="sev", value="high").pack()), "What happened?", (), ""),
                (f.message(user, text), "Where?", (), ""),
                (f.message(user, "Boiler house"), "When did it happen?", ("📍 Noted.",), ""),
                (f.callback(user, ReportCb(action="ago", value="0").pack()), "Add photos or files", (), ""),
                (f.callback(user, ReportCb(action="done").pack()), "Please check your report:", (), text),
                (f.callback(user, ReportCb(action="submit").pack()), "Reported: INC-", (), ""),
            ]
            for update, expect, also, contains in steps:
                if await world.step(user, update, expect, *also, contains=contains) is None:
                    break
                await world.think()
            else:
                break  # told the number: the next report


async def approver(world: World, steps: list[int]) -> None:
    """The head of marketing approves each waiting request, pressing again when a press went unanswered."""
    for step in steps:
        for _attempt in range(8):
            update = world.updates.callback(HEAD, ApprovalCb(action="ok", step=step).pack())
            query = update.callback_query.id  # type: ignore[union-attr]
            world.asked[(HEAD, "Approved.")] += 1
            seen, sent = len(world.server.deliveries), time.monotonic()
            world.server.push_update(update)
            answered = False
            while time.monotonic() < world.deadline and not answered:
                seen, replies = world.sends_to(HEAD, seen)
                if any((reply.text or "").startswith("Approved.") for reply in replies):
                    world.told_approved.add(step)
                    answered = True
                elif any(a.get("callback_query_id") == query and a.get("text") for a in world.server.callback_answers):
                    answered = True  # a refusal: decided already (by an earlier press whose answer was lost)
                elif world.ready_at is not None and time.monotonic() > max(sent, world.ready_at) + GRACE:
                    break
                else:
                    await asyncio.sleep(0.05)
            if answered:
                break
        await world.think()


async def killer(world: World, bot: BotProcess, database: Path) -> None:
    """KILLS times: let the bot work a random while, SIGKILL it, start it again. During the last outage the
    pending escalation timers are moved into the past, as if the bot had been down longer than the
    acknowledgement window: they must fire at the restart (A2)."""
    for kill in range(KILLS):
        if kill == KILLS - 1:  # the last outage comes when there are incidents to escalate
            await world.server.wait_for(lambda: world.told() >= len(REPORTERS), timeout=world.left())
        await asyncio.sleep(world.rng.uniform(0.3, 2.5))
        world.ready_at = None
        world.kills.append(world.server.clock())
        await bot.kill()
        if kill == KILLS - 1:
            await move_escalations_due(database)
        await start(world, bot)


async def start(world: World, bot: BotProcess) -> None:
    """Start the process and wait until it polls (a bounded wait: start-up is ~5 s on a quiet machine)."""
    await bot.start()
    while True:
        polled = [r for r in world.server.requests if r.method == "getUpdates" and r.time >= bot.started]
        if polled:
            world.restarts.append(polled[0].time - bot.started)
            world.ready_at = time.monotonic()
            return
        assert bot.process is not None and bot.process.returncode is None, "the bot died at start (see bot.log)"
        assert time.monotonic() < world.deadline, "the bot did not start polling in time"
        await asyncio.sleep(0.05)


# The database, read by the test ------------------------------------------------------------------------------
async def move_escalations_due(database: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{database}")
    try:
        async with engine.begin() as connection:
            past = datetime.now(UTC) - timedelta(seconds=1)
            query = sql_update(Timer).where(Timer.kind == ESCALATE, Timer.state == "pending").values(due_at=past)
            await connection.execute(query)
    finally:
        await engine.dispose()


async def outbox_due(database: Path) -> int:
    engine = create_engine(f"sqlite+aiosqlite:///{database}")
    try:
        async with engine.connect() as connection:
            now = datetime.now(UTC)
            query = select(OutboxMessage.id).where(
                OutboxMessage.state.in_(("pending", "sending")), OutboxMessage.due_at <= now
            )
            return len((await connection.execute(query)).all())
    finally:
        await engine.dispose()


@dataclass
class Stored:
    incidents: dict[str, int]  # number -> reporter's Telegram id
    numbers: dict[int, str]  # incident id -> number
    approved_steps: set[int]
    requester_of_step: dict[int, int]
    timers: list[Timer]
    outbox: list[OutboxMessage]


async def stored(database: Path) -> Stored:
    engine = create_engine(f"sqlite+aiosqlite:///{database}")
    try:
        async with engine.connect() as connection:
            telegram = dict((await connection.execute(select(Member.id, Member.telegram_id))).all())
            rows = (await connection.execute(select(Incident.id, Incident.number, Incident.reporter_id))).all()
            steps = (
                await connection.execute(
                    select(ApprovalStep.id, ApprovalStep.state, ApprovalRequest.requester_id).join(
                        ApprovalRequest, ApprovalRequest.id == ApprovalStep.request_id
                    )
                )
            ).all()
            timers = list((await connection.execute(select(Timer))).all())
            outbox = list((await connection.execute(select(OutboxMessage))).all())
    finally:
        await engine.dispose()
    return Stored(
        incidents={number: telegram[reporter] for _, number, reporter in rows},
        numbers={incident: number for incident, number, _ in rows},
        approved_steps={step for step, state, _ in steps if state == "approved"},
        requester_of_step={step: telegram[requester] for step, _, requester in steps},
        timers=timers,  # type: ignore[arg-type]
        outbox=outbox,  # type: ignore[arg-type]
    )


async def waiting_steps(database: Path) -> list[int]:
    engine = create_engine(f"sqlite+aiosqlite:///{database}")
    try:
        async with engine.connect() as connection:
            query = select(ApprovalStep.id).where(ApprovalStep.state == "active").order_by(ApprovalStep.id)
            return list((await connection.execute(query)).scalars())
    finally:
        await engine.dispose()


# The test -----------------------------------------------------------------------------------------------------
async def test_killed_at_random_points_the_bot_loses_nothing_and_repeats_only_what_was_in_flight(
    tmp_path: Path,
) -> None:
    print(f"CRASH_SEED={SEED} (set it to repeat this run)")
    database, log = tmp_path / "bot.sqlite3", tmp_path / "bot.log"
    async with FakeBotApi() as server:
        began = time.monotonic()
        world = World(server, random.Random(SEED), deadline=began + HARD_DEADLINE)
        await organise(database, server.base_url)
        print(f"set-up {time.monotonic() - began:.1f} s")
        steps = await waiting_steps(database)
        assert len(steps) == len(REQUESTERS)
        bot = BotProcess(database, server.base_url, log)
        try:
            await start(world, bot)
            users = [reporter(world, user) for user in REPORTERS] + [approver(world, steps)]
            await asyncio.gather(killer(world, bot, database), *users)
            print(
                f"burst over at {time.monotonic() - began:.1f} s; starts took {[round(t, 1) for t in world.restarts]} s"
            )
            await settle(world, database)
            print(f"settled at {time.monotonic() - began:.1f} s")
            ended = datetime.now(UTC)
        finally:
            await bot.stop()
        assert time.monotonic() < world.deadline, f"the run did not settle in {HARD_DEADLINE:.0f} s\n" + tail(log)
        await check(world, await stored(database), ended, log)


async def settle(world: World, database: Path) -> None:
    """Wait until the server has seen no new send for QUIET seconds and nothing is due in the outbox (a row
    claimed by a killed process is taken over when its claim runs out), within the hard deadline."""
    while time.monotonic() < world.deadline:
        sends = [d for d in world.server.deliveries if d.method.startswith("send")]
        last = sends[-1].time if sends else 0.0
        if world.server.clock() - last >= QUIET and await outbox_due(database) == 0:
            return
        await asyncio.sleep(0.2)


async def check(world: World, db: Stored, ended: datetime, log: Path) -> None:
    server, context = world.server, f"CRASH_SEED={SEED}\n{tail(log)}"
    assert len(world.kills) == KILLS, context

    # Every report the reporter was told of is stored, as theirs; every reporter was told in the end.
    told = {
        text.split()[1].rstrip("."): d.chat_id
        for d in server.sent_messages()
        if (text := d.text or "").startswith("Reported: INC-")
    }
    assert all(db.incidents.get(number) == chat for number, chat in told.items()), context
    confirmations = [text for text in server.texts(include_edits=False) if text.startswith("Reported: INC-")]
    assert len(confirmations) == len(told), f"a report confirmed twice\n{context}"
    per_reporter = Counter(told.values())
    assert all(per_reporter[user] >= REPORTS_EACH for user in REPORTERS), f"{per_reporter}: not all told\n{context}"

    # Every stored incident's alert reached the officer on duty.
    def alerted(chat: int, number: str) -> int:
        return sum(1 for text in server.texts(chat, include_edits=False) if text.startswith(f"🚨 {number}"))

    assert all(alerted(WANG, number) >= 1 for number in db.incidents), context

    # Every approval the manager was told of is stored and its requester told.
    assert world.told_approved, context
    assert world.told_approved <= db.approved_steps, context
    for step in db.approved_steps:
        requester = db.requester_of_step[step]
        assert any("was approved" in text for text in server.texts(requester)), context

    # Every timer due by the end fired; the escalations that fell due while the bot was down alerted the backup.
    overdue = [
        t for t in db.timers if t.state != "fired" and t.due_at.replace(tzinfo=UTC) <= ended - timedelta(seconds=2)
    ]
    assert overdue == [], f"{overdue}\n{context}"
    escalated = {db.numbers[int(t.ref)] for t in db.timers if t.kind == ESCALATE and t.state == "fired"}
    assert escalated, f"no escalation timer fell due while the bot was down\n{context}"
    assert all(alerted(LI, number) >= 1 for number in escalated), context

    # Nothing twice, except an outbox message in flight at a kill.
    in_flight = repeats(world, db.outbox)
    print(
        f"{KILLS} kills; {len(told)} reports told, {len(db.incidents)} stored; {len(world.told_approved)} approvals "
        f"told; {world.wizards} wizard runs; repeats of messages in flight at a kill: {in_flight}"
    )


def repeats(world: World, outbox: list[OutboxMessage]) -> list[int]:
    """Check every group of identical sends to one chat and return the deliberate repeats per kill.

    - An outbox message (its chat and text match an outbox row) may arrive more often than it was queued only
      when the first delivery came within IN_FLIGHT seconds before a kill; at most SENDER_BATCH per kill.
    - A reply to a user (not an outbox message) may repeat only as often as the user asked for it again."""
    queued = Counter((row.chat_id, row.payload.get("text") or row.payload.get("caption")) for row in outbox)
    per_kill = [0] * len(world.kills)
    for group in world.server.duplicates():
        first = group[0]
        key = (first.chat_id, first.text)
        extra = len(group) - max(1, queued.get(key, 0))
        if extra <= 0:
            continue
        if key in queued or first.text is None:
            for delivery in group[:extra]:  # the deliveries that were repeated
                kill = next((n for n, at in enumerate(world.kills) if at - IN_FLIGHT <= delivery.time <= at), None)
                assert kill is not None, f"sent twice, not in flight at a kill: {key}\nCRASH_SEED={SEED}"
                per_kill[kill] += 1
        else:
            asked = sum(
                n
                for (chat, prefix), n in world.asked.items()
                if chat == first.chat_id and (first.text or "").startswith(prefix)
            )
            assert len(group) <= asked, f"a reply sent more often than asked for: {key}\nCRASH_SEED={SEED}"
    assert all(count <= SENDER_BATCH for count in per_kill), f"{per_kill}\nCRASH_SEED={SEED}"
    return per_kill


def tail(log: Path, lines: int = 40) -> str:
    try:
        return "bot.log:\n" + "\n".join(log.read_text().splitlines()[-lines:])
    except OSError:
        return "(no bot.log)"
