"""Incidents (A1–A7): reporting, alerting and escalation, the response, the outside report, figures.

`IncidentServices.build(...)` wires the parts; `bot/flows/incidents.py` installs them. Other flows use
`queries.open_items_for_room(uow, room)` (shift handover, B2) and `queries.deactivation_blockers` (B2)."""

from __future__ import annotations

from dataclasses import dataclass

from aiogram.utils.i18n import I18n

from bot.clock import Clock
from bot.policy import Policy
from bot.services.incidents.common import Context, RosterLike
from bot.services.incidents.duplicates import DuplicateChoices, Duplicates, Marked
from bot.services.incidents.escalation import Escalation
from bot.services.incidents.external import ExternalReports
from bot.services.incidents.groups import GroupNotes
from bot.services.incidents.queries import Queries
from bot.services.incidents.reporting import Reporting
from bot.services.incidents.response import Response
from bot.services.incidents.views import Attachment, Draft, Figures, IncidentCard, OpenItem, Page, Submitted
from storage.uow import UnitOfWorkFactory


@dataclass(frozen=True)
class IncidentServices:
    context: Context
    escalation: Escalation
    external: ExternalReports
    reporting: Reporting
    response: Response
    queries: Queries
    duplicates: Duplicates
    groups: GroupNotes

    @classmethod
    def build(
        cls, uow: UnitOfWorkFactory, clock: Clock, policy: Policy, i18n: I18n, roster: RosterLike | None
    ) -> IncidentServices:
        context = Context(uow, clock, policy, i18n, roster)
        escalation = Escalation(context)
        external = ExternalReports(context, escalation)
        reporting = Reporting(context, escalation, external)
        response = Response(context, escalation, external, reporting)
        duplicates = Duplicates(context, escalation, external)
        return cls(
            context,
            escalation,
            external,
            reporting,
            response,
            Queries(context),
            duplicates,
            GroupNotes(context, reporting),
        )


__all__ = [
    "Attachment",
    "Draft",
    "DuplicateChoices",
    "Duplicates",
    "Figures",
    "IncidentCard",
    "IncidentServices",
    "Marked",
    "OpenItem",
    "Page",
    "Queries",
    "Reporting",
    "Response",
    "Submitted",
]
