"""What an adapter raises from a job to have it run again later, without knowing about the queue."""
from __future__ import annotations

from datetime import timedelta


class RetryLater(Exception):
    """A passing fault (Slack 429/5xx, git remote down): run the job again later."""

    def __init__(self, reason: str, *, after: timedelta | None = None) -> None:
        super().__init__(reason)
        self.after = after
