"""Which process runs timers and jobs. Every replica answers Slack; exactly one at a time is the leader.

The leader holds a lock that is dropped when its process dies, and the next replica to try takes over:
on PostgreSQL a session-level advisory lock on a connection of its own (the server drops it with the
connection); on a SQLite file an exclusive flock on `<database>.leader.lock` beside it (the kernel drops it
with the process, even on SIGKILL). In-memory SQLite belongs to one process, which is always the leader.
"""
from __future__ import annotations

import fcntl
import logging
import os
import threading
from collections.abc import Callable

from sqlalchemy import Connection, Engine, text

log = logging.getLogger(__name__)

LOCK_KEY = 7_420_315_001  # arbitrary, fixed: "the hotfix-bot leader" in pg_locks


class Leadership:
    def __init__(self, engine: Engine, *, on_elected: Callable[[], None], on_deposed: Callable[[], None],
                 retry_seconds: float = 3.0) -> None:
        self.lock = _leader_lock(engine)
        self.on_elected, self.on_deposed = on_elected, on_deposed
        self.retry_seconds = retry_seconds
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.is_leader = False

    @property
    def role(self) -> str:
        return "leader" if self.is_leader else "follower"

    def start(self) -> None:
        if self.lock is None:
            self._elected()
            return
        self._campaign_round()  # a lone process leads before it answers its first request
        if not self.is_leader:
            log.info("another process is the leader; this one answers Slack and takes over if it dies")
        self._thread = threading.Thread(target=self._campaign, name="leadership", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread:
            self._thread.join(timeout=10)
        if self.is_leader:
            self._deposed()
        if self.lock is not None:
            self.lock.release()

    def _campaign(self) -> None:
        while not self._stopping.wait(self.retry_seconds):
            self._campaign_round()

    def _campaign_round(self) -> None:
        assert self.lock is not None
        try:
            if self.is_leader:
                self.lock.check_held()
            elif self.lock.acquire():
                self._elected()
        except Exception as error:  # the database or the lock file failed: whoever leads now, it is not us
            log.warning("leadership check failed (%s); stepping down", error)
            if self.is_leader:
                self._deposed()
            self.lock.release()

    def _elected(self) -> None:
        self.is_leader = True
        log.info("this process is the leader: it runs timers and jobs")
        self.on_elected()

    def _deposed(self) -> None:
        self.is_leader = False
        log.info("this process is a follower: it answers Slack; the leader runs timers and jobs")
        self.on_deposed()


def _leader_lock(engine: Engine) -> AdvisoryLock | FileLock | None:
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
