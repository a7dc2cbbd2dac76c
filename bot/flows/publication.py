"""Publication review (信息发布管理表, rules D1–D6): /publish, /publications, the review chain on the
shared approval engine, and the bot's own posts to Telegram channels."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiogram.utils.i18n import lazy_gettext as __

from bot.services.approvals import ApprovalService
from bot.services.publication_channels import POST_FAILURE, TIMER, ChannelDesk
from bot.services.publication_listing import PublicationListing
from bot.services.publication_review import PublicationReview
from bot.services.publications import DRAFTER_ROLE, PublicationService
from handlers import publication_form, publications
from handlers.commands import CommandInfo

if TYPE_CHECKING:
    from bot.app import App


def install(app: App, approvals: ApprovalService) -> PublicationService:
    review = PublicationReview(approvals, app.policy)
    service = PublicationService(app.uow, app.clock, app.policy, review)
    desk = ChannelDesk(app.uow, app.clock, app.policy, app.i18n, service)
    review.register(desk)
    listing = PublicationListing(app.uow, app.clock, app.policy, service, review)
    app.timers.register(TIMER, desk.on_timer)
    app.outbox.on_failure(POST_FAILURE, desk.on_post_failure)
    app.dispatcher.workflow_data.update(publications=service, desk=desk, listing=listing)
    app.flow_routers.extend([publication_form.build(), publications.build()])
    app.commands.extend(
        [
            CommandInfo("publish", __("Submit information for publication review"), (DRAFTER_ROLE,)),
            CommandInfo("publications", __("Publication forms: yours, in review, published")),
        ]
    )
    return service
