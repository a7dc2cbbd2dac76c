"""The flows built on the foundation. Each module here has `install(app)`, which builds the flow's
service and wires it in: `app.flow_router.include_router(...)`, `app.commands.extend(...)`,
`app.dispatcher.workflow_data[...]`, `app.timers.register(kind, handler)`,
`app.outbox.on_failure(name, hook)`, `app.members.deactivation_blockers/effects.append(...)`,
`app.workers.append(worker)` (a background loop started and stopped with the app),
`app.startup.append(hook)` (an async callable run at every start, before the timers)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.flows import access, deadlines, incidents, publication, roster
from bot.services.incidents import timeliness as incident_timeliness

if TYPE_CHECKING:
    from bot.app import App


def install_flows(app: App) -> None:
    """Install every flow, in this order (one line per flow)."""
    roster.install(app)
    incidents.install(app)  # after the roster: it asks who is on duty and adds to the handover
    access.install(app)
    deadlines.install(app)
    # Incident windows count in the same timeliness report as reporting deadlines (A5, E4).
    app.dispatcher.workflow_data["timeliness"].sources.extend(incident_timeliness.SOURCES)
    publication.install(app)
