"""What the procedure asks of a code host, and how a code host says no.

`repo` is the host's name for the repository, `owner/name` on GitHub (the `github` key of a `[[repos]]`
entry).
Nothing here waits or retries: a host that is down or rate limited raises `CodeHostUnavailable` with how long
to wait, and the job runner retries the step.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Protocol

from bot.domain.codehost import Check, MergeRefusal, PullRequest, RepoAccess, Review


class CodeHostError(Exception):
    """Any failure of the code host; str(err) is said in the hotfix's thread."""


class CodeHostUnavailable(CodeHostError):
    """Down, failing (5xx), unreachable or rate limited: try again after `after` (None: the runner's own
    back-off)."""

    def __init__(self, message: str, after: timedelta | None = None) -> None:
        super().__init__(message)
        self.after = after


class CodeHostRefused(CodeHostError):
    """The host refused the request (401, 403, 404, 422...): retrying will not help until someone acts.
    `permission` names what the token lacks, in the host's words (e.g. `pull_requests=write`), when known."""

    def __init__(self, message: str, *, status: int, permission: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.permission = permission


class MergeRefused(CodeHostError):
    """The pull request was not merged, and why; nothing changed on the host."""

    def __init__(self, message: str, reason: MergeRefusal) -> None:
        super().__init__(message)
        self.reason = reason


class CodeHost(Protocol):
    def open_or_adopt_pull_request(
        self, repo: str, head: str, base: str, title: str, body: str,
        labels: Sequence[str] = (), reviewers: Sequence[str] = (),
    ) -> PullRequest:
        """The open pull request from `head` into `base`: adopted if someone opened one, else opened (never
        twice); labelled with `labels` (created if missing) and with a review requested from `reviewers`.
        One that merged `head` already is returned as it is (merged): nothing is opened after a merge."""
        ...

    def pull_request(self, repo: str, number: int) -> PullRequest: ...

    def reviews(self, repo: str, number: int) -> tuple[Review, ...]:
        """Every review of the pull request, oldest first."""
        ...

    def checks(self, repo: str, sha: str) -> tuple[Check, ...]:
        """The latest check run per name and the latest commit status per context on the commit `sha`."""
        ...

    def commit_authors(self, repo: str, base: str, head: str) -> tuple[str, ...]:
        """The logins of the authors (and committers) of the commits `base..head`, as the host links them."""
        ...

    def merge(self, repo: str, number: int, sha: str, method: str = "merge") -> PullRequest:
        """Merge the pull request only if its head is still `sha` (`method`: merge, squash or rebase). A pull
        request already merged is returned as it is: a merge is never attempted twice. Raises MergeRefused."""
        ...

    def ensure_label(self, repo: str, name: str, color: str = "d73a4a", description: str = "") -> None: ...

    def permissions(self, repo: str) -> RepoAccess:
        """What `doctor` reports: can the token read the repository, its pull requests, checks and statuses,
        and write pull requests and contents."""
        ...
