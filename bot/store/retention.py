"""Retention: finished jobs and settled timers are deleted once they are older than the configured age.

Hotfixes, approvals, decisions and audit events are kept forever; nothing here touches them, nor a pending or
running job, nor a pending timer. Rows go in batches, each in a transaction of its own, so a writer (a Slack
click) waits for one batch at most, never for the whole prune.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, delete, select

from bot.store.db import transaction
from bot.store.jobs import DONE, FAILED
from bot.store.tables import JobRow, TimerRow
from bot.store.timer_store import CANCELLED, FIRED

BATCH_SIZE = 1_000
_JOBS, _TIMERS = JobRow.__table__, TimerRow.__table__


@dataclass(frozen=True)
class Pruned:
    jobs: int = 0
    timers: int = 0


def prune(engine: Engine, *, before: datetime, batch_size: int = BATCH_SIZE,
          stopping: Callable[[], bool] = lambda: False) -> Pruned:
    """Delete jobs that finished before `before`, and fired or cancelled timers due before it.

    Stops between batches once `stopping()` is true; the next run deletes the rest.
    """
    jobs = _delete_in_batches(engine, _finished_jobs(before), _JOBS, batch_size, stopping)
    timers = _delete_in_batches(engine, _settled_timers(before), _TIMERS, batch_size, stopping)
    return Pruned(jobs, timers)


def _finished_jobs(before: datetime):
    # finished_at is set only when a job is done or failed; the state test guards against any future change.
    return (_JOBS.c.finished_at < before, _JOBS.c.state.in_([DONE, FAILED]))


def _settled_timers(before: datetime):
    # A cancelled timer records no time of its own, so both states age by their due time (ix_timers_due). A timer
    # fires when due or later, so a fired one is also held until it fired before `before`.
    return (_TIMERS.c.state.in_([FIRED, CANCELLED]), _TIMERS.c.due_at < before,
            (_TIMERS.c.fired_at.is_(None)) | (_TIMERS.c.fired_at < before))


def _delete_in_batches(engine: Engine, conditions, table, batch_size: int, stopping: Callable[[], bool]) -> int:
    deleted = 0
    while not stopping():
        # DELETE ... LIMIT is not portable; a LIMIT subselect of ids works on SQLite and PostgreSQL alike. No index:
        # ids follow age, so the scan meets the old rows first (an index on finished_at made it slower, see
        # BENCHMARKS.md, Retention).
        batch = select(table.c.id).where(*conditions).limit(batch_size).scalar_subquery()
        with transaction(engine) as session:
            count = session.execute(delete(table).where(table.c.id.in_(batch), *conditions)).rowcount
        deleted += count
        if count < batch_size:
            break
    return deleted
