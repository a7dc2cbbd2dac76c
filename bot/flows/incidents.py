"""The incident flow (A1–A7): reporting, alerting and escalation, the response, the outside report, figures.

Installs the services, their timers and outbox failure hook, the chat routers and the commands, the B2
deactivation check (open incidents must be handed over first) and the incidents' lines of the roster's
shift handover."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiogram.utils.i18n import lazy_gettext as __

from bot.services.incidents import IncidentServices
from bot.services.incidents.common import DUTY_OFFICER, MANAGERS
from bot.services.incidents.escalation import ALERT_FAILURE, ESCALATE
from bot.services.incidents.external import DUE, REMINDER
from bot.services.roster import RosterService
from handlers import (
    incident_duplicates,
    incident_group,
    incident_lists,
    incident_report,
    incident_respond,
    incident_urgent,
)
from handlers.commands import CommandInfo

if TYPE_CHECKING:
    from bot.app import App

COMMANDS = (
    CommandInfo("report", __("Report an incident")),
    CommandInfo("myreports", __("Your incident reports")),
    CommandInfo("incident", __("One incident and its timeline: /incident INC-…")),
    CommandInfo("incidents", __("Open incidents"), (DUTY_OFFICER, *MANAGERS)),
    CommandInfo("stats", __("Incident figures for a period"), MANAGERS),
    CommandInfo("export", __("Export incidents with timelines (CSV or XLSX)"), MANAGERS),
)


def install(app: App, roster: RosterService) -> IncidentServices:
    """The roster says who is on duty (alerts, A2) and takes the incidents' lines of the shift handover."""
    services = IncidentServices.build(app.uow, app.clock, app.policy, app.i18n, roster)
    app.dispatcher.workflow_data.update(
        incidents=services,
        reporting=services.reporting,
        response=services.response,
        queries=services.queries,
        duplicates=services.duplicates,
        group_notes=services.groups,
    )
    app.timers.register(ESCALATE, services.escalation.on_timer)
    app.timers.register(REMINDER, services.external.on_reminder)
    app.timers.register(DUE, services.external.on_due)
    app.outbox.on_failure(ALERT_FAILURE, services.escalation.on_unreachable)
    app.members.deactivation_blockers.append(services.queries.deactivation_blockers)
    roster.handover_sources.append(services.queries.handover_lines)
    labels = {app.i18n.gettext("🚨 Report incident", locale=language) for language in app.policy.organisation.languages}
    app.flow_routers.extend(
        [
            incident_lists.build(),
            incident_respond.build(),
            incident_duplicates.build(),
            incident_group.build(),
            incident_report.build(labels),
            incident_urgent.build(),
        ]
    )
    app.commands.extend(COMMANDS)
    return services
