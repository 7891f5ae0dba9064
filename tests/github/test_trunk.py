"""Trunk flow on GitHub, where main is protected: Tag & deploy merges the approved pull request into main with a
merge commit, then tags that merge commit; the bot never pushes to main itself."""
from __future__ import annotations

from pathlib import Path

import pytest

from bot.domain.hotfix import EventKind, Stage
from bot.service.clock import ManualClock
from tests.github.conftest import BRANCH, GITHUB_CONFIG, approved, in_review, poll
from tests.support.driver import Driver
from tests.support.fake_github import FakeGitHub
from tests.support.gitrepos import Remote

TRUNK_CONFIG = GITHUB_CONFIG.replace('flow = "production-tag"', 'flow = "trunk"').replace(
    'merge_back = ["main", "develop"]', 'merge_back = ["main"]')


@pytest.fixture
def config_text() -> str:
    return TRUNK_CONFIG


def test_tag_and_deploy_merges_the_pull_request_then_tags_its_merge_commit(
        driver: Driver, github: FakeGitHub, remote: Remote, tmp_path: Path, clock: ManualClock) -> None:
    github.protect("main", required_approvals=1, required_checks=["tests"])
    hotfix = approved(driver)
    head = in_review(driver, remote.clone(tmp_path / "engineer"), hotfix)
    main_before = remote.rev("main")
    github.set_check_run(head, "tests")
    github.add_review(1, "rita-gh", "APPROVED")
    poll(driver, clock)

    driver.click("Tag & deploy", hotfix, user="UDEV")
    driver.settle()

    merge = remote.rev("main")
    assert remote.parents(merge) == [main_before, head]  # GitHub's merge commit, not a push by the bot
    assert github.pull(1).merged_at is not None
    tags = [t for t in ("v1.10.1", "v1.11.0", "v2.0.0") if remote.has_ref(f"refs/tags/{t}")]
    assert tags and remote.rev(tags[0]) == merge
    assert driver.bot.service.read.get(hotfix.key).stage is Stage.MONITORING


def test_a_refused_merge_before_the_tag_tags_nothing_and_says_who_can_act(
        driver: Driver, github: FakeGitHub, remote: Remote, tmp_path: Path, clock: ManualClock) -> None:
    github.protect("main", required_approvals=2)
    hotfix = approved(driver)
    head = in_review(driver, remote.clone(tmp_path / "engineer"), hotfix)
    github.set_check_run(head, "tests")
    github.add_review(1, "rita-gh", "APPROVED")
    poll(driver, clock)

    driver.click("Tag & deploy", hotfix, user="UDEV")
    driver.settle()

    events = driver.bot.service.read.timeline(hotfix.key)[1]
    [refusal] = [e for e in events if e.kind is EventKind.MERGE_REFUSED]
    assert (refusal.detail["target"], refusal.detail["reason"]) == ("main", "required_review")
    assert not any(e.kind is EventKind.TAGGED for e in events)
    assert driver.bot.service.read.get(hotfix.key).stage is Stage.DEPLOYING

    github.add_review(1, "sam-gh", "APPROVED")
    driver.bot.service.people.retry(hotfix.key, user_id="UDEV")
    driver.settle()
    assert remote.parents(remote.rev("main"))[1] == head
    assert driver.bot.service.read.get(hotfix.key).stage is Stage.MONITORING


def test_a_push_after_the_approval_tags_nothing_and_sends_the_new_commits_to_review(
        driver: Driver, github: FakeGitHub, remote: Remote, tmp_path: Path, clock: ManualClock) -> None:
    hotfix = approved(driver)
    engineer = remote.clone(tmp_path / "engineer")
    head = in_review(driver, engineer, hotfix)
    github.set_check_run(head, "tests")
    github.add_review(1, "rita-gh", "APPROVED")
    poll(driver, clock)
    main_before = remote.rev("main")

    engineer.push_fix(BRANCH, content="def total(cart):\n    return 0\n")  # after the approval, before the click
    driver.click("Tag & deploy", hotfix, user="UDEV")
    driver.settle()

    assert remote.rev("main") == main_before and github.pull(1).merged_at is None
    assert driver.bot.service.read.get(hotfix.key).stage is Stage.IN_REVIEW
    assert any("so nothing was tagged: its branch moved past the approved commit" in t for t in driver.thread(hotfix))
