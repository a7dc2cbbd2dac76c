"""The policy's recurring obligations and event deadlines as one catalogue, with the organisation's
working-day calendar (E1–E3, E5, E6)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from bot.duedates import Due, WorkCalendar, due_at, next_instances
from bot.policy import Policy
from bot.policy.deadlines import Deadlines, DueRuleSpec, Event
from bot.policy.schema import I18nText

PERIODS_AHEAD = 2  # instances are generated for the next two periods of every recurring obligation


@dataclass(frozen=True)
class Spec:
    """What an instance of an obligation needs from the policy, for recurring and event deadlines alike."""

    code: str
    name: I18nText
    department: str
    owner_role: str | None
    owner_members: tuple[int, ...]
    rule: DueRuleSpec
    reminders: tuple[timedelta, ...]
    evidence_required: bool
    late_roles: tuple[str, ...]
    event: str | None = None  # the event's code for event deadlines


class OrganisationCalendar(WorkCalendar):
    """The official calendar with the policy's holiday overrides. A year listed in
    ``deadlines.complete_years`` has its official schedule entered as overrides, so it is not provisional."""

    def __init__(self, deadlines: Deadlines) -> None:
        super().__init__(deadlines.working_overrides())
        self._complete = frozenset(deadlines.complete_years)

    def has_official_schedule(self, year: int) -> bool:
        return year in self._complete or super().has_official_schedule(year)


class Catalogue:
    def __init__(self, policy: Policy) -> None:
        self._policy = policy
        self.calendar = OrganisationCalendar(policy.deadlines)
        self.zone = policy.organisation.zone
        deadlines = policy.deadlines
        self.specs: dict[str, Spec] = {}
        for obligation in deadlines.obligations:
            self.specs[obligation.code] = Spec(
                code=obligation.code,
                name=obligation.name,
                department=obligation.department,
                owner_role=obligation.owner_role,
                owner_members=obligation.owner_members,
                rule=obligation.rule,
                reminders=deadlines.reminders_for(obligation),
                evidence_required=obligation.evidence_required,
                late_roles=deadlines.late_roles_for(obligation),
            )
        for event in deadlines.events:
            for deadline in event.obligations:
                self.specs[deadline.code] = Spec(
                    code=deadline.code,
                    name=deadline.name,
                    department=event.department,
                    owner_role=event.owner_role,
                    owner_members=(),
                    rule=deadline.rule,
                    reminders=deadlines.reminders_for(deadline),
                    evidence_required=deadline.evidence_required,
                    late_roles=deadlines.notify_late_roles,
                    event=event.code,
                )

    def get(self, code: str) -> Spec | None:
        return self.specs.get(code)

    def recurring(self) -> list[Spec]:
        return [spec for spec in self.specs.values() if spec.event is None]

    def events(self) -> tuple[Event, ...]:
        return self._policy.deadlines.events

    def event(self, code: str) -> Event | None:
        return next((event for event in self.events() if event.code == code), None)

    def due(self, spec: Spec, anchor: date) -> Due:
        return due_at(spec.rule, anchor, self.calendar, self.zone)

    def upcoming(self, spec: Spec, now: datetime) -> list[tuple[date, Due]]:
        """The next periods of a recurring obligation whose deadlines are still ahead."""
        fiscal_year_end = self._policy.organisation.fiscal_year_end
        return next_instances(spec.rule, now, PERIODS_AHEAD, self.calendar, self.zone, fiscal_year_end)

    def digest(self, spec: Spec) -> str:
        """Changes when anything that decides an instance's deadline, owners or reminders changes."""
        deadlines = self._policy.deadlines
        facts = {
            "rule": spec.rule.model_dump(mode="json"),
            "owner": [spec.department, spec.owner_role, list(spec.owner_members)],
            "reminders": [offset.total_seconds() for offset in spec.reminders],
            "calendar": [self._policy.organisation.fiscal_year_end, self._policy.organisation.timezone],
            "overrides": sorted((day.isoformat(), working) for day, working in deadlines.working_overrides().items()),
            "complete_years": sorted(deadlines.complete_years),
        }
        return hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()

    def first_working_day(self, year: int, month: int) -> date:
        return self.calendar.roll(date(year, month, 1), "following")

    def local_moment(self, day: date, at: time) -> datetime:
        return datetime.combine(day, at, tzinfo=self.zone)
