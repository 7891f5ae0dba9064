"""The durable job queue: enqueue in the caller's transaction, claim once, finish or retry later."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, and_, exists, func, update
from sqlalchemy import insert as sa_insert
from sqlmodel import Session, select

from bot.store.db import reading, transaction
from bot.store.tables import JobRow

PENDING, RUNNING, DONE, FAILED = "pending", "running", "done", "failed"
_JOBS = JobRow.__table__


@dataclass(frozen=True)
class Job:
    id: int
    queue: str
    lane: str
    kind: str
    hotfix_id: int | None
    payload: dict[str, Any]
    attempts: int


def new_job(*, queue: str, lane: str, kind: str, now: datetime, hotfix_id: int | None = None,
            payload: str = "{}") -> dict[str, Any]:
    """A job row as plain values (the payload already JSON): a unit of work writes all of its jobs in one insert."""
    return {"queue": queue, "lane": lane, "kind": kind, "hotfix_id": hotfix_id, "payload": payload,
            "state": PENDING, "attempts": 0, "not_before": now, "created_at": now}


def insert(session: Session, rows: list[dict[str, Any]]) -> None:
    """In the caller's transaction; ids, and so the order in each lane, follow the order of `rows`."""
    if rows:
        session.execute(sa_insert(_JOBS), rows)


def claim(engine: Engine, *, queue: str, worker: str, now: datetime, lease: timedelta, limit: int = 8) -> list[Job]:
    """Take up to `limit` runnable jobs: due, and first in their lane. Each is claimed by one worker only."""
    # Core statements on the table: the queue runs for every Slack message, and the ORM's bookkeeping for
    # bulk UPDATEs cost more than the database did.
    with transaction(engine) as session:
        session.execute(
            update(_JOBS).where(_JOBS.c.queue == queue, _JOBS.c.state == RUNNING, _JOBS.c.lease_until < now)
            .values(state=PENDING, claimed_by=None)
        )
        candidates = session.execute(
            select(_JOBS.c.id).where(
                _JOBS.c.queue == queue, _JOBS.c.state == PENDING, _JOBS.c.not_before <= now, ~_blocked_by_earlier(),
            ).order_by(_JOBS.c.id).limit(limit)
        ).scalars().all()
        if not candidates:
            return []
        taken = session.execute(
            update(_JOBS).where(_JOBS.c.id.in_(candidates), _JOBS.c.state == PENDING)
            .values(state=RUNNING, claimed_by=worker, lease_until=now + lease, attempts=_JOBS.c.attempts + 1)
            .returning(_JOBS.c.id, _JOBS.c.queue, _JOBS.c.lane, _JOBS.c.kind, _JOBS.c.hotfix_id, _JOBS.c.payload,
                       _JOBS.c.attempts)
        ).all()
    return sorted((Job(row.id, row.queue, row.lane, row.kind, row.hotfix_id, json.loads(row.payload), row.attempts)
                   for row in taken), key=lambda job: job.id)


def finish(session: Session, job_id: int, *, now: datetime) -> None:
    session.execute(update(_JOBS).where(_JOBS.c.id == job_id).values(state=DONE, finished_at=now, lease_until=None))


def retry_later(engine: Engine, job_id: int, *, at: datetime, error: str) -> None:
    with transaction(engine) as session:
        session.execute(
            update(_JOBS).where(_JOBS.c.id == job_id)
            .values(state=PENDING, not_before=at, claimed_by=None, lease_until=None, last_error=error[:2000])
        )


def give_up(session: Session, job_id: int, *, now: datetime, error: str) -> None:
    session.execute(
        update(_JOBS).where(_JOBS.c.id == job_id)
        .values(state=FAILED, finished_at=now, lease_until=None, last_error=error[:2000])
    )


def release_all_claims(engine: Engine, *, queue: str) -> int:
    """When a process becomes the leader: jobs a dead leader had claimed run again."""
    with transaction(engine) as session:
        result = session.execute(
            update(JobRow).where(JobRow.queue == queue, JobRow.state == RUNNING).values(state=PENDING, claimed_by=None)
        )
        return result.rowcount


def unfinished(engine: Engine, *, now: datetime) -> int:
    """Jobs running, or that a worker could claim now: work the system has not settled yet."""
    with reading(engine) as session:
        running = session.exec(select(func.count()).select_from(JobRow).where(JobRow.state == RUNNING)).one()
        runnable = session.exec(select(func.count()).select_from(JobRow).where(
            JobRow.state == PENDING, JobRow.not_before <= now, ~_blocked_by_earlier())).one()
        return running + runnable


def waiting(session: Session, *, hotfix_id: int, kind: str) -> bool:
    """A job of this kind for the hotfix is queued (perhaps retrying later) or running."""
    return session.exec(select(exists().where(
        _JOBS.c.hotfix_id == hotfix_id, _JOBS.c.kind == kind, _JOBS.c.state.in_([PENDING, RUNNING])))).one()


def queued(session: Session, *, hotfix_id: int, kind: str) -> bool:
    """A job of this kind for the hotfix is queued and has not started (perhaps retrying later)."""
    return session.exec(select(exists().where(
        _JOBS.c.hotfix_id == hotfix_id, _JOBS.c.kind == kind, _JOBS.c.state == PENDING))).one()


def _blocked_by_earlier():
    """An earlier job of the same lane is still to run: lanes run in order."""
    earlier = _JOBS.alias("earlier")
    return exists().where(
        and_(earlier.c.lane == _JOBS.c.lane, earlier.c.id < _JOBS.c.id, earlier.c.state.in_([PENDING, RUNNING]))
    )
