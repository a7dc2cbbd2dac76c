from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete

from storage.models import ProcessedUpdate
from storage.repositories.base import Repository


class ProcessedUpdateRepository(Repository):
    async def seen(self, update_id: int) -> bool:
        return await self.session.get(ProcessedUpdate, update_id) is not None

    async def first_time(self, update_id: int, now: datetime) -> bool:
        """Remember an update id; False when it was seen before (a webhook retry, a polling overlap)."""
        statement = self.insert_ignoring_conflict(ProcessedUpdate, ["update_id"], update_id=update_id, at=now)
        return bool((await self.session.execute(statement)).rowcount)

    async def forget_before(self, moment: datetime) -> None:
        await self.session.execute(delete(ProcessedUpdate).where(ProcessedUpdate.at < moment))
