"""Faults a test (or the demo) asks the stand-in GitHub to answer with: server errors, rate limits, refusals."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from bot.standins.github_calls import Answer

SECONDARY_LIMIT_MESSAGE = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try "
    "again. If you reach out to GitHub Support for help, please include the request ID."
)
DOCUMENTATION = "https://docs.github.com/rest"


@dataclass
class Fault:
    name: str
    times: int
    operation: str | None  # an operationId, or None for any
    reply: Callable[[int], Answer]  # given the rate limit's reset epoch


class FaultInjection:
    """The stand-in's fault controls; each answers the next `times` requests (to `operation` if given)."""

    _changed: threading.Condition
    _faults: deque[Fault]

    def fail_next(self, times: int = 1, *, status: int = 502, operation: str | None = None) -> None:
        """The next `times` requests (to `operation`, an operationId, if given) answer a server error."""
        self._add_fault(f"http_{status}", times, operation, lambda reset: Answer(status, {"message": "Server Error"}))

    def secondary_rate_limit(
        self, times: int = 1, *, retry_after: int | None = 1, operation: str | None = None
    ) -> None:
        """The next `times` requests answer 403 with `retry-after`, as GitHub's secondary limit does (without
        it when `retry_after` is None: GitHub then asks for a wait of at least a minute)."""
        headers = (("retry-after", str(retry_after)),) if retry_after is not None else ()
        body = {"message": SECONDARY_LIMIT_MESSAGE, "documentation_url": DOCUMENTATION}
        self._add_fault("secondary_rate_limit", times, operation, lambda reset: Answer(403, body, headers))

    def primary_rate_limit(
        self, times: int = 1, *, status: int = 403, reset_in: int = 60, operation: str | None = None
    ) -> None:
        """The next `times` requests answer `status` (403 or 429) with x-ratelimit-remaining 0."""
        body = {"message": "API rate limit exceeded for user ID 1.", "documentation_url": DOCUMENTATION}

        def reply(reset: int) -> Answer:
            headers = (("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", str(int(time.time()) + reset_in)))
            return Answer(status, body, headers)

        self._add_fault("primary_rate_limit", times, operation, reply)

    def forbid_next(
        self, times: int = 1, *, permissions: str = "pull_requests=write", operation: str | None = None
    ) -> None:
        """The next `times` requests answer 403 as GitHub does to a fine-grained token or an app lacking
        `permissions`, which it names in x-accepted-github-permissions."""
        body = {"message": "Resource not accessible by personal access token", "documentation_url": DOCUMENTATION}
        headers = (("x-accepted-github-permissions", permissions),)
        self._add_fault("forbidden", times, operation, lambda reset: Answer(403, body, headers))

    def _add_fault(self, name: str, times: int, operation: str | None, reply: Callable[[int], Answer]) -> None:
        with self._changed:
            self._faults.append(Fault(name, times, operation, reply))

    def _take_fault(self, operation_id: str) -> Fault | None:
        fault = next((f for f in self._faults if f.operation in (None, operation_id)), None)
        if fault is not None:
            fault.times -= 1
            if fault.times <= 0:
                self._faults.remove(fault)
        return fault
