"""Who the organisation is: identity, invitations, audit, roles, departments and duty rooms."""

from __future__ import annotations

import calendar
import datetime as dt
import difflib
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import Field, ValidationInfo, field_validator

from bot.languages import codes as language_codes

from ._base import (
    WEEKDAYS,
    ClockTime,
    Code,
    DepartmentCode,
    I18nText,
    Language,
    MonthDay,
    PolicyModel,
    Reminders,
    RoleCode,
    Weekday,
    invalid,
    month_day,
    unique_strings,
)

BUILTIN_ROLES: tuple[str, ...] = (
    "staff",
    "duty_officer",
    "department_head",
    "leader",
    "information_officer",
    "administrator",
    "external_reviewer",
)
BUILTIN_ROLE_NAMES: dict[str, tuple[str, str]] = {
    "staff": ("员工", "Staff"),
    "duty_officer": ("值班员", "Duty officer"),
    "department_head": ("部门负责人", "Department head"),
    "leader": ("主管领导", "Leader"),
    "information_officer": ("信息员", "Information officer"),
    "administrator": ("系统管理员", "Administrator"),
    "external_reviewer": ("外部审核人", "External reviewer"),
}
MIN_AUDIT_RETENTION_DAYS = 60


class Organisation(PolicyModel):
    name: str = Field(min_length=1, description="the organisation's name as the bot shows it")
    timezone: str = Field(default="Asia/Shanghai", description="the IANA time zone all times are shown in")
    default_language: Language = Field(default="zh_Hans", description="the language of users who have not chosen one")
    languages: tuple[Language, ...] = Field(
        default_factory=language_codes, min_length=1, description="the languages users may choose"
    )
    fiscal_year_end: MonthDay = Field(
        default="12-31", description='the last day of the fiscal year as "MM-DD" (rule E1)'
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            close = difflib.get_close_matches(value, sorted(available_timezones()), n=1, cutoff=0.5)
            guess = f"did you mean '{close[0]}'? " if close else ""
            raise invalid(
                f"unknown time zone '{value}'",
                f"{guess}use an IANA time zone name such as Asia/Shanghai or Asia/Hong_Kong",
            ) from None
        return value

    @field_validator("fiscal_year_end")
    @classmethod
    def _month_end(cls, value: str) -> str:
        month, day = month_day(value)
        if day < calendar.monthrange(2001, month)[1]:
            raise invalid(
                f"the fiscal year must end on the last day of a month, not {value}",
                'e.g. "12-31", "03-31" or "06-30"; quarters and half years are counted from it',
            )
        return value

    @field_validator("languages")
    @classmethod
    def _no_repeats(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unique_strings(value, "language")
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class Invitations(PolicyModel):
    expiry_days: int = Field(default=7, ge=1, le=90, description="days a one-time invitation stays usable (rule F2)")


class Audit(PolicyModel):
    retention_days: int = Field(
        default=0, ge=0, description="days audit entries are kept; 0 keeps them forever (rule A6)"
    )

    @field_validator("retention_days")
    @classmethod
    def _at_least_sixty(cls, value: int) -> int:
        if 0 < value < MIN_AUDIT_RETENTION_DAYS:
            raise invalid(
                f"audit entries must be kept at least {MIN_AUDIT_RETENTION_DAYS} days (rule A6), not {value}",
                f"use 0 to keep them forever (the default) or a number of days of {MIN_AUDIT_RETENTION_DAYS} or more",
            )
        return value


class Role(PolicyModel):
    code: RoleCode = Field(description="the role's code, e.g. duty_officer")
    name: I18nText = Field(description="the role's name in every language")


def default_roles() -> tuple[Role, ...]:
    return tuple(Role(code=code, name=I18nText(zh_Hans=zh, en=en)) for code, (zh, en) in BUILTIN_ROLE_NAMES.items())


class Department(PolicyModel):
    code: DepartmentCode = Field(description="the department's code, e.g. finance")
    name: I18nText = Field(description="the department's name in every language")
    parent: Code | None = Field(default=None, description="the code of the parent department; the root has none")


class Shift(PolicyModel):
    code: Code = Field(description="the shift's code, e.g. day")
    name: I18nText = Field(description="the shift's name in every language")
    days: tuple[Weekday, ...] = Field(
        default=WEEKDAYS, min_length=1, description="the weekdays the shift starts on (mon … sun)"
    )
    start: ClockTime = Field(description='when the shift starts, "HH:MM"')
    end: ClockTime = Field(description='when the shift ends, "HH:MM"; not after start = past midnight')

    @field_validator("days")
    @classmethod
    def _no_repeats(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unique_strings(value, "day")
        return value

    @property
    def crosses_midnight(self) -> bool:
        """True when the shift ends on the next day (end <= start)."""
        return self.end <= self.start


class DutyRoom(PolicyModel):
    code: Code = Field(description="the duty room's code, e.g. dispatch")
    name: I18nText = Field(description="the duty room's name in every language")
    department: Code = Field(description="the department the duty room belongs to")
    owner_role: RoleCode = Field(
        default="department_head",
        description="holders of this role in the room's department keep its roster (rule B1)",
    )
    group_chat_id: int | None = Field(default=None, description="a Telegram group that also receives the room's alerts")
    group_topic_id: int | None = Field(
        default=None,
        ge=1,
        description="the forum topic (message_thread_id) of group_chat_id the room's alerts go to",
    )
    gap_lookahead_hours: int = Field(
        default=48, ge=1, le=24 * 31, description="how far ahead roster gaps are reported (rule B1)"
    )
    gap_report_at: ClockTime = Field(
        default=dt.time(9, 0), description='when the daily roster-gap report goes to the owners, "HH:MM" (rule B1)'
    )
    shifts: tuple[Shift, ...] = Field(min_length=1, description="the shifts of the room's roster")
    shift_reminders: Reminders = Field(
        default=(dt.timedelta(hours=1),),
        description='how long before a shift starts each officer on it is reminded, e.g. ["12h", "1h"]; [] for none',
    )
    swap_approval: bool = Field(
        default=False,
        description="an officer's swap takes effect only once a keeper of the room approves it; "
        "otherwise the keepers are told (rule B1)",
    )

    @field_validator("group_topic_id")
    @classmethod
    def _topic_of_a_group(cls, value: int | None, info: ValidationInfo) -> int | None:
        if value is not None and info.data.get("group_chat_id") is None:
            raise invalid("a forum topic without a group", "set group_chat_id too, or leave group_topic_id out")
        return value
