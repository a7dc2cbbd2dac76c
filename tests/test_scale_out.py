"""Scale-out, honestly (issue 13): real `python -m bot` processes in webhook mode on one PostgreSQL database
behind one webhook URL, against the fake Bot API server (each process through its own base URL, so the server
knows who sent what). Reporters' wizard steps land at either process (the wizard is in the database); one
process is SIGKILLed in the middle of the burst while it holds an alert it claimed and was sending; Telegram
redelivers what failed to the survivor; a replacement starts; escalation steps fall due while two run.

Timers run on the real clock in the subprocesses and the shortest acknowledgement window is one minute, so the
step timers are moved into the past in the database instead of waiting (as
tests/test_faults_postgres.py does); a process notices within its timer runner's idle check (30 s)."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bench.common import bench_environment
from bench.echo_bot import TOKEN
from bot.app import App, build_app
from bot.outgoing.incidents import IncidentCb
from bot.services.actor import Actor
from bot.services.incidents.escalation import ESCALATE
from bot.services.roster_calendar import current_shift
from storage.db import create_engine
from storage.incidents_models import Incident
from storage.models import AuditEntry, Member, OutboxMessage, ProcessedUpdate, Timer
from tests.conftest import POSTGRES_URL, reset_postgres, settings_for
from tests.support.botapi_server import FakeBotApi
from tests.support.fleet import Fleet, policy_file, reporter_steps
from tests.support.recording_session import RecordingSession
from tests.support.updates import UpdateFactory

pytestmark = pytest.mark.skipif(not POSTGRES_URL, reason="needs TEST_POSTGRES_URL (CI sets it)")

PRIMARY, BACKUP = 71_001, 71_002
REPORTERS = [61_001 + n for n in range(8)]
OUTSIDER = 99_000  # + n: pings the n-th process once it listens (each in a chat of its own)
CATEGORY = "information_security"  # the information centre's duty desk
ROOM = "info_centre"
BOT_ID = int(TOKEN.split(":")[0])
NUMBER = re.compile(r"INC-\d{4}-\d{6}")


async def organisation(policy: Path) -> None:
    """Before any bot runs, through the services: the duty desk's primary and backup on the shift running now,
    the reporters in the office; their welcome and roster messages go to a recording session."""
    assert POSTGRES_URL
    app = await build_app(settings_for(POSTGRES_URL, bot_policy=policy), session=RecordingSession())
    try:
        admin = Actor.command_line()
        roster = app.flows.roster
        room = app.policy.duty_room(ROOM)
        shift = current_shift(room, app.clock.now(), app.policy.organisation.zone)
        assert shift is not None
        for telegram_id, position in ((PRIMARY, "primary"), (BACKUP, "backup")):
            officer = await _join(
                app, telegram_id, ["staff", "duty_officer"], room.department, f"Officer {telegram_id}"
            )
            await roster.assign(
                admin, room=ROOM, shift=shift.shift, day=shift.day, member_id=officer.id, position=position
            )
        for telegram_id in REPORTERS:
            await _join(app, telegram_id, ["staff"], "office", f"Reporter {telegram_id}")
        await app.outbox.drain()
    finally:
        await app.close()


async def _join(app: App, telegram_id: int, roles: list[str], department: str, name: str) -> object:
    invitation = await app.members.invite(Actor.command_line(), roles=roles, department=department, name=name)
    return await app.members.join(invitation.code, telegram_id=telegram_id, name=name, username=None, language="en")


async def checks(policy: Path) -> App:
    """An application on the same database to read it with (no bot runs in it)."""
    assert POSTGRES_URL
    return await build_app(settings_for(POSTGRES_URL, bot_policy=policy), session=RecordingSession())


def alerts(server: FakeBotApi, chat_id: int) -> list[str]:
    """Incident numbers of the alerts (not edits) the chat received."""
    return [NUMBER.findall(d.text)[0] for d in server.sent_messages(chat_id) if d.text and d.text.startswith("🚨 INC")]


async def test_two_webhook_processes_one_killed_mid_burst_store_and_alert_each_report_once(tmp_path: Path) -> None:
    """Eight reporters file complete reports at once, their steps alternating between processes a and b. The
    first report is submitted at a, whose alert to the primary is claimed by a and reaches the server, which
    never answers it (a `hang`): a is SIGKILLed there, with that alert claimed and unsent, as soon as the updates
    a is handling are answered. Updates meant for a from then on fail and are redelivered to b. A replacement c
    starts. The primary acknowledges half of the incidents; the others' first escalation step falls due while
    b and c both run. Then: every report is stored once, the primary got each alert once (the one a held
    included, after its claim lapsed, 10 s), the backup each escalation once and only for the
    unacknowledged, nothing was sent twice, no getUpdates conflict, b and c stop with 0 on SIGTERM."""
    assert POSTGRES_URL
    await reset_postgres(POSTGRES_URL)
    policy = policy_file(tmp_path)
    await organisation(policy)
    updates = UpdateFactory(first_update_id=10_000, bot_id=BOT_ID)
    async with FakeBotApi() as server:
        environment = {
            **bench_environment(tmp_path / "unused.sqlite3", server.base_url),
            "DATABASE_URL": POSTGRES_URL,
            "BOT_POLICY": str(policy),
        }
        fleet = Fleet(server, tmp_path, environment)
        server.inject("sendMessage", "hang", chat_id=PRIMARY, instance="a")  # a's first alert never answers
        try:
            for name in ("a", "b"):
                await fleet.start(name)
                await fleet.ready(name, updates.message(OUTSIDER + len(fleet.bots), "hello", language_code="en"))

            held = asyncio.Event()
            held_texts: list[str] = []
            sending_at_kill: list[OutboxMessage] = []

            async def kill_a_when_its_alert_is_held() -> None:
                await server.wait_for(lambda s: s.held, timeout=60)
                held_texts.extend(r.params["text"] for r in server.held)
                held.set()
                await fleet.kill("a")
                engine = create_engine(POSTGRES_URL)  # what a (or b) had claimed when a died
                try:
                    async with AsyncSession(engine) as session:
                        sending = select(OutboxMessage).where(OutboxMessage.state == "sending")
                        sending_at_kill.extend(await session.scalars(sending))
                finally:
                    await engine.dispose()

            async def reporter(index: int, member: int) -> list[str]:
                steps = reporter_steps(updates, member, CATEGORY, f"Disk array {index} failed (reporter {member})")
                answered = []
                for step, update_ in enumerate(steps):
                    to = "ab"[(index + step + 1) % 2]  # the first reporter's submit (step 7) goes to a
                    if step == len(steps) - 1 and index > 0:
                        await asyncio.wait_for(held.wait(), timeout=90)  # once a's alert is in flight
                    answered.append(await fleet.post(update_, to))
                return answered

            killer = asyncio.create_task(kill_a_when_its_alert_is_held())
            try:
                answered = await asyncio.gather(*(reporter(n, member) for n, member in enumerate(REPORTERS)))
                await asyncio.wait_for(killer, timeout=90)
            except TimeoutError:
                said = {member: server.texts(member) for member in REPORTERS[:2]}
                raise AssertionError(f"{said}\n{server.requests[-20:]}\n{fleet.logs()}") from None
            assert fleet.redelivered, "no update meant for a arrived after it died"
            assert all((failed_at, then) == ("a", "b") for _, failed_at, then in fleet.redelivered)
            assert answered[0][-1] == "a"  # the first report was submitted at a

            # every alert reaches the primary: the one a held once its claim lapsed, the rest at 1 a second
            await server.wait_for(lambda s: len(alerts(s, PRIMARY)) >= len(REPORTERS), timeout=120)
            await fleet.start("c")  # a replacement for a
            await fleet.ready("c", updates.message(OUTSIDER + len(fleet.bots), "hello", language_code="en"))

            app = await checks(policy)
            try:
                async with app.uow() as uow:
                    rows = (
                        await uow.session.execute(
                            select(Member.telegram_id, Incident.id, Incident.number).join(
                                Incident, Incident.reporter_id == Member.id
                            )
                        )
                    ).all()
                incident_of = {telegram_id: (incident_id, number) for telegram_id, incident_id, number in rows}
                acknowledged = {incident_of[member][0] for member in REPORTERS[::2]}  # ids
                for n, member in enumerate(REPORTERS[::2]):  # the primary acknowledges half, at b and c
                    press = updates.callback(
                        PRIMARY, IncidentCb(action="ack", id=incident_of[member][0]).pack(), language_code="en"
                    )
                    await fleet.post(press, "bc"[n % 2])
                async with app.uow() as uow:  # the first step's window has passed, while b and c both run
                    moved = await uow.session.execute(
                        update(Timer)
                        .where(Timer.kind == ESCALATE, Timer.state == "pending", Timer.key.like("%:1"))
                        .values(due_at=datetime.now(UTC) - timedelta(seconds=1))
                    )
                    await uow.commit()
                waiting = {incident_of[m][0] for m in REPORTERS} - acknowledged
                assert moved.rowcount == len(waiting)  # acknowledging cancelled the others' step timers
                numbers = {incident_id: number for incident_id, number in incident_of.values()}
                await server.wait_for(lambda s: set(alerts(s, BACKUP)) >= {numbers[i] for i in waiting}, timeout=120)
                await _settled(app, timeout=60)
            finally:
                await app.close()
        finally:
            codes = await fleet.stop()
        logs = fleet.logs()
        assert codes["a"] == -9 and codes["b"] == 0 and codes["c"] == 0, (codes, logs)
        assert "Traceback" not in logs, logs

        app = await checks(policy)
        try:
            async with app.uow() as uow:
                reporters = list(
                    await uow.session.scalars(
                        select(Member.telegram_id).join(Incident, Incident.reporter_id == Member.id)
                    )
                )
                states = dict(
                    (
                        await uow.session.execute(
                            select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state)
                        )
                    ).all()
                )
                orphans = {row.id: row for row in sending_at_kill}
                after = {
                    row.id: row
                    for row in await uow.session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(orphans)))
                }
                entries = list(await uow.session.scalars(select(AuditEntry).where(AuditEntry.entity == "incident")))
            chain = await app.audit.verify()
        finally:
            await app.close()

    # every report stored exactly once
    assert sorted(reporters) == sorted(REPORTERS)
    # every alert to the primary exactly once, the one a held included; no send twice anywhere
    assert sorted(alerts(server, PRIMARY)) == sorted(number for _, number in incident_of.values())
    assert server.duplicates() == []
    # the first escalation step exactly once, to the backup, for the unacknowledged only
    assert sorted(alerts(server, BACKUP)) == sorted(numbers[i] for i in waiting)
    by_incident: dict[str, Counter[str]] = {}
    for entry in entries:
        key = f"{entry.action}:{entry.details.get('round', '')}"
        by_incident.setdefault(entry.entity_id, Counter())[key] += 1
    for incident_id in numbers:
        seen = by_incident[str(incident_id)]
        assert seen["reported:"] == 1 and seen["alerted:0"] == 1, seen
        assert seen["alerted:1"] == (0 if incident_id in acknowledged else 1), seen
        assert seen["acknowledged:"] == (1 if incident_id in acknowledged else 0), seen
    assert chain.ok  # two writers and a kill left the audit chain intact
    # what was claimed when a died was sent afterwards, once, by a live process
    assert held_texts == [t for row in orphans.values() if (t := row.payload.get("text")) in held_texts]
    assert orphans and all(row.state == "sent" for row in after.values()), after
    for row in orphans.values():
        deliveries = [d for d in server.sent_messages(row.chat_id) if d.text == row.payload.get("text")]
        assert [d.instance for d in deliveries] in (["b"], ["c"]), deliveries
    assert not states.get("pending") and not states.get("sending") and not states.get("failed"), states
    # each reporter was told their number once; webhook processes never poll
    for member in REPORTERS:
        assert len([t for t in server.texts(member) if t.startswith("Reported: INC")]) == 1, server.texts(member)
    assert server.conflicts == []


async def _settled(app: App, timeout: float) -> None:  # noqa: ASYNC109
    """Until nothing waits in the outbox and no first-step timer is due: what the processes still owe."""

    async def settled() -> bool:
        async with app.uow() as uow:
            busy = await uow.session.scalar(
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.state.in_(("pending", "sending")))
            )
            due = await uow.session.scalar(
                select(func.count())
                .select_from(Timer)
                .where(Timer.kind == ESCALATE, Timer.state == "pending", Timer.due_at <= datetime.now(UTC))
            )
        return not busy and not due

    await _until(settled, timeout)


async def _until(check: Callable[[], Awaitable[bool]], timeout: float) -> None:  # noqa: ASYNC109
    """Until `check()` holds: other processes' progress, seen only in the database (nothing to be woken by)."""
    async with asyncio.timeout(timeout):
        while True:
            if await check():
                return
            await asyncio.sleep(0.05)


async def _caught_between_commits(engine: AsyncEngine, update_id: int) -> bool:
    """The update id is committed as processed, and a backend waits for a lock (the counter the test holds)."""
    async with engine.connect() as connection:
        seen = await connection.scalar(select(ProcessedUpdate.update_id).where(ProcessedUpdate.update_id == update_id))
        waiting = await connection.scalar(
            text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND pid <> pg_backend_pid()")
        )
    return seen is not None and bool(waiting)
