"""A worker's step that failed, as data: which step, why, and what happens next. Each surface words it its way."""
from __future__ import annotations

from collections.abc import Mapping

RETRYING = "retrying"  # a passing fault (remote down): the step runs again by itself
PRESS_RETRY = "press_retry"  # a refusal someone must fix; then a person presses Retry

STEP_NAMES = {
    "cut_branch": "Cutting the branch", "summarize_diff": "Measuring the change", "tag_release": "Tagging",
    "merge_back": "Merging back", "verify_merged": "Checking the merge-back", "delete_branch": "Deleting the branch",
    "open_pull_request": "Opening the pull request", "poll": "Reading GitHub",
    "merge_pull_request": "Merging the pull request", "open_merge_back_pull_request": "Opening the merge-back pull request",
}


def failure_detail(step: str, reason: str, then: str = "") -> dict[str, str]:
    return {"step": step, "reason": reason, "then": then}


def describe(detail: Mapping[str, str]) -> str:
    """The failure in plain words, without what a person should do about it."""
    if "message" in detail:  # recorded before failures were data, or a step's own sentence
        return detail["message"]
    if detail.get("then") == RETRYING:
        return f"{detail['reason']} Retrying until it is back."
    return f"{STEP_NAMES.get(detail['step'], detail['step'])} failed: {detail['reason']}"


def needs_retry_press(detail: Mapping[str, str]) -> bool:
    return detail.get("then") == PRESS_RETRY
