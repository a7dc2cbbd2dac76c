"""How many SQL statements an update costs (issue 15), counted on the engine through the real Dispatcher.

Each statement is several round trips to aiosqlite's thread, so these counts are the hot paths' price; a change
that adds statements to them fails here and has to say why (raise the figure in the same commit). Every
statement the driver executes counts, each transaction's `BEGIN IMMEDIATE` included (on SQLite it runs in the
same trip to aiosqlite's thread as the transaction's first statement, `storage/sqlite_driver.py`, so it is
counted from the engine's "begin" events); the commit does not (it is no statement).
What the bot then sends from its outbox (`drain`) is not counted: the running sender claims inside the
report's transaction in production, which adds one statement there (`UnitOfWork.commit`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from aiogram import Router
from aiogram.dispatcher.event.telegram import TelegramEventObserver
from aiogram.filters.callback_data import CallbackData
from aiogram.types import Update
from sqlalchemy import event

from handlers.incident_keyboards import ReportCb
from tests.conftest import Harness
from tests.support.incidents import REPORTER, WANG, alerts, audit_actions, crew, incident, up_to_summary

# The target for the submit press: at most 15 statements (29 before issue 15)
SUBMIT_PRESS = 15
WIZARD_STEP = 7  # a press that moves the wizard on (the severity); was 10, then 9
WIZARD_TEXT = 7  # a typed answer (what happened; where, answered twice); was 8
MOMENT_QUESTION = "When did it happen? Tap a choice, or type the time (14:30) or date and time (2026-03-01 14:30)."


@contextmanager
def counting(h: Harness) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement != "BEGIN IMMEDIATE":  # counted by `begin` (whichever way the driver sends it)
            statements.append(statement)

    def begin(_conn: Any) -> None:
        statements.append("BEGIN IMMEDIATE")

    engine = h.app.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    event.listen(engine, "begin", begin)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)
        event.remove(engine, "begin", begin)


async def feed(h: Harness, update: Update) -> list[str]:
    """The statements one update runs, from `feed_update` until it returns."""
    with counting(h) as statements:
        await h.app.dispatcher.feed_update(h.app.bot, update)
    await h.app.outbox.drain()
    return statements


def press(h: Harness, action: str, value: str = "") -> Update:
    return h.updates.callback(REPORTER, ReportCb(action=action, value=value).pack(), message_id=1)


async def test_the_submit_press_of_a_report_runs_few_statements(harness: Harness) -> None:
    """A1: the report is stored with its number, audit entries (F1), escalation timer and the officer's alert
    in one transaction; the statements that costs are counted, so a regression fails here."""
    h = harness
    await crew(h)
    await up_to_summary(h)
    before = len(h.session.texts(REPORTER))

    statements = await feed(h, press(h, "submit"))

    assert h.session.texts(REPORTER)[before:][-1].startswith("Reported: INC-2026-000001. Keep this number.")
    assert (await incident(h)).description == "Steam leaking from boiler 2"
    assert await audit_actions(h) == ["reported", "alerted"]
    assert len(alerts(h, WANG)) == 1
    assert len(statements) <= SUBMIT_PRESS, "\n".join(statements)


async def test_a_wizard_step_runs_few_statements(harness: Harness) -> None:
    """An ordinary step of the report wizard: the update de-duplicated, the member loaded, the wizard read and
    written before the bot answers (README, "Performance")."""
    h = harness
    await crew(h)
    await h.send(REPORTER, "/report")
    await h.press(REPORTER, ReportCb(action="cat", value="quality"))

    step = await feed(h, press(h, "sev", "high"))
    typed = await feed(h, h.updates.message(REPORTER, "Steam leaking from boiler 2"))
    assert h.session.texts(REPORTER)[-1] == "Where? Tap the button to send your location, or type the place."
    place = await feed(h, h.updates.message(REPORTER, "Boiler house"))  # two answers: "Noted", the next question

    assert h.session.texts(REPORTER)[-2:] == ["📍 Noted.", MOMENT_QUESTION]
    assert len(step) <= WIZARD_STEP, "\n".join(step)
    assert len(typed) <= WIZARD_TEXT, "\n".join(typed)
    assert len(place) <= WIZARD_TEXT, "\n".join(place)  # the wizard written once, before the first


async def test_no_filter_of_ours_goes_through_the_thread_pool(harness: Harness) -> None:
    """aiogram runs a synchronous filter in a thread of its pool; ours are in-memory checks and run on the event
    loop (bot/inline_filters.py): a wizard update checked ~24 of them, each a trip to a thread and back."""
    left = []

    def walk(router: Router) -> None:
        for name, observer in router.observers.items():
            for handler in observer.handlers:
                left.extend((name, f.callback) for f in handler.filters or [] if not f.awaitable)
        for sub in router.sub_routers:
            walk(sub)

    walk(harness.app.dispatcher)
    assert left == []
    await crew(harness)
    assert (await harness.send(REPORTER, "/report"))[0] == "New incident report. What kind of incident?"


async def test_a_button_press_is_checked_only_by_the_handlers_of_its_own_router(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A press in the report wizard passed every button handler of the routers before its own (~70 checks,
    each unpacking the button's data); a router none of whose buttons carries the press's prefix is passed
    over (bot/router_index.py)."""
    h = harness
    await crew(h)
    await h.send(REPORTER, "/report")
    unpacked: list[str] = []
    unpack = CallbackData.unpack.__func__  # type: ignore[attr-defined]

    def counting(cls: type[CallbackData], value: str) -> CallbackData:
        unpacked.append(cls.__prefix__)
        return unpack(cls, value)  # type: ignore[no-any-return]

    monkeypatch.setattr(CallbackData, "unpack", classmethod(counting))
    await h.press(REPORTER, ReportCb(action="cat", value="quality"))

    assert h.session.texts(REPORTER)[-1].startswith("How serious is it?")
    assert set(unpacked) == {ReportCb.__prefix__}


async def test_a_typed_answer_is_offered_only_to_routers_with_a_handler_it_could_match(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A typed answer in the report wizard went through ~40 message handlers of ten routers before its own
    (bot/router_index.py). Now only routers with a handler for its wizard state, or one the index cannot narrow
    (the shared contact handler, replies in duty groups, the fallback), see it; a command goes to its own."""
    h = harness
    await crew(h)
    asked: list[str] = []
    trigger = TelegramEventObserver.trigger

    async def recording(self: TelegramEventObserver, event: Any, **kwargs: Any) -> Any:
        if self.event_name == "message":
            asked.append(self.router.name)
        return await trigger(self, event, **kwargs)

    monkeypatch.setattr(TelegramEventObserver, "trigger", recording)
    assert (await h.send(REPORTER, "/report"))[0] == "New incident report. What kind of incident?"
    at_the_command = set(asked)
    await h.press(REPORTER, ReportCb(action="cat", value="quality"))
    await h.press(REPORTER, ReportCb(action="sev", value="high"))
    asked.clear()

    assert await h.send(REPORTER, "Steam leaking from boiler 2") == [
        "Where? Tap the button to send your location, or type the place."
    ]
    flows = {name for name in asked if name.startswith("handlers.")}
    assert flows == {"handlers.common", "handlers.incident_group", "handlers.incident_report"}
    assert "handlers.roster" not in at_the_command and "handlers.incident_report" in at_the_command
