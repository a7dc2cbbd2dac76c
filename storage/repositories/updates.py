from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, delete, select

from storage.models import ProcessedUpdate
from storage.repositories.base import Repository, per_dialect

SEEN = select(ProcessedUpdate.update_id).where(ProcessedUpdate.update_id == bindparam("update_id"))
REMEMBER = per_dialect(lambda insert: insert(ProcessedUpdate).on_conflict_do_nothing(index_elements=["update_id"]))


RECORD = {dialect: insert.returning(ProcessedUpdate.update_id) for dialect, insert in REMEMBER.items()}


class ProcessedUpdateRepository(Repository):
    async def seen(self, update_id: int) -> bool:
        return (await self.core(SEEN, {"update_id": update_id})).first() is not None

    async def first_time(self, update_id: int, now: datetime) -> bool:
        """Remember an update id; False when it was seen before (a webhook retry, a polling overlap)."""
        return bool((await self.core(REMEMBER[self.dialect], {"update_id": update_id, "at": now})).rowcount)

    async def first_times(self, marks: list[tuple[int, datetime]]) -> set[int]:
        """Remember several update ids in one statement; those not seen before."""
        result = await self.core(RECORD[self.dialect], [{"update_id": update, "at": at} for update, at in marks])
        return {row.update_id for row in result}

    async def forget_before(self, moment: datetime) -> None:
        await self.session.execute(delete(ProcessedUpdate).where(ProcessedUpdate.at < moment))
