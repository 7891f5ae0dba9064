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
            payload: dict[str, Any] | None = None) -> dict[str, Any]:
    """A job row as plain values: a unit of work writes all of its jobs in one insert."""
    return {"queue": queue, "lane": lane, "kind": kind, "hotfix_id": hotfix_id, "payload": json.dumps(payload or {}),
            "state": PENDING, "attempts": 0, "not_before": now, "created_at": now}


def insert(session: Session, rows: list[dict[str, Any]]) -> None:
    """In the caller's transaction; ids, and so the order in each lane, follow the order of `rows`."""
    if rows:
        session.execute(sa_insert(JobRow.__table__), rows)


def claim(engine: Engine, *, queue: str, worker: str, now: datetime, lease: timedelta, limit: int = 8) -> list[Job]:
    """Take up to `limit` runnable jobs: due, and first in their lane. Each is claimed by one worker only."""
    claimed: list[Job] = []
    with transaction(engine) as session:
        session.execute(
            update(JobRow).where(JobRow.queue == queue, JobRow.state == RUNNING, JobRow.lease_until < now)
            .values(state=PENDING, claimed_by=None)
        )
        candidates = session.exec(
            select(JobRow).where(
                JobRow.queue == queue, JobRow.state == PENDING, JobRow.not_before <= now, ~_blocked_by_earlier(),
            ).order_by(JobRow.id).limit(limit)
        ).all()
        for row in candidates:
            attempt = row.attempts + 1  # read before the UPDATE, which refreshes the loaded row
            taken = session.execute(
                update(JobRow).where(JobRow.id == row.id, JobRow.state == PENDING)
                .values(state=RUNNING, claimed_by=worker, lease_until=now + lease, attempts=attempt)
            )
            if taken.rowcount == 1:
                claimed.append(Job(row.id, row.queue, row.lane, row.kind, row.hotfix_id, json.loads(row.payload),
                                   attempt))
    return claimed


def finish(session: Session, job_id: int, *, now: datetime) -> None:
    session.execute(update(JobRow).where(JobRow.id == job_id).values(state=DONE, finished_at=now, lease_until=None))


def retry_later(engine: Engine, job_id: int, *, at: datetime, error: str) -> None:
    with transaction(engine) as session:
        session.execute(
            update(JobRow).where(JobRow.id == job_id)
            .values(state=PENDING, not_before=at, claimed_by=None, lease_until=None, last_error=error[:2000])
        )


def give_up(session: Session, job_id: int, *, now: datetime, error: str) -> None:
    session.execute(
        update(JobRow).where(JobRow.id == job_id)
        .values(state=FAILED, finished_at=now, lease_until=None, last_error=error[:2000])
    )


def release_all_claims(engine: Engine, *, queue: str) -> int:
    """On start-up of the only worker process: jobs a dead process had claimed run again."""
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


def _blocked_by_earlier():
    """An earlier job of the same lane is still to run: lanes run in order."""
    earlier = JobRow.__table__.alias("earlier")
    return exists().where(
        and_(earlier.c.lane == JobRow.lane, earlier.c.id < JobRow.id, earlier.c.state.in_([PENDING, RUNNING]))
    )
