"""Where each hotfix's status message is in Slack, for the Slack adapter (its StatusMessages port)."""
from __future__ import annotations

from sqlalchemy import Engine, update

from bot.store.db import reading, transaction
from bot.store.tables import HotfixRow


class StoredStatusMessages:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def where(self, hotfix: int) -> tuple[str, str] | None:
        """(channel, ts), once posted."""
        with reading(self.engine) as session:
            row = session.get(HotfixRow, hotfix)
            return (row.status_channel, row.status_ts) if row and row.status_ts else None

    def remember(self, hotfix: int, channel: str, ts: str) -> None:
        with transaction(self.engine) as session:
            session.execute(update(HotfixRow).where(HotfixRow.id == hotfix).values(status_channel=channel, status_ts=ts))
