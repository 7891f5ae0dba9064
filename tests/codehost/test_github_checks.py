"""CI on the stand-in GitHub: check runs and commit statuses read into a verdict, polled with conditional
requests that cost no rate limit."""

from __future__ import annotations

from bot.domain.codehost import Check, CheckKind, CheckState, CiOutcome, ci_verdict
from tests.codehost.conftest import REPO, open_fix, push_hotfix


def test_no_check_and_no_status_yet_is_none_yet(github, host, engineer):
    head = push_hotfix(engineer)

    assert host.checks(REPO, head) == () and ci_verdict(host.checks(REPO, head)).outcome is CiOutcome.NONE_YET


def test_check_runs_and_statuses_become_checks_with_their_links(github, host, engineer):
    head = push_hotfix(engineer)
    github.set_check_run(head, "ci", status="in_progress", details_url="https://ci.example.com/run/1")
    github.set_status(head, "deploy/preview", "pending", target_url="https://ci.example.com/preview")

    checks = host.checks(REPO, head)

    assert checks == (
        Check("ci", CheckState.IN_PROGRESS, "https://ci.example.com/run/1", CheckKind.CHECK_RUN),
        Check("deploy/preview", CheckState.PENDING, "https://ci.example.com/preview", CheckKind.STATUS),
    )
    assert ci_verdict(checks).outcome is CiOutcome.PENDING


def test_a_failing_check_fails_the_verdict_and_is_named(github, host, engineer):
    head = push_hotfix(engineer)
    github.set_check_run(head, "ci", conclusion="failure")
    github.set_check_run(head, "lint")
    github.set_status(head, "deploy/preview", "success")

    verdict = ci_verdict(host.checks(REPO, head))

    assert verdict.outcome is CiOutcome.FAILED and [c.name for c in verdict.failing] == ["ci"]


def test_all_green_passes_and_a_rerun_replaces_the_failed_run(github, host, engineer):
    head = push_hotfix(engineer)
    github.set_check_run(head, "ci", conclusion="failure")
    github.set_status(head, "deploy/preview", "failure")
    github.set_check_run(head, "ci")
    github.set_status(head, "deploy/preview", "success")

    assert ci_verdict(host.checks(REPO, head)).outcome is CiOutcome.PASSED


def test_required_checks_ignore_the_others(github, host, engineer):
    head = push_hotfix(engineer)
    github.set_check_run(head, "ci")
    github.set_status(head, "flaky/e2e", "error")

    assert ci_verdict(host.checks(REPO, head), required_checks=["ci"]).outcome is CiOutcome.PASSED


def test_a_repeated_poll_is_answered_304_and_spends_no_rate_limit(github, host, engineer):
    head = push_hotfix(engineer)
    number = open_fix(host).number
    github.set_check_run(head, "ci", status="in_progress")
    github.add_review(number, "rita-gh", "APPROVED")
    first = (host.checks(REPO, head), host.reviews(REPO, number), host.pull_request(REPO, number))
    remaining = github.rate_limit_remaining
    polled = len(github.requests)

    again = (host.checks(REPO, head), host.reviews(REPO, number), host.pull_request(REPO, number))

    assert again == first
    assert [e.status for e in github.requests[polled:]] == [304, 304, 304, 304]
    assert github.rate_limit_remaining == remaining


def test_a_poll_after_a_change_sees_it(github, host, engineer):
    head = push_hotfix(engineer)
    github.set_check_run(head, "ci", status="in_progress")
    host.checks(REPO, head)
    github.set_check_run(head, "ci")

    assert host.checks(REPO, head)[0].state is CheckState.SUCCESS
    assert github.requests[-2].status == 200  # the check runs changed; the statuses did not
