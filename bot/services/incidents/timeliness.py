"""Incident windows in the timeliness report (A5, E4): per department, were alerts acknowledged within
the window (A2) and outside reports filed within 24 hours (A4)? Counted with SQL, grouped by department."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, func, select

from bot.services.deadlines.timeliness import Tally, TallyRow, TimelinessSource
from bot.services.errors import N_
from storage.incidents_models import Incident
from storage.uow import UnitOfWork

ACKNOWLEDGEMENTS = N_("Incident alerts acknowledged within the window")
OUTSIDE_REPORTS = N_("Outside reports filed within 24 hours")


async def acknowledgements(uow: UnitOfWork, start: datetime, end: datetime) -> list[TallyRow]:
    """Incidents reported in [start, end): acknowledged in the window (on time), later (late), never (missed).
    Reports marked as duplicates are left out (issue 14): their escalation was stopped, not missed."""
    on_time = func.sum(case((Incident.ack_in_window.is_(True), 1), else_=0))
    late = func.sum(case((Incident.ack_in_window.is_(False), 1), else_=0))
    missed = func.sum(case((Incident.acknowledged_at.is_(None), 1), else_=0))
    rows = await uow.session.execute(
        select(Incident.department, on_time, late, missed)
        .where(
            Incident.reported_at >= start,
            Incident.reported_at < end,
            Incident.duplicate_of.is_(None),  # stopped on purpose: measured once, as the incident it joined
        )
        .group_by(Incident.department)
    )
    return [
        TallyRow(dept, ACKNOWLEDGEMENTS, Tally(on_time=a or 0, late=b or 0, missed=c or 0)) for dept, a, b, c in rows
    ]


async def outside_reports(uow: UnitOfWork, start: datetime, end: datetime) -> list[TallyRow]:
    """Outside-report deadlines due in [start, end) and already decided: filed in time, or missed."""
    on_time = func.sum(case(((Incident.external_state == "filed") & Incident.external_missed.is_(False), 1), else_=0))
    missed = func.sum(case((Incident.external_missed.is_(True), 1), else_=0))
    rows = await uow.session.execute(
        select(Incident.department, on_time, missed)
        .where(Incident.external_due_at >= start, Incident.external_due_at < end)
        .group_by(Incident.department)
    )
    return [TallyRow(dept, OUTSIDE_REPORTS, Tally(on_time=a or 0, missed=b or 0)) for dept, a, b in rows if a or b]


SOURCES: tuple[TimelinessSource, ...] = (acknowledgements, outside_reports)
