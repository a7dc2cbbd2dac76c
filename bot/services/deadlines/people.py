"""Who owns an instance and who hears about it (E4), always read fresh from the database."""

from __future__ import annotations

from collections.abc import Iterable

from bot.outgoing.speaker import language_of
from bot.policy import Policy
from storage.deadlines_models import DeadlineInstance
from storage.models import Member
from storage.uow import UnitOfWork

MANAGER = "department_head"
LEADER = "leader"
ADMIN = "administrator"


class People:
    def __init__(self, policy: Policy) -> None:
        self._policy = policy

    def language(self, member: Member) -> str:
        return language_of(member, self._policy)

    @staticmethod
    def owns(member: Member, row: DeadlineInstance) -> bool:
        """Owners hold the obligation's role in its department, or are named in it by Telegram id."""
        by_role = row.owner_role is not None and row.owner_role in member.roles and member.department == row.department
        return member.active and (by_role or member.telegram_id in row.owner_members)

    async def owners(self, uow: UnitOfWork, row: DeadlineInstance) -> list[Member]:
        found = list(await uow.members.with_role(row.owner_role, row.department)) if row.owner_role else []
        for telegram_id in row.owner_members:
            member = await uow.members.by_telegram_id(telegram_id)
            if member is not None and member.active:
                found.append(member)
        return _unique(found)

    async def nearest(self, uow: UnitOfWork, role: str, department: str) -> list[Member]:
        """Holders of ``role`` in the department, else in the nearest parent department that has some."""
        try:
            chain = self._policy.parent_chain(department)
        except KeyError:  # a department removed from the policy: look at the root
            chain = tuple(d for d in self._policy.departments if d.parent is None)
        for unit in chain:
            holders = await uow.members.with_role(role, unit.code)
            if holders:
                return list(holders)
        return []

    async def nearest_of(self, uow: UnitOfWork, roles: Iterable[str], department: str) -> list[Member]:
        return _unique([member for role in roles for member in await self.nearest(uow, role, department)])

    async def everyone_with(self, uow: UnitOfWork, roles: Iterable[str]) -> list[Member]:
        return _unique([member for role in roles for member in await uow.members.with_role(role)])

    async def may_manage(self, uow: UnitOfWork, member: Member, department: str) -> bool:
        """The department's head (or the nearest parent's, when it has none) and leaders decide extensions."""
        if LEADER in member.roles:
            return True
        return any(head.id == member.id for head in await self.nearest(uow, MANAGER, department))


def _unique(members: list[Member]) -> list[Member]:
    seen: dict[int, Member] = {}
    for member in members:
        seen.setdefault(member.id, member)
    return list(seen.values())
