"""Which process runs timers and jobs. Every replica answers Slack; exactly one at a time is the leader.

On PostgreSQL the leader holds a session-level advisory lock on a connection of its own: if the process
dies, the server drops the connection and the lock with it, and the next replica to try takes over.
On SQLite there is one process by design, so it is always the leader.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy import Connection, Engine, text

log = logging.getLogger(__name__)

LOCK_KEY = 7_420_315_001  # arbitrary, fixed: "the hotfix-bot leader" in pg_locks


class Leadership:
    def __init__(self, engine: Engine, *, on_elected: Callable[[], None], on_deposed: Callable[[], None],
                 retry_seconds: float = 3.0) -> None:
        self.engine = engine
        self.on_elected, self.on_deposed = on_elected, on_deposed
        self.retry_seconds = retry_seconds
        self._connection: Connection | None = None
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.is_leader = False

    @property
    def role(self) -> str:
        return "leader" if self.is_leader else "follower"

    def start(self) -> None:
        if self.engine.dialect.name != "postgresql":
            self._elected()
            return
        self._thread = threading.Thread(target=self._campaign, name="leadership", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread:
            self._thread.join(timeout=10)
        if self.is_leader:
            self._deposed()
        self._close()

    def _campaign(self) -> None:
        while not self._stopping.is_set():
            try:
                if self.is_leader:
                    self._still_connected()
                elif self._try_lock():
                    self._elected()
            except Exception as error:  # the database went away: whoever holds the lock now, it is not us
                log.warning("leadership check failed (%s); stepping down", error)
                if self.is_leader:
                    self._deposed()
                self._close()
            self._stopping.wait(self.retry_seconds)

    def _try_lock(self) -> bool:
        if self._connection is None:
            self._connection = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        return bool(self._connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": LOCK_KEY}).scalar())

    def _still_connected(self) -> None:
        assert self._connection is not None
        self._connection.execute(text("SELECT 1"))

    def _elected(self) -> None:
        self.is_leader = True
        log.info("this process is the leader: it runs timers and jobs")
        self.on_elected()

    def _deposed(self) -> None:
        self.is_leader = False
        log.info("this process is a follower: it answers Slack; the leader runs timers and jobs")
        self.on_deposed()

    def _close(self) -> None:
        if self._connection is not None:
            try:
                self._connection.close()
            except Exception:
                log.debug("closing the leadership connection failed", exc_info=True)
            self._connection = None
