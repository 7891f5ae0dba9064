"""The hotfix itself: its stages, the decisions on it, what happened to it, and what must happen next."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Union

from bot.domain.policy import Severity
from bot.domain.timers import CancelTimers, DelayTimer, StartTimer


class Stage(StrEnum):
    AWAITING_APPROVAL = "awaiting_approval"  # declared; waiting for the roles the severity needs
    APPROVED = "approved"  # every role approved; the branch is being cut
    FIXING = "fixing"  # branch pushed; engineers commit the fix to it
    IN_REVIEW = "in_review"  # one reviewer who is not the declarer, 1 h SLA
    REVIEWED = "reviewed"  # review approved; ready to tag and deploy
    DEPLOYING = "deploying"  # the release tag is being pushed
    MONITORING = "monitoring"  # tag pushed; watching production until Stable or Roll back
    MERGING_BACK = "merging_back"  # stable; merging into every target branch
    MERGED = "merged"  # every target contains the fix; ready to close
    CLOSED = "closed"
    REJECTED = "rejected"

    @property
    def label(self) -> str:
        return _STAGE_LABELS[self]

    @property
    def is_active(self) -> bool:
        return self not in (Stage.CLOSED, Stage.REJECTED)


_STAGE_LABELS = {
    Stage.AWAITING_APPROVAL: "Awaiting approval",
    Stage.APPROVED: "Approved, cutting branch",
    Stage.FIXING: "Fixing",
    Stage.IN_REVIEW: "In review",
    Stage.REVIEWED: "Review approved",
    Stage.DEPLOYING: "Tagging & deploying",
    Stage.MONITORING: "Monitoring",
    Stage.MERGING_BACK: "Merging back",
    Stage.MERGED: "Merged back, ready to close",
    Stage.CLOSED: "Closed",
    Stage.REJECTED: "Rejected",
}


@dataclass(frozen=True)
class Decision:
    """One approver's approval or rejection, for one role."""

    role: str
    user_id: str
    at: datetime
    approved: bool = True
    reason: str = ""


@dataclass(frozen=True)
class Hotfix:
    title: str
    issue_id: str
    severity: Severity
    impact: str
    risk: str
    repo: str
    branch: str
    declared_by: str
    declared_at: datetime
    security: bool = False
    override: bool = False
    stage: Stage = Stage.AWAITING_APPROVAL
    decisions: tuple[Decision, ...] = ()
    number: int | None = None  # assigned by the store
    base_ref: str | None = None
    base_commit: str | None = None
    review_commit: str | None = None  # the branch head the open review request showed
    approved_commit: str | None = None  # the commit the latest review approved: what is tagged and merged back
    tag: str | None = None  # the latest release tag pushed for this hotfix
    tag_commit: str | None = None
    previous_tag: str | None = None  # what production ran before: the rollback target
    merge_targets: tuple[str, ...] = ()
    merged_into: tuple[str, ...] = ()
    closed_at: datetime | None = None

    @property
    def key(self) -> str:
        return f"HF-{self.number}" if self.number is not None else "HF-?"

    @property
    def approvals(self) -> tuple[Decision, ...]:
        return tuple(d for d in self.decisions if d.approved)

    @property
    def rejection(self) -> Decision | None:
        return next((d for d in self.decisions if not d.approved), None)

    def decision_by(self, user_id: str) -> Decision | None:
        return next((d for d in self.decisions if d.user_id == user_id), None)

    @property
    def targets_left(self) -> tuple[str, ...]:
        return tuple(t for t in self.merge_targets if t not in self.merged_into)


class EventKind(StrEnum):
    DECLARED = "declared"
    APPROVED = "approved"
    FULLY_APPROVED = "fully_approved"
    REJECTED = "rejected"
    BRANCH_CUT = "branch_cut"
    READY_FOR_REVIEW = "ready_for_review"
    REVIEW_REQUESTED = "review_requested"
    REVIEW_APPROVED = "review_approved"
    CHANGES_REQUESTED = "changes_requested"
    DEPLOY_STARTED = "deploy_started"
    BRANCH_MOVED = "branch_moved"
    TAGGED = "tagged"
    STABLE = "stable"
    MONITORING_ENDED_EARLY = "monitoring_ended_early"
    ROLLED_BACK = "rolled_back"
    MERGED_BACK = "merged_back"
    MERGE_CONFLICT = "merge_conflict"
    ALL_MERGED = "all_merged"
    BRANCH_DELETED = "branch_deleted"
    BRANCH_KEPT = "branch_kept"
    CLOSED = "closed"
    STEP_FAILED = "step_failed"
    RETRIED = "retried"
    REMINDED = "reminded"
    SNOOZED = "snoozed"
    HEALTH_FAILED = "health_failed"
    HEALTH_RECOVERED = "health_recovered"
    WENT_LIVE = "went_live"
    LOOKED_FINE = "looked_fine"  # a monitoring check-in answered "Looks fine"
    # The GitHub path (bot.domain.github_*): what the code host said, kept so the procedure can read it back.
    PULL_REQUEST_OPENED = "pull_request_opened"  # the hotfix's pull request into main, opened or adopted
    APPROVAL_OUTDATED = "approval_outdated"  # a push after the approval: the new head needs its own approval
    CI_WAITING = "ci_waiting"  # a commit's CI is watched; no check or status yet
    CI_PENDING = "ci_pending"
    CI_PASSED = "ci_passed"
    CI_FAILED = "ci_failed"
    CI_MISSING = "ci_missing"  # no check and no status at all after ci_wait
    CI_OVERRIDDEN = "ci_overridden"  # an on-call lead tags without CI, with a reason
    DEPLOY_CHECKS_STARTED = "deploy_checks_started"  # checks the tag's push started on the tagged commit
    DEPLOY_CHECKS_PASSED = "deploy_checks_passed"
    DEPLOY_CHECKS_FAILED = "deploy_checks_failed"
    MERGE_BACK_PR_OPENED = "merge_back_pr_opened"
    MERGE_REFUSED = "merge_refused"  # the code host would not merge a pull request: it stays open, with why
    PULL_REQUEST_CLOSED = "pull_request_closed"  # someone closed a pull request of the hotfix without merging


Row = tuple[str | int, ...]  # one entry of a table, e.g. a commit's SHA, subject and author
DetailValue = Union[str, int, tuple[str, ...], tuple[Row, ...]]


@dataclass(frozen=True)
class Event:
    """One line of the incident's append-only audit trail.

    `detail` values are text (`str`), counts (`int`: "count", "of", "round", "minutes", "insertions",
    "deletions"), lists of names (`tuple[str, ...]`: "missing" roles, "users", merge "targets", conflicting or
    changed "files"; read them with `names`) or tables (`tuple[Row, ...]`: "commits" and "new_commits" as
    (sha, subject, author), "changes" and "shown_changes" as (path, insertions, deletions)). Never a list
    joined or encoded into one string.
    """

    kind: EventKind
    actor: str  # a Slack user ID, or "bot"
    at: datetime
    detail: Mapping[str, DetailValue] = field(default_factory=dict)

    def names(self, key: str) -> tuple[str, ...]:
        """A list of names in the detail; () when this event has none."""
        value = self.detail.get(key, ())
        if isinstance(value, str | int):
            raise TypeError(f"{self.kind.value} detail {key!r} is {value!r}, not a list")
        return tuple(value)


BOT = "bot"


@dataclass(frozen=True)
class CutBranch:
    """Git worker: cut and push the hotfix branch."""


@dataclass(frozen=True)
class SummarizeDiff:
    """Git worker: measure the branch against its base and post the review request."""


@dataclass(frozen=True)
class TagRelease:
    """Git worker: push the next patch tag (in trunk flow after merging into main)."""


@dataclass(frozen=True)
class MergeBack:
    """Git worker: merge the hotfix into every target still missing it."""


@dataclass(frozen=True)
class PushMergeBranch:
    """Git worker (GitHub): push a branch of its own at the approved commit for the pull request into `target`,
    so that resolving a conflict there (GitHub's Resolve conflicts commits to the head branch) never moves the
    hotfix branch, and so never what main gets."""

    target: str


@dataclass(frozen=True)
class VerifyMerged:
    """Git worker: check which targets contain the fix; with `remind`, name the ones that don't."""

    remind: bool = False


@dataclass(frozen=True)
class DeleteBranch:
    """Git worker: every target has the fix; delete the hotfix branch."""


@dataclass(frozen=True)
class ProbeDeploy:
    """Deploy probe: ask the repository's health and version endpoints how production is doing."""


GitEffect = Union[CutBranch, SummarizeDiff, TagRelease, MergeBack, VerifyMerged, DeleteBranch, PushMergeBranch]


@dataclass(frozen=True)
class OpenPullRequest:
    """Code host: open the hotfix's pull request into main, or adopt the one someone opened for the branch."""


@dataclass(frozen=True)
class PollCodeHost:
    """Code host: read the hotfix's pull requests, reviews and checks again, and record what changed."""


@dataclass(frozen=True)
class MergePullRequest:
    """Code host: merge pull request `number` into `target` with a merge commit, only if its head is still `sha`."""

    target: str
    number: int
    sha: str


@dataclass(frozen=True)
class OpenMergeBackPullRequest:
    """Code host: open (or adopt) the pull request that merges the hotfix into `target`."""

    target: str


CodeHostEffect = Union[OpenPullRequest, PollCodeHost, MergePullRequest, OpenMergeBackPullRequest]
Effect = Union[GitEffect, ProbeDeploy, StartTimer, CancelTimers, DelayTimer, CodeHostEffect]
