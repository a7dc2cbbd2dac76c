"""One bot per SQLite file (issue 13): the running bot holds an exclusive lock on `<file>.lock`, so a second
process on the same file waits as a standby and `db restore` refuses to overwrite a database in use."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from sqlalchemy.engine import make_url


def sqlite_file(database_url: str) -> Path | None:
    """The database file of a SQLite URL; None for PostgreSQL and in-memory databases."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database)


def lock_path(database_url: str) -> Path | None:
    database = sqlite_file(database_url)
    return database.with_name(database.name + ".lock") if database else None


class FileLock:
    """An advisory `flock` on a file: released by the kernel when the process dies, even by SIGKILL."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def try_acquire(self) -> bool:
        if self._fd is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def database_in_use(database_url: str) -> bool:
    """True while a bot runs on this SQLite file (it holds the lock)."""
    path = lock_path(database_url)
    if path is None or not path.exists():
        return False
    probe = FileLock(path)
    if not probe.try_acquire():
        return True
    probe.release()
    return False
