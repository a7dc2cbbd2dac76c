"""Reporting deadlines (issue 6, rules E1–E6, A5): wires the services, timers, handlers and commands."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiogram.utils.i18n import lazy_gettext as __

from bot.services.deadlines import DeadlinesFlow
from bot.services.deadlines.notices import UNREACHABLE_HOOK
from bot.services.deadlines.people import ADMIN, LEADER, MANAGER
from bot.services.deadlines.scheduling import CALENDAR, DAILY, LATE, MISSED, REMIND
from bot.services.deadlines.timeliness import REPORT
from handlers import deadline_events, deadline_extensions, deadlines
from handlers.commands import CommandInfo

if TYPE_CHECKING:
    from bot.app import App


def install(app: App) -> DeadlinesFlow:
    flow = DeadlinesFlow.build(app.uow, app.clock, app.policy, app.i18n)
    scheduler = flow.scheduler
    for kind, handler in (
        (REMIND, scheduler.on_remind),
        (LATE, scheduler.on_late),
        (MISSED, scheduler.on_missed),
        (DAILY, scheduler.on_daily),
        (CALENDAR, scheduler.on_calendar),
        (REPORT, flow.timeliness.on_monthly),
    ):
        app.timers.register(kind, handler)
    app.outbox.on_failure(UNREACHABLE_HOOK, scheduler.on_unreachable)
    app.dispatcher.workflow_data.update(
        deadlines=flow.service, deadline_events=flow.events, timeliness=flow.timeliness, deadline_texts=flow.texts
    )
    app.flow_routers.extend([deadlines.build(), deadline_extensions.build(), deadline_events.build()])
    event_owners = {event.owner_role for event in app.policy.deadlines.events}
    app.commands.extend(
        [
            CommandInfo("deadlines", __("Your reporting deadlines (department heads: the department's)")),
            CommandInfo("event", __("Record an event that starts deadlines"), tuple(sorted(event_owners | {ADMIN}))),
            CommandInfo("timeliness", __("Timeliness figures of reporting deadlines"), (MANAGER, LEADER, ADMIN)),
        ]
    )

    async def start() -> None:
        """Generate and recompute instances, and make sure the daily, yearly and monthly timers exist."""
        async with app.uow() as uow:
            now = app.clock.now()
            await scheduler.start(uow, now)
            await flow.timeliness.schedule_monthly(uow, now)
            await uow.commit()

    app.startup.append(start)
    return flow
