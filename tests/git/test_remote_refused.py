"""A remote that refuses for good (no such repository, credentials refused) is said once, with the fix, and not
retried: only a person can fix the URL or the key, and then presses Retry."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from bot.service.clock import ManualClock
from tests.support.driver import Driver, find_button
from tests.support.git_hosts import GitHost, git_host_answering

PAST_ANY_BACKOFF = timedelta(minutes=6)  # JobRunner caps its back-off at 5 minutes


@pytest.fixture(params=[404, 401], ids=["no-such-repository", "credentials-refused"])
def git_host(request: pytest.FixtureRequest) -> Iterator[GitHost]:
    with git_host_answering(request.param) as host:
        yield host


@pytest.fixture
def remote_url(git_host: GitHost) -> str:
    """conftest's config points payments at this URL: a mistyped repository, or one this host may not read."""
    return f"{git_host.url}/acme/paymnts.git"


def test_a_remote_that_refuses_is_said_once_with_the_fix_and_not_retried(
    driver: Driver, git_host: GitHost, remote_url: str, clock: ManualClock
) -> None:
    hotfix = driver.declare()
    driver.click("Approve", hotfix, user="UEM")
    driver.click("Approve", hotfix, user="ULEAD")
    driver.settle()
    asked = len(git_host.requests)
    for _ in range(4):
        clock.advance(PAST_ANY_BACKOFF)
        driver.settle()

    failures = [text for text in driver.thread(hotfix) if text.startswith("⚠️")]
    assert len(failures) == 1, driver.thread(hotfix)
    assert failures[0].startswith("⚠️ Cutting the branch failed: The git remote of payments refused the bot: ")
    assert failures[0].endswith("Check url under [[repos]] payments in hotfix.toml, and that this host's SSH key or "
                                "token may fetch and push it. Fix that, then press *Retry*.")
    assert "Retrying until it is back" not in failures[0]
    assert len(git_host.requests) == asked  # nobody knocks on that door again by themselves
    find_button(driver.slack.message(hotfix.channel, hotfix.ts), "Retry branch")
