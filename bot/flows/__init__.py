"""The flows built on the foundation. Each module here has `install(app)`, which builds the flow's
service and wires it in: `app.flow_routers.append(...)`, `app.commands.extend(...)`,
`app.dispatcher.workflow_data[...]` (what handlers are given), `app.timers.register(kind, handler)`,
`app.outbox.on_failure(name, hook)`, `app.members.deactivation_blockers/effects.append(...)`,
`app.workers.append(worker)` (a background loop started and stopped with the app),
`app.startup.append(hook)` (an async callable run at every start, before the timers).
It returns its service: the flows that need it take it as an argument, and tests reach it as `app.flows`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.flows import access, approvals, deadlines, incidents, publication, roster
from bot.services.access import AccessService
from bot.services.approvals import ApprovalService
from bot.services.deadlines import DeadlinesFlow
from bot.services.incidents import IncidentServices
from bot.services.incidents import timeliness as incident_timeliness
from bot.services.publications import PublicationService
from bot.services.roster import RosterService

if TYPE_CHECKING:
    from bot.app import App


@dataclass(frozen=True)
class Flows:
    """Each flow's service, typed: what one flow needs from another is handed to its ``install``."""

    roster: RosterService
    incidents: IncidentServices
    approvals: ApprovalService
    access: AccessService
    deadlines: DeadlinesFlow
    publication: PublicationService


def install_flows(app: App) -> Flows:
    """Install every flow; an argument names what a flow takes from another, so the order cannot be wrong."""
    roster_service = roster.install(app)
    approval_engine = approvals.install(app)
    flows = Flows(
        roster=roster_service,
        incidents=incidents.install(app, roster_service),
        approvals=approval_engine,
        access=access.install(app, approval_engine),
        deadlines=deadlines.install(app),
        publication=publication.install(app, approval_engine),
    )
    # Incident windows count in the same timeliness report as reporting deadlines (A5, E4).
    flows.deadlines.timeliness.sources.extend(incident_timeliness.SOURCES)
    return flows
