"""The duty roster flow (B1, B2): the service other flows ask who is on duty, /duty, roster editing,
gap reports and shift-change handovers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.services.roster import RosterService

if TYPE_CHECKING:
    from bot.app import App


def install(app: App) -> None:
    roster = RosterService(app.uow, app.clock, app.policy, app.i18n)
    app.dispatcher.workflow_data["roster"] = roster
