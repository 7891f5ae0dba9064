"""The leader's lock (bot.runtime.leadership campaigns for it). Exactly one replica at a time holds it.

The leader holds a lock that is dropped when its process dies, and the next replica to try takes over:
on PostgreSQL a session-level advisory lock on a connection of its own (the server drops it with the
connection); on a SQLite file an exclusive flock on `<database>.leader.lock` beside it (the kernel drops it
with the process, even on SIGKILL). In-memory SQLite belongs to one process, which is always the leader.
"""
from __future__ import annotations

import fcntl
import logging
import os

from sqlalchemy import Connection, Engine, text

log = logging.getLogger(__name__)

LOCK_KEY = 7_420_315_001  # arbitrary, fixed: "the hotfix-bot leader" in pg_locks


def leader_lock(engine: Engine) -> AdvisoryLock | FileLock | None:
    if engine.dialect.name == "postgresql":
        return AdvisoryLock(engine)
    database = engine.url.database
    if database and database != ":memory:":
        return FileLock(f"{database}.leader.lock")
    return None


class AdvisoryLock:
    """PostgreSQL: held by the session of a connection kept open for it."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._connection: Connection | None = None

    def acquire(self) -> bool:
        if self._connection is None:
            self._connection = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        return bool(self._connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": LOCK_KEY}).scalar())

    def check_held(self) -> None:
        """Raises if the connection, and with it the lock, is gone."""
        assert self._connection is not None
        self._connection.execute(text("SELECT 1"))

    def release(self) -> None:
        if self._connection is not None:
            try:
                self._connection.close()
            except Exception:
                log.debug("closing the leadership connection failed", exc_info=True)
            self._connection = None


class FileLock:
    """A SQLite file: an exclusive flock on a file beside it, held while its descriptor is open."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> bool:
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)  # not inherited by git subprocesses
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def check_held(self) -> None:
        """A flock stays held until this process closes the file or dies."""

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
