"""A code host (GitHub) in the procedure's terms: pull requests, reviews, CI checks, and the rules read from
them.

Pure: the adapter in `bot.codehost` turns the host's answers into these values; what they mean for a hotfix
(which review approves it, whether CI lets it ship) is decided here.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class PullRequestState(StrEnum):
    OPEN = "open"
    CLOSED = "closed"  # closed without merging
    MERGED = "merged"


@dataclass(frozen=True)
class PullRequest:
    number: int
    url: str  # the page people open
    head_ref: str
    head_sha: str
    base_ref: str
    state: PullRequestState
    merged_sha: str | None = None  # the commit the merge made on the base
    mergeable: bool | None = None  # None: the host has not computed it yet
    author: str = ""  # the login that opened it


class ReviewState(StrEnum):
    APPROVED = "approved"
    CHANGES_REQUESTED = "changes_requested"
    COMMENTED = "commented"
    DISMISSED = "dismissed"
    PENDING = "pending"  # a draft review, seen only by its author


@dataclass(frozen=True)
class Review:
    login: str
    state: ReviewState
    commit: str  # the head the reviewer saw
    body: str
    at: datetime | None


class CheckKind(StrEnum):
    CHECK_RUN = "check_run"
    STATUS = "status"  # a commit status


class CheckState(StrEnum):
    QUEUED = "queued"
    IN_PROGRESS = "in_progress"
    PENDING = "pending"
    WAITING = "waiting"
    SUCCESS = "success"
    NEUTRAL = "neutral"
    SKIPPED = "skipped"
    FAILURE = "failure"
    ERROR = "error"
    CANCELLED = "cancelled"
    TIMED_OUT = "timed_out"
    ACTION_REQUIRED = "action_required"
    STALE = "stale"
    STARTUP_FAILURE = "startup_failure"

    @property
    def finished(self) -> bool:
        return self not in _RUNNING

    @property
    def succeeded(self) -> bool:
        # A neutral or skipped check does not block a merge on GitHub either.
        return self in (CheckState.SUCCESS, CheckState.NEUTRAL, CheckState.SKIPPED)


_RUNNING = frozenset({CheckState.QUEUED, CheckState.IN_PROGRESS, CheckState.PENDING, CheckState.WAITING})


@dataclass(frozen=True)
class Check:
    name: str
    state: CheckState
    url: str | None
    kind: CheckKind = CheckKind.CHECK_RUN


class CiOutcome(StrEnum):
    NONE_YET = "none_yet"  # no check and no status at all (or none of the required ones)
    PENDING = "pending"
    PASSED = "passed"
    FAILED = "failed"


@dataclass(frozen=True)
class CiVerdict:
    outcome: CiOutcome
    failing: tuple[Check, ...] = ()
    running: tuple[Check, ...] = ()
    missing: tuple[str, ...] = ()  # required checks that have not reported at all


def ci_verdict(checks: Iterable[Check], required_checks: Collection[str] = ()) -> CiVerdict:
    """What CI says of one commit. With no `required_checks` every check run and status must succeed;
    otherwise only the required ones count, and each must have reported. One failure fails it even while
    others run."""
    counted = [c for c in checks if not required_checks or c.name in required_checks]
    missing = tuple(name for name in required_checks if all(c.name != name for c in counted))
    if not counted:
        return CiVerdict(CiOutcome.NONE_YET, missing=missing)
    failing = tuple(c for c in counted if c.state.finished and not c.state.succeeded)
    running = tuple(c for c in counted if not c.state.finished)
    if failing:
        return CiVerdict(CiOutcome.FAILED, failing, running, missing)
    if running or missing:
        return CiVerdict(CiOutcome.PENDING, running=running, missing=missing)
    return CiVerdict(CiOutcome.PASSED)


class MergeRefusal(StrEnum):
    """Why the host would not merge a pull request; each names who can act on it."""

    REQUIRED_REVIEW = "required_review"
    FAILING_CHECKS = "failing_checks"
    CONFLICT = "conflict"
    HEAD_MOVED = "head_moved"  # the branch moved past the commit that was to be merged
    NOT_ALLOWED = "not_allowed"  # closed, protected otherwise, or the token may not merge


@dataclass(frozen=True)
class RepoAccess:
    """What `doctor` learns of the token on one repository: each missing permission in GitHub's words."""

    repo: str
    missing: tuple[str, ...] = ()  # e.g. "pull_requests: write"
    unverified: tuple[str, ...] = ()  # what could not be checked without writing

    @property
    def ok(self) -> bool:
        return not self.missing


@dataclass(frozen=True)
class People:
    """Who may approve a hotfix on the code host: Slack user IDs and the logins they map to ([people])."""

    logins: Mapping[str, str]  # Slack user ID -> login
    reviewers: Collection[str]  # Slack user IDs holding the reviewer role

    def user_of(self, login: str) -> str | None:
        wanted = login.lower()  # logins are case-insensitive
        return next((user for user, mapped in self.logins.items() if mapped.lower() == wanted), None)

    def may_approve(self, login: str, declarer: str, authors: Collection[str]) -> bool:
        """A reviewer, not the declarer, and not an author of the hotfix's commits (`authors`: logins)."""
        user = self.user_of(login)
        author_logins = {a.lower() for a in authors}
        is_reviewer = user is not None and user in self.reviewers
        return is_reviewer and user != declarer and login.lower() not in author_logins

    def logins_to_request(self, declarer: str, authors: Collection[str]) -> tuple[str, ...]:
        """The reviewers' logins a review is requested from: those who may approve this hotfix."""
        logins = (self.logins[user] for user in sorted(self.reviewers) if user in self.logins)
        return tuple(login for login in logins if self.may_approve(login, declarer, authors))


@dataclass(frozen=True)
class ReviewVerdict:
    approval: Review | None = None  # the review that approves the hotfix at the current head
    changes_requested: tuple[Review, ...] = ()  # on the current head, by people who may approve it
    approvals: tuple[Review, ...] = ()  # every approval on the current head by people who may approve it

    @property
    def approved(self) -> bool:
        return self.approval is not None and not self.changes_requested


def review_verdict(reviews: Iterable[Review], head: str, people: People, declarer: str,
                   authors: Collection[str]) -> ReviewVerdict:
    """Each reviewer's latest approval, change request or dismissal counts (a comment changes nothing, as on
    GitHub); only those on `head` count: a push after an approval needs a new approval, and a change request
    made on an older head was answered by the push."""
    latest: dict[str, Review] = {}
    for review in reviews:
        if review.state in (ReviewState.APPROVED, ReviewState.CHANGES_REQUESTED, ReviewState.DISMISSED):
            latest[review.login.lower()] = review
    current = [
        r for r in latest.values() if r.commit == head and people.may_approve(r.login, declarer, authors)
    ]
    approvals = tuple(r for r in current if r.state is ReviewState.APPROVED)
    changes = tuple(r for r in current if r.state is ReviewState.CHANGES_REQUESTED)
    return ReviewVerdict(approvals[0] if approvals else None, changes, approvals)


@dataclass(frozen=True)
class Signal:
    """The code host says something changed, and what to re-read now. Only a hint: polling stays the source of
    truth, so a lost, repeated or late signal costs at most a poll."""

    delivery: str  # the host's id of the delivery, for the log
    event: str  # the host's name for what happened, e.g. "pull_request"
    repo: str | None = None  # owner/name; None when the event names no repository
    pull_requests: tuple[int, ...] = ()
    commits: tuple[str, ...] = ()  # head shas whose reviews or checks changed
    branches: tuple[str, ...] = ()

    @property
    def worth_polling(self) -> bool:
        """False for a ping and for the events the procedure does not follow: nothing to re-read."""
        return self.repo is not None and bool(self.pull_requests or self.commits or self.branches)
