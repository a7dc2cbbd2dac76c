"""Who takes this bot's updates (issue 13). Telegram gives updates to one getUpdates caller per token and
answers a second one with 409 Conflict, so a second polling process must not fight: it waits as a standby
and takes over when the first stops or dies. On one SQLite file only one process runs at all (any mode);
on PostgreSQL, polling processes of one bot share an advisory lock, while webhook processes all serve."""

from __future__ import annotations

import asyncio
import logging
import zlib

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.config import Settings
from bot.instance_lock import FileLock, lock_path

log = logging.getLogger(__name__)
RETRY_SECONDS = 2.0  # how soon a standby notices that the leader is gone


class Leadership:
    def __init__(self, settings: Settings, engine: AsyncEngine) -> None:
        path = lock_path(settings.database_url)
        self._file = FileLock(path) if path else None
        self._engine = engine
        self._needs_lock = self._file is not None or not settings.uses_webhook
        # one lock per bot: several bots may share a database
        self._key = zlib.crc32(settings.require_token().split(":")[0].encode())
        self._connection: AsyncConnection | None = None
        self.standby = False

    async def wait(self, stopping: asyncio.Event) -> bool:
        """Become the leader; False if asked to stop first."""
        while not await self._try_acquire():
            if not self.standby:
                log.warning("another process runs this bot on this database: waiting as a standby")
                self.standby = True
            try:
                await asyncio.wait_for(stopping.wait(), RETRY_SECONDS)
                return False
            except TimeoutError:
                pass
        if self.standby:
            log.warning("the other process is gone: taking over")
        self.standby = False
        return True

    async def _try_acquire(self) -> bool:
        if not self._needs_lock:
            return True
        if self._file is not None:
            return self._file.try_acquire()
        if self._connection is None:
            self._connection = await self._engine.connect()
        got = await self._connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": self._key})
        await self._connection.commit()  # the lock is the session's, not the transaction's
        return bool(got)

    async def release(self) -> None:
        if self._file is not None:
            self._file.release()
        if self._connection is not None:
            await self._connection.close()  # ends the session, and with it the advisory lock
            self._connection = None
