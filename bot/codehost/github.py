"""The CodeHost port on GitHub's REST API, through githubkit (`GitHubClient` makes it a good citizen)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from bot.codehost.github_access import repo_access
from bot.codehost.github_app import GitHubApp
from bot.codehost.github_client import DEFAULT_API_URL, GitHubClient
from bot.codehost.github_parse import check_run, commit_status, merge_refusal, pull_request, review
from bot.codehost.port import CodeHostRefused, MergeRefused
from bot.domain.codehost import Check, MergeRefusal, PullRequest, PullRequestState, RepoAccess, Review

PULLS_READ, PULLS_WRITE = "pull_requests=read", "pull_requests=write"
CONTENTS_READ, CONTENTS_WRITE = "contents=read", "contents=write"
MERGE_METHODS = ("merge", "squash", "rebase")


def owner_and_name(repo: str) -> tuple[str, str]:
    owner, _, name = repo.partition("/")
    if not owner or not name or "/" in name:
        raise ValueError(f"A GitHub repository is named owner/name, not {repo!r}")
    return owner, name


class GitHubCodeHost:
    def __init__(self, clients: GitHubClient | GitHubApp) -> None:
        """`clients`: a token's client, or a GitHub App whose installation on each repo has its own."""
        self._clients = clients
        self._labels: set[tuple[str, str]] = set()  # (repo, lower-case name) known to exist

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ, api_url: str | None = None,
                         **options: Any) -> GitHubCodeHost:
        """GITHUB_TOKEN authenticates, else the App of GITHUB_APP_ID with the key in the file at
        GITHUB_APP_PRIVATE_KEY; GITHUB_API_URL (else `api_url`, else github.com) says where GitHub is."""
        token = environ.get("GITHUB_TOKEN", "").strip()
        app_id, key_file = environ.get("GITHUB_APP_ID", "").strip(), environ.get("GITHUB_APP_PRIVATE_KEY", "")
        url = environ.get("GITHUB_API_URL") or api_url or DEFAULT_API_URL
        if token:
            return cls(GitHubClient(token, url, **options))
        if app_id and key_file.strip():
            return cls(GitHubApp(app_id, Path(key_file.strip()).read_text(encoding="ascii"), url, **options))
        raise ValueError("GITHUB_TOKEN is not set: a fine-grained token (or an installation token) with "
                         "pull requests and contents write, checks and statuses read; or set GITHUB_APP_ID and "
                         "GITHUB_APP_PRIVATE_KEY for a GitHub App")

    def _for(self, repo: str) -> GitHubClient:
        return self._clients.for_repo(repo)

    def _rest(self, repo: str) -> Any:
        return self._clients.for_repo(repo).api.rest

    # Pull requests
    def open_or_adopt_pull_request(
        self, repo: str, head: str, base: str, title: str, body: str,
        labels: Sequence[str] = (), reviewers: Sequence[str] = (),
    ) -> PullRequest:
        raw = self._existing_pull(repo, head, base)
        if raw is not None and raw.get("merged_at"):
            return pull_request(raw)  # done already (a restart after the merge): nothing to open or label
        for label in labels:
            self.ensure_label(repo, label)
        if raw is None:
            raw = self._create_pull(repo, head, base, title, body)
        pull = pull_request(raw)
        self._add_labels(repo, pull.number, labels, raw)
        self._request_reviews(repo, pull.number, reviewers, raw)
        return pull

    def _existing_pull(self, repo: str, head: str, base: str) -> dict[str, Any] | None:
        """The open pull request from `head` into `base`, else one that merged it; one closed without merging
        was given up, and is not reopened."""
        owner, name = owner_and_name(repo)
        response = self._for(repo).call(lambda: self._rest(repo).pulls.list(
            owner, name, head=f"{owner}:{head}", base=base, state="all", per_page=100), PULLS_READ)
        pulls = response.json()
        return next((p for p in pulls if p["state"] == "open"), None) or next(
            (p for p in pulls if p.get("merged_at")), None)

    def _create_pull(self, repo: str, head: str, base: str, title: str, body: str) -> dict[str, Any]:
        owner, name = owner_and_name(repo)
        try:
            return self._for(repo).call(lambda: self._rest(repo).pulls.create(
                owner, name, head=head, base=base, title=title, body=body), PULLS_WRITE).json()
        except CodeHostRefused as refused:
            # Someone opened it between our look and our create: adopt theirs.
            if refused.status == 422 and (raw := self._existing_pull(repo, head, base)) is not None:
                return raw
            raise

    def _add_labels(self, repo: str, number: int, labels: Sequence[str], raw: Mapping[str, Any]) -> None:
        present = {label["name"].lower() for label in raw.get("labels") or []}
        missing = [label for label in labels if label.lower() not in present]
        if missing:
            owner, name = owner_and_name(repo)
            self._for(repo).call(lambda: self._rest(repo).issues.add_labels(owner, name, number, labels=missing),
                              PULLS_WRITE)

    def _request_reviews(self, repo: str, number: int, reviewers: Sequence[str],
                         raw: Mapping[str, Any]) -> None:
        # GitHub refuses a review request to the pull request's author; one already requested is left alone.
        skipped = {(raw.get("user") or {}).get("login", "").lower()}
        skipped |= {user["login"].lower() for user in raw.get("requested_reviewers") or []}
        wanted = [login for login in dict.fromkeys(reviewers) if login.lower() not in skipped]
        if wanted:
            owner, name = owner_and_name(repo)
            request = self._rest(repo).pulls.request_reviewers
            self._for(repo).call(lambda: request(owner, name, number, reviewers=wanted), PULLS_WRITE)

    def pull_request(self, repo: str, number: int) -> PullRequest:
        owner, name = owner_and_name(repo)
        return self._for(repo).conditional(
            f"pull {repo}#{number}",
            lambda headers: self._rest(repo).pulls.get(owner, name, number, headers=headers),
            lambda response: pull_request(response.json()), PULLS_READ)

    def reviews(self, repo: str, number: int) -> tuple[Review, ...]:
        owner, name = owner_and_name(repo)
        found = self._for(repo).paged(
            f"reviews {repo}#{number}",
            lambda page, headers: self._rest(repo).pulls.list_reviews(
                owner, name, number, per_page=100, page=page, headers=headers),
            lambda response: [review(raw) for raw in response.json() if raw.get("user")], PULLS_READ)
        return tuple(found)

    # CI
    def checks(self, repo: str, sha: str) -> tuple[Check, ...]:
        owner, name = owner_and_name(repo)
        runs = self._for(repo).paged(
            f"check-runs {repo}@{sha}",
            lambda page, headers: self._rest(repo).checks.list_for_ref(
                owner, name, sha, filter_="latest", per_page=100, page=page, headers=headers),
            lambda response: [check_run(raw) for raw in response.json()["check_runs"]], "checks=read")
        statuses = self._for(repo).paged(
            f"status {repo}@{sha}",
            lambda page, headers: self._rest(repo).repos.get_combined_status_for_ref(
                owner, name, sha, per_page=100, page=page, headers=headers),
            lambda response: [commit_status(raw) for raw in response.json()["statuses"]], "statuses=read")
        return (*runs, *statuses)

    def commit_authors(self, repo: str, base: str, head: str) -> tuple[str, ...]:
        owner, name = owner_and_name(repo)
        commits = self._for(repo).paged(
            f"compare {repo} {base}...{head}",
            lambda page, headers: self._rest(repo).repos.compare_commits(
                owner, name, f"{base}...{head}", per_page=100, page=page, headers=headers),
            lambda response: response.json()["commits"], CONTENTS_READ)
        people = (commit.get(role) or {} for commit in commits for role in ("author", "committer"))
        return tuple(dict.fromkeys(person["login"] for person in people if person.get("login")))

    # Merging
    def merge(self, repo: str, number: int, sha: str, method: str = "merge") -> PullRequest:
        if method not in MERGE_METHODS:
            raise ValueError(f"merge method {method!r} is not one of {MERGE_METHODS}")
        pull = self._fresh_pull(repo, number)
        if pull.state is PullRequestState.MERGED:
            return pull
        if pull.state is PullRequestState.CLOSED:
            raise MergeRefused(f"Pull request #{number} was closed without merging", MergeRefusal.NOT_ALLOWED)
        if pull.head_sha != sha:
            raise MergeRefused(f"Pull request #{number} moved to {pull.head_sha[:10]} after {sha[:10]}",
                               MergeRefusal.HEAD_MOVED)
        owner, name = owner_and_name(repo)
        try:
            response = self._for(repo).call(lambda: self._rest(repo).pulls.merge(
                owner, name, number, sha=sha, merge_method=method), CONTENTS_WRITE)
        except CodeHostRefused as refused:
            if refused.status not in (405, 409):
                raise
            reason = merge_refusal(refused.status, str(refused), pull.mergeable)
            raise MergeRefused(str(refused), reason) from refused
        merged = response.json()["sha"]
        return PullRequest(pull.number, pull.url, pull.head_ref, sha, pull.base_ref, PullRequestState.MERGED,
                           merged_sha=merged, mergeable=None, author=pull.author)

    def _fresh_pull(self, repo: str, number: int) -> PullRequest:
        owner, name = owner_and_name(repo)
        response = self._for(repo).call(lambda: self._rest(repo).pulls.get(owner, name, number), PULLS_READ)
        return pull_request(response.json())

    # Labels and access
    def ensure_label(self, repo: str, name: str, color: str = "d73a4a", description: str = "") -> None:
        if (repo, name.lower()) in self._labels:
            return
        owner, repo_name = owner_and_name(repo)
        try:
            self._for(repo).call(lambda: self._rest(repo).issues.create_label(
                owner, repo_name, name=name, color=color, description=description), "issues=write")
        except CodeHostRefused as refused:
            if refused.status != 422 or "already_exists" not in str(refused):
                raise
        self._labels.add((repo, name.lower()))

    def permissions(self, repo: str) -> RepoAccess:
        return repo_access(self._clients, *owner_and_name(repo))
