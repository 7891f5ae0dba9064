"""Which process runs timers and jobs. Every replica answers Slack; exactly one at a time is the leader: the one
holding the lock of bot.store.leadership, which is dropped when its process dies, so the next replica to try
takes over."""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy import Engine

from bot.store.leadership import leader_lock

log = logging.getLogger(__name__)


class Leadership:
    def __init__(self, engine: Engine, *, on_elected: Callable[[], None], on_deposed: Callable[[], None],
                 retry_seconds: float = 3.0) -> None:
        self.lock = leader_lock(engine)
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
