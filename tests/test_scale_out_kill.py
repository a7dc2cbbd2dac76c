"""Several instances, for real (issue 13): two `python -m bot` processes in webhook mode on one PostgreSQL,
a burst of incident reports delivered to both in turn, one killed with SIGKILL mid-burst, wherever it is in
its updates (tests/test_scale_out.py kills at chosen moments). This test found an update lost when its process
died after remembering it and before its effect, and then a report stored twice when the update was
remembered after its effect: it is now remembered in the transaction of its first effect. Telegram redelivers
an update whose webhook POST failed, so what the dead one did not take goes to the survivor. Every report is
stored once, every alert and every escalation step sent once (A1, A2), except what the product repeats on
purpose: a message the dead one had sent whose outcome it had not yet committed (Telegram has no idempotency
key; an alert read twice beats one missed). The reporters act like people: a wizard step the dead one had half
done is lost (README, "The fault suite"), a person who gets no answer taps again, and one told that the button
is no longer valid (the dead one had moved the wizard on without saying so) starts the report again."""

from __future__ import annotations

import asyncio
import itertools
import signal
import socket
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select, update

from bench.common import bench_environment, bench_settings, organise, running_app
from bench.throughput import incident_wizard
from bot.services.actor import Actor
from bot.services.incidents.escalation import ESCALATE
from storage.db import create_engine
from storage.incidents_models import Incident
from storage.models import Member, Timer
from tests.conftest import POSTGRES_URL, reset_postgres
from tests.support.botapi_server import FakeBotApi, post_update
from tests.support.updates import UpdateFactory

pytestmark = pytest.mark.skipif(not POSTGRES_URL, reason="needs TEST_POSTGRES_URL (CI sets it)")

OFFICER, HEAD = 81_001, 81_101
FIRST_WAVE = [82_000 + n for n in range(5)]  # reported with both instances up; their escalations fire on both
SECOND_WAVE = [82_100 + n for n in range(6)]  # one instance is killed while these report
SECRET = "scale-out-secret"
IN_FLIGHT = 2.0  # seconds before the kill in which a delivered message may not yet be recorded as sent
SENDER_BATCH = 50  # OutboxSender's default batch: at most this many rows are in flight when it dies
GRACE = 5.0  # seconds a person waits for the bot's answer before doing the step again
# The questions of the incident wizard, each answered by the next step of bench.throughput.incident_wizard
QUESTIONS = (
    "New incident report",
    "How serious",
    "What happened?",
    "Where?",
    "When did it happen?",
    "Add photos",
    "Please check your report",
)
DONE = "Reported: INC-"
STALE = "This button is no longer valid"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Instances:
    """The two processes and Telegram's side of delivering updates to them."""

    def __init__(self, ports: list[int]) -> None:
        self.ports = ports
        self.processes: list[Any] = []
        self.turn = itertools.cycle(range(len(ports)))
        self.redelivered = 0
        self.tapped_again = 0
        self.started_again = 0

    def url(self, index: int) -> str:
        return f"http://127.0.0.1:{self.ports[index]}/telegram/webhook"

    async def deliver(self, update: Any) -> None:
        """To the next instance in turn; if it does not take it (dead, or dying), to the other, as Telegram
        retries a webhook delivery that failed."""
        first = next(self.turn)
        for index in (first, 1 - first):
            try:
                if await post_update(self.url(index), update, SECRET, timeout=30) == 200:
                    return
            except (aiohttp.ClientError, TimeoutError):
                pass
            self.redelivered += 1
        raise AssertionError(f"no instance took update {update.update_id}")


async def report_all(server: FakeBotApi, instances: Instances, updates: UpdateFactory, reporters: list[int]) -> None:
    """The people at once, each like a person: answer the bot's last question; when no answer comes, do the
    same again (a step the dead instance had half done is lost, or has moved the wizard on without saying so:
    then the bot's next words tell the person what it asks now)."""
    steps = incident_wizard()

    def said(reporter: int) -> list[str]:
        return server.texts(reporter, include_edits=False)

    def last_question(reporter: int, since: int) -> str | None:
        asked = [text for text in said(reporter)[since:] if text.startswith((*QUESTIONS, DONE))]
        return asked[-1] if asked else None

    def told_to_start_again(update: Any) -> bool:
        query = update.callback_query
        return query is not None and any(
            answer.get("callback_query_id") == query.id and STALE in (answer.get("text") or "")
            for answer in server.callback_answers
        )

    async def one(reporter: int) -> None:
        start = len(said(reporter))
        step = steps[0]
        for _action in range(3 * len(steps)):
            seen = len(said(reporter))
            update = step(updates, reporter, 0)
            await instances.deliver(update)
            try:
                await server.wait_for(lambda: len(said(reporter)) > seen, timeout=GRACE)  # noqa: B023
            except TimeoutError:
                if told_to_start_again(update):
                    step = steps[0]
                    instances.started_again += 1
                else:
                    instances.tapped_again += 1
                continue
            question = last_question(reporter, start)
            if question is None:
                continue
            if question.startswith(DONE):
                return
            step = steps[1 + next(n for n, prompt in enumerate(QUESTIONS) if question.startswith(prompt))]
        raise AssertionError(f"{reporter} could not file a report: {said(reporter)[start:]}")

    await asyncio.gather(*(one(reporter) for reporter in reporters))


async def answering(port: int) -> bool:
    try:
        async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/health") as response:
            return response.status == 200
    except aiohttp.ClientError:
        return False


async def test_two_webhook_instances_one_killed_mid_burst_store_and_send_everything_once(tmp_path: Path) -> None:
    assert POSTGRES_URL
    await reset_postgres(POSTGRES_URL)
    async with FakeBotApi() as server:
        everyone = FIRST_WAVE + SECOND_WAVE
        async with running_app(bench_settings(tmp_path / "unused", server.base_url, database_url=POSTGRES_URL)) as app:
            await organise(app, {"dispatch": OFFICER}, everyone)  # the officer on duty now; staff of the office
            invitation = await app.members.invite(
                Actor.command_line(), roles=["staff", "department_head"], department="office"
            )
            await app.members.join(invitation.code, telegram_id=HEAD, name="Head", username=None, language="en")
        instances = Instances([free_port(), free_port()])
        for n, port in enumerate(instances.ports):
            environment = {
                **bench_environment(tmp_path / "unused", server.base_url),
                "DATABASE_URL": POSTGRES_URL,
                "WEBHOOK_URL": "https://bot.example.test",
                "WEBHOOK_SECRET": SECRET,
                "WEBHOOK_HOST": "127.0.0.1",
                "WEBHOOK_PORT": str(port),
                "LOG_LEVEL": "INFO",
            }
            log = (tmp_path / f"bot{n}.log").open("w")
            instances.processes.append(
                await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "bot", env=environment, stdout=log, stderr=log
                )
            )
        try:
            await server.wait_for(lambda s: sum(r.method == "setWebhook" for r in s.requests) >= 2, timeout=120)
            for port in instances.ports:  # the webhook is set once the site is up
                assert await answering(port)
            updates = UpdateFactory(first_update_id=1_000_000)

            # 1. Both up: five reports, their steps alternating between the instances; then the five
            # escalation timers fall due at once, and both instances' timer runners race for them.
            await report_all(server, instances, updates, FIRST_WAVE)
            await server.wait_for(lambda: len(alerts(server, OFFICER)) >= len(FIRST_WAVE), timeout=60)
            await due_now(ESCALATE)
            await server.wait_for(lambda: len(alerts(server, HEAD)) >= len(FIRST_WAVE), timeout=120)

            # 2. SIGKILL one instance while six more people report.
            burst = asyncio.create_task(report_all(server, instances, updates, SECOND_WAVE))
            await server.wait_for(lambda: len(alerts(server, OFFICER)) >= len(FIRST_WAVE) + 1, timeout=60)
            killed_at = time.monotonic()  # the fake server's clock
            instances.processes[0].send_signal(signal.SIGKILL)
            await instances.processes[0].wait()
            await asyncio.wait_for(burst, timeout=120)
            await server.wait_for(lambda: len(set(numbers_alerted(server))) >= len(everyone), timeout=120)
        except TimeoutError as waited:
            logs = "\n".join((tmp_path / f"bot{n}.log").read_text() for n in range(2))
            seen = f"officer: {server.texts(OFFICER)}\nhead: {server.texts(HEAD)}"
            raise AssertionError(f"{waited}\n{seen}\n{logs[-3000:]}") from None
        finally:
            survivor = instances.processes[1]
            if survivor.returncode is None:
                survivor.send_signal(signal.SIGTERM)
                try:
                    await asyncio.wait_for(survivor.wait(), timeout=30)
                except TimeoutError:
                    survivor.kill()
        logs = "\n".join((tmp_path / f"bot{n}.log").read_text() for n in range(2))
        assert survivor.returncode == 0, logs
        assert instances.redelivered > 0  # the dead instance did refuse deliveries, which the survivor took

        reported = await reporters_of_incidents()
        assert sorted(reported) == sorted(everyone) and set(Counter(reported).values()) == {1}  # each once
        numbers = Counter(numbers_alerted(server))
        assert len(numbers) == len(everyone)  # an alert for every report
        assert len(alerts(server, HEAD)) == len(FIRST_WAVE)  # one escalation step per report, not two
        repeated = [delivery for group in server.duplicates() for delivery in group[:-1]]
        in_flight = [d for d in repeated if killed_at - IN_FLIGHT <= d.time <= killed_at]
        assert in_flight == repeated, f"sent twice, not in flight at the kill: {repeated}"
        assert len(repeated) <= SENDER_BATCH
        assert sum(numbers.values()) - len(numbers) <= len(repeated)  # an alert twice only as such a repeat
        print(
            f"redelivered {instances.redelivered}, tapped again {instances.tapped_again},"
            f" started again {instances.started_again}, repeated {len(repeated)}"
        )


def alerts(server: FakeBotApi, chat_id: int) -> list[str]:
    return [text for text in server.texts(chat_id, include_edits=False) if text.startswith("🚨 INC")]


def numbers_alerted(server: FakeBotApi) -> list[str]:
    """The incident number of each alert the officer got, once per alert message."""
    return [text.split()[1] for text in alerts(server, OFFICER)]


async def due_now(kind: str) -> None:
    """Time passes for the timers of `kind`: they fall due now (the processes run on the real clock)."""
    engine = create_engine(POSTGRES_URL or "")
    try:
        async with engine.begin() as connection:
            await connection.execute(
                update(Timer).where(Timer.kind == kind, Timer.state == "pending").values(due_at=func.now())
            )
    finally:
        await engine.dispose()


async def reporters_of_incidents() -> list[int]:
    engine = create_engine(POSTGRES_URL or "")
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                select(Member.telegram_id).join(Incident, Incident.reporter_id == Member.id)
            )
            return [row[0] for row in rows]
    finally:
        await engine.dispose()
