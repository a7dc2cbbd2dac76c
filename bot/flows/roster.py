"""The duty roster flow (B1, B2): the service other flows ask who is on duty, /duty, roster editing
in chat, daily gap reports, shift-change handovers and the deactivation check."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiogram.utils.i18n import lazy_gettext as __

from bot.services.roster import GAP_TIMER, REMIND_TIMER, SHIFT_TIMER, RosterService
from bot.services.roster_feeds import CalendarFeeds
from bot.services.roster_import import RosterImport
from bot.services.roster_swaps import SWAP_EXPIRY_TIMER, SwapService
from bot.services.roster_texts import RosterTexts
from bot.services.roster_watch import ShiftWatch
from handlers import roster as roster_handlers
from handlers.commands import CommandInfo

if TYPE_CHECKING:
    from bot.app import App


def install(app: App) -> RosterService:
    roster = RosterService(app.uow, app.clock, app.policy, RosterTexts(app.i18n, app.policy))
    watch = ShiftWatch(app.uow, app.clock, app.policy, roster)
    swaps = SwapService(app.uow, app.clock, app.policy, roster)
    app.dispatcher.workflow_data.update(
        roster=roster,
        roster_watch=watch,
        roster_import=RosterImport(app.uow, app.clock, app.policy, roster),
        roster_swaps=swaps,
        roster_feeds=CalendarFeeds(app.uow, app.clock, app.policy, roster, app.settings.feed_base_url),
    )
    app.timers.register(SHIFT_TIMER, watch.on_shift_start)
    app.timers.register(GAP_TIMER, watch.on_gap_check)
    app.timers.register(REMIND_TIMER, watch.on_reminder)
    app.timers.register(SWAP_EXPIRY_TIMER, swaps.on_expiry)
    app.members.deactivation_blockers.append(watch.future_shifts)
    # Plans shift changes and gap checks at every start, polling or webhook (the daily check and
    # every roster change renew them).
    app.startup.append(watch.start)
    app.flow_routers.append(roster_handlers.build())
    app.commands.extend(
        [
            CommandInfo("duty", __("Who is on duty now and next")),
            CommandInfo("handover", __("Leave a handover note for the next shift"), ("duty_officer",)),
            CommandInfo("swap", __("Ask a colleague to take one of your shifts"), ("duty_officer",)),
            CommandInfo(
                "calendar",
                __("Your shifts as a calendar file and feed"),
                ("duty_officer", "department_head", "administrator"),
            ),
            CommandInfo("roster", __("Change the duty roster"), ("administrator", "department_head")),
        ]
    )
    return roster
