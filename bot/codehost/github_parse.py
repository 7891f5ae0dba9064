"""GitHub's JSON, in the procedure's terms.

Read from the JSON rather than githubkit's models: githubkit 0.16 generates them from a newer description that
dropped a pull request's `merge_commit_sha`, which GitHub still sends and a merged pull request needs.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bot.domain.codehost import (
    Check,
    CheckKind,
    CheckState,
    MergeRefusal,
    PullRequest,
    PullRequestState,
    Review,
    ReviewState,
)

_RUNNING_STATUSES = {
    "queued": CheckState.QUEUED, "requested": CheckState.QUEUED, "in_progress": CheckState.IN_PROGRESS,
    "waiting": CheckState.WAITING, "pending": CheckState.PENDING,
}


def pull_request(raw: Mapping[str, Any]) -> PullRequest:
    if raw.get("merged_at"):
        state = PullRequestState.MERGED
    else:
        state = PullRequestState.OPEN if raw["state"] == "open" else PullRequestState.CLOSED
    return PullRequest(
        number=raw["number"], url=raw["html_url"], head_ref=raw["head"]["ref"], head_sha=raw["head"]["sha"],
        base_ref=raw["base"]["ref"], state=state,
        merged_sha=raw.get("merge_commit_sha") if state is PullRequestState.MERGED else None,
        mergeable=raw.get("mergeable"), author=(raw.get("user") or {}).get("login", ""),
    )


def review(raw: Mapping[str, Any]) -> Review:
    return Review(login=raw["user"]["login"], state=ReviewState(raw["state"].lower()),
                  commit=raw.get("commit_id") or "", body=raw.get("body") or "",
                  at=_time(raw.get("submitted_at")))


def check_run(raw: Mapping[str, Any]) -> Check:
    if raw["status"] != "completed":
        state = _RUNNING_STATUSES.get(raw["status"], CheckState.PENDING)
    else:
        state = _finished(raw.get("conclusion"))
    return Check(raw["name"], state, raw.get("details_url") or raw.get("html_url"), CheckKind.CHECK_RUN)


def commit_status(raw: Mapping[str, Any]) -> Check:
    return Check(raw["context"], _finished(raw["state"]), raw.get("target_url"), CheckKind.STATUS)


def _finished(conclusion: str | None) -> CheckState:
    """A conclusion GitHub may add later counts as a failure: it blocks the tag rather than let it through."""
    try:
        return CheckState(conclusion or "")
    except ValueError:
        return CheckState.FAILURE


def merge_refusal(status: int, message: str, mergeable: bool | None) -> MergeRefusal:
    """Why GitHub answered 405 or 409 to a merge, from its message (GitHub gives no code for it)."""
    if status == 409:
        return MergeRefusal.HEAD_MOVED
    lowered = message.lower()
    if "review" in lowered or "changes have been requested" in lowered:
        return MergeRefusal.REQUIRED_REVIEW
    if "status check" in lowered:
        return MergeRefusal.FAILING_CHECKS
    if mergeable is False or "merge conflict" in lowered:
        return MergeRefusal.CONFLICT
    return MergeRefusal.NOT_ALLOWED


def _time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None
