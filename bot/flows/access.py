"""Data-access requests (issue 4, rules C1–C7), built on the approval engine."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiogram.utils.i18n import lazy_gettext as __

from bot.services.access import KIND, AccessService
from bot.services.access_catalogue import Catalogue, CatalogueService
from bot.services.access_grants import EXPIRY_TIMER, TASK_TIMER, WARN_TIMER, GrantService
from bot.services.access_reports import AccessReports
from bot.services.access_review import REVIEW_TIMER, ReviewService
from bot.services.approvals import ApprovalKind, ApprovalService, StepWindow
from bot.services.errors import N_
from bot.webhook_sender import WebhookSender
from handlers import access as access_handlers
from handlers import access_admin, datasets
from handlers.commands import CommandInfo

if TYPE_CHECKING:
    from bot.app import App

MANAGERS = ("leader", "department_head", "information_officer")


def install(app: App, approvals: ApprovalService) -> AccessService:
    policy, clock, uow = app.policy, app.clock, app.uow
    catalogue = Catalogue(policy, clock)
    grants = GrantService(uow, clock, policy, catalogue, approvals.routing, approvals.notices)
    review = ReviewService(uow, clock, policy, catalogue, grants, approvals.routing, approvals.notices)
    grants.on_activated.append(review.ensure_scheduled)
    access = AccessService(uow, clock, policy, catalogue, approvals, grants)
    approvals.register(
        ApprovalKind(
            code=KIND,
            name=N_("Data access"),
            title=access.title,
            render=access.render,
            on_approved=access.on_approved,
            on_rejected=access.on_rejected,
            on_withdrawn=access.on_withdrawn,
            window=StepWindow(working_days=policy.access.step_window_working_days),
            resolvers={"data_owner": access.data_owners},
            labels={"data_owner": N_("data owner")},
            confirm=access.confirm,
            protected=access.protected,
        )
    )
    app.timers.register(TASK_TIMER, grants.on_task_timer)
    app.timers.register(WARN_TIMER, grants.on_warning)
    app.timers.register(EXPIRY_TIMER, grants.on_expiry)
    app.timers.register(REVIEW_TIMER, review.on_review)
    app.members.deactivation_effects.append(grants.on_deactivated)  # C6
    webhooks = WebhookSender(uow, clock)
    app.workers.append(webhooks)
    app.dispatcher.workflow_data.update(
        access=access,
        access_grants=grants,
        access_review=review,
        access_reports=AccessReports(uow, clock, policy, catalogue, approvals.notices),
        catalogue_service=CatalogueService(uow, clock, policy, catalogue),
        webhooks=webhooks,
    )
    app.flow_routers.extend([access_handlers.build(), datasets.build(), access_admin.build()])
    app.commands.extend(
        [
            CommandInfo("access", __("Request access to data; your requests and grants")),
            CommandInfo("datasets", __("The data-set catalogue"), ("information_officer",)),
            CommandInfo("grants", __("Who holds access; export requests and grants"), MANAGERS),
        ]
    )
    return access
