"""/away: an approver names a delegate until a date (C7, D2). While the delegation lasts, the
delegate gets the approver's cards and decides in their name; every such decision shows the
delegation. Requests already waiting for the approver are passed to the delegate at once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from bot.clock import Clock
from bot.policy import Policy
from bot.services.actor import Actor
from bot.services.approvals import ApprovalService
from bot.services.audit import record, refuse
from bot.services.callers import active_member
from bot.services.errors import N_, InvalidInput, NotAllowed
from storage.approval_models import ApprovalDelegation
from storage.models import Member
from storage.uow import UnitOfWork, UnitOfWorkFactory

MAX_AWAY_DAYS = 366
CANDIDATES = 20
APPROVER_ROLES = ("department_head", "leader", "information_officer", "external_reviewer")


@dataclass(frozen=True)
class Away:
    delegate: str
    until: datetime
    forwarded: int = 0  # requests passed to the delegate when the delegation started


class AwayService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, policy: Policy, approvals: ApprovalService) -> None:
        self._uow = uow
        self._clock = clock
        self._policy = policy
        self._approvals = approvals

    async def current(self, actor: Actor) -> Away | None:
        async with self._uow() as uow:
            member = await active_member(uow, self._clock, actor, "delegation")
            delegation = await uow.approvals.delegation_of(member.id, self._clock.now())
            if delegation is None:
                return None
            delegate = await uow.members.get(delegation.delegate_id)
            return Away(delegate.name if delegate else "?", delegation.until)

    def check_until(self, day: date) -> date:
        today = self._clock.now().astimezone(self._policy.organisation.zone).date()
        if day < today:
            raise InvalidInput(N_("That day has passed; choose today or a later day."))
        if (day - today).days > MAX_AWAY_DAYS:
            raise InvalidInput(N_("Choose a day within a year."))
        return day

    async def candidates(self, actor: Actor, search: str | None = None) -> list[tuple[int, str]]:
        """Who the caller may name: colleagues of their department and fellow approvers, or anyone
        whose name contains the typed text."""
        needle = (search or "").strip().casefold()
        async with self._uow() as uow:
            member = await active_member(uow, self._clock, actor, "delegation")
            shared = member.roles & set(APPROVER_ROLES)
            people = [
                other
                for other in await uow.approvals.active_members()
                if other.id != member.id
                and (
                    needle in other.name.casefold()
                    if needle
                    else other.department == member.department or other.roles & shared
                )
            ]
            return [(other.id, other.name) for other in people[:CANDIDATES]]

    async def start(self, actor: Actor, until: date, delegate_id: int) -> Away:
        until = self.check_until(until)
        async with self._uow() as uow:
            member = await active_member(uow, self._clock, actor, "delegation")
            delegate = await uow.members.get(delegate_id)
            if delegate is None or not delegate.active or delegate.id == member.id:
                await refuse(
                    uow,
                    self._clock,
                    actor,
                    "delegation",
                    delegate_id,
                    NotAllowed(N_("Choose another active member as your delegate.")),
                )
            assert delegate is not None
            now = self._clock.now()
            await self._end(uow, member, now)
            ends = datetime.combine(until, time(23, 59), self._policy.organisation.zone).astimezone(UTC)
            uow.approvals.add_delegation(
                ApprovalDelegation(member_id=member.id, delegate_id=delegate.id, created_at=now, until=ends)
            )
            await record(
                uow,
                self._clock,
                actor,
                "delegation",
                member.id,
                "away",
                member.id,
                delegate=delegate.id,
                until=until.isoformat(),
            )
            notices = self._approvals.notices
            await notices.tell(
                uow,
                delegate,
                f"delegation:{member.id}:{delegate.id}:{now.timestamp():.0f}",
                lambda t, language: t(
                    N_(
                        "🤝 {name} is away until {until} and named you their delegate for approvals. "
                        "Decisions you make for them will say so."
                    )
                ).format(name=member.name, until=notices.speakers.in_language(language).moment(ends)),
                now,
            )
            forwarded = await self._approvals.walk.forward(uow, member, delegate, now)
            await uow.commit()
            return Away(delegate.name, ends, forwarded)

    async def stop(self, actor: Actor) -> bool:
        """Back early: the delegation ends now. False when there was none."""
        async with self._uow() as uow:
            member = await active_member(uow, self._clock, actor, "delegation")
            ended = await self._end(uow, member, self._clock.now())
            if ended:
                await record(uow, self._clock, actor, "delegation", member.id, "back", member.id)
            await uow.commit()
            return ended

    async def _end(self, uow: UnitOfWork, member: Member, now: datetime) -> bool:
        delegation = await uow.approvals.delegation_of(member.id, now)
        if delegation is not None:
            delegation.ended_at = now
        return delegation is not None
