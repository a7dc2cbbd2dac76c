"""The approval engine as a shared part: the first flow that needs it installs it (with /approvals
and /away); later flows get the same engine. Issue 5 (publication review) calls it too."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiogram.utils.i18n import lazy_gettext as __

from bot.services.approval_away import APPROVER_ROLES, AwayService
from bot.services.approval_notices import CARD_FAILURE
from bot.services.approval_walk import TIMER
from bot.services.approvals import ApprovalService
from handlers import approvals as approval_handlers
from handlers import away as away_handlers
from handlers.commands import CommandInfo

if TYPE_CHECKING:
    from bot.app import App

KEY = "approvals"


def approval_engine(app: App) -> ApprovalService:
    """The app's approval engine, installed on first use (register your kind on it)."""
    existing = app.dispatcher.workflow_data.get(KEY)
    if isinstance(existing, ApprovalService):
        return existing
    approvals = ApprovalService(app.uow, app.clock, app.policy, app.i18n)
    away = AwayService(app.uow, app.clock, app.policy, approvals)
    app.dispatcher.workflow_data.update({KEY: approvals, "away": away})
    app.timers.register(TIMER, approvals.walk.on_timer)
    app.outbox.on_failure(CARD_FAILURE, approvals.walk.on_card_failure)
    app.members.deactivation_effects.append(approvals.walk.on_deactivated)
    app.flow_router.include_routers(approval_handlers.build(), away_handlers.build())
    app.commands.extend(
        [
            CommandInfo("approvals", __("Requests waiting for your decision")),
            CommandInfo("away", __("Name a delegate while you are away"), APPROVER_ROLES),
        ]
    )
    return approvals
