"""Records and figures (A5, A6): /stats as text and a PNG chart, /export as CSV or XLSX with timelines, and the
same export from the command line."""

from __future__ import annotations

import asyncio
import csv
import io
from pathlib import Path

import pytest
from aiogram.methods import SendDocument, SendPhoto
from openpyxl import load_workbook

from bot.app import build_app
from bot.cli import main
from bot.clock import ManualClock
from bot.outgoing.incidents import IncidentCb
from handlers.incident_keyboards import PeriodCb
from tests.conftest import Harness, settings_for
from tests.support.incidents import HEAD, LEADER, LI, REPORTER, WANG, ack, crew, member, report
from tests.support.recording_session import RecordingSession


async def three_incidents(h: Harness) -> None:
    """Acknowledged after 2 minutes (in the window), after 5 minutes (late), and not at all."""
    await crew(h)
    await report(h)
    await h.advance(minutes=2)
    await h.press(WANG, ack(1))
    await report(h, category="fire", description="Sparks from the switchboard")
    await h.advance(minutes=5)
    await h.press(LI, ack(2))
    await report(h)


async def test_stats_for_a_period_as_text_and_chart(harness: Harness) -> None:
    """A5: counts by category and department, median and 90th percentile to acknowledge, share in the window,
    outside-report deadlines; department heads see their own departments only (F3)."""
    h = harness
    await three_incidents(h)
    replies = await h.send(HEAD, "/stats 2026-03-01 2026-03-31")
    assert replies[0].splitlines() == [
        "Incidents 2026-03-01 – 2026-03-31: 3",
        "",
        "By category:",
        "  Quality problem: 2",
        "  Fire: 1",
        "By department:",
        "  General office: 3",
        "",
        "Time to acknowledge: median 2.0 min, 90th percentile 5.0 min",
        "Acknowledged within 3 minutes: 50% (1 of 2)",
        "Outside reports: 0 due; 0 on time, 0 late, 0 missed and not filed, 0 pending",
    ]
    chart = h.session.last(HEAD, SendPhoto)
    assert chart is not None and chart.photo.data.startswith(b"\x89PNG")  # type: ignore[attr-defined]
    await member(h, 2102, "Finance Head", ["staff", "department_head"], department="finance")
    assert (await h.send(2102, "/stats 2026-03-01 2026-03-31"))[0].startswith("Incidents 2026-03-01 – 2026-03-31: 0")
    assert await h.send(REPORTER, "/stats") == ["Only managers can see figures and exports."]
    assert await h.send(LEADER, "/stats 2026-03-31 2026-03-01") == [
        "Choose a period whose first day comes before its last, at most ten years long."
    ]


async def test_a_report_marked_as_a_duplicate_is_counted_apart_in_the_figures_and_named_in_the_export(
    harness: Harness,
) -> None:
    """A5 with linked reports (issue 14): a second report of the first incident, acknowledged late and then
    marked as its duplicate, is the same case. /stats counts it apart, not in the totals, the times to
    acknowledge or the share in the window; the export lists it, with the incident it duplicates."""
    h = harness
    await three_incidents(h)
    await report(h, description="Steam again from boiler 2")
    await h.advance(minutes=10)
    await h.press(WANG, ack(4))
    await h.press(WANG, IncidentCb(action="dup", id=4, value=0))
    assert (await h.press(WANG, IncidentCb(action="dupof", id=4, value=1)))[0].startswith(
        "INC-2026-000004 is marked as a duplicate of INC-2026-000001"
    )

    replies = await h.send(HEAD, "/stats 2026-03-01 2026-03-31")
    assert replies[0].splitlines()[:5] == [
        "Incidents 2026-03-01 – 2026-03-31: 3",
        "Marked as duplicates, not counted here: 1",
        "",
        "By category:",
        "  Quality problem: 2",
    ]
    assert replies[0].splitlines()[-3:-1] == [
        "Time to acknowledge: median 2.0 min, 90th percentile 5.0 min",
        "Acknowledged within 3 minutes: 50% (1 of 2)",
    ]

    await h.send(LEADER, "/export 2026-03-01 2026-03-31 csv")
    document = h.session.last(LEADER, SendDocument)
    assert document is not None
    rows = list(csv.DictReader(io.StringIO(document.document.data.decode("utf-8-sig"))))  # type: ignore[attr-defined]
    assert [(row["Number"], row["Duplicate of"]) for row in rows] == [
        ("INC-2026-000001", ""),
        ("INC-2026-000002", ""),
        ("INC-2026-000003", ""),
        ("INC-2026-000004", "INC-2026-000001"),
    ]


async def test_export_in_chat_as_xlsx_with_timelines(harness: Harness) -> None:
    h = harness
    await three_incidents(h)
    assert (await h.send(LEADER, "/export"))[0].startswith("Export which period?")
    await h.press(LEADER, PeriodCb(what="export", period="month"))
    await h.press(LEADER, PeriodCb(what="xlsx", period="month"))
    document = h.session.last(LEADER, SendDocument)
    assert document is not None and document.caption == "3 incidents"  # type: ignore[attr-defined]
    sheet = load_workbook(io.BytesIO(document.document.data)).active  # type: ignore[attr-defined]
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[0]
    first = dict(zip(header, rows[1], strict=True))
    assert first["Number"] == "INC-2026-000001" and first["Acknowledged by"] == "Wang"
    assert first["Minutes to acknowledge"] == 2 and first["Acknowledged within the window"] == "yes"
    assert "2026-03-02 09:02 acknowledged by Wang" in first["Timeline"]
    second = dict(zip(header, rows[2], strict=True))
    assert second["Acknowledged within the window"] == "no"


def test_the_same_export_from_the_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}"

    async def prepare() -> None:
        session = RecordingSession()
        clock = ManualClock()
        app = await build_app(settings_for(url), clock=clock, session=session)
        try:
            await three_incidents(Harness(app, session, clock))
        finally:
            await app.close()

    asyncio.run(prepare())
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.delenv("BOT_POLICY", raising=False)
    out = tmp_path / "march.csv"
    code = main(
        [
            "incidents",
            "export",
            "--from",
            "2026-03-01",
            "--to",
            "2026-03-31",
            "--format",
            "csv",
            "--out",
            str(out),
            "--language",
            "en",
        ]
    )
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert [row["Number"] for row in rows] == ["INC-2026-000001", "INC-2026-000002", "INC-2026-000003"]
    assert (
        rows[2]["Status"] == "waiting for acknowledgement" and "alerted (officer on duty): Wang" in rows[2]["Timeline"]
    )
    assert main(["incidents", "export", "--from", "2026-04-01", "--to", "2026-04-30", "--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8-sig").count("\n") == 1  # the heading row only (in the policy's language)
