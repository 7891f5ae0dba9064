"""A security hotfix on GitHub needs a security reviewer's approval too, as in Slack: their GitHub approval counts."""
from __future__ import annotations

from pathlib import Path

import pytest

from bot.domain.hotfix import Stage
from bot.service.clock import ManualClock
from tests.github.conftest import GITHUB_CONFIG, poll
from tests.support.driver import Driver
from tests.support.fake_github import FakeGitHub
from tests.support.gitrepos import Remote

SECURITY_CONFIG = GITHUB_CONFIG.replace('reviewer = ["UREV1", "UREV2"]', 'reviewer = ["UREV1", "UREV2"]\nsecurity = ["USEC"]') \
    + 'USEC = "sec-gh"\n'


@pytest.fixture
def config_text() -> str:
    return SECURITY_CONFIG


def test_a_security_reviewers_approval_on_github_completes_the_review(
        driver: Driver, github: FakeGitHub, remote: Remote, tmp_path: Path, clock: ManualClock) -> None:
    hotfix = driver.declare(severity="critical", security=True, issue_id="SEC-42")
    for approver in ("UEM", "ULEAD", "UCTO"):
        driver.click("Approve", hotfix, user=approver)
    driver.settle()
    branch = driver.bot.service.read.get(hotfix.key).branch
    head = remote.clone(tmp_path / "engineer").push_fix(branch)
    driver.click("Ready for review", hotfix, user="UDEV")
    driver.settle()
    assert "sec-gh" in github.pull(1).requested_reviewers
    github.set_check_run(head, "tests")

    github.add_review(1, "rita-gh", "APPROVED")
    poll(driver, clock)
    assert driver.bot.service.read.get(hotfix.key).stage is Stage.IN_REVIEW  # a security reviewer is still needed

    github.add_review(1, "sec-gh", "APPROVED")
    poll(driver, clock)
    assert driver.bot.service.read.get(hotfix.key).stage is Stage.REVIEWED
