from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, bindparam, func, select
from sqlalchemy import inspect as mapping_of
from sqlalchemy.orm import joinedload, make_transient_to_detached

from storage.models import Invitation, KeyValue, Member, MemberRole
from storage.repositories.base import Repository


@dataclass
class MemberSnapshot:
    """The member behind the update being handled, as its first transaction read them (handlers.middlewares):
    the update's next transaction takes them from here instead of reading them again (issue 15: the report's
    submit press). Any commit in the update drops it (`UnitOfWork.commit`), so a change to the member, roles
    included, is never served stale from it."""

    member: Member | None


# A unit of work reads the actor with their roles: built once (issue 15)
BY_TELEGRAM_ID = (
    select(Member).options(joinedload(Member.role_rows)).where(Member.telegram_id == bindparam("telegram_id"))
)
UPDATE_MEMBER: ContextVar[MemberSnapshot | None] = ContextVar("update_member", default=None)


def detached_members(rows: Iterable[Row[Any]]) -> list[Member]:
    """Members from plain rows of their columns and one role each (`role`, None for none), in the rows' order,
    as detached objects: readable, and taken into a unit of work by `merge(load=False)` without a read."""
    members: dict[int, Member] = {}
    columns = mapping_of(Member).column_attrs
    for row in rows:
        values = row._mapping
        member = members.get(member_id := values[Member.__table__.c.id])
        if member is None:
            member = members[member_id] = Member(
                **{column.key: values[column.columns[0]] for column in columns}, role_rows=[]
            )
        if values["role"] is not None:
            member.role_rows.append(MemberRole(member_id=member.id, role=values["role"]))
    for member in members.values():
        for role in member.role_rows:
            make_transient_to_detached(role)
        make_transient_to_detached(member)
    return list(members.values())


class MemberRepository(Repository):
    async def get(self, member_id: int) -> Member | None:
        return await self.session.get(Member, member_id)

    async def by_telegram_id(self, telegram_id: int) -> Member | None:
        """The member with their roles, in one statement, or none when the update's snapshot has them."""
        snapshot = UPDATE_MEMBER.get()
        if snapshot is not None and snapshot.member is not None and snapshot.member.telegram_id == telegram_id:
            loaded = self.session.identity_map.get(self.session.sync_session.identity_key(Member, snapshot.member.id))
            return loaded if loaded is not None else await self.session.merge(snapshot.member, load=False)  # type: ignore[return-value]
        result = await self.session.execute(BY_TELEGRAM_ID, {"telegram_id": telegram_id})
        return result.unique().scalar_one_or_none()  # type: ignore[no-any-return]

    async def by_phone(self, phone: str) -> Member | None:
        """The active member with this number (SMS replies)."""
        return await self.session.scalar(select(Member).where(Member.phone == phone, Member.active.is_(True)))

    def add(self, member: Member, roles: Iterable[str]) -> Member:
        member.role_rows = [MemberRole(role=role) for role in sorted(set(roles))]
        self.session.add(member)
        return member

    def set_roles(self, member: Member, roles: Iterable[str]) -> None:
        wanted = set(roles)
        member.role_rows = [row for row in member.role_rows if row.role in wanted] + [
            MemberRole(role=role) for role in sorted(wanted - member.roles)
        ]

    async def page(self, offset: int, limit: int) -> tuple[Sequence[Member], int]:
        total = await self.session.scalar(select(func.count()).select_from(Member)) or 0
        rows = await self.session.scalars(
            select(Member).order_by(Member.active.desc(), Member.name, Member.id).offset(offset).limit(limit)
        )
        return rows.all(), total

    async def active(self) -> Sequence[Member]:
        return (await self.session.scalars(select(Member).where(Member.active.is_(True)).order_by(Member.id))).all()

    async def with_role(self, role: str, department: str | None = None) -> Sequence[Member]:
        query = select(Member).join(MemberRole).where(MemberRole.role == role, Member.active.is_(True))
        if department is not None:
            query = query.where(Member.department == department)
        return (await self.session.scalars(query.order_by(Member.id))).all()


class InvitationRepository(Repository):
    async def by_code(self, code: str, *, for_update: bool = False) -> Invitation | None:
        query = select(Invitation).where(Invitation.code == code)
        if for_update:
            query = query.with_for_update()
        return await self.session.scalar(query)

    def add(self, invitation: Invitation) -> Invitation:
        self.session.add(invitation)
        return invitation


class KeyValueRepository(Repository):
    async def get(self, key: str) -> str | None:
        row = await self.session.get(KeyValue, key)
        return row.value if row else None

    async def starting_with(self, prefix: str) -> dict[str, str]:
        rows = await self.session.scalars(select(KeyValue).where(KeyValue.key.startswith(prefix, autoescape=True)))
        return {row.key: row.value for row in rows}

    async def set(self, key: str, value: str) -> None:
        """One statement: two processes starting together both write the bot's name, and a merge's
        read-then-insert failed one of them on the key (seen in tests/test_faults_postgres.py)."""
        await self.session.execute(self.upsert(KeyValue, ["key"], key=key, value=value))
