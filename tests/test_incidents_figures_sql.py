"""/stats and the incident lists computed by the database (A5), at their edges: counts grouped in one pass and
ranked most first then by code, nearest-rank percentiles from one ordering, scopes, and pages newest first
(SQLite and PostgreSQL). Rows are written straight through the repository: the wizard is tested elsewhere."""

from __future__ import annotations

import math
from datetime import timedelta

from bot.services.actor import Actor
from bot.services.incidents.views import PAGE_SIZE
from storage.incidents_models import CLOSED, REPORTED, Incident
from tests.conftest import Harness
from tests.support.incidents import member

LEADER, HEAD, REPORTER = 4001, 4002, 4003


async def people(h: Harness) -> int:
    await member(h, LEADER, "Leader Liu", ["staff", "leader"], department="company")
    await member(h, HEAD, "Head Huang", ["staff", "department_head"], department="security")
    reporter = await member(h, REPORTER, "Reporter Ren", ["staff"])
    return reporter.id


async def store(h: Harness, reporter: int, rows: list[dict[str, object]]) -> None:
    """Incidents numbered in the order given; `rows` name what differs from a plain closed office report."""
    now = h.clock.now()
    async with h.app.uow() as uow:
        for n, row in enumerate(rows, start=1):
            values: dict[str, object] = {
                "number": f"INC-2026-{n:06d}",
                "year": 2026,
                "seq": n,
                "category": "quality",
                "severity": "low",
                "department": "office",
                "duty_room": "dispatch",
                "reporter_id": reporter,
                "description": f"case {n}",
                "status": CLOSED,
                "occurred_at": now - timedelta(hours=1),
                "reported_at": now - timedelta(hours=1),
                "alert_round": 0,
                "reportable_reasons": [],
                "external_missed": False,
            }
            values.update(row)
            uow.incidents.add(Incident(**values))
        await uow.commit()


async def test_counts_rank_most_first_then_by_code_and_percentiles_take_the_nearest_rank(harness: Harness) -> None:
    h = harness
    reporter = await people(h)
    seconds = [30, 600, 60, 90, 120, 150, 45, 300, 240, 180]  # ten acknowledged, in no order
    rows: list[dict[str, object]] = [
        {"category": "fire" if n < 3 else "quality" if n < 6 else "other", "ack_seconds": s, "ack_in_window": s <= 180}
        for n, s in enumerate(seconds)
    ]
    rows += [{"category": "casualty", "department": "security", "external_due_at": h.clock.now()}]  # not acknowledged
    rows += [{"occurred_at": h.clock.now() - timedelta(days=40), "ack_seconds": 1}]  # before the period
    await store(h, reporter, rows)
    now = h.clock.now()
    queries = h.app.flows.incidents.queries

    figures = await queries.figures(Actor(LEADER, LEADER), now - timedelta(days=30), now)
    assert figures.total == 11 and figures.acknowledged == 10 and figures.in_window == 7
    # other: 4; fire, quality: 3 each (a tie is broken by the code); casualty: 1
    assert figures.by_category == [("other", 4), ("fire", 3), ("quality", 3), ("casualty", 1)]
    assert figures.by_department == [("office", 10), ("security", 1)]
    ordered = sorted(seconds)
    assert figures.median_seconds == ordered[math.ceil(0.5 * 10) - 1] == 120
    assert figures.p90_seconds == ordered[math.ceil(0.9 * 10) - 1] == 300
    assert figures.external["reportable"] == 1

    head = await queries.figures(Actor(HEAD, HEAD), now - timedelta(days=30), now)  # security's incidents only
    assert (head.total, head.by_category, head.acknowledged) == (1, [("casualty", 1)], 0)
    assert head.median_seconds is None and head.p90_seconds is None

    one = await queries.figures(Actor(LEADER, LEADER), now - timedelta(days=60), now - timedelta(days=30))
    assert (one.total, one.median_seconds, one.p90_seconds) == (1, 1, 1)  # a single value is every percentile

    empty = await queries.figures(Actor(LEADER, LEADER), now - timedelta(days=400), now - timedelta(days=300))
    assert (empty.total, empty.by_category, empty.median_seconds) == (0, [], None)


async def test_pages_are_newest_first_and_end_where_the_incidents_do(harness: Harness) -> None:
    h = harness
    reporter = await people(h)
    count = 2 * PAGE_SIZE + 3
    await store(h, reporter, [{"status": REPORTED if n % 2 else CLOSED} for n in range(count)])
    queries = h.app.flows.incidents.queries
    me = Actor(REPORTER, REPORTER)

    pages = [await queries.my_reports(me, n) for n in range(4)]
    ids = [[incident.id for incident in page.items] for page in pages]
    assert [len(i) for i in ids] == [PAGE_SIZE, PAGE_SIZE, 3, 0] and pages[0].pages == 3
    assert sum(ids, []) == sorted(sum(ids, []), reverse=True) and len(set(sum(ids, []))) == count
    forged = await queries.my_reports(me, -1)  # a forged negative page is the first
    assert [i.id for i in forged.items] == ids[0]

    open_ = await queries.open_incidents(Actor(LEADER, LEADER), 0)
    assert open_.total == count // 2 and all(i.status == REPORTED for i in open_.items)
    assert [i.id for i in open_.items] == sorted((i.id for i in open_.items), reverse=True)
    scoped = await queries.open_incidents(Actor(HEAD, HEAD), 0)  # the office's reports are not security's
    assert (scoped.total, scoped.items) == (0, ())
