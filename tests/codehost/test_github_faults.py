"""GitHub down, rate limited or refusing: the adapter says so at once, with how long to wait or which
permission is missing, and never sleeps; the job runner retries."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from bot.codehost.github import GitHubCodeHost
from bot.codehost.port import CodeHostRefused, CodeHostUnavailable
from bot.domain.codehost import RepoAccess
from bot.standins.github import DEFAULT_TOKEN
from tests.codehost.conftest import HOTFIX, REPO, open_fix, push_hotfix
from tests.support.fake_github import FakeGitHub
from tests.support.gitrepos import Remote


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def host(github: FakeGitHub, clock: Clock) -> GitHubCodeHost:
    environ = {"GITHUB_TOKEN": DEFAULT_TOKEN, "GITHUB_API_URL": github.url}
    return GitHubCodeHost.from_environment(environ, write_interval=0, clock=clock)


def test_a_server_error_is_unavailable_for_the_runners_back_off(github, host):
    github.fail_next(status=502)

    with pytest.raises(CodeHostUnavailable) as down:
        host.pull_request(REPO, 1)

    assert down.value.after is None and "502" in str(down.value)
    assert len(github.requests) == 1  # githubkit's own retries are off: the runner retries


def test_a_secondary_rate_limit_is_waited_out_without_another_request(github, host, clock, engineer):
    head = push_hotfix(engineer)
    github.secondary_rate_limit(retry_after=7)

    with pytest.raises(CodeHostUnavailable) as limited:
        host.checks(REPO, head)
    clock.now += 5
    with pytest.raises(CodeHostUnavailable) as still:
        host.checks(REPO, head)
    sent = len(github.requests)
    clock.now += 3

    assert limited.value.after == timedelta(seconds=7) and "rate limit" in str(limited.value)
    assert still.value.after == timedelta(seconds=2) and sent == 1
    assert host.checks(REPO, head) == ()


def test_a_primary_rate_limit_waits_for_the_reset(github, host):
    github.primary_rate_limit(status=429, reset_in=120)

    with pytest.raises(CodeHostUnavailable) as limited:
        host.pull_request(REPO, 1)

    assert timedelta(seconds=100) < limited.value.after <= timedelta(seconds=120)


def test_the_last_request_of_the_hour_pauses_the_next_until_the_reset(remote: Remote, clock, engineer):
    head = push_hotfix(engineer)
    with FakeGitHub(remote, rate_limit=1) as github:
        host = GitHubCodeHost.from_environment(
            {"GITHUB_TOKEN": DEFAULT_TOKEN, "GITHUB_API_URL": github.url}, write_interval=0, clock=clock)
        host.commit_authors(REPO, "v1.10.0", head)

        with pytest.raises(CodeHostUnavailable) as paused:
            host.checks(REPO, head)

        assert paused.value.after > timedelta(minutes=50) and len(github.requests) == 1
        github.assert_no_problems()


def test_an_unreachable_github_is_unavailable(remote: Remote):
    with FakeGitHub(remote) as github:
        url = github.url
    host = GitHubCodeHost.from_environment({"GITHUB_TOKEN": DEFAULT_TOKEN, "GITHUB_API_URL": url},
                                           write_interval=0)

    with pytest.raises(CodeHostUnavailable) as unreachable:
        host.pull_request(REPO, 1)

    assert "could not be reached" in str(unreachable.value)


def test_a_bad_token_is_refused_and_said_so(github):
    host = GitHubCodeHost.from_environment({"GITHUB_TOKEN": "ghp_revoked", "GITHUB_API_URL": github.url},
                                           write_interval=0)

    with pytest.raises(CodeHostRefused) as refused:
        host.pull_request(REPO, 1)

    assert refused.value.status == 401 and "GITHUB_TOKEN" in str(refused.value)
    assert github.take_problems() == [
        "GET /repos/{owner}/{repo}/pulls/{pull_number} (pulls/get): the token is not one the fake knows "
        "(Bad credentials)"
    ]


def test_a_403_names_the_permission_the_token_lacks(github, host, engineer):
    push_hotfix(engineer)
    github.forbid_next(permissions="pull_requests=write", operation="pulls/create")

    with pytest.raises(CodeHostRefused) as refused:
        open_fix(host)

    assert (refused.value.status, refused.value.permission) == (403, "pull_requests=write")
    assert "the token needs pull_requests=write" in str(refused.value)
    assert github.repository.pulls == {}


def test_a_403_without_githubs_header_names_what_the_call_needs(github, host, engineer):
    head = push_hotfix(engineer)
    number = open_fix(host).number
    github.fail_next(status=403, operation="pulls/merge")

    with pytest.raises(CodeHostRefused) as refused:
        host.merge(REPO, number, head)

    assert refused.value.permission == "contents=write"


def test_a_pull_request_opened_by_someone_else_meanwhile_is_adopted(github, host, engineer):
    push_hotfix(engineer)
    github.fail_next(status=422, operation="pulls/create")  # as if theirs landed first
    theirs = github.open_pull(HOTFIX, "main", "theirs", author="rita-gh")

    assert open_fix(host).number == theirs


def test_doctor_sees_the_reads_it_can_make_and_says_writes_are_unverified(github, host):
    assert host.permissions(REPO) == RepoAccess(REPO, unverified=("pull_requests: write", "contents: write"))


def test_doctor_names_a_missing_read(github, host):
    github.forbid_next(permissions="checks=read", operation="checks/list-for-ref")

    assert host.permissions(REPO).missing == ("checks: read",)


def test_doctor_on_a_repository_the_token_cannot_see(github, host):
    access = host.permissions("acme/elsewhere")

    assert not access.ok and access.missing == ("metadata: read (the repository itself)",)


def test_the_environment_names_token_and_api(github):
    with pytest.raises(ValueError, match="GITHUB_TOKEN is not set"):
        GitHubCodeHost.from_environment({})
    from_config = GitHubCodeHost.from_environment({"GITHUB_TOKEN": DEFAULT_TOKEN}, api_url=github.url,
                                                  write_interval=0)
    environ = {"GITHUB_TOKEN": DEFAULT_TOKEN, "GITHUB_API_URL": github.url}
    overridden = GitHubCodeHost.from_environment(environ, api_url="http://127.0.0.1:9/", write_interval=0)

    assert from_config.checks(REPO, "main") == () and overridden.checks(REPO, "main") == ()


def test_a_secondary_rate_limit_without_retry_after_waits_a_minute(github, host, clock):
    github.secondary_rate_limit(retry_after=None)

    with pytest.raises(CodeHostUnavailable) as limited:
        host.pull_request(REPO, 1)
    clock.now += 30
    with pytest.raises(CodeHostUnavailable) as still:
        host.pull_request(REPO, 1)

    assert limited.value.after == timedelta(minutes=1) and still.value.after == timedelta(seconds=30)
    assert len(github.requests) == 1
