"""What the metrics read from the database when Prometheus scrapes: two grouped counts, cheap on any size."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Engine, func
from sqlmodel import col, select

from bot.domain.hotfix import Stage
from bot.metrics import DatabaseFigures
from bot.store.db import reading
from bot.store.jobs import PENDING, RUNNING
from bot.store.tables import HotfixRow, JobRow

_FINISHED_STAGES = (Stage.CLOSED.value, Stage.REJECTED.value)


def read(engine: Engine, *, now: datetime, queues: Iterable[str]) -> DatabaseFigures:
    """Every queue in `queues` is shown, at 0 when empty, so an alert on it never sees it vanish."""
    with reading(engine) as session:
        active = session.exec(
            select(HotfixRow.stage, HotfixRow.severity, func.count())
            .where(col(HotfixRow.stage).not_in(_FINISHED_STAGES)).group_by(HotfixRow.stage, HotfixRow.severity)
        ).all()
        waiting = session.exec(
            select(JobRow.queue, func.count(), func.min(JobRow.created_at))
            .where(col(JobRow.state).in_([PENDING, RUNNING])).group_by(JobRow.queue)
        ).all()
    queued = {queue: (0, 0.0) for queue in queues}
    for queue, count, oldest in waiting:
        queued[queue] = (count, max((now - oldest).total_seconds(), 0.0))
    return DatabaseFigures(active={(stage, severity): count for stage, severity, count in active}, queued=queued)

