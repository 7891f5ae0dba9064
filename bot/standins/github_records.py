"""What the stand-in GitHub keeps of a repository beyond its git refs: pull requests, reviews, checks, statuses,
branch protection."""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from datetime import datetime

SUCCESSFUL_CONCLUSIONS = frozenset({"success", "neutral", "skipped"})


@dataclass
class PullRequest:
    number: int
    title: str
    body: str | None
    head: str  # branch names on the remote
    base: str
    author: str
    created_at: datetime
    updated_at: datetime
    draft: bool = False
    state: str = "open"
    closed_at: datetime | None = None
    merged_at: datetime | None = None
    merged_by: str | None = None
    merge_commit_sha: str | None = None
    head_sha_at_merge: str | None = None
    requested_reviewers: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)


@dataclass
class Review:
    id: int
    login: str
    state: str  # APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED
    commit_id: str
    body: str
    submitted_at: datetime


@dataclass
class CheckRun:
    id: int
    name: str
    head_sha: str
    status: str  # queued, in_progress, completed
    conclusion: str | None
    started_at: datetime
    completed_at: datetime | None
    details_url: str | None


@dataclass
class Status:
    id: int
    sha: str
    context: str
    state: str  # error, failure, pending, success
    description: str | None
    target_url: str | None
    created_at: datetime


@dataclass
class Protection:
    required_approvals: int = 0
    required_checks: tuple[str, ...] = ()
    dismiss_stale_reviews: bool = False


def numeric_id(text: str) -> int:
    return zlib.crc32(text.encode()) % 90_000_000 + 10_000_000


def stamp(when: datetime | None) -> str | None:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ") if when else None
