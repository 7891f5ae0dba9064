"""Questions about one hotfix's audit trail (oldest event first): when something last happened, and what came
before it."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.domain.hotfix import Event, EventKind


def deploy_attempts(events: Sequence[Event]) -> int:
    """How many times Tag & deploy was pressed: each attempt's tag carries its number, so a re-run finds its tag."""
    return sum(1 for e in events if e.kind is EventKind.DEPLOY_STARTED)


def last_event(events: Sequence[Event], kind: EventKind) -> Event | None:
    return next((e for e in reversed(events) if e.kind is kind), None)


def last_at(events: Sequence[Event], kind: EventKind) -> datetime | None:
    event = last_event(events, kind)
    return event.at if event else None


def last_before(events: Sequence[Event], kind: EventKind, end: Event) -> Event | None:
    """The last `kind` recorded before `end` (by order: events of one move share their time)."""
    before = events[: next(i for i, e in enumerate(events) if e is end)]
    return last_event(before, kind)
