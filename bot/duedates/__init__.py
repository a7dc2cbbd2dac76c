"""Due-date engine: working/trading-day calendar and due-date rules (RULES.md E1-E3, E5, E6).

Pure: no database, no Telegram. See :mod:`bot.duedates.calendar` and
:mod:`bot.duedates.rules` for the semantics.
"""

from bot.duedates.calendar import ROLL_CONVENTIONS, WorkCalendar
from bot.duedates.rules import (
    ANCHORS,
    DIRECTIONS,
    UNITS,
    Due,
    DueRule,
    RuleLike,
    add_months,
    anchor_dates,
    due_at,
    due_date,
    next_instances,
)

__all__ = [
    "ANCHORS",
    "DIRECTIONS",
    "ROLL_CONVENTIONS",
    "UNITS",
    "Due",
    "DueRule",
    "RuleLike",
    "WorkCalendar",
    "add_months",
    "anchor_dates",
    "due_at",
    "due_date",
    "next_instances",
]
