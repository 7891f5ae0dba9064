"""What `hotfix-bot stats` and the App Home tab measure: hotfixes with their events, read in a few queries."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import col, or_, select

from bot.domain.hotfix import Stage
from bot.domain.stats import History, may_owe_merge_back
from bot.store.db import reading
from bot.store.hotfix_store import HotfixStore
from bot.store.tables import HotfixRow

_MAY_OWE = [Stage.MERGING_BACK.value, Stage.CLOSED.value]


def histories(engine: Engine, *, declared_since: datetime) -> list[History]:
    """Every hotfix declared since then, and any older one that may still owe a merge-back."""
    with reading(engine) as session:
        store = HotfixStore(session)
        numbers = session.exec(select(HotfixRow.id).where(or_(
            HotfixRow.declared_at >= declared_since, col(HotfixRow.stage).in_(_MAY_OWE)))).all()
        hotfixes = store.get_many(list(numbers))
        wanted = [n for n, h in hotfixes.items() if h.declared_at >= declared_since or may_owe_merge_back(h)]
        events = store.events_of(wanted)
        return [History(hotfixes[n], events[n]) for n in wanted]
