"""Timers as rows: armed and cancelled in the caller's transaction, claimed once when due."""
from __future__ import annotations

from datetime import datetime

from dataclasses import dataclass

from sqlalchemy import func, insert, tuple_, update
from sqlmodel import Session, select

from bot.domain.timers import Timer, TimerKind
from bot.store.tables import TimerRow

PENDING, FIRED, CANCELLED = "pending", "fired", "cancelled"


@dataclass(frozen=True)
class Arm:
    hotfix_id: int
    kind: TimerKind
    due_at: datetime
    round: int = 1


def arm_many(session: Session, arms: list[Arm], *, now: datetime) -> None:
    """At most one pending timer per hotfix and kind: arming again replaces it. One UPDATE, one bulk insert."""
    if not arms:
        return
    pairs = list({(a.hotfix_id, a.kind.value) for a in arms})
    session.execute(
        update(TimerRow)
        .where(TimerRow.hotfix_id.in_({h for h, _ in pairs}),  # lets the index narrow it before the pairs
               TimerRow.state == PENDING, tuple_(TimerRow.hotfix_id, TimerRow.kind).in_(pairs))
        .values(state=CANCELLED)
    )
    latest = {(a.hotfix_id, a.kind): a for a in arms}  # the last arm of a kind wins, as if armed one by one
    session.execute(insert(TimerRow.__table__), [
        {"hotfix_id": a.hotfix_id, "kind": a.kind.value, "due_at": a.due_at, "round": a.round, "state": PENDING,
         "created_at": now} for a in latest.values()
    ])


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


def claim_many(session: Session, timer_ids: list[int], *, now: datetime) -> set[int]:
    """The timers this caller won: each is won by exactly one, however many processes race for it."""
    if not timer_ids:
        return set()
    won = session.execute(
        update(TimerRow).where(TimerRow.id.in_(timer_ids), TimerRow.state == PENDING)
        .values(state=FIRED, fired_at=now).returning(TimerRow.id)
    )
    return set(won.scalars())


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
