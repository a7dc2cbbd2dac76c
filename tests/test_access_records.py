"""The catalogue edited in chat (C1, C2), records for managers (who holds access now, CSV/XLSX
exports; F1, F3) and the provisioning webhook posted after commit with retries."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from openpyxl import load_workbook

from bot.app import build_app
from bot.clock import ManualClock
from bot.outgoing.access import AccessCb
from bot.policy import load_policy
from handlers.access_buttons import CatalogueCb, ReportCb
from tests.conftest import Harness, settings_for
from tests.support.access import approve, audit, dataset_id, grants, member, open_task, request_access, submit
from tests.support.org import HEAD, IC_OFFICER, LEADER, OWNER, REQUESTER, granted, organisation
from tests.support.recording_session import RecordingSession

OTHER_HEAD = 4101  # head of finance: sees only their own department's records


async def test_information_officers_add_and_edit_data_sets_in_chat(harness: Harness) -> None:
    """C1, C2: a new data set, reclassified in chat, is requested along the chain of its new level."""
    h = harness
    await organisation(h)
    listing = (await h.send(OWNER, "/datasets"))[0]
    assert listing.startswith("Data-set catalogue (5). Tap one to edit it.")
    await h.press(OWNER, CatalogueCb(action="new"))
    await h.send(OWNER, "客户投诉记录")
    await h.send(OWNER, "Customer complaints")
    await h.press(OWNER, CatalogueCb(action="pick", value="marketing"))
    card = (await h.press(OWNER, CatalogueCb(action="pick", value="secret")))[-1]
    assert card.startswith("客户投诉记录 / Customer complaints") and "Classification: Secret" in card
    new = await dataset_id(h, "dataset_6")
    card = (await h.press(OWNER, CatalogueCb(action="set", id=new, field="classification", value="top_secret")))[-1]
    assert "Classification: Top secret" in card
    await h.press(OWNER, CatalogueCb(action="set", id=new, field="mode", value="export"))
    await h.press(OWNER, CatalogueCb(action="edit", id=new, field="max_days", value="read_only"))
    assert await h.send(OWNER, "forever") == ["Send a whole number of days from 1 to 3650."]
    card = (await h.send(OWNER, "14"))[-1]
    assert "Modes: read-only (up to 14 days), full access (up to 30 days)" in card
    assert "Data owners: Wang Wu (holders of the owner role in the department)" in card
    await h.press(OWNER, CatalogueCb(action="edit", id=new, field="owner"))
    name_head = next(data for text, data in h.buttons(OWNER) if text == "▫️ Li Si")
    card = (await h.press(OWNER, name_head))[-1]
    assert "Data owners: Li Si\n" in card  # a named owner replaces the role's holders
    await request_access(h, REQUESTER, "dataset_6", until="2026-03-10")
    confirm = [t for t in h.session.texts(REQUESTER) if t.startswith("Step 6")][-1]
    assert "Approvals: department head → data owner → Leader" in confirm  # the 绝密 chain
    assert await h.send(REQUESTER, "/access")
    assert [e.action for e in await audit(h, "dataset")] == ["created", "edited", "edited", "edited", "edited"]


async def test_only_information_officers_change_the_catalogue(harness: Harness) -> None:
    h = harness
    await organisation(h)
    assert await h.send(REQUESTER, "/datasets") == ["Only information officers can change the data-set catalogue."]
    forged = CatalogueCb(
        action="set", id=await dataset_id(h, "customer_archives"), field="classification", value="internal"
    )
    assert await h.press(HEAD, forged) == ["Only information officers can change the data-set catalogue."]
    assert len(await audit(h, "dataset", "refused")) == 2


async def test_managers_see_who_holds_access_now_within_their_scope(harness: Harness) -> None:
    """F3: leaders see everyone; a department head only their own department; staff nothing."""
    h = harness
    await organisation(h)
    await member(h, OTHER_HEAD, ["department_head"], "finance", "Finance Head")
    await granted(h, "customer_archives", until="2026-03-20")
    holders = ReportCb(action="ds", value=str(await dataset_id(h, "customer_archives")))
    await h.send(LEADER, "/grants")
    shown = (await h.press(LEADER, holders))[-1]
    assert shown == "Holders right now: 1\n• Zhang San · Marketing department · read-only — until 20 Mar 2026, 23:59"
    assert (await h.press(OTHER_HEAD, holders))[-1] == "Holders right now: 0"
    refused = "Only leaders, department heads and information officers can see access records."
    assert await h.send(REQUESTER, "/grants") == [refused]
    assert await h.press(REQUESTER, holders) == [refused]


def document(h: Harness, user_id: int) -> tuple[str, bytes]:
    sent = h.session.last(user_id, "sendDocument")
    assert sent is not None
    return sent.document.filename, sent.document.data  # type: ignore[attr-defined]


async def test_requests_and_grants_export_as_csv_and_xlsx(harness: Harness) -> None:
    h = harness
    await organisation(h)
    await member(h, OTHER_HEAD, ["department_head"], "finance", "Finance Head")
    await submit(h, REQUESTER, "customer_archives", until="2026-03-20")
    await approve(h, HEAD)
    await approve(h, OWNER)
    await h.send(LEADER, "/grants")
    await h.press(LEADER, ReportCb(action="export", value="requests"))
    await h.press(LEADER, ReportCb(action="period", value="2026-03-01_2026-03-02"))
    await h.press(LEADER, ReportCb(action="format", value="csv"))
    name, data = document(h, LEADER)
    assert name == "requests-2026-03-01-2026-03-02.csv"
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][:5] == ["Request", "Submitted at", "Requester", "Department", "Data set"]
    assert rows[1][2:5] == ["Zhang San", "Marketing department", "Customer archives"]
    assert "approved Li Si" in rows[1][-1] and "approved Wang Wu" in rows[1][-1]
    await h.press(LEADER, ReportCb(action="export", value="grants"))
    await h.send(LEADER, "2026-03-01 2026-03-31")
    await h.press(LEADER, ReportCb(action="format", value="xlsx"))
    name, data = document(h, LEADER)
    sheet = load_workbook(io.BytesIO(data)).active
    assert name.endswith(".xlsx") and sheet["C2"].value == "Zhang San" and sheet["G2"].value == "provisioning"
    await h.send(OTHER_HEAD, "/grants")
    await h.press(OTHER_HEAD, ReportCb(action="export", value="requests"))
    await h.press(OTHER_HEAD, ReportCb(action="period", value="2026-03-01_2026-03-02"))
    await h.press(OTHER_HEAD, ReportCb(action="format", value="csv"))
    assert len(list(csv.reader(io.StringIO(document(h, OTHER_HEAD)[1].decode("utf-8-sig"))))) == 1  # header only
    assert [e.entity_id for e in await audit(h, "access_export", "exported")] == ["requests", "grants", "requests"]


class Receiver:
    """A provisioning system on 127.0.0.1 that fails the first call and records every call."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.called = asyncio.Event()

    async def handle(self, request: web.Request) -> web.Response:
        self.calls.append((request.headers.get("Idempotency-Key", ""), await request.json()))
        self.called.set()
        return web.Response(status=500 if len(self.calls) == 1 else 200)


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, str]]:
    target = Receiver()
    app = web.Application()
    app.router.add_post("/hooks/grants", target.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield target, f"http://127.0.0.1:{port}/hooks/grants"
    await runner.cleanup()


async def webhook_app(url: str, tmp_path: Path) -> Harness:
    """The bot with ``access.provisioning_webhook`` set to ``url``."""
    default = load_policy(None)
    policy = default.model_copy(update={"access": default.access.model_copy(update={"provisioning_webhook": url})})
    clock, session = ManualClock(), RecordingSession()
    database = f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}"
    app = await build_app(settings_for(database), clock=clock, policy=policy, session=session)
    return Harness(app, session, clock)


async def test_grant_and_revocation_decisions_are_posted_to_the_webhook_with_retries(
    receiver: tuple[Receiver, str], tmp_path: Path
) -> None:
    target, url = receiver
    h = await webhook_app(url, tmp_path)
    app = h.app
    webhooks = app.dispatcher.workflow_data["webhooks"]
    try:
        await organisation(h)
        await submit(h, REQUESTER, "financial_reports", until="2026-03-03")
        assert await webhooks.drain() == 0  # nothing is decided yet
        await approve(h, HEAD)
        await webhooks.drain()  # the receiver fails: retried later, not lost
        assert len(target.calls) == 1
        await h.advance(seconds=9)
        assert await webhooks.drain() == 0
        await h.advance(seconds=1)
        await webhooks.drain()
        (key, first), (same_key, payload) = target.calls
        assert key == same_key == "access:grant:1" and first == payload
        assert payload["event"] == "grant" and payload["dataset"] == "financial_reports"
        assert payload["holder"]["name"] == "Zhang San" and payload["mode"] == "read_only"
        await h.press(IC_OFFICER, AccessCb(action="done", id=(await open_task(h)).id))
        await h.advance(days=2)  # 3 March 23:59 has passed
        await webhooks.drain()
        assert target.calls[-1][1]["event"] == "revoke" and target.calls[-1][1]["reason"] == "expired"
        assert [g.state for g in await grants(h)] == ["revoking"]
    finally:
        await app.close()


async def test_the_running_sender_posts_as_soon_as_a_decision_is_committed(
    receiver: tuple[Receiver, str], tmp_path: Path
) -> None:
    """The background loop (started with the app) is woken by the commit; nobody calls drain()."""
    target, url = receiver
    h = await webhook_app(url, tmp_path)
    worker = h.app.dispatcher.workflow_data["webhooks"]
    assert worker in h.app.workers
    running = asyncio.create_task(worker.run())
    try:
        await organisation(h)
        await submit(h, REQUESTER, "financial_reports")
        await approve(h, HEAD)
        await asyncio.wait_for(target.called.wait(), timeout=10)
        assert target.calls[0][1]["event"] == "grant"
    finally:
        worker.stop()
        await running
        await h.app.close()
