"""Keeps every configured repository's mirror warm on the leader, off the request path.

At start it makes the mirrors that are missing (`serve`'s start-up check has just fetched the others), then
fetches each one every `every`, so a hotfix's own fetch only brings what was pushed since.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from datetime import timedelta

from bot.domain.repo import RepoSpec
from bot.git.errors import GitOpError
from bot.git.ops import GitOps

log = logging.getLogger(__name__)


class MirrorRefresher:
    def __init__(self, ops: GitOps, repos: Callable[[], Iterable[RepoSpec]], every: Callable[[], timedelta]) -> None:
        self.ops = ops
        self.repos, self.every = repos, every  # read each round, so a reloaded hotfix.toml is followed
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._failing: set[str] = set()

    def start(self) -> None:
        if self._thread and self._thread.is_alive():
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._loop, name="mirror-refresher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread:
            self._thread.join(timeout=10)  # a fetch under way finishes by itself; the thread is a daemon
            self._thread = None

    def prepare_all(self) -> None:
        self._each(self.ops.prepare, "prepare")

    def refresh_all(self) -> None:
        self._each(self.ops.refresh, "refresh")

    def _loop(self) -> None:
        self.prepare_all()
        while not self._stopping.wait(self.every().total_seconds()):
            self.refresh_all()

    def _each(self, step: Callable[[RepoSpec], None], name: str) -> None:
        for spec in list(self.repos()):
            if self._stopping.is_set():
                return
            try:
                step(spec)
            except GitOpError as failed:  # said once until it works again; each hotfix step retries on its own
                if spec.name not in self._failing:
                    log.warning("repo %s: mirror %s failed: %s", spec.name, name, failed)
                self._failing.add(spec.name)
                continue
            if spec.name in self._failing:
                log.info("repo %s: mirror %s works again", spec.name, name)
            self._failing.discard(spec.name)
