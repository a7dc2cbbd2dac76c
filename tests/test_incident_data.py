"""The benchmark's incident history (bench/incident_data.py) is a history the bot itself accepts: written into a
database the bot created, its audit chain verifies (F1), and /incidents, /myreports and /stats read it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bench.incident_data import LEADER, OFFICER, REPORTER, fill
from bot.app import build_app
from bot.clock import ManualClock
from bot.services.actor import Actor
from tests.conftest import Harness, settings_for
from tests.support.recording_session import RecordingSession

COUNT = 600


async def test_a_generated_history_reads_like_the_bots_own(tmp_path: Path, clock: ManualClock) -> None:
    database = tmp_path / "bot.sqlite3"
    session = RecordingSession()
    app = await build_app(settings_for(f"sqlite+aiosqlite:///{database}"), clock=clock, session=session)
    try:
        h = Harness(app, session, clock)
        filled = fill(database, COUNT, app.policy, now=clock.now())
        assert 0 < filled.open < COUNT and filled.audit >= 2 * COUNT

        chain = await app.audit.verify()
        assert chain.ok and chain.checked >= filled.audit

        listed = await h.send(OFFICER, "/incidents")
        assert f"— {filled.open} (page 1 of" in listed[-1]

        queries = app.flows.incidents.queries
        mine = await queries.my_reports(Actor(REPORTER, REPORTER))
        assert mine.total > COUNT // 80 and [i.id for i in mine.items] == sorted(
            (i.id for i in mine.items), reverse=True
        )

        figures = await queries.figures(Actor(LEADER, LEADER), clock.now() - timedelta(days=3 * 366), clock.now())
        assert figures.total == COUNT
        assert sum(n for _, n in figures.by_category) == COUNT == sum(n for _, n in figures.by_department)
        assert figures.median_seconds is not None and figures.acknowledged > COUNT * 0.9

        card = await queries.card(Actor(LEADER, LEADER), incident_id=COUNT)  # its timeline is the audit log
        assert [entry.action for entry in card.timeline][0] == "reported"
    finally:
        await app.close()
