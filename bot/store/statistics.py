"""Hotfix statistics read from the database: for `hotfix-bot stats` and the App Home tab."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine

from bot.domain.policy import TimeTargets
from bot.domain.stats import Stats, compute
from bot.store.history import histories

HOME_SPAN = timedelta(days=30)


def hotfix_stats(engine: Engine, times: TimeTargets, *, now: datetime, span: timedelta) -> Stats:
    """The last `span` against the `span` before it (hence twice the span read), and the merge-back debt now."""
    return compute(histories(engine, declared_since=now - 2 * span), times, now=now, span=span)
