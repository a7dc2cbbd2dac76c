"""Helpers for the incident tests: the people of a small organisation and a report made through the chat."""

from __future__ import annotations

from dataclasses import dataclass

from aiogram.methods import EditMessageText, SendMessage

from bot.app import App, build_app
from bot.clock import ManualClock
from bot.outgoing.incidents import IncidentCb
from bot.services.members import MemberView
from handlers.incident_keyboards import ReportCb
from storage.incidents_models import Incident
from tests.conftest import ADMIN_ID, Harness, settings_for
from tests.support.recording_session import RecordingSession
from tests.support.roster import officer, put_on

WANG, LI, ZHAO, HEAD, LEADER, REPORTER, OUTSIDER = 2001, 2002, 2003, 2101, 2201, 3001, 3002


@dataclass
class Crew:
    primary: MemberView
    backup: MemberView
    head: MemberView
    leader: MemberView
    reporter: MemberView


async def started(url: str, clock: ManualClock, **kwargs: object) -> tuple[App, RecordingSession, Harness]:
    """An app of its own (e.g. with another policy); the caller closes it."""
    session = RecordingSession()
    app = await build_app(settings_for(url), clock=clock, session=session, **kwargs)  # type: ignore[arg-type]
    return app, session, Harness(app, session, clock)


async def member(h: Harness, telegram_id: int, name: str, roles: list[str], department: str = "office") -> MemberView:
    """A member who joined and chose English."""
    joined = await h.join(telegram_id, roles, department=department, name=name)
    await h.app.members.set_language(telegram_id, "en")
    return joined


async def crew(h: Harness, *, primary: bool = True) -> Crew:
    """Dispatch's day shift (Wang primary, Li backup), the head of the office, a leader, and a reporter in the
    office. The harness clock stands at 09:00 on Monday 2 March 2026, Shanghai time: the day shift."""
    wang, li = await officer(h, WANG, "Wang"), await officer(h, LI, "Li")
    if primary:
        await put_on(h, wang, "day")
    await put_on(h, li, "day", position="backup")
    head = await member(h, HEAD, "Head Huang", ["staff", "department_head"])
    leader = await member(h, LEADER, "Leader Liu", ["staff", "leader"], department="company")
    reporter = await member(h, REPORTER, "Reporter Ren", ["staff"])
    await h.app.members.set_language(ADMIN_ID, "en")
    h.session.clear()
    return Crew(wang, li, head, leader, reporter)


async def report(h: Harness, user: int = REPORTER, **answers: str | None) -> list[str]:
    """The whole wizard through the Dispatcher (`up_to_summary`'s answers); returns what the reporter was told
    at the end."""
    await up_to_summary(h, user, **answers)  # type: ignore[arg-type]
    return await h.press(user, ReportCb(action="submit"))


async def up_to_summary(
    h: Harness,
    user: int = REPORTER,
    *,
    category: str = "quality",
    severity: str = "high",
    description: str = "Steam leaking from boiler 2",
    place: str = "Boiler house",
    loss: str | None = None,
) -> None:
    """The wizard through the Dispatcher up to its summary, Submit not pressed yet."""
    await h.send(user, "/report")
    await h.press(user, ReportCb(action="cat", value=category))
    await h.press(user, ReportCb(action="sev", value=severity))
    await h.send(user, description)
    await h.send(user, place)
    await h.press(user, ReportCb(action="ago", value="0"))
    if loss is not None:
        await h.send(user, loss)
    await h.press(user, ReportCb(action="done"))


async def incident(h: Harness, number: str = "INC-2026-000001") -> Incident:
    async with h.app.uow() as uow:
        found = await uow.incidents.by_number(number)
        assert found is not None
        return found


def alerts(h: Harness, chat_id: int) -> list[str]:
    """Alert messages (not edits) a chat received."""
    return [m.text for m in h.session.sent(chat_id, SendMessage) if m.text and m.text.startswith("🚨 INC")]


def edits(h: Harness, chat_id: int) -> list[EditMessageText]:
    return [m for m in h.session.sent(chat_id, EditMessageText)]  # type: ignore[misc]


def ack(incident_id: int = 1) -> IncidentCb:
    return IncidentCb(action="ack", id=incident_id)


async def audit_actions(h: Harness, incident_id: int = 1) -> list[str]:
    async with h.app.uow() as uow:
        return [entry.action for entry in await uow.audit.for_entity("incident", incident_id)]
