"""Recurring and event-driven reporting deadlines (rules E1–E6)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from ._base import (
    ClockText,
    ClockTime,
    Code,
    I18nText,
    MonthDay,
    PolicyModel,
    Reminders,
    RoleCode,
    invalid,
)

Anchor = Literal["month_end", "quarter_end", "half_year_end", "fiscal_year_end", "yearly", "event"]
Unit = Literal["calendar_days", "working_days", "trading_days", "months"]
Direction = Literal["after", "before"]
Roll = Literal["none", "following", "preceding", "modified_following"]

END_OF_DAY = dt.time(23, 59)
END_OF_DAY_TEXT = "23:59"
DEFAULT_REMINDERS: tuple[str, ...] = ("7d", "1d", "2h")


class DueRuleSpec(PolicyModel):
    """How a due date is computed; read by the due-date engine (``bot.duedates``), whose
    ``RuleLike`` protocol these fields match.

    - ``anchor``: the day counting starts from — the last day of the month, quarter,
      half year (30 June / 31 December) or fiscal year (organisation.fiscal_year_end),
      a fixed day every year (``yearly``, with ``date = "MM-DD"``; "02-29" means 28
      February in common years), or the day of an event (``event``: only inside
      ``[[deadlines.events.obligations]]``).
    - ``offset`` ``unit``s ``direction`` the anchor: ``calendar_days``; ``working_days``
      on the official Chinese calendar with make-up working weekends (调休) and
      ``deadlines.holiday_overrides``; ``trading_days`` (exchange days); ``months``
      (month ends stay month ends: 31 Dec + 4 months = 30 Apr). ``offset = 0`` is the
      anchor day itself.
    - ``time``: ``"HH:MM"``, the time of day on the due date in the organisation's time
      zone. Default ``"23:59"``: due by the end of that day.
    - ``roll``: what happens when the result is not a working day — ``following`` moves it
      to the next working day (postponed over holidays, rule E3), ``preceding`` to the
      previous one, ``modified_following`` to the next unless that changes the month,
      ``none`` keeps it. Left out (None): ``following`` for ``after`` rules and
      ``preceding`` for ``before`` rules, so a notice due "20 days before" a meeting is
      never late. Working- and trading-day results are already on such a day.
    """

    anchor: Anchor = Field(description="what the deadline counts from")
    date: MonthDay | None = Field(
        default=None, description='the day of a yearly anchor, "MM-DD"; only with anchor = "yearly"'
    )
    offset: int = Field(default=0, ge=0, le=3660, description="how many units from the anchor")
    unit: Unit = Field(default="calendar_days", description="what the offset counts")
    direction: Direction = Field(default="after", description="after or before the anchor")
    time: ClockText = Field(default=END_OF_DAY_TEXT, description='time of day due, "HH:MM"; default "23:59"')
    roll: Roll | None = Field(
        default=None, description="how a due date on a day off moves (default: away from the anchor)"
    )

    @property
    def clock(self) -> dt.time:
        """``time`` as a :class:`datetime.time`."""
        hour, minute = self.time.split(":")
        return dt.time(int(hour), int(minute))

    @model_validator(mode="after")
    def _date_only_when_yearly(self) -> DueRuleSpec:
        if self.anchor == "yearly" and self.date is None:
            raise invalid("a yearly rule needs the day of the year", 'add date = "MM-DD", e.g. date = "03-31"')
        if self.anchor != "yearly" and self.date is not None:
            raise invalid(
                f'date is only used with anchor = "yearly", not "{self.anchor}"',
                'remove date, or set anchor = "yearly"',
            )
        return self


class Obligation(PolicyModel):
    code: Code = Field(description="the obligation's code, e.g. annual_report")
    name: I18nText = Field(description="the obligation's name in every language")
    department: Code = Field(description="the department responsible")
    owner_role: RoleCode | None = Field(default=None, description="holders of this role in the department own it")
    owner_members: tuple[int, ...] = Field(
        default=(), description="Telegram user ids who own it (instead of owner_role)"
    )
    rule: DueRuleSpec = Field(description="the due-date rule (anchor, offset, unit, …)")
    reminders: Reminders | None = Field(
        default=None, description='reminder offsets before due, e.g. ["7d", "1d", "2h"]'
    )
    evidence_required: bool = Field(default=False, description="marking it done needs a note or file (rule E4)")
    notify_late_roles: tuple[RoleCode, ...] | None = Field(
        default=None, description="roles told when it is late (default: deadlines.notify_late_roles)"
    )

    @model_validator(mode="after")
    def _one_owner_and_not_event(self) -> Obligation:
        if (self.owner_role is None) == (not self.owner_members):
            raise invalid(
                "an obligation needs exactly one of owner_role and owner_members",
                'write owner_role = "information_officer" or owner_members = [123456789], not both',
            )
        if self.rule.anchor == "event":
            raise invalid(
                'a recurring obligation cannot use anchor = "event"',
                "put event-driven deadlines under [[deadlines.events]] instead",
            )
        return self


class EventObligation(PolicyModel):
    code: Code = Field(description="the deadline's code, e.g. board_resolution_disclosure")
    name: I18nText = Field(description="the deadline's name in every language")
    rule: DueRuleSpec = Field(description='the due-date rule, with anchor = "event"')
    reminders: Reminders | None = Field(
        default=None, description="reminder offsets before due (default: deadlines.default_reminders)"
    )
    evidence_required: bool = Field(default=False, description="marking it done needs a note or file")

    @model_validator(mode="after")
    def _anchored_on_event(self) -> EventObligation:
        if self.rule.anchor != "event":
            raise invalid(
                f'an event deadline must use anchor = "event", not "{self.rule.anchor}"',
                'set anchor = "event"; recurring deadlines belong in [[deadlines.obligations]]',
            )
        return self


class Event(PolicyModel):
    code: Code = Field(description="the event's code, e.g. board_resolution")
    name: I18nText = Field(description="the event's name in every language")
    department: Code = Field(description="the department that records the event and owns its deadlines")
    owner_role: RoleCode = Field(description="holders of this role in the department own the deadlines")
    obligations: tuple[EventObligation, ...] = Field(
        min_length=1, description="the deadlines the event creates (rule E2)"
    )


class HolidayOverride(PolicyModel):
    date: dt.date = Field(description="the day, a TOML date such as 2026-10-10 (no quotes)")
    working: bool = Field(description="true: a working day; false: a day off")
    note: str = Field(default="", description="why, e.g. 调休 or a local holiday")


class Deadlines(PolicyModel):
    grace_hours: int = Field(
        default=72, ge=0, le=24 * 90, description='hours after due before "late" becomes "missed" (E4)'
    )
    default_reminders: Reminders = Field(
        default=DEFAULT_REMINDERS,
        validate_default=True,
        description='reminder offsets before due, e.g. ["7d", "1d", "2h"]',
    )
    notify_late_roles: tuple[RoleCode, ...] = Field(
        default=("department_head",), description="roles told when an obligation is late (E4)"
    )
    notify_missed_roles: tuple[RoleCode, ...] = Field(
        default=("leader",), description="roles told when an obligation is missed (E4)"
    )
    holiday_overrides: tuple[HolidayOverride, ...] = Field(
        default=(), description="days that differ from the official calendar"
    )
    complete_years: tuple[int, ...] = Field(
        default=(),
        description="years whose whole official schedule is entered in holiday_overrides (no longer provisional)",
    )
    report_time: ClockTime = Field(
        default=dt.time(9, 0), description='when the monthly timeliness report goes out, "HH:MM" (E4)'
    )
    obligations: tuple[Obligation, ...] = Field(default=(), description="recurring obligations (E1, E3, E5)")
    events: tuple[Event, ...] = Field(default=(), description="events that create deadlines (E2, E6)")

    def reminders_for(self, obligation: Obligation | EventObligation) -> tuple[dt.timedelta, ...]:
        """The obligation's own reminder offsets, else the default ones (largest first)."""
        return obligation.reminders if obligation.reminders is not None else self.default_reminders

    def late_roles_for(self, obligation: Obligation) -> tuple[str, ...]:
        if obligation.notify_late_roles is not None:
            return obligation.notify_late_roles
        return self.notify_late_roles

    @field_validator("complete_years")
    @classmethod
    def _complete_years_have_overrides(cls, years: tuple[int, ...], info: ValidationInfo) -> tuple[int, ...]:
        entered = {override.date.year for override in info.data.get("holiday_overrides", ())}
        for year in years:
            if year not in entered:
                raise invalid(
                    f"{year} is listed, but holiday_overrides has no day of {year}",
                    f"enter {year}'s holidays and make-up working days (调休) in holiday_overrides first",
                )
        return years

    def working_overrides(self) -> dict[dt.date, bool]:
        """holiday_overrides as the due-date calendar takes them: day -> is a working day."""
        return {override.date: override.working for override in self.holiday_overrides}

    def obligation(self, code: str) -> Obligation:
        for obligation in self.obligations:
            if obligation.code == code:
                return obligation
        raise KeyError(code)

    def event(self, code: str) -> Event:
        for event in self.events:
            if event.code == code:
                return event
        raise KeyError(code)
