"""Timers as rows: armed and cancelled in the caller's transaction, claimed once when due."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, update
from sqlmodel import Session, select

from bot.domain.timers import Timer, TimerKind
from bot.store.tables import TimerRow

PENDING, FIRED, CANCELLED = "pending", "fired", "cancelled"


def arm(session: Session, *, hotfix_id: int, kind: TimerKind, due_at: datetime, now: datetime, round: int = 1) -> None:
    """At most one pending timer per hotfix and kind: arming again replaces it."""
    cancel(session, hotfix_id=hotfix_id, kinds=(kind,))
    session.add(TimerRow(hotfix_id=hotfix_id, kind=kind.value, due_at=due_at, round=round, created_at=now))
    session.flush()


def cancel(session: Session, *, hotfix_id: int, kinds: tuple[TimerKind, ...]) -> None:
    session.execute(
        update(TimerRow)
        .where(TimerRow.hotfix_id == hotfix_id, TimerRow.state == PENDING, TimerRow.kind.in_([k.value for k in kinds]))
        .values(state=CANCELLED)
    )


def due(session: Session, *, now: datetime, limit: int) -> list[tuple[int, Timer]]:
    rows = session.exec(
        select(TimerRow).where(TimerRow.state == PENDING, TimerRow.due_at <= now).order_by(TimerRow.due_at).limit(limit)
    ).all()
    return [(row.hotfix_id, _timer(row)) for row in rows]


def claim(session: Session, timer_id: int, *, now: datetime) -> bool:
    """True for exactly one caller, however many processes race for the timer."""
    result = session.execute(
        update(TimerRow).where(TimerRow.id == timer_id, TimerRow.state == PENDING).values(state=FIRED, fired_at=now)
    )
    return result.rowcount == 1


def postpone(session: Session, *, hotfix_id: int, kind: TimerKind, until: datetime) -> bool:
    result = session.execute(
        update(TimerRow)
        .where(TimerRow.hotfix_id == hotfix_id, TimerRow.kind == kind.value, TimerRow.state == PENDING)
        .values(due_at=until)
    )
    return result.rowcount > 0


def pending(session: Session, *, hotfix_id: int) -> list[Timer]:
    rows = session.exec(
        select(TimerRow).where(TimerRow.hotfix_id == hotfix_id, TimerRow.state == PENDING).order_by(TimerRow.due_at)
    ).all()
    return [_timer(row) for row in rows]


def next_due(session: Session) -> datetime | None:
    return session.exec(select(func.min(TimerRow.due_at)).where(TimerRow.state == PENDING)).one()


def _timer(row: TimerRow) -> Timer:
    return Timer(row.id, TimerKind(row.kind), row.due_at, row.round)
