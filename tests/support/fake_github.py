"""The stand-in GitHub (bot/standins/github.py) over the tests' bare remote, with the tests' assertions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from bot.standins.github import StandInGitHub
from tests.support.gitrepos import Remote


class FakeGitHub(StandInGitHub):
    """Tests end with `assert_no_problems()`: every invalid request the bot made is listed in `problems`."""

    def __init__(self, remote: Remote, *, owner: str = "acme", repo: str = "payments",
                 tokens: dict[str, str] | None = None, app_id: int = 1, installation_id: int = 42,
                 rate_limit: int = 5000, cache_max_age: int = 60,
                 now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        super().__init__(remote.path, remote.url, owner=owner, repo=repo, tokens=tokens, app_id=app_id,
                         installation_id=installation_id, rate_limit=rate_limit, cache_max_age=cache_max_age,
                         now=now)

    def __enter__(self) -> FakeGitHub:
        self.start()
        return self

    def assert_no_problems(self) -> None:
        __tracebackhide__ = True
        if problems := self.problems:
            raise AssertionError("The stand-in GitHub saw invalid requests:\n  " + "\n  ".join(problems))
