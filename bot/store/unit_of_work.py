"""The service's ports on the database: one unit of work is one transaction (bot.service.ports)."""
from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session

from bot.domain.timers import Timer, TimerKind
from bot.service.clock import Clock
from bot.service.jobs import TIMERS
from bot.service.ports import OutboxJob
from bot.store import jobs, timer_store
from bot.store.db import reading, transaction
from bot.store.hotfix_store import HotfixStore
from bot.store.job_codec import encode

class StoredOutbox:
    def __init__(self, session: Session, clock: Clock, queued: set[str]) -> None:
        self.session, self.clock, self._queued = session, clock, queued
        self.rows: list[dict] = []  # written in one insert when the unit ends

    def put(self, outgoing: Iterable[OutboxJob]) -> None:
        for job in outgoing:
            self.rows.append(jobs.new_job(queue=job.queue, lane=job.lane, kind=job.kind, now=self.clock.now(),
                                          hotfix_id=job.hotfix, payload=encode(job)))
            self._queued.add(job.queue)

    def waiting(self, hotfix: int, kind: str) -> bool:
        return self._putting(hotfix, kind) or jobs.waiting(self.session, hotfix_id=hotfix, kind=kind)

    def queued(self, hotfix: int, kind: str) -> bool:
        return self._putting(hotfix, kind) or jobs.queued(self.session, hotfix_id=hotfix, kind=kind)

    def _putting(self, hotfix: int, kind: str) -> bool:
        return any(row["hotfix_id"] == hotfix and row["kind"] == kind for row in self.rows)


class StoredTimerBook:
    def __init__(self, session: Session, queued: set[str]) -> None:
        self.session, self._queued = session, queued
        self.arms: list[timer_store.Arm] = []  # written together when the unit ends

    def arm(self, hotfix: int, kind: TimerKind, due_at: datetime, round: int = 1) -> None:
        self.arms.append(timer_store.Arm(hotfix, kind, due_at, round))
        self._queued.add(TIMERS)

    def cancel(self, hotfix: int, kinds: tuple[TimerKind, ...]) -> None:
        timer_store.cancel(self.session, hotfix_id=hotfix, kinds=kinds)

    def postpone(self, hotfix: int, kind: TimerKind, until: datetime) -> None:
        timer_store.postpone(self.session, hotfix_id=hotfix, kind=kind, until=until)
        self._queued.add(TIMERS)

    def due(self, now: datetime, limit: int) -> list[tuple[int, Timer]]:
        return timer_store.due(self.session, now=now, limit=limit)

    def claim(self, timer_ids: list[int], now: datetime) -> set[int]:
        return timer_store.claim_many(self.session, timer_ids, now=now)

    def pending(self, hotfix: int) -> list[Timer]:
        return timer_store.pending(self.session, hotfix_id=hotfix)

    def next_due(self) -> datetime | None:
        return timer_store.next_due(self.session)


class StoredUnitOfWork:
    """Jobs and timers are written together when the unit ends: a handful of statements however much it did."""

    def __init__(self, engine: Engine, clock: Clock, wake: Callable[[str], None], *, read_only: bool) -> None:
        self.engine, self.clock, self._wake, self._read_only = engine, clock, wake, read_only
        self._stack = ExitStack()
        self._queued: set[str] = set()
        self._after_commit: list[Callable[[], None]] = []

    def __enter__(self) -> StoredUnitOfWork:
        self.session = self._stack.enter_context((reading if self._read_only else transaction)(self.engine))
        self.hotfixes = HotfixStore(self.session)
        self.outbox = StoredOutbox(self.session, self.clock, self._queued)
        self.timers = StoredTimerBook(self.session, self._queued)
        return self

    def __exit__(self, exc_type, exc, traceback) -> None:
        if exc_type is None and not self._read_only:
            try:
                jobs.insert(self.session, self.outbox.rows)
                timer_store.arm_many(self.session, self.timers.arms, now=self.clock.now())
            except BaseException:
                self._stack.__exit__(*sys.exc_info())
                raise
        self._stack.__exit__(exc_type, exc, traceback)
        if exc_type is None:
            for callback in self._after_commit:
                callback()
            for queue in self._queued:
                self._wake(queue)

    def after_commit(self, callback: Callable[[], None]) -> None:
        self._after_commit.append(callback)


class StoredUnits:
    def __init__(self, engine: Engine, clock: Clock, wake: Callable[[str], None] = lambda queue: None) -> None:
        self.engine, self.clock, self.wake = engine, clock, wake

    def writing(self) -> StoredUnitOfWork:
        return StoredUnitOfWork(self.engine, self.clock, self.wake, read_only=False)

    def reading(self) -> StoredUnitOfWork:
        return StoredUnitOfWork(self.engine, self.clock, self.wake, read_only=True)
