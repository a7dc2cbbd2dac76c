"""The organisation's policy: every default of RULES.md, as pydantic v2 models.

The sections live in small modules (organisation, incidents, access, publication,
deadlines); this module assembles them into :class:`Policy` and re-exports them,
so ``from bot.policy.schema import DueRuleSpec`` works. Field defaults equal the
RULES.md defaults; organisation-specific lists (departments, duty rooms, incident
categories) have no default and must be written in the file.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from ._base import (
    SMS,
    TELEGRAM,
    VOICE,
    AccessStep,
    ClockTime,
    Code,
    I18nText,
    IncidentStep,
    Language,
    MonthDay,
    Offset,
    PolicyModel,
    PublicationStep,
    RoleCode,
    Weekday,
    format_offset,
    invalid,
    month_day,
    step_channel,
    step_role,
)
from .access import (
    ACCESS_MODES,
    Access,
    AccessMode,
    Classification,
    Dataset,
    MaxDays,
)
from .approvals import Approvals
from .checks import Issue, dotted, reference_issues
from .deadlines import (
    END_OF_DAY,
    Anchor,
    Deadlines,
    Direction,
    DueRuleSpec,
    Event,
    EventObligation,
    HolidayOverride,
    Obligation,
    Roll,
    Unit,
)
from .incidents import (
    CaseLimit,
    Category,
    ExternalContact,
    ExternalReport,
    Incidents,
    ReportBody,
    Severity,
    ThirdCase,
)
from .organisation import (
    BUILTIN_ROLES,
    Audit,
    Department,
    DutyRoom,
    Invitations,
    Organisation,
    Role,
    Shift,
    default_roles,
)
from .publication import (
    Channel,
    ChecklistItem,
    DepartmentChains,
    Publication,
    PublicationChains,
    PublicationKind,
)


class Policy(PolicyModel):
    """The whole policy file. Build it with :func:`bot.policy.load_policy`."""

    organisation: Organisation = Field(description="who the organisation is")
    invitations: Invitations = Field(default_factory=Invitations, description="joining (rule F2)")
    audit: Audit = Field(default_factory=Audit, description="the audit log (rules A6, F1)")
    roles: tuple[Role, ...] = Field(
        default_factory=default_roles, description="roles members can hold (seven are built in)"
    )
    departments: tuple[Department, ...] = Field(
        min_length=1, description="the department tree; one department has no parent"
    )
    duty_rooms: tuple[DutyRoom, ...] = Field(min_length=1, description="duty rooms (值班) and their shifts (rule B1)")
    incidents: Incidents = Field(description="incident reporting and escalation (rules A1–A7)")
    access: Access = Field(default_factory=Access, description="data access approvals (rules C1–C7)")
    publication: Publication = Field(default_factory=Publication, description="publication review (rules D1–D6)")
    deadlines: Deadlines = Field(default_factory=Deadlines, description="reporting deadlines (E1–E6)")
    approvals: Approvals = Field(default_factory=Approvals, description="transfer, copy and nudge (C3, C7, D2)")

    @model_validator(mode="after")
    def _cross_references(self) -> Policy:
        issues = reference_issues({name: getattr(self, name) for name in type(self).model_fields})
        if issues:
            raise invalid(
                "; ".join(f"{dotted(issue.loc)}: {issue.message}" for issue in issues),
                issues[0].hint,
            )
        return self

    def department(self, code: str) -> Department:
        """The department with ``code``; KeyError if there is none."""
        for department in self.departments:
            if department.code == code:
                return department
        raise KeyError(code)

    def parent_chain(self, code: str) -> tuple[Department, ...]:
        """The department, its parent, its parent's parent, … up to the root."""
        chain = [self.department(code)]
        while chain[-1].parent is not None:
            chain.append(self.department(chain[-1].parent))
        return tuple(chain)

    def role(self, code: str) -> Role:
        for role in self.roles:
            if role.code == code:
                return role
        raise KeyError(code)

    def duty_room(self, code: str) -> DutyRoom:
        for room in self.duty_rooms:
            if room.code == code:
                return room
        raise KeyError(code)


__all__ = [
    "ACCESS_MODES",
    "BUILTIN_ROLES",
    "END_OF_DAY",
    "Access",
    "Approvals",
    "AccessMode",
    "AccessStep",
    "Anchor",
    "Audit",
    "CaseLimit",
    "Category",
    "Channel",
    "ChecklistItem",
    "Classification",
    "ClockTime",
    "Code",
    "Dataset",
    "Deadlines",
    "Department",
    "DepartmentChains",
    "Direction",
    "DueRuleSpec",
    "DutyRoom",
    "Event",
    "EventObligation",
    "ExternalContact",
    "ExternalReport",
    "HolidayOverride",
    "I18nText",
    "Incidents",
    "IncidentStep",
    "Invitations",
    "Issue",
    "Language",
    "MaxDays",
    "MonthDay",
    "Obligation",
    "Offset",
    "Organisation",
    "Policy",
    "Publication",
    "PublicationChains",
    "PublicationKind",
    "PublicationStep",
    "ReportBody",
    "Role",
    "RoleCode",
    "Roll",
    "Severity",
    "Shift",
    "ThirdCase",
    "Unit",
    "Weekday",
    "format_offset",
    "month_day",
    "step_channel",
    "step_role",
    "SMS",
    "TELEGRAM",
    "VOICE",
]
