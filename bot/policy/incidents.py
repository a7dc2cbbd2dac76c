"""Incident reporting and escalation (rules A1–A7)."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, ValidationInfo, field_validator

from ._base import Code, I18nText, IncidentStep, PolicyModel, RoleCode, invalid

PHONE_RE = re.compile(r"\+?[0-9][0-9 -]{1,30}")
DEFAULT_INCIDENT_CHAIN: tuple[str, ...] = ("on_duty_backup", "department_head", "role:leader")
DEFAULT_REPORT_BODIES: tuple[tuple[str, str, str], ...] = (
    ("coordination_office", "社会治安综合治理联席会议办公室", "Joint office for public order (coordinating office)"),
    ("police", "公安机关", "Police"),
)
DEFAULT_SEVERITIES: tuple[tuple[str, str, str], ...] = (
    ("low", "一般", "Low"),
    ("medium", "较大", "Medium"),
    ("high", "重大", "High"),
    ("critical", "特别重大", "Critical"),
)

IncidentChain = Annotated[tuple[IncidentStep, ...], Field(min_length=1)]


class Severity(PolicyModel):
    code: Code = Field(description="the severity's code, e.g. high")
    name: I18nText = Field(description="the severity's name in every language")


def default_severities() -> tuple[Severity, ...]:
    return tuple(Severity(code=c, name=I18nText(zh_Hans=zh, en=en)) for c, zh, en in DEFAULT_SEVERITIES)


class CaseLimit(PolicyModel):
    count: int = Field(ge=2, le=100, description="how many same-category incidents make one reportable")
    window_days: int = Field(ge=1, le=366, description="the rolling window the cases are counted in")


class ThirdCase(PolicyModel):
    count: int = Field(
        default=3, ge=2, le=100, description="the n-th same-category incident is reportable (rule A4(4))"
    )
    window_days: int = Field(default=30, ge=1, le=366, description="the rolling window in days (rule A4(4): one month)")
    scope: Literal["organisation", "department"] = Field(
        default="organisation",
        description="count across the whole organisation or per reporting department",
    )
    per_department: dict[Code, CaseLimit] = Field(
        default_factory=dict, description="department code -> its own {count, window_days}"
    )

    def limit_for(self, department: str) -> CaseLimit:
        """The count and window that apply to ``department``."""
        return self.per_department.get(department) or CaseLimit(count=self.count, window_days=self.window_days)


class ReportBody(PolicyModel):
    code: Code = Field(description="the outside body's code, e.g. police")
    name: I18nText = Field(description="the outside body's name in every language")


def default_report_bodies() -> tuple[ReportBody, ...]:
    return tuple(ReportBody(code=c, name=I18nText(zh_Hans=zh, en=en)) for c, zh, en in DEFAULT_REPORT_BODIES)


class ExternalReport(PolicyModel):
    hours: int = Field(
        default=24, ge=1, le=24 * 30, description="hours after occurrence the outside report is due (A4)"
    )
    reminders_hours: tuple[int, ...] = Field(
        default=(12, 4, 1), description="hours before the due time the responsible officer is reminded"
    )
    responsible_role: RoleCode = Field(
        default="duty_officer",
        description="files the outside report when nobody handles the incident yet and nobody is on duty "
        "(holders in the duty room's department)",
    )
    bodies: tuple[ReportBody, ...] = Field(
        default_factory=default_report_bodies,
        min_length=1,
        description="the outside bodies an officer picks from when recording a filing (another may be typed)",
    )

    @field_validator("reminders_hours")
    @classmethod
    def _inside_window(cls, value: tuple[int, ...], info: ValidationInfo) -> tuple[int, ...]:
        hours = info.data.get("hours", 24)
        for reminder in value:
            if not 0 < reminder < hours:
                raise invalid(
                    f"a reminder {reminder} hours before the deadline falls outside the {hours}-hour window",
                    f"each reminder must be more than 0 and less than {hours} (incidents.external_report.hours)",
                )
        if len(set(value)) != len(value):
            raise invalid("the same reminder is listed twice", "list each number of hours once")
        return tuple(sorted(value, reverse=True))


class ExternalContact(PolicyModel):
    name: I18nText = Field(description="who to call, e.g. the fire brigade (消防队)")
    phone: str = Field(description='the number to call, e.g. "119"')

    @field_validator("phone")
    @classmethod
    def _dialable(cls, value: str) -> str:
        if not PHONE_RE.fullmatch(value):
            raise invalid(f"'{value}' is not a phone number", 'write digits only, e.g. "119" or "+86 21 5555 0100"')
        return value


class Category(PolicyModel):
    code: Code = Field(description="the category's code, e.g. fire")
    name: I18nText = Field(description="the category's name in every language")
    duty_room: Code = Field(description="the duty room whose officers are alerted first (rule A1)")
    chain: Code = Field(default="default", description="the escalation chain, a key of incidents.chains")
    serious: bool = Field(default=False, description="prompt the officer to call the outside body at once (rule A3)")
    external_contact: ExternalContact | None = Field(
        default=None, description="the outside body to call for serious cases (rule A3)"
    )
    externally_reportable: bool = Field(
        default=False, description="every incident gets the 24-hour outside-report deadline (rule A4)"
    )
    asks_loss: bool = Field(default=False, description="the report asks for the loss in yuan (rule A4(3))")


class Duplicates(PolicyModel):
    """When an alert suggests that a report may be a duplicate of another (issue 14, A1, A4(4))."""

    window_minutes: int = Field(
        default=120,
        ge=1,
        le=7 * 24 * 60,
        description="reports of the same category and duty room that occurred this many minutes apart or less "
        "are suggested as duplicates",
    )
    distance_metres: int = Field(
        default=500,
        ge=1,
        le=100_000,
        description="when both reports carry a map pin, they must also lie at most this far apart",
    )


class Incidents(PolicyModel):
    ack_window_minutes: int = Field(
        default=3, ge=1, le=120, description="minutes to acknowledge before escalating (rule A2)"
    )
    repeat_minutes: int = Field(
        default=10, ge=1, le=24 * 60, description="minutes between repeats once the chain's end is reached"
    )
    severities: tuple[Severity, ...] = Field(
        default_factory=default_severities, min_length=1, description="severities, lowest first"
    )
    loss_threshold: int = Field(
        default=10000, ge=1, description="a loss of this many yuan or more is reportable (rule A4(3))"
    )
    urgent_category: Code | None = Field(
        default=None,
        description="the category of an urgent quick report until the reporter picks one; "
        "left out: 'other' when listed, else the first category",
    )
    urgent_severity: Code | None = Field(
        default=None, description="the severity of an urgent quick report; left out: the highest"
    )
    third_case: ThirdCase = Field(default_factory=ThirdCase, description="rule A4(4) detection")
    external_report: ExternalReport = Field(
        default_factory=ExternalReport, description="the outside report deadline (rule A4)"
    )
    duplicates: Duplicates = Field(
        default_factory=Duplicates, description="which reports an alert suggests as possible duplicates"
    )
    chains: dict[Code, IncidentChain] = Field(
        default_factory=lambda: {"default": DEFAULT_INCIDENT_CHAIN},
        description="chain name -> steps after the primary on duty (rule A2)",
    )
    categories: tuple[Category, ...] = Field(min_length=1, description="the incident categories")

    def category(self, code: str) -> Category:
        for category in self.categories:
            if category.code == code:
                return category
        raise KeyError(code)

    def chain_for(self, category: str) -> tuple[str, ...]:
        """The steps that follow the primary on duty for ``category``."""
        return self.chains[self.category(category).chain]

    def severity(self, code: str) -> Severity:
        for severity in self.severities:
            if severity.code == code:
                return severity
        raise KeyError(code)

    @property
    def quick_category(self) -> str:
        """The category an urgent report starts with (rule A1: report at once, details later)."""
        codes = [category.code for category in self.categories]
        return self.urgent_category or ("other" if "other" in codes else codes[0])

    @property
    def quick_severity(self) -> str:
        return self.urgent_severity or self.severities[-1].code
