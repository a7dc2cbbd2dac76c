"""The approval engine as a shared part (with /approvals and /away): installed once, handed to the flows
that register their kinds on it (data access, publication review)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiogram.utils.i18n import lazy_gettext as __

from bot.services.approval_away import APPROVER_ROLES, AwayService
from bot.services.approval_notices import CARD_FAILURE
from bot.services.approval_walk import TIMER
from bot.services.approvals import ApprovalService
from handlers import approval_asks
from handlers import approvals as approval_handlers
from handlers import away as away_handlers
from handlers.commands import CommandInfo

if TYPE_CHECKING:
    from bot.app import App


def install(app: App) -> ApprovalService:
    approvals = ApprovalService(app.uow, app.clock, app.policy, app.i18n)
    away = AwayService(app.uow, app.clock, app.policy, approvals)
    app.dispatcher.workflow_data.update(approvals=approvals, away=away)
    app.timers.register(TIMER, approvals.walk.on_timer)
    app.outbox.on_failure(CARD_FAILURE, approvals.walk.on_card_failure)
    app.members.deactivation_effects.append(approvals.walk.on_deactivated)
    app.flow_routers.extend([approval_handlers.build(), approval_asks.build(), away_handlers.build()])
    app.commands.extend(
        [
            CommandInfo("approvals", __("Requests waiting for your decision")),
            CommandInfo("requests", __("Your requests waiting for approval: nudge, copy")),
            CommandInfo("away", __("Name a delegate while you are away"), APPROVER_ROLES),
        ]
    )
    return approvals
