from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, literal_column, select

from storage.models import Member, MemberRole, ProcessedUpdate, WizardState
from storage.repositories.base import Repository, per_dialect
from storage.repositories.members import detached_members

# Every update's first read, in one statement (issue 15; it was three): whether it was handled before, its
# member with one row per role, its wizard. Each is outer-joined to a one-row anchor, so there is always a row.
_ANCHOR = select(literal_column("1").label("one")).subquery("anchor")
OPENING = (
    select(
        ProcessedUpdate.update_id.label("handled"),
        WizardState.state.label("wizard_state"),
        WizardState.data.label("wizard_data"),
        Member.__table__,
        MemberRole.role,
    )
    .select_from(
        _ANCHOR.outerjoin(ProcessedUpdate, ProcessedUpdate.update_id == bindparam("update_id"))
        .outerjoin(WizardState, WizardState.key == bindparam("wizard_key"))
        .outerjoin(Member, Member.telegram_id == bindparam("telegram_id"))
        .outerjoin(MemberRole, MemberRole.member_id == Member.id)
    )
    .order_by(MemberRole.role)
)


@dataclass
class Opening:
    """What an update's handling starts from (`ProcessedUpdateRepository.opening`)."""

    handled_before: bool
    member: Member | None  # with their roles, detached: readable, and taken into a later unit of work unread
    wizard: tuple[str | None, dict[str, Any]] | None  # (state, data), None when there is none under the key


REMEMBER = per_dialect(lambda insert: insert(ProcessedUpdate).on_conflict_do_nothing(index_elements=["update_id"]))


RECORD = {dialect: insert.returning(ProcessedUpdate.update_id) for dialect, insert in REMEMBER.items()}


class ProcessedUpdateRepository(Repository):
    async def opening(self, update_id: int, telegram_id: int | None, wizard_key: str | None) -> Opening:
        """Whether the update was handled before, the member behind it and their wizard, in one statement."""
        parameters = {"update_id": update_id, "telegram_id": telegram_id, "wizard_key": wizard_key}
        rows = (await self.core(OPENING, parameters)).all()
        first = rows[0]
        members = detached_members(row for row in rows if row.id is not None)
        return Opening(
            handled_before=first.handled is not None,
            member=members[0] if members else None,
            wizard=(first.wizard_state, first.wizard_data) if first.wizard_data is not None else None,
        )

    async def first_time(self, update_id: int, now: datetime) -> bool:
        """Remember an update id; False when it was seen before (a webhook retry, a polling overlap)."""
        return bool((await self.core(REMEMBER[self.dialect], {"update_id": update_id, "at": now})).rowcount)

    async def first_times(self, marks: list[tuple[int, datetime]]) -> set[int]:
        """Remember several update ids in one statement; those not seen before."""
        result = await self.core(RECORD[self.dialect], [{"update_id": update, "at": at} for update, at in marks])
        return {row.update_id for row in result}

    async def forget_before(self, moment: datetime) -> None:
        await self.session.execute(delete(ProcessedUpdate).where(ProcessedUpdate.at < moment))
