"""The leader prunes old jobs and timers when it is elected and every hour after (bot.store.retention)."""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import Engine

from bot.service.clock import Clock
from bot.store.retention import Pruned, prune

log = logging.getLogger(__name__)

PRUNE_EVERY = timedelta(hours=1)


class RetentionSchedule:
    def __init__(self, engine: Engine, clock: Clock, *, keep: Callable[[], timedelta],
                 every: timedelta = PRUNE_EVERY) -> None:
        self.engine, self.clock = engine, clock
        self.keep = keep  # hotfix.toml's [retention] keep, read at each run: a reload changes it for the next one
        self.every = every
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread and self._thread.is_alive():
            return
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="retention", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Between two batches at the latest: the next leader deletes the rest."""
        self._stopping.set()
        if self._thread:
            self._thread.join(timeout=10)

    def prune_once(self) -> Pruned | None:
        keep = self.keep()
        try:
            pruned = prune(self.engine, before=self.clock.now() - keep, stopping=self._stopping.is_set)
        except Exception:
            log.exception("retention: pruning old jobs and timers failed; the next run tries again")
            return None
        log.info("retention: deleted %d finished job(s) and %d fired or cancelled timer(s) older than %gd",
                 pruned.jobs, pruned.timers, keep / timedelta(days=1))
        return pruned

    def _run(self) -> None:
        while not self._stopping.is_set():
            self.prune_once()
            self._stopping.wait(self.every.total_seconds())
