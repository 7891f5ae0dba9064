"""The whole procedure on a GitHub repo, from declare to close: the review, the CI gate and every merge-back happen
on pull requests of the stand-in GitHub, whose merges are real commits in the tests' bare remote."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.domain.hotfix import EventKind, Stage
from bot.service.clock import ManualClock
from tests.github.conftest import BRANCH, approved, in_review, kinds, poll, stage
from tests.support.driver import Driver, message_text
from tests.support.fake_github import FakeGitHub
from tests.support.gitrepos import Remote


def test_declare_to_close_on_github(driver: Driver, github: FakeGitHub, remote: Remote, tmp_path: Path,
                                    clock: ManualClock) -> None:
    hotfix = approved(driver)
    head = in_review(driver, remote.clone(tmp_path / "engineer"), hotfix)

    pull = github.pull(1)
    assert (pull.head, pull.base, pull.title) == (BRANCH, "main", "HOTFIX HF-1: Checkout returns 500")
    assert pull.labels == ["hotfix"]
    assert sorted(pull.requested_reviewers) == ["rita-gh", "sam-gh"]  # not dev-gh: the declarer wrote the fix
    assert "`checkout.py` +1 −1" in (pull.body or "")

    github.set_check_run(head, "tests", status="in_progress", conclusion=None)
    github.add_review(1, "rita-gh", "APPROVED")
    poll(driver, clock)
    assert stage(driver, hotfix.key) is Stage.REVIEWED
    refused = driver.click("Tag & deploy", hotfix, user="UDEV")
    assert refused.status == 200
    assert any("CI is still running" in text for text in driver.ephemerals("UDEV"))
    assert not remote.has_ref("refs/tags/v1.10.1")

    github.set_check_run(head, "tests")
    poll(driver, clock)
    driver.click("Tag & deploy", hotfix, user="UDEV")
    driver.settle()
    assert remote.rev("v1.10.1") == head  # what was reviewed and green is what ships

    github.set_check_run("v1.10.1", "deploy-production")
    poll(driver, clock)
    assert EventKind.DEPLOY_CHECKS_PASSED in kinds(driver, hotfix.key)

    clock.advance(timedelta(minutes=30))
    driver.bot.service.timers.fire_due_timers()
    driver.settle()
    driver.click("Stable", hotfix, user="UDEV")
    driver.settle()
    assert github.pull(1).state == "closed" and github.pull(1).merged_at is not None
    develop = github.pull(2)
    assert (develop.head, develop.base, develop.merged_at is not None) == (f"{BRANCH}-into-develop", "develop", True)
    for target in ("main", "develop"):
        assert remote.parents(remote.rev(target))[1] == head  # merge commits: the seeds' --no-ff
    assert not remote.has_ref(f"refs/heads/{BRANCH}")
    assert not remote.has_ref(f"refs/heads/{BRANCH}-into-develop")
    assert stage(driver, hotfix.key) is Stage.MERGED

    thread = "\n".join(driver.thread(hotfix))
    for said in ("🔀 Pull request <https://github.com/acme/payments/pull/1|#1> opened into `main`",
                 f"👍 <@UREV1> approved the pull request on GitHub at `{head[:10]}`",
                 f"✅ CI passed on `{head[:10]}` (1 check(s)). Tag & deploy is open.",
                 "✅ The deploy checks of `v1.10.1` passed",
                 "Merging back through pull requests into `main`, `develop` (merge commits).",
                 "🔀 Pull request <https://github.com/acme/payments/pull/2|#2> merges the fix into `develop`"):
        assert said in thread

    driver.click("Close", hotfix, user="UDEV")
    driver.settle()
    assert stage(driver, hotfix.key) is Stage.CLOSED
    closing = message_text(driver.slack.thread(hotfix.channel, hotfix.ts)[-1])
    assert "#1" in closing and "#2" in closing  # the post-mortem lists the pull requests
