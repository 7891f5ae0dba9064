"""A restart mid-step: a new adapter (fresh ETag cache, no memory of the labels it made) runs the step again
against the same stand-in GitHub and adopts what the old one did, never doing it twice."""

from __future__ import annotations

import pytest

from bot.codehost.github import GitHubCodeHost
from bot.codehost.port import CodeHostUnavailable
from bot.domain.codehost import PullRequestState
from bot.standins.github import DEFAULT_TOKEN
from tests.codehost.conftest import HOTFIX, REPO, open_fix, push_hotfix
from tests.support.fake_github import FakeGitHub
from tests.support.gitrepos import Remote


def restarted(github: FakeGitHub) -> GitHubCodeHost:
    return GitHubCodeHost.from_environment({"GITHUB_TOKEN": DEFAULT_TOKEN, "GITHUB_API_URL": github.url},
                                           write_interval=0)


def test_a_restart_after_the_pull_request_was_opened_adopts_it_and_finishes_the_step(github, host, engineer):
    head = push_hotfix(engineer)
    github.fail_next(status=502, operation="issues/add-labels")  # the process is lost right after the create
    with pytest.raises(CodeHostUnavailable):
        open_fix(host)
    opened = github.requests_to("pulls/create")[0].answer["number"]

    pull = open_fix(restarted(github))

    assert (pull.number, pull.head_sha, pull.state) == (opened, head, PullRequestState.OPEN)
    assert len(github.repository.pulls) == 1 and len(github.requests_to("pulls/create")) == 1
    assert github.pull(opened).labels == ["hotfix"]
    assert github.pull(opened).requested_reviewers == ["rita-gh", "sam-gh"]
    # The label the first one made is found: GitHub answers the second create that it already exists.
    assert [e.status for e in github.requests_to("issues/create-label")] == [201, 422]
    assert list(github.repository.labels) == ["hotfix"]


def test_a_restart_after_the_merge_finds_it_merged_and_merges_nothing(github, host, remote: Remote, engineer):
    head = push_hotfix(engineer)
    number = open_fix(host).number
    merged = host.merge(REPO, number, head)  # the process is lost before it records the merge
    fresh = restarted(github)

    again = fresh.merge(REPO, number, head)
    adopted = open_fix(fresh)

    assert again.merged_sha == adopted.merged_sha == merged.merged_sha == remote.rev("main")
    assert adopted.state is PullRequestState.MERGED and adopted.head_ref == HOTFIX
    assert len(github.requests_to("pulls/merge")) == 1 and len(github.requests_to("pulls/create")) == 1
