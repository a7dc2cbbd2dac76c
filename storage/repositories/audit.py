from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import SessionTransaction

from storage.models import AuditEntry, AuditHead
from storage.repositories.base import Repository

GENESIS = "0" * 64
COLUMNS = (
    "at",
    "actor_id",
    "actor_telegram_id",
    "chat_id",
    "entity",
    "entity_id",
    "action",
    "details",
    "prev_hash",
    "hash",
)


def entry_hash(prev_hash: str, entry: AuditEntry) -> str:
    """The hash covers every field and the previous hash, so an edit or removal breaks the chain (F1)."""
    body = json.dumps(
        [
            prev_hash,
            entry.at.isoformat(),
            entry.actor_id,
            entry.actor_telegram_id,
            entry.chat_id,
            entry.entity,
            entry.entity_id,
            entry.action,
            entry.details,
        ],
        ensure_ascii=False,
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(body.encode()).hexdigest()


class AuditRepository(Repository):
    """Entries appended in a transaction are chained and written together when it commits (`write_pending`,
    called by `UnitOfWork.commit`): the head is read and locked once, the entries go in one INSERT, the head is
    updated once (issue 15: a report's transaction appends several). Reading the log writes them first. The
    entries `append` returns get no id (nothing needs it)."""

    def __init__(
        self, session: AsyncSession, on_append: Callable[[str, str, dict[str, Any]], None] = lambda *entry: None
    ) -> None:
        super().__init__(session)
        self._on_append = on_append
        self._locked: tuple[SessionTransaction, AuditHead] | None = None
        self._pending: list[AuditEntry] = []  # appended, not yet chained and added to the session
        self._appended: list[AuditEntry] = []  # appended in this transaction

    async def _head(self) -> AuditHead:
        """The chain's head, read and locked once per transaction: a report's transaction appends several
        entries, and each read would be one more statement before the alert can leave (A1). A new transaction
        reads it afresh (populate_existing), since another process may have moved it meanwhile."""
        current = self.session.sync_session.get_transaction()
        if self._locked is None or self._locked[0] is not current:
            query = select(AuditHead).where(AuditHead.id == 1).with_for_update()
            head = await self.session.scalar(query.execution_options(populate_existing=True))
            if head is None:
                head = AuditHead(id=1, last_hash=GENESIS)
                self.session.add(head)
            self._locked = (self.session.sync_session.get_transaction(), head)  # begun by the read if need be
        return self._locked[1]

    async def append(
        self,
        *,
        at: datetime,
        entity: str,
        entity_id: str | int,
        action: str,
        actor_id: int | None = None,
        actor_telegram_id: int | None = None,
        chat_id: int | None = None,
        details: dict[str, Any] | None = None,
    ) -> AuditEntry:
        """The entry joins the chain when the transaction commits (or the log is read in it)."""
        entry = AuditEntry(
            at=at.replace(microsecond=0),
            entity=entity,
            entity_id=str(entity_id),
            action=action,
            actor_id=actor_id,
            actor_telegram_id=actor_telegram_id,
            chat_id=chat_id,
            details=details or {},
        )
        self._pending.append(entry)
        self._appended.append(entry)
        self._on_append(entity, action, entry.details)
        return entry

    async def write_pending(self) -> None:
        """Chain the pending entries onto the head (read and locked once per transaction) and add them."""
        if not self._pending:
            return
        head = await self._head()
        rows = []
        for entry in self._pending:
            entry.prev_hash = head.last_hash
            entry.hash = entry_hash(head.last_hash, entry)
            head.last_hash = entry.hash
            rows.append({column: getattr(entry, column) for column in COLUMNS})
        self._pending = []
        # Core, not the ORM: the ORM inserts row by row on SQLite to learn each id; nobody needs them here
        await self.session.execute(insert(AuditEntry.__table__), rows)

    def appended(self, entity: str, entity_id: str | int) -> list[AuditEntry]:
        """The entries of an entity appended in this transaction, in order (all it has, for one created in it)."""
        return [e for e in self._appended if e.entity == entity and e.entity_id == str(entity_id)]

    def forget(self) -> None:
        """The transaction ended (committed, or rolled back with what it appended)."""
        self._pending, self._appended = [], []

    async def for_entity(self, entity: str, entity_id: str | int) -> list[AuditEntry]:
        await self.write_pending()
        rows = await self.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.entity == entity, AuditEntry.entity_id == str(entity_id))
            .order_by(AuditEntry.id)
        )
        return list(rows)

    async def stream(self, batch: int = 1000) -> AsyncIterator[AuditEntry]:
        await self.write_pending()
        last_id = 0
        while True:
            rows = list(
                await self.session.scalars(
                    select(AuditEntry).where(AuditEntry.id > last_id).order_by(AuditEntry.id).limit(batch)
                )
            )
            if not rows:
                return
            for row in rows:
                yield row
            last_id = rows[-1].id

    async def head_hash(self) -> str:
        await self.write_pending()
        head = await self.session.get(AuditHead, 1)
        return head.last_hash if head else GENESIS
