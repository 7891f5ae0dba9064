"""Opening, adopting and merging a hotfix's pull request on the stand-in GitHub, over a real remote."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.codehost.port import MergeRefused
from bot.domain.codehost import MergeRefusal, People, PullRequestState, review_verdict
from bot.domain.pull_request_text import pull_request_body
from tests.codehost.conftest import FILES, FIX, HOTFIX, REPO, open_fix, push_hotfix, push_more
from tests.support.fake_github import FakeGitHub
from tests.support.gitrepos import CHECKOUT_BUG, Remote, git

PEOPLE = People(logins={"UREV1": "rita-gh", "UREV2": "sam-gh", "UDEV": "dev-gh"},
                reviewers={"UREV1", "UREV2", "UDEV"})
WRITES = ("pulls/create", "issues/create-label", "issues/add-labels", "pulls/request-reviewers",
          "pulls/merge")


def writes(github: FakeGitHub) -> list[str]:
    return [e.operation for e in github.requests if e.operation in WRITES]


def test_opening_creates_the_label_and_requests_the_reviews(github, host, engineer):
    head = push_hotfix(engineer)

    pull = open_fix(host)

    recorded = github.pull(pull.number)
    assert (pull.head_ref, pull.head_sha, pull.base_ref) == (HOTFIX, head, "main")
    assert pull.state is PullRequestState.OPEN
    assert pull.url == f"https://github.com/{REPO}/pull/{pull.number}" and pull.author == "hotfix-bot"
    assert recorded.title == "HOTFIX HF-7: Checkout total is wrong"
    assert recorded.body == pull_request_body(FIX, FILES)
    assert recorded.labels == ["hotfix"] and github.repository.labels["hotfix"][0] == "d73a4a"
    assert recorded.requested_reviewers == ["rita-gh", "sam-gh"]
    assert writes(github) == [
        "issues/create-label", "pulls/create", "issues/add-labels", "pulls/request-reviewers"]


def test_an_open_pull_request_is_adopted_never_duplicated(github, host, engineer):
    push_hotfix(engineer)
    theirs = github.open_pull(HOTFIX, "main", "checkout fix", author="rita-gh")
    github.repository.labels["hotfix"] = ("00ff00", "made by hand")

    first = open_fix(host)
    again = open_fix(host)

    assert first.number == again.number == theirs and len(github.repository.pulls) == 1
    assert github.pull(theirs).requested_reviewers == ["sam-gh"]  # GitHub refuses a request to the author
    assert github.pull(theirs).title == "checkout fix"  # their title is theirs
    assert writes(github) == ["issues/create-label", "issues/add-labels", "pulls/request-reviewers"]


def test_after_the_merge_the_merged_pull_request_is_returned_and_nothing_is_opened(github, host, engineer):
    head = push_hotfix(engineer)
    merged = host.merge(REPO, open_fix(host).number, head)
    before = writes(github)

    again = open_fix(host)

    assert (again.number, again.state, again.merged_sha) == (merged.number, PullRequestState.MERGED,
                                                             merged.merged_sha)
    assert writes(github) == before


def test_a_pull_request_closed_without_merging_is_not_reopened_a_new_one_is(github, host, engineer):
    push_hotfix(engineer)
    abandoned = github.open_pull(HOTFIX, "main", "first try")
    github.pull(abandoned).state = "closed"

    pull = open_fix(host)

    assert pull.number != abandoned and pull.state is PullRequestState.OPEN


def test_a_pull_request_into_another_base_is_not_adopted(github, host, engineer):
    push_hotfix(engineer)
    develop = github.open_pull(HOTFIX, "develop", "merge-back")

    pull = open_fix(host)

    assert pull.number != develop and pull.base_ref == "main"


def test_hostile_text_reaches_github_neutralised(github, host, engineer):
    push_hotfix(engineer)
    hostile = replace(FIX, title="<!channel> @acme/everyone", impact="ping @acme/everyone")

    pull = open_fix(host, hostile)

    recorded = github.pull(pull.number)
    assert recorded.title == "HOTFIX HF-7: ‹!channel› ＠acme/everyone"
    assert "@acme" not in recorded.body and "> ping ＠acme/everyone" in recorded.body


def test_a_security_hotfix_pull_request_says_nothing_of_the_vulnerability(github, host, engineer):
    push_hotfix(engineer)
    secret = replace(FIX, security=True, title="SQL injection", issue_id="CVE-2026-1",
                     impact="Password hashes readable")

    recorded = github.pull(open_fix(host, secret).number)

    for leak in ("SQL", "injection", "CVE", "Password", "checkout.py"):
        assert leak not in recorded.title and leak not in recorded.body
    assert recorded.title == "HOTFIX HF-7: Security fix"


def test_only_an_approval_on_the_current_head_approves(github, host, engineer):
    old = push_hotfix(engineer)
    number = open_fix(host).number
    github.add_review(number, "rita-gh", "APPROVED", body="LGTM")
    new = push_more(engineer)
    github.add_review(number, "sam-gh", "COMMENTED", body="looking")

    reviews = host.reviews(REPO, number)

    assert [(r.login, r.state.value, r.commit, r.body) for r in reviews] == [
        ("rita-gh", "approved", old, "LGTM"), ("sam-gh", "commented", new, "looking")]
    assert not review_verdict(reviews, new, PEOPLE, declarer="UDEV", authors=()).approved
    github.add_review(number, "rita-gh", "APPROVED")
    assert review_verdict(host.reviews(REPO, number), new, PEOPLE, declarer="UDEV", authors=()).approved


def test_commit_authors_are_the_logins_github_links_the_commits_to(github, host, engineer):
    head = push_hotfix(engineer)
    github.add_user("eve-gh", "engineer@example.com")

    assert host.commit_authors(REPO, "v1.10.0", head) == ("eve-gh",)


def test_a_merge_commit_makes_the_fix_an_ancestor_of_main(github, host, remote: Remote, engineer):
    head = push_hotfix(engineer)
    main_before = remote.rev("main")
    number = open_fix(host).number

    merged = host.merge(REPO, number, head)

    assert merged.state is PullRequestState.MERGED and merged.merged_sha == remote.rev("main")
    assert remote.parents("main") == [main_before, head]
    git(remote.path, "merge-base", "--is-ancestor", head, "main")


def test_a_merged_pull_request_is_never_merged_twice(github, host, remote, engineer):
    head = push_hotfix(engineer)
    number = open_fix(host).number
    first = host.merge(REPO, number, head)

    again = host.merge(REPO, number, head)

    assert again.merged_sha == first.merged_sha == remote.rev("main")
    assert len(github.requests_to("pulls/merge")) == 1


def test_a_head_that_moved_since_the_review_is_not_merged(github, host, remote, engineer):
    reviewed = push_hotfix(engineer)
    number = open_fix(host).number
    push_more(engineer)
    main_before = remote.rev("main")

    with pytest.raises(MergeRefused) as refused:
        host.merge(REPO, number, reviewed)

    assert refused.value.reason is MergeRefusal.HEAD_MOVED and remote.rev("main") == main_before
    assert github.requests_to("pulls/merge") == []


@pytest.mark.parametrize("approvals, check, reason", [
    (0, "success", MergeRefusal.REQUIRED_REVIEW),
    (1, "failure", MergeRefusal.FAILING_CHECKS),
])
def test_a_protected_main_refuses_the_merge_with_the_reason(github, host, remote, engineer, approvals, check,
                                                            reason):
    head = push_hotfix(engineer)
    number = open_fix(host).number
    github.protect("main", required_approvals=1, required_checks=["ci"])
    github.set_check_run(head, "ci", conclusion=check)
    if approvals:
        github.add_review(number, "rita-gh", "APPROVED")
    main_before = remote.rev("main")

    with pytest.raises(MergeRefused) as refused:
        host.merge(REPO, number, head)

    assert refused.value.reason is reason and "405" in str(refused.value)
    assert remote.rev("main") == main_before


def test_a_conflicting_pull_request_is_refused_as_a_conflict(github, host, remote, engineer, tmp_path):
    head = push_hotfix(engineer)
    other = remote.clone(tmp_path / "other")
    other.commit("checkout.py", CHECKOUT_BUG.replace("cart", "basket"), "Rename cart")
    other.push("HEAD:refs/heads/main")
    number = open_fix(host).number

    with pytest.raises(MergeRefused) as refused:
        host.merge(REPO, number, head)

    assert refused.value.reason is MergeRefusal.CONFLICT
    assert host.pull_request(REPO, number).mergeable is False
