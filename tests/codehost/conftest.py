"""The GitHub adapter against the stand-in GitHub over HTTP, backed by the tests' real bare remote."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from bot.codehost.github import GitHubCodeHost
from bot.domain.codehost import PullRequest
from bot.domain.hotfix import Hotfix
from bot.domain.policy import Severity
from bot.domain.pull_request_text import pull_request_body, pull_request_title
from bot.domain.review import FileChange
from bot.standins.github import DEFAULT_TOKEN
from tests.support.fake_github import FakeGitHub
from tests.support.gitrepos import CHECKOUT_FIX, Clone, Remote, push_fix_branch

REPO = "acme/payments"
HOTFIX = "hotfix/HF-7-checkout-total"
FIX = Hotfix(title="Checkout total is wrong", issue_id="PROD-501", severity=Severity.HIGH,
             impact="Carts charge 0", risk="Low", repo="payments", branch=HOTFIX, declared_by="UDEV",
             declared_at=datetime(2026, 12, 1, tzinfo=UTC), number=7)
FILES = (FileChange("checkout.py", 1, 1),)


@pytest.fixture
def github(remote: Remote) -> Iterator[FakeGitHub]:
    with FakeGitHub(remote, owner="acme", repo="payments") as fake:
        yield fake
        fake.assert_no_problems()


@pytest.fixture
def host(github: FakeGitHub) -> GitHubCodeHost:
    environ = {"GITHUB_TOKEN": DEFAULT_TOKEN, "GITHUB_API_URL": github.url}
    return GitHubCodeHost.from_environment(environ, write_interval=0)


def push_hotfix(engineer: Clone, content: str = CHECKOUT_FIX, branch: str = HOTFIX) -> str:
    return push_fix_branch(engineer, branch, content)


def push_more(engineer: Clone, branch: str = HOTFIX) -> str:
    head = engineer.commit("checkout_test.py", "def test_total():\n    assert True\n", "Test the total")
    engineer.push(f"HEAD:refs/heads/{branch}")
    return head


def open_fix(host: GitHubCodeHost, hotfix: Hotfix = FIX,
             reviewers: tuple[str, ...] = ("rita-gh", "sam-gh")) -> PullRequest:
    return host.open_or_adopt_pull_request(REPO, HOTFIX, "main", pull_request_title(hotfix),
                                           pull_request_body(hotfix, FILES), labels=["hotfix"],
                                           reviewers=reviewers)
