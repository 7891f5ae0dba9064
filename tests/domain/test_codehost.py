"""The code host's rules: CI verdicts, which review approves a hotfix, and the pull request's text."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.codehost import (
    Check,
    CheckKind,
    CheckState,
    CiOutcome,
    People,
    Review,
    ReviewState,
    ci_verdict,
    review_verdict,
)
from bot.domain.hotfix import Hotfix
from bot.domain.policy import Severity
from bot.domain.pull_request_text import (
    MAX_TITLE,
    REVIEW_CHECKLIST,
    SECURITY_CHECKLIST,
    is_test_file,
    pull_request_body,
    pull_request_title,
)
from bot.domain.review import FileChange

AT = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
HEAD, OLD = "b" * 40, "a" * 40
PEOPLE = People(logins={"UREV1": "rita-gh", "UREV2": "sam-gh", "UDEV": "dev-gh", "UPM": "pm-gh"},
                reviewers={"UREV1", "UREV2", "UDEV"})
HOTFIX = Hotfix(title="Checkout total is wrong", issue_id="PROD-501", severity=Severity.HIGH,
                impact="Half the carts charge 0", risk="Low: one line", repo="payments",
                branch="hotfix/PROD-501-checkout-total", declared_by="UDEV", declared_at=AT, number=7)
FILES = (FileChange("checkout.py", 1, 1), FileChange("tests/test_checkout.py", 6, 0))


def check(name: str, state: CheckState, kind: CheckKind = CheckKind.CHECK_RUN) -> Check:
    return Check(name, state, f"https://ci.example.com/{name}", kind)


def review(login: str, state: ReviewState, commit: str = HEAD, body: str = "") -> Review:
    return Review(login, state, commit, body, AT)


# CI verdicts
def test_no_check_and_no_status_is_none_yet() -> None:
    assert ci_verdict([]).outcome is CiOutcome.NONE_YET


def test_every_check_and_status_must_succeed_when_none_is_required() -> None:
    checks = [check("ci", CheckState.SUCCESS), check("lint", CheckState.NEUTRAL),
              check("deploy/preview", CheckState.SUCCESS, CheckKind.STATUS),
              check("docs", CheckState.SKIPPED)]

    assert ci_verdict(checks).outcome is CiOutcome.PASSED


def test_a_running_check_keeps_it_pending_and_is_named() -> None:
    running = check("ci", CheckState.IN_PROGRESS)
    verdict = ci_verdict([check("lint", CheckState.SUCCESS), running])

    assert (verdict.outcome, verdict.running) == (CiOutcome.PENDING, (running,))


@pytest.mark.parametrize("state", [CheckState.FAILURE, CheckState.CANCELLED, CheckState.TIMED_OUT,
                                   CheckState.ACTION_REQUIRED, CheckState.ERROR, CheckState.STALE])
def test_one_failure_fails_it_even_while_others_run(state: CheckState) -> None:
    failed = check("ci", state)
    running = check("e2e", CheckState.QUEUED)
    verdict = ci_verdict([failed, running, check("lint", CheckState.SUCCESS)])

    assert (verdict.outcome, verdict.failing, verdict.running) == (CiOutcome.FAILED, (failed,), (running,))


def test_only_required_checks_count_when_some_are_required() -> None:
    checks = [check("ci", CheckState.SUCCESS), check("flaky", CheckState.FAILURE)]

    assert ci_verdict(checks, required_checks=["ci"]).outcome is CiOutcome.PASSED


def test_a_required_check_that_never_reported_keeps_it_pending_and_is_named() -> None:
    verdict = ci_verdict([check("ci", CheckState.SUCCESS)], required_checks=["ci", "security-scan"])

    assert (verdict.outcome, verdict.missing) == (CiOutcome.PENDING, ("security-scan",))


def test_only_unrequired_checks_reported_is_none_yet() -> None:
    verdict = ci_verdict([check("lint", CheckState.SUCCESS)], required_checks=["ci"])

    assert (verdict.outcome, verdict.missing) == (CiOutcome.NONE_YET, ("ci",))


def test_a_required_name_counts_for_a_status_as_well_as_a_check_run() -> None:
    failed = check("ci", CheckState.FAILURE, CheckKind.STATUS)
    verdict = ci_verdict([check("ci", CheckState.SUCCESS), failed], required_checks=["ci"])

    assert (verdict.outcome, verdict.failing) == (CiOutcome.FAILED, (failed,))


# Which review approves the hotfix
def verdict(*reviews: Review, authors: tuple[str, ...] = ()):
    return review_verdict(reviews, HEAD, PEOPLE, declarer="UDEV", authors=authors)


def test_an_approval_on_the_current_head_by_a_reviewer_approves() -> None:
    approval = review("rita-gh", ReviewState.APPROVED, body="LGTM")

    assert verdict(approval).approval == approval and verdict(approval).approved


def test_an_approval_on_an_older_head_does_not_count() -> None:
    assert not verdict(review("rita-gh", ReviewState.APPROVED, commit=OLD)).approved


def test_the_declarer_cannot_approve_even_holding_the_reviewer_role() -> None:
    assert not verdict(review("dev-gh", ReviewState.APPROVED)).approved


def test_an_author_of_the_fix_cannot_approve_it() -> None:
    assert not verdict(review("Rita-GH", ReviewState.APPROVED), authors=("rita-gh",)).approved
    assert verdict(review("sam-gh", ReviewState.APPROVED), authors=("rita-gh",)).approved


def test_an_unmapped_login_or_someone_without_the_reviewer_role_cannot_approve() -> None:
    assert not verdict(review("stranger", ReviewState.APPROVED)).approved
    assert not verdict(review("pm-gh", ReviewState.APPROVED)).approved


def test_logins_match_whatever_their_case() -> None:
    assert verdict(review("RITA-gh", ReviewState.APPROVED)).approved


def test_a_later_change_request_or_dismissal_by_the_same_reviewer_withdraws_the_approval() -> None:
    approved = review("rita-gh", ReviewState.APPROVED)
    changes = review("rita-gh", ReviewState.CHANGES_REQUESTED, body="Add a test")

    withdrawn = verdict(approved, changes)
    assert withdrawn.changes_requested == (changes,) and not withdrawn.approved
    assert not verdict(approved, review("rita-gh", ReviewState.DISMISSED)).approved


def test_a_comment_after_an_approval_changes_nothing() -> None:
    assert verdict(review("rita-gh", ReviewState.APPROVED), review("rita-gh", ReviewState.COMMENTED)).approved


def test_a_change_request_by_another_reviewer_on_the_head_holds_the_approval_back() -> None:
    result = verdict(review("rita-gh", ReviewState.APPROVED), review("sam-gh", ReviewState.CHANGES_REQUESTED))

    assert result.approval is not None and not result.approved


def test_a_change_request_on_an_older_head_was_answered_by_the_push() -> None:
    result = verdict(review("sam-gh", ReviewState.CHANGES_REQUESTED, commit=OLD),
                     review("rita-gh", ReviewState.APPROVED))

    assert result.approved and result.changes_requested == ()


def test_reviews_are_requested_from_reviewers_who_may_approve() -> None:
    assert PEOPLE.logins_to_request("UDEV", authors=("sam-gh",)) == ("rita-gh",)


# The pull request's text
def test_the_title_names_the_hotfix_and_a_security_fix_hides_its_title() -> None:
    assert pull_request_title(HOTFIX) == "HOTFIX HF-7: Checkout total is wrong"
    assert pull_request_title(replace(HOTFIX, security=True)) == "HOTFIX HF-7: Security fix"


def test_an_overlong_title_is_cut_to_githubs_limit() -> None:
    title = pull_request_title(replace(HOTFIX, title="x" * 400))

    assert len(title) == MAX_TITLE and title.endswith("…")


def test_the_body_has_the_issue_severity_impact_risk_change_and_checklist() -> None:
    body = pull_request_body(HOTFIX, FILES)

    assert "**Severity: HIGH** · Issue `PROD-501`" in body
    assert "### Impact\n> Half the carts charge 0" in body and "### Risk\n> Low: one line" in body
    assert "2 file(s), +7 −1; tests touched: 1" in body
    assert "- `checkout.py` +1 −1\n- `tests/test_checkout.py` +6 −0" in body
    assert all(f"- [ ] {item}" in body for item in REVIEW_CHECKLIST)
    assert not any(item in body for item in SECURITY_CHECKLIST)


def test_hostile_text_cannot_mention_ping_or_fake_markup() -> None:
    hostile = replace(HOTFIX, title="<!channel> @acme/everyone pls",
                      impact="@rita-gh <img src=x> [a](http://e)\n## Fake", risk="`@acme/security`")
    files = (FileChange("x`@acme/all`<b>.py", 1, 0),)
    title, body = pull_request_title(hostile), pull_request_body(hostile, files)

    for text in (title, body):
        assert not re.search(r"@[A-Za-z]", text), text
        assert "<!channel>" not in text and "<img" not in text and "<b>" not in text
    assert title == "HOTFIX HF-7: ‹!channel› ＠acme/everyone pls"
    assert "> ＠rita-gh &lt;img src=x&gt; \\[a\\]\\(http://e\\)\n> \\#\\# Fake" in body
    assert "- `xˋ＠acme/allˋ‹b›.py` +1 −0" in body


@given(title=st.text(), impact=st.text(), path=st.text(min_size=1))
def test_no_text_anyone_types_can_mention_or_open_a_tag(title: str, impact: str, path: str) -> None:
    hotfix = replace(HOTFIX, title=title, impact=impact, risk=impact)
    text = pull_request_title(hotfix) + pull_request_body(hotfix, (FileChange(path, 1, 0),))

    assert "@" not in text and "<" not in text


def test_a_security_hotfix_body_says_nothing_of_the_vulnerability() -> None:
    secret = replace(HOTFIX, security=True, title="SQL injection in login", issue_id="CVE-2026-1234",
                     impact="Anyone can read every password hash", risk="Exploited in the wild")
    files = (FileChange("auth/login_query.py", 3, 1),)
    title, body = pull_request_title(secret), pull_request_body(secret, files)

    for leak in ("SQL", "injection", "CVE", "password", "Exploited", "login_query", "auth/"):
        assert leak not in title and leak not in body
    assert "1 file(s), +3 −1" in body and "**Severity: HIGH**" in body
    assert all(f"- [ ] {item}" in body for item in (*REVIEW_CHECKLIST, *SECURITY_CHECKLIST))


@pytest.mark.parametrize("path, is_test", [
    ("tests/test_checkout.py", True), ("checkout_test.go", True), ("src/cart.spec.ts", True),
    ("src/CartTest.java", True), ("test/unit.c", True), ("checkout.py", False), ("contest.py", False),
    ("latest/notes.md", False),
])
def test_test_files_are_recognised_by_their_path(path: str, is_test: bool) -> None:
    assert is_test_file(path) is is_test


def test_the_verdict_lists_every_approval_on_the_head_by_someone_who_may_approve() -> None:
    reviews = [review("rita-gh", ReviewState.APPROVED), review("sam-gh", ReviewState.APPROVED),
               review("dev-gh", ReviewState.APPROVED), review("pm-gh", ReviewState.APPROVED, commit=OLD)]

    verdict = review_verdict(reviews, HEAD, PEOPLE, declarer="UDEV", authors=())

    assert [r.login for r in verdict.approvals] == ["rita-gh", "sam-gh"]
    assert verdict.approval == verdict.approvals[0]
