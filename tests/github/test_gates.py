"""What was reviewed is what ships, on GitHub: only an approving review of the pull request's head by a mapped
reviewer counts, CI must be green on that commit, a push after the approval needs a new one, and the Slack review
is not a second source of truth."""
from __future__ import annotations

import subprocess
from datetime import timedelta
from pathlib import Path

import pytest

from bot.domain.codehost import Signal
from bot.domain.hotfix import EventKind, Stage
from bot.domain.transitions import Refused
from bot.service.clock import ManualClock
from bot.service.jobs import CODE_HOST, CodeHostJob
from tests.github.conftest import BRANCH, CI_WAIT, approved, in_review, kinds, poll, stage
from tests.support.driver import Driver, Posted
from tests.support.fake_github import FakeGitHub
from tests.support.gitrepos import Clone, Remote


def shipped(driver: Driver, github: FakeGitHub, clock: ManualClock, hotfix: Posted, head: str) -> None:
    """Green, approved on GitHub, tagged, and the monitoring window over: ready for Stable."""
    github.set_check_run(head, "tests")
    github.add_review(1, "rita-gh", "APPROVED")
    poll(driver, clock)
    driver.click("Tag & deploy", hotfix, user="UDEV")
    driver.settle()
    clock.advance(timedelta(minutes=30))
    driver.bot.service.timers.fire_due_timers()
    driver.settle()


@pytest.fixture
def engineer(remote: Remote, tmp_path: Path) -> Clone:
    return remote.clone(tmp_path / "engineer")


@pytest.fixture
def reviewing(driver: Driver, engineer: Clone) -> tuple[Posted, str]:
    hotfix = approved(driver)
    return hotfix, in_review(driver, engineer, hotfix)


def test_an_approval_by_someone_not_mapped_or_by_the_author_does_not_count(
        driver: Driver, github: FakeGitHub, clock: ManualClock, reviewing) -> None:
    hotfix, head = reviewing
    github.set_check_run(head, "tests")
    github.add_review(1, "dev-gh", "APPROVED")  # the declarer, who wrote the fix
    github.add_review(1, "stranger", "APPROVED")  # nobody in [people]
    poll(driver, clock)

    assert stage(driver, hotfix.key) is Stage.IN_REVIEW
    with pytest.raises(Refused, match="reviewed on GitHub: approve or request changes on its pull request http"):
        driver.bot.service.people.approve_review(hotfix.key, user_id="UREV1", commit=head)


def test_a_push_after_the_approval_needs_a_new_approval_and_ships_the_new_head(
        driver: Driver, github: FakeGitHub, remote: Remote, engineer: Clone, clock: ManualClock, reviewing) -> None:
    hotfix, head = reviewing
    github.set_check_run(head, "tests")
    github.add_review(1, "rita-gh", "APPROVED")
    poll(driver, clock)
    assert stage(driver, hotfix.key) is Stage.REVIEWED

    newer = engineer.push_fix(BRANCH, content="def total(cart):\n    return sum(i.price for i in cart) + 0\n")
    poll(driver, clock)
    assert stage(driver, hotfix.key) is Stage.IN_REVIEW
    assert EventKind.APPROVAL_OUTDATED in kinds(driver, hotfix.key)
    with pytest.raises(Refused):
        driver.bot.service.people.tag_and_deploy(hotfix.key, user_id="UDEV")

    github.set_check_run(newer, "tests")
    github.add_review(1, "sam-gh", "APPROVED")
    poll(driver, clock)
    driver.click("Tag & deploy", hotfix, user="UDEV")
    driver.settle()
    assert remote.rev("v1.10.1") == newer


def test_changes_requested_send_it_back_to_fixing_and_the_next_round_adopts_the_same_pull_request(
        driver: Driver, github: FakeGitHub, engineer: Clone, clock: ManualClock, reviewing) -> None:
    hotfix, head = reviewing
    github.add_review(1, "rita-gh", "CHANGES_REQUESTED", body="Handle the empty cart <!channel>")
    poll(driver, clock)
    assert stage(driver, hotfix.key) is Stage.FIXING
    [change] = [e for e in driver.bot.service.read.timeline(hotfix.key)[1] if e.kind is EventKind.CHANGES_REQUESTED]
    assert change.actor == "UREV1" and "<!channel>" not in change.detail["reason"]

    engineer.push_fix(BRANCH, content="def total(cart):\n    return sum(i.price for i in cart or [])\n")
    driver.click("Ready for review", hotfix, user="UDEV")
    driver.settle()
    assert len(github.requests_to("pulls/create")) == 1  # adopted, never a second pull request
    assert stage(driver, hotfix.key) is Stage.IN_REVIEW


def test_failing_ci_blocks_the_tag_and_no_ci_at_all_lets_an_on_call_lead_tag_anyway(
        driver: Driver, github: FakeGitHub, remote: Remote, clock: ManualClock, reviewing) -> None:
    hotfix, head = reviewing
    github.set_check_run(head, "tests", conclusion="failure")
    github.add_review(1, "rita-gh", "APPROVED")
    poll(driver, clock)
    with pytest.raises(Refused, match="CI failed on .*: tests"):
        driver.bot.service.people.tag_and_deploy(hotfix.key, user_id="UDEV")
    assert EventKind.CI_FAILED in kinds(driver, hotfix.key)


def test_no_check_for_the_whole_ci_wait_lets_an_on_call_lead_tag_anyway_with_a_reason(
        driver: Driver, github: FakeGitHub, remote: Remote, clock: ManualClock, reviewing) -> None:
    hotfix, head = reviewing
    github.add_review(1, "rita-gh", "APPROVED")
    poll(driver, clock)
    with pytest.raises(Refused, match="an on-call lead can tag anyway"):
        driver.bot.service.people.tag_and_deploy(hotfix.key, user_id="UDEV")
    with pytest.raises(Refused):
        driver.bot.service.people.check_may_tag_anyway(hotfix.key, user_id="ULEAD")  # not waited long enough

    poll(driver, clock, CI_WAIT)
    assert EventKind.CI_MISSING in kinds(driver, hotfix.key)
    with pytest.raises(Refused, match="Only an on-call lead"):
        driver.bot.service.people.tag_anyway(hotfix.key, user_id="UDEV", reason="CI is down")
    driver.bot.service.people.tag_anyway(hotfix.key, user_id="ULEAD", reason="CI is down for everyone")
    driver.settle()
    assert remote.rev("v1.10.1") == head
    overrides = [e for e in driver.bot.service.read.timeline(hotfix.key)[1] if e.kind is EventKind.CI_OVERRIDDEN]
    assert [(e.actor, e.detail["reason"]) for e in overrides] == [("ULEAD", "CI is down for everyone")]


def test_github_down_while_polling_loses_nothing_and_the_thread_is_told_once(
        driver: Driver, github: FakeGitHub, clock: ManualClock, reviewing) -> None:
    hotfix, head = reviewing
    github.set_check_run(head, "tests")
    github.add_review(1, "rita-gh", "APPROVED")
    github.fail_next(4, status=503)
    poll(driver, clock)
    for _ in range(5):
        poll(driver, clock, timedelta(minutes=1))  # the runner's back-off
    assert stage(driver, hotfix.key) is Stage.REVIEWED
    failures = [e for e in driver.bot.service.read.timeline(hotfix.key)[1] if e.kind is EventKind.STEP_FAILED]
    assert len(failures) == 1 and "GitHub" in failures[0].detail["reason"]


def test_a_webhook_makes_the_poll_come_now(driver: Driver, github: FakeGitHub, reviewing) -> None:
    hotfix, head = reviewing
    github.set_check_run(head, "tests")
    github.add_review(1, "rita-gh", "APPROVED")

    waiting = driver.bot.service.timers.poll_now(Signal("d-1", "pull_request_review", "ACME/payments", (1,)))
    driver.settle()

    assert waiting == 1 and stage(driver, hotfix.key) is Stage.REVIEWED
    assert driver.bot.service.timers.poll_now(Signal("d-2", "pull_request", "acme/other", (1,))) == 0


def test_a_refused_merge_back_is_said_with_who_can_act_and_merged_once_github_allows(
        driver: Driver, github: FakeGitHub, remote: Remote, clock: ManualClock, reviewing) -> None:
    hotfix, head = reviewing
    github.protect("develop", required_approvals=1)
    shipped(driver, github, clock, hotfix, head)
    driver.click("Stable", hotfix, user="UDEV")
    driver.settle()

    [refusal] = [e for e in driver.bot.service.read.timeline(hotfix.key)[1] if e.kind is EventKind.MERGE_REFUSED]
    assert (refusal.detail["target"], refusal.detail["reason"]) == ("develop", "required_review")
    assert refusal.names("users") == ("UREV1", "UREV2")
    assert stage(driver, hotfix.key) is Stage.MERGING_BACK
    assert remote.parents(remote.rev("main"))[1] == head  # main merged; develop waits

    github.add_review(2, "sam-gh", "APPROVED")
    poll(driver, clock, timedelta(minutes=30))  # the merge-back reminder tries the refused merge again
    assert remote.parents(remote.rev("develop"))[1] == head
    assert stage(driver, hotfix.key) is Stage.MERGED
    assert len(github.requests_to("pulls/merge")) == 3  # main once, develop refused once then merged


def test_merge_back_steps_queued_while_the_worker_is_down_run_once_when_it_is_back(
        driver: Driver, github: FakeGitHub, remote: Remote, clock: ManualClock, reviewing) -> None:
    hotfix, head = reviewing
    shipped(driver, github, clock, hotfix, head)
    driver.bot.runners[CODE_HOST].stop()  # the code-host steps stay queued, as in a process killed after the click
    driver.bot.service.people.mark_stable(hotfix.key, user_id="UDEV")
    driver.bot.runners[CODE_HOST].start()
    driver.settle()

    assert remote.parents(remote.rev("develop"))[1] == head
    assert len(github.requests_to("pulls/merge")) == 2


def test_a_conflicting_merge_back_is_resolved_on_its_merge_branch_and_the_hotfix_branch_stays_as_approved(
        driver: Driver, github: FakeGitHub, remote: Remote, engineer: Clone, clock: ManualClock, reviewing,
        tmp_path: Path) -> None:
    hotfix, head = reviewing
    colleague = remote.clone(tmp_path / "colleague")
    colleague.switch("develop")
    colleague.commit("checkout.py", "def total(cart):\n    return round(sum(i.price for i in cart), 2)\n",
                     "Round totals")
    colleague.push("HEAD:refs/heads/develop")
    shipped(driver, github, clock, hotfix, head)
    driver.click("Stable", hotfix, user="UDEV")
    driver.settle()

    [refusal] = [e for e in driver.bot.service.read.timeline(hotfix.key)[1] if e.kind is EventKind.MERGE_REFUSED]
    merge_branch = f"{BRANCH}-into-develop"
    assert (refusal.detail["reason"], refusal.detail["branch"]) == ("conflict", merge_branch)

    colleague.switch(merge_branch)
    conflict = subprocess.run(["git", "merge", "--quiet", "origin/develop"], cwd=colleague.path, capture_output=True)
    assert conflict.returncode != 0  # the conflict GitHub reported
    resolved = colleague.commit("checkout.py", "def total(cart):\n    return round(sum(0, i.price for i in cart), 2)\n",
                                "Merge develop, keeping both")
    colleague.push(f"HEAD:refs/heads/{merge_branch}")
    poll(driver, clock)

    assert stage(driver, hotfix.key) is Stage.MERGED
    assert remote.parents(remote.rev("develop"))[1] == resolved
    assert not remote.has_ref(f"refs/heads/{BRANCH}")  # deleted, as it never moved past the approved commit
    assert remote.rev(f"refs/heads/{merge_branch}") == resolved  # kept: it carries a person's resolution
    assert remote.parents(remote.rev("main"))[1] == head  # main got exactly the approved commit


def test_a_token_without_pull_request_write_is_named_in_the_thread_and_retry_opens_the_pull_request(
        driver: Driver, github: FakeGitHub, engineer: Clone) -> None:
    hotfix = approved(driver)
    github.forbid_next(permissions="pull_requests=write", operation="pulls/create")
    in_review(driver, engineer, hotfix)

    [failure] = [e for e in driver.bot.service.read.timeline(hotfix.key)[1] if e.kind is EventKind.STEP_FAILED]
    assert "pull_requests=write" in failure.detail["reason"] and failure.detail["then"] == "press_retry"
    assert EventKind.PULL_REQUEST_OPENED not in kinds(driver, hotfix.key)
    told = [t for t in driver.thread(hotfix) if "pull_requests=write" in t]
    assert len(told) == 1 and told[0].count("press *Retry*") == 1
    assert driver.click("Retry pull request", hotfix, user="UDEV").status == 200
    driver.settle()

    assert github.pull(1).head == BRANCH
    assert EventKind.PULL_REQUEST_OPENED in kinds(driver, hotfix.key)


def test_a_security_hotfix_pull_request_says_nothing_of_the_vulnerability(
        driver: Driver, github: FakeGitHub, engineer: Clone) -> None:
    secret_title, secret_impact = "SQL injection in /export", "Any user can dump the card table"
    hotfix = driver.declare(severity="critical", security=True, issue_id="SEC-42", title=secret_title,
                            impact=secret_impact)
    for approver in ("UEM", "ULEAD", "UCTO"):
        driver.click("Approve", hotfix, user=approver)
    driver.settle()
    branch = driver.bot.service.read.get(hotfix.key).branch
    engineer.push_fix(branch, filename="export.py", content="def export(q):\n    return run(q, safe=True)\n")
    driver.click("Ready for review", hotfix, user="UDEV")
    driver.settle()

    pull = github.pull(1)
    assert pull.title == f"HOTFIX {hotfix.key}: Security fix"
    shown = f"{pull.title}\n{pull.body}\n{branch}"
    for secret in (secret_title, secret_impact, "SEC-42", "export.py", "injection"):
        assert secret not in shown


def test_an_approval_dismissed_on_github_before_the_tag_needs_a_new_one(
        driver: Driver, github: FakeGitHub, remote: Remote, clock: ManualClock, reviewing) -> None:
    hotfix, head = reviewing
    github.set_check_run(head, "tests")
    github.add_review(1, "rita-gh", "APPROVED")
    poll(driver, clock)
    assert stage(driver, hotfix.key) is Stage.REVIEWED

    github.add_review(1, "rita-gh", "DISMISSED")
    poll(driver, clock)

    assert stage(driver, hotfix.key) is Stage.IN_REVIEW
    assert any("was dismissed on GitHub" in text for text in driver.thread(hotfix))
    with pytest.raises(Refused):
        driver.bot.service.people.tag_and_deploy(hotfix.key, user_id="UDEV")
    assert not remote.has_ref("refs/tags/v1.10.1")


def test_an_answer_the_adapter_cannot_read_is_said_once_and_polling_goes_on(
        driver: Driver, github: FakeGitHub, clock: ManualClock, reviewing, monkeypatch: pytest.MonkeyPatch) -> None:
    hotfix, head = reviewing
    github.set_check_run(head, "tests")
    github.add_review(1, "rita-gh", "APPROVED")
    worker = driver.bot.runners[CODE_HOST].handlers[CodeHostJob].__self__
    real_checks, calls = worker.host.checks, []

    def unreadable_once(repo: str, sha: str):
        calls.append(sha)
        if len(calls) == 1:
            raise KeyError("conclusion")  # e.g. a proxy's page, or a field GitHub renamed
        return real_checks(repo, sha)

    monkeypatch.setattr(worker.host, "checks", unreadable_once)
    poll(driver, clock)
    poll(driver, clock, timedelta(minutes=6))

    assert stage(driver, hotfix.key) is Stage.REVIEWED
    failures = [e for e in driver.bot.service.read.timeline(hotfix.key)[1] if e.kind is EventKind.STEP_FAILED]
    assert len(failures) == 1 and "could not be read (KeyError)" in failures[0].detail["reason"]
