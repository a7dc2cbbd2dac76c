"""Who may decide a step, who is next when nobody does, and when (rules C3, C7, D2).

A step's *ladder* is the list of people it can reach, one level per escalation: the step's own
approvers, then their superiors — the heads of the departments above, then the leaders. The
requester and anybody who has approved another step of the same request are never on it
(no self-approval; one person approves at most one step). It is computed from the database
each time, so a changed role or a deactivated member counts at once (F3).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.duedates import WorkCalendar
from bot.policy import Policy
from bot.policy.schema import step_role
from storage.approval_models import ApprovalRequest, ApprovalStep
from storage.models import Member
from storage.uow import UnitOfWork

DEPARTMENT_HEAD = "department_head"
HEAD_ROLE = "department_head"
LEADER_ROLE = "leader"


@dataclass(frozen=True)
class Resolution:
    """What a flow's resolver returns: the step's approvers, and the department they sit in
    (their superiors are looked for from there up; None: organisation-wide, leaders above)."""

    members: Sequence[Member]
    department: str | None


Resolver = Callable[[UnitOfWork, ApprovalRequest], Awaitable[Resolution]]


@dataclass(frozen=True)
class StepWindow:
    """How long an approver has before a reminder, and as long again before escalation (C7)."""

    working_days: int = 0
    hours: int = 0


class ApproverRouting:
    def __init__(self, policy: Policy) -> None:
        self._policy = policy
        self.calendar = WorkCalendar(policy.deadlines.working_overrides())

    def is_known(self, spec: str, resolvers: dict[str, Resolver]) -> bool:
        return spec == DEPARTMENT_HEAD or spec in resolvers or step_role(spec) is not None

    def excluded(self, request: ApprovalRequest, step: ApprovalStep) -> set[int]:
        """The requester, and whoever approved (or had a delegate approve) another step (C3)."""
        used = {request.requester_id}
        for other in request.steps:
            if other.id != step.id and other.state == "approved":
                used |= {member for member in (other.decided_by, other.decided_for) if member is not None}
        return used

    async def ladder(
        self, uow: UnitOfWork, request: ApprovalRequest, step: ApprovalStep, resolvers: dict[str, Resolver]
    ) -> list[list[Member]]:
        """Escalation levels with at least one eligible person; each level only adds new people.
        For ``department_head`` the first level is the nearest head walking up from the requester's
        department, so a head's own request goes to the head above. A transferred step (转交) has the
        member it was transferred to in place of its own approvers; the superiors above stay."""
        role = step_role(step.spec)
        if step.spec == DEPARTMENT_HEAD:
            levels, above = [], self.chain_of(request.department)
        elif role is not None:
            levels, above = [list(await uow.members.with_role(role))], []
        else:
            resolution = await resolvers[step.spec](uow, request)
            levels = [list(resolution.members)]
            above = [] if resolution.department is None else self.chain_of(resolution.department)
        excluded = self.excluded(request, step)
        ladder = distinct_levels(levels + await self.superiors(uow, above), excluded)
        if step.transferred_to is not None:
            target = await uow.members.get(step.transferred_to)
            ladder = distinct_levels([[target] if target else [], *ladder[1:]], excluded)
        return ladder

    async def role_holders(
        self, uow: UnitOfWork, request: ApprovalRequest, step: ApprovalStep, resolvers: dict[str, Resolver]
    ) -> list[Member]:
        """Who holds the role the step requires (C3), wherever they sit, and may take it by a transfer:
        not the requester, nobody who approved another step, active."""
        role = step_role(step.spec)
        if step.spec == DEPARTMENT_HEAD:
            people = list(await uow.members.with_role(HEAD_ROLE))
        elif role is not None:
            people = list(await uow.members.with_role(role))
        else:
            people = list((await resolvers[step.spec](uow, request)).members)
        excluded = self.excluded(request, step)
        return [member for member in people if member.active and member.id not in excluded]

    async def superiors(self, uow: UnitOfWork, departments: Sequence[str]) -> list[list[Member]]:
        """The heads of ``departments`` in order, then the leaders: where escalations climb."""
        levels = [list(await uow.members.with_role(HEAD_ROLE, code)) for code in departments]
        return [*levels, list(await uow.members.with_role(LEADER_ROLE))]

    def chain_of(self, department: str) -> list[str]:
        """The department and those above it, up to the root."""
        return [d.code for d in self._policy.parent_chain(department)]

    async def qualified(
        self, uow: UnitOfWork, request: ApprovalRequest, step: ApprovalStep, ladder: list[list[Member]], now: datetime
    ) -> dict[int, int | None]:
        """Everyone who may decide the step now: member id -> the away principal they act for (or None)."""
        direct = {member.id for level in ladder[: step.level + 1] for member in level}
        allowed: dict[int, int | None] = dict.fromkeys(direct)
        excluded = self.excluded(request, step)
        for principal, delegation in (await uow.approvals.delegations_of(direct, now)).items():
            if delegation.delegate_id not in excluded and delegation.delegate_id not in allowed:
                delegate = await uow.members.get(delegation.delegate_id)
                if delegate is not None and delegate.active:
                    allowed[delegation.delegate_id] = principal
        return allowed

    def window_end(self, start: datetime, window: StepWindow) -> datetime:
        """``start`` plus the window: whole working days keep the time of day (C7)."""
        if window.hours:
            return start + timedelta(hours=window.hours)
        zone = self._policy.organisation.zone
        local = start.astimezone(zone)
        day = self.calendar.add_working_days(local.date(), window.working_days)
        return datetime.combine(day, local.time(), zone).astimezone(UTC)


def distinct_levels(levels: list[list[Member]], excluded: set[int]) -> list[list[Member]]:
    """Drop excluded and inactive people, people already on a lower level, and empty levels."""
    seen = set(excluded)
    result = []
    for level in levels:
        fresh = [member for member in level if member.id not in seen and member.active]
        seen |= {member.id for member in fresh}
        if fresh:
            result.append(fresh)
    return result
