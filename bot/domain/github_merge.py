"""Merge-back through pull requests on a GitHub repo: the hotfix's pull request merged into main with a merge
commit, a pull request into every other target, and what happens when GitHub will not merge one.

A target counts as done when GitHub says its pull request merged (squash and rebase merges count) or when git
shows the fix there (`procedure.record_merged` either way). A refused merge leaves the pull request open, says
why once, names who can act, and is tried again when something changed.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from bot.domain import procedure
from bot.domain.codehost import MergeRefusal, PullRequest, PullRequestState
from bot.domain.github_flow import PullRequestRef, hotfix_pull_request, pull_request_ref
from bot.domain.hotfix import (
    BOT, Effect, Event, EventKind, Hotfix, MergeBack, MergePullRequest, OpenMergeBackPullRequest, PushMergeBranch,
    Stage, SummarizeDiff, TagRelease,
)
from bot.domain.policy import ONCALL_LEAD, REVIEWER, Policy
from bot.domain.transitions import Outcome


def through_pull_requests(outcome: Outcome, events: Sequence[Event]) -> Outcome:
    """A move that merges back on plain git (Stable, ending monitoring early, a retry), on GitHub: each target
    left gets its pull request merged, or opened first: main the hotfix's own, any other target one from a merge
    branch (`merge_branch`) pushed first."""
    if MergeBack() not in outcome.effects:
        return outcome
    hotfix = outcome.hotfix
    pulls = pull_requests_by_target((*events, *outcome.events))
    merges: list[Effect] = []
    for target in hotfix.targets_left:
        pull = pulls.get(target)
        if pull is None:
            merges.append(PushMergeBranch(target))
        else:
            merges.append(MergePullRequest(target, pull.number, _sha_to_merge(hotfix, pull, events)))
    effects = tuple(e for e in outcome.effects if e != MergeBack())
    return Outcome(hotfix, outcome.events, (*merges, *effects))


def pull_requests_by_target(events: Sequence[Event]) -> dict[str, PullRequestRef]:
    """The pull request that merges the hotfix into each target: its own one into main, then the merge-back
    ones (the latest recorded wins)."""
    pulls: dict[str, PullRequestRef] = {}
    own = hotfix_pull_request(events)
    if own is not None:
        pulls[own.target] = own
    for event in events:
        if event.kind is EventKind.MERGE_BACK_PR_OPENED:
            ref = pull_request_ref(event)
            pulls[ref.target] = ref
    return pulls


def _sha_to_merge(hotfix: Hotfix, pull: PullRequestRef, events: Sequence[Event], head: str | None = None) -> str:
    """What was approved and tagged, for a pull request from the hotfix branch: commits pushed after it never
    ride along. A merge branch's (opened where the hotfix branch conflicts) is its `head` now: people may push a
    resolution to it."""
    if _from_hotfix_branch(hotfix, pull, events) and hotfix.approved_commit:
        return hotfix.approved_commit
    return head or pull.head


def _from_hotfix_branch(hotfix: Hotfix, pull: PullRequestRef, events: Sequence[Event]) -> bool:
    if pull.branch:
        return pull.branch == hotfix.branch
    return pull == hotfix_pull_request(events) or pull.head == hotfix.approved_commit  # recorded before branches


def merge_branch(hotfix: Hotfix, target: str) -> str:
    """The branch the pull request into `target` comes from: people may push a conflict's resolution to it."""
    return f"{hotfix.branch}-into-{target}"


def record_merge_branch(hotfix: Hotfix, *, target: str) -> Outcome:
    """The merge branch for `target` is pushed: its pull request is opened next."""
    if hotfix.stage is not Stage.MERGING_BACK or target not in hotfix.targets_left:
        return Outcome(hotfix)
    return Outcome(hotfix, effects=(OpenMergeBackPullRequest(target),))


def record_merge_back_pull_request(hotfix: Hotfix, events: Sequence[Event], *, target: str, number: int, url: str,
                                   head: str, now: datetime, branch: str = "") -> Outcome:
    """The pull request into `target` (from `branch`, at `head`) is open (opened, or adopted): the thread links
    it, and the bot merges it."""
    if hotfix.stage is not Stage.MERGING_BACK or target not in hotfix.targets_left:
        return Outcome(hotfix)
    known = pull_requests_by_target(events).get(target)
    if known is not None and known.number == number:
        return Outcome(hotfix)  # a re-run of the job that opened it
    detail = {"target": target, "number": number, "url": url, "head": head, "branch": branch}
    event = Event(EventKind.MERGE_BACK_PR_OPENED, BOT, now, detail)
    ref = PullRequestRef(number, url, target, head, branch)
    return Outcome(hotfix, (event,), (MergePullRequest(target, number, _sha_to_merge(hotfix, ref, events, head)),))


def record_merge_refused(hotfix: Hotfix, events: Sequence[Event], *, target: str, number: int, sha: str,
                         reason: MergeRefusal, message: str, policy: Policy, now: datetime) -> Outcome:
    """GitHub would not merge the pull request: it stays open; the thread says why, once, to who can act. While
    deploying (trunk flow: the merge before the tag) nothing is tagged; Retry merges again."""
    deploying = hotfix.stage is Stage.DEPLOYING
    if not deploying and (hotfix.stage is not Stage.MERGING_BACK or target not in hotfix.targets_left):
        return Outcome(hotfix)
    last = _last_refusal(events, target, number)
    said = last is not None and last.detail["reason"] == reason.value and last.detail["sha"] == sha
    if said and not deploying:  # deploying, each refusal answers someone's Retry
        return Outcome(hotfix)
    ref = pull_requests_by_target(events).get(target)
    detail = {"target": target, "number": number, "sha": sha, "reason": reason.value, "message": message,
              "users": who_can_act(hotfix, reason, policy), "branch": ref.branch if ref else "",
              "stage": hotfix.stage.value}
    refused = Event(EventKind.MERGE_REFUSED, BOT, now, detail)
    if deploying and reason is MergeRefusal.HEAD_MOVED:
        # Trunk flow: commits landed after the approval; as on plain git, nothing is tagged and they are reviewed.
        again = replace(hotfix, stage=Stage.IN_REVIEW, review_commit=None)
        return Outcome(again, (refused,), (SummarizeDiff(),))
    return Outcome(hotfix, (refused,))


def who_can_act(hotfix: Hotfix, reason: MergeRefusal, policy: Policy) -> tuple[str, ...]:
    """A required review: the reviewers other than the declarer. Checks, a conflict, a moved head: whoever runs
    the hotfix. Anything else (protection, permissions): the on-call leads, who can ask an admin."""
    approvals = policy.approvals
    if reason is MergeRefusal.REQUIRED_REVIEW:
        users = set(approvals.holders(REVIEWER)) - {hotfix.declared_by}
    elif reason is MergeRefusal.NOT_ALLOWED:
        users = {*approvals.holders(ONCALL_LEAD), hotfix.declared_by}
    else:
        users = {hotfix.declared_by}
    return tuple(sorted(users))


def record_pull_request_state(hotfix: Hotfix, events: Sequence[Event], *, pull: PullRequest,
                              now: datetime) -> Outcome:
    """A poll of one of the hotfix's pull requests while merging back: merged (by the bot or by someone, in any
    way) counts; closed unmerged is said once; open after a refusal is tried again when its head moved or it
    became mergeable."""
    ref = next((ref for ref in pull_requests_by_target(events).values() if ref.number == pull.number), None)
    if hotfix.stage is not Stage.MERGING_BACK or ref is None or ref.target not in hotfix.targets_left:
        return Outcome(hotfix)
    target = ref.target
    refused = _last_refusal(events, target, pull.number)
    if pull.state is PullRequestState.MERGED:
        return procedure.record_merged(hotfix, target=target, commit=pull.merged_sha or pull.head_sha,
                                       by_hand=refused is not None, now=now)
    if pull.state is PullRequestState.CLOSED:
        if _closed_already(events, pull.number):
            return Outcome(hotfix)
        detail = {"target": target, "number": pull.number, "url": pull.url}
        return Outcome(hotfix, (Event(EventKind.PULL_REQUEST_CLOSED, BOT, now, detail),))
    sha = _sha_to_merge(hotfix, ref, events, pull.head_sha)
    if refused is not None and (sha != refused.detail["sha"] or _conflict_gone(refused, pull)):
        return Outcome(hotfix, effects=(MergePullRequest(target, pull.number, sha),))
    return Outcome(hotfix)


def retry_refused_merges(hotfix: Hotfix, events: Sequence[Event]) -> Outcome:
    """When the merge-back reminder comes due: try again every merge GitHub refused (a review or a check may
    have arrived since; GitHub does not say)."""
    if hotfix.stage is not Stage.MERGING_BACK:
        return Outcome(hotfix)
    effects = []
    for target, ref in pull_requests_by_target(events).items():
        refused = _last_refusal(events, target, ref.number)
        if target in hotfix.targets_left and refused is not None:
            sha = _sha_to_merge(hotfix, ref, events, str(refused.detail["sha"]))
            effects.append(MergePullRequest(target, ref.number, sha))
    return Outcome(hotfix, effects=tuple(effects))


def _conflict_gone(refused: Event, pull: PullRequest) -> bool:
    return refused.detail["reason"] == MergeRefusal.CONFLICT.value and pull.mergeable is True


def _last_refusal(events: Sequence[Event], target: str, number: int) -> Event | None:
    return next((e for e in reversed(events) if e.kind is EventKind.MERGE_REFUSED
                 and e.detail["target"] == target and e.detail["number"] == number), None)


def _closed_already(events: Sequence[Event], number: int) -> bool:
    return any(e.kind is EventKind.PULL_REQUEST_CLOSED and e.detail["number"] == number for e in events)


def merge_before_tag(outcome: Outcome, events: Sequence[Event]) -> Outcome:
    """Trunk flow on GitHub: main is protected, so Tag & deploy merges the hotfix's pull request first (a merge
    commit, only while its head is the approved commit) and the tag goes on that merge commit."""
    own = hotfix_pull_request(events)
    commit = outcome.hotfix.approved_commit
    if TagRelease() not in outcome.effects or own is None or commit is None:
        return outcome
    effects = tuple(MergePullRequest(own.target, own.number, commit) if e == TagRelease() else e
                    for e in outcome.effects)
    return Outcome(outcome.hotfix, outcome.events, effects)


def record_pull_request_merged(hotfix: Hotfix, *, target: str, commit: str, now: datetime) -> Outcome:
    """A pull request the bot merged: while deploying (trunk flow) the tag follows on the merge commit; while
    merging back the target has the fix."""
    if hotfix.stage is Stage.DEPLOYING:
        return Outcome(hotfix, effects=(TagRelease(),))
    return procedure.record_merged(hotfix, target=target, commit=commit, by_hand=False, now=now)
