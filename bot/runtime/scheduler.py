"""APScheduler drives the procedure's clock: one job that wakes when the next timer is due and fires it.

Due times live in our own `timers` table, not in an APScheduler job store: one source of truth that
several processes can claim from safely (APScheduler 3.x job stores cannot be shared by processes).
"""
from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler

from bot.runtime.wakeups import Wakeups
from bot.service.clock import Clock
from bot.service.jobs import TIMERS
from bot.service.timers import TimerFiring

log = logging.getLogger(__name__)

_TICK = "fire-due-timers"


class TimerScheduler:
    def __init__(self, timers: TimerFiring, clock: Clock, *, wakeups: Wakeups | None = None,
                 max_sleep: timedelta = timedelta(seconds=5)) -> None:
        self.timers, self.clock, self.max_sleep = timers, clock, max_sleep
        self._scheduler = BackgroundScheduler(timezone=UTC)
        self._lock = threading.Lock()
        self._woken = False
        self._ticking = False
        if wakeups is not None:
            wakeups.register(TIMERS, self.wake)

    def start(self) -> None:
        if self._scheduler.running:
            return
        self._scheduler = BackgroundScheduler(timezone=UTC)  # a stopped APScheduler cannot start again
        self._scheduler.start()
        self.wake()

    def stop(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=True)

    def wake(self) -> None:
        """A timer was armed or moved: look again now."""
        with self._lock:
            self._woken = True
            if not self._ticking:  # a running tick looks again when it ends
                self._schedule_tick(datetime.now(UTC))

    def _tick(self) -> None:
        with self._lock:
            self._woken, self._ticking = False, True
        try:
            fired = self.timers.fire_due_timers()
            if fired:
                log.info("fired %d timer(s)", fired)
            next_due = self.timers.next_timer_due()
        except Exception:
            log.exception("firing timers failed; trying again shortly")
            next_due = None
        with self._lock:
            self._ticking = False
            self._schedule_tick(datetime.now(UTC) if self._woken else self._wake_time(next_due))

    def _wake_time(self, next_due: datetime | None) -> datetime:
        real_now = datetime.now(UTC)
        if next_due is None:
            return real_now + self.max_sleep
        return real_now + min(max(next_due - self.clock.now(), timedelta(0)), self.max_sleep)

    def _schedule_tick(self, when: datetime) -> None:
        if self._scheduler.running:
            self._scheduler.add_job(self._tick, "date", run_date=when, id=_TICK, replace_existing=True,
                                    misfire_grace_time=None, coalesce=True)
