"""Who to wake when a unit of work queued something: each runner registers its queue when it is built."""
from __future__ import annotations

from collections.abc import Callable


class Wakeups:
    def __init__(self) -> None:
        self._wakers: dict[str, Callable[[], None]] = {}

    def register(self, queue: str, wake: Callable[[], None]) -> None:
        self._wakers[queue] = wake

    def wake(self, queue: str) -> None:
        if waker := self._wakers.get(queue):
            waker()
