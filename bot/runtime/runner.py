"""Runs durable jobs from one queue: claims them once, runs lanes in parallel, retries with back-off."""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine

from bot.runtime.errors import RetryLater
from bot.runtime.wakeups import Wakeups
from bot.service.clock import Clock
from bot.store import jobs
from bot.store.db import transaction
from bot.store.job_codec import Decoder
from bot.store.jobs import Job

log = logging.getLogger(__name__)

# A job's typed payload (bot.service.jobs, bot.slack.notifier) and its attempt: 1 the first time it runs.
Handler = Callable[[Any, int], None]

__all__ = ["Handler", "JobRunner"]


class JobRunner:
    def __init__(
        self, engine: Engine, queue: str, handlers: Mapping[type, Handler], clock: Clock, *,
        worker_id: str, wakeups: Wakeups | None = None, lease: timedelta = timedelta(minutes=10), threads: int = 4,
        poll_seconds: float = 1.0, max_backoff: timedelta = timedelta(minutes=5),
    ) -> None:
        self.engine, self.queue, self.handlers, self.clock = engine, queue, handlers, clock
        self._decoder = Decoder(handlers)
        self.worker_id, self.lease, self.poll_seconds, self.max_backoff = worker_id, lease, poll_seconds, max_backoff
        self._threads = threads
        self._pool = self._new_pool()
        self._wakeup = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        if wakeups is not None:
            wakeups.register(queue, self.wake)

    def wake(self) -> None:
        self._wakeup.set()

    def run_pending(self) -> int:
        """Run everything runnable now; returns how many jobs ran."""
        ran = 0
        while batch := jobs.claim(self.engine, queue=self.queue, worker=self.worker_id, now=self.clock.now(),
                                  lease=self.lease):
            if self._pool is None:  # a stopped runner (tests, the demo) runs them one after another
                for job in batch:
                    self._run(job)
            else:
                list(self._pool.map(self._run, batch))
            ran += len(batch)
        return ran

    def start(self) -> None:
        """Only the leader runs jobs, so claims left by any other process are from one that died."""
        jobs.release_all_claims(self.engine, queue=self.queue)
        self._stopping.clear()
        if self._pool is None:
            self._pool = self._new_pool()
        self._thread = threading.Thread(target=self._loop, name=f"{self.queue}-runner", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._wakeup.set()
        if self._thread:
            self._thread.join(timeout=10)
            self._thread = None
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def _new_pool(self) -> ThreadPoolExecutor:
        return ThreadPoolExecutor(max_workers=self._threads, thread_name_prefix=f"{self.queue}-job")

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                self.run_pending()
            except Exception:  # the loop must survive a database hiccup
                log.exception("%s runner: claiming jobs failed; trying again", self.queue)
            self._wakeup.wait(self.poll_seconds)
            self._wakeup.clear()

    def _run(self, job: Job) -> None:
        try:
            work = self._decoder.decode(job.payload, kind=job.kind, hotfix=job.hotfix_id, lane=job.lane)
            self.handlers[type(work)](work, job.attempts)
        except RetryLater as fault:
            delay = fault.after or self._backoff(job.attempts)
            log.warning("%s job %s (%s) will retry in %s: %s", self.queue, job.id, job.kind, delay, fault)
            jobs.retry_later(self.engine, job.id, at=self.clock.now() + delay, error=str(fault))
            return
        except Exception as error:
            log.exception("%s job %s (%s) failed for good", self.queue, job.id, job.kind)
            with transaction(self.engine) as session:
                jobs.give_up(session, job.id, now=self.clock.now(), error=repr(error))
            return
        with transaction(self.engine) as session:
            jobs.finish(session, job.id, now=self.clock.now())

    def _backoff(self, attempts: int) -> timedelta:
        return min(timedelta(seconds=2 ** min(attempts - 1, 16)), self.max_backoff)
