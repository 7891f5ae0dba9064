"""The procedure after approval: review, tag & deploy, monitoring, merge-back and close."""
from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from datetime import datetime, timedelta

from bot.domain import failures
from bot.domain.durations import format_duration
from bot.domain.hotfix import (
    BOT, CutBranch, DeleteBranch, Event, EventKind, Hotfix, MergeBack, Stage, SummarizeDiff, TagRelease, VerifyMerged,
)
from bot.domain.policy import ONCALL_LEAD, REVIEWER, Policy, role_label
from bot.domain.review import Commit, ReviewChange, commits_to_detail
from bot.domain.timers import CancelTimers, StartTimer, TimerKind
from bot.domain.transitions import REASON_MAX, Outcome, Refused, Remedy

SECURITY = "security"
REVIEW_TIMERS = (TimerKind.REVIEW_HALFWAY, TimerKind.REVIEW_OVERDUE)
MONITORING_TIMERS = (TimerKind.MONITORING_CHECKIN, TimerKind.MONITORING_END, TimerKind.DEPLOY_PROBE)


def ready_for_review(hotfix: Hotfix, *, user_id: str, policy: Policy, now: datetime) -> Outcome:
    _check_runner(hotfix, user_id, policy, "ask for review")
    _check_stage(hotfix, {Stage.FIXING}, "ask for a review", "once the branch is cut and before it is tagged")
    # Recorded now, not when the diff is posted: reviews given before this click no longer count.
    event = Event(EventKind.READY_FOR_REVIEW, user_id, now)
    return Outcome(replace(hotfix, stage=Stage.IN_REVIEW, review_commit=None), (event,), (SummarizeDiff(),))


def record_review_request(hotfix: Hotfix, *, change: ReviewChange, policy: Policy, now: datetime) -> Outcome:
    if hotfix.stage is not Stage.IN_REVIEW or hotfix.review_commit is not None:
        return Outcome(hotfix)  # a re-run of a job that already reported
    if not change.files:
        event = Event(EventKind.STEP_FAILED, BOT, now, {
            "message": f"`{hotfix.branch}` has no changes yet. Push the fix, then press Ready for review again."})
        return Outcome(replace(hotfix, stage=Stage.FIXING), (event,))
    sla = policy.times.review_sla
    requested = replace(hotfix, review_commit=change.commit)
    return Outcome(requested, (Event(EventKind.REVIEW_REQUESTED, BOT, now, change.to_detail()),), (
        StartTimer(TimerKind.REVIEW_HALFWAY, sla / 2), StartTimer(TimerKind.REVIEW_OVERDUE, sla)))


def approve_review(hotfix: Hotfix, *, user_id: str, commit: str, policy: Policy, now: datetime,
                   reviewed_by: Collection[str] = ()) -> Outcome:
    """`commit`: the one the reviewer's checklist named; `reviewed_by`: who approved it since the latest request."""
    role = check_reviewer(hotfix, user_id, policy)
    if commit != hotfix.review_commit:
        raise Refused(f"`{hotfix.branch}` changed since you opened the review: `{(hotfix.review_commit or '')[:10]}` "
                      "is up for review now. Read the new review request in the thread, then review again.")
    event = Event(EventKind.REVIEW_APPROVED, user_id, now, {"role": role, "commit": commit})
    if _security_review_missing(hotfix, policy, {*reviewed_by, user_id}):
        return Outcome(hotfix, (event,))
    approved = replace(hotfix, stage=Stage.REVIEWED, approved_commit=commit)
    return Outcome(approved, (event,), (CancelTimers(REVIEW_TIMERS),))


def request_changes(hotfix: Hotfix, *, user_id: str, reason: str, policy: Policy, now: datetime) -> Outcome:
    role = check_reviewer(hotfix, user_id, policy)
    reason = _reason(reason, "what has to change")
    event = Event(EventKind.CHANGES_REQUESTED, user_id, now, {"role": role, "reason": reason})
    return Outcome(replace(hotfix, stage=Stage.FIXING), (event,), (CancelTimers(REVIEW_TIMERS),))


def tag_and_deploy(hotfix: Hotfix, *, user_id: str, policy: Policy, now: datetime) -> Outcome:
    _check_runner(hotfix, user_id, policy, "tag and deploy")
    _check_stage(hotfix, {Stage.REVIEWED}, "tag and deploy", "after a reviewer approved the change")
    event = Event(EventKind.DEPLOY_STARTED, user_id, now)
    return Outcome(replace(hotfix, stage=Stage.DEPLOYING), (event,), (TagRelease(),))


def record_branch_moved(hotfix: Hotfix, *, head: str, commits: tuple[Commit, ...], now: datetime) -> Outcome:
    """Commits landed on the branch after the approved one: nothing is tagged, they need a review of their own."""
    if hotfix.stage is not Stage.DEPLOYING:
        return Outcome(hotfix)
    detail = {"approved": hotfix.approved_commit or "", "head": head, "commits": commits_to_detail(commits)}
    again = replace(hotfix, stage=Stage.IN_REVIEW, review_commit=None)
    return Outcome(again, (Event(EventKind.BRANCH_MOVED, BOT, now, detail),), (SummarizeDiff(),))


def record_tag(hotfix: Hotfix, *, tag: str, commit: str, previous_tag: str, policy: Policy, now: datetime,
               probe: bool = False) -> Outcome:
    """`probe`: the repository has a health or version endpoint to poll while monitoring."""
    if hotfix.stage is not Stage.DEPLOYING:
        return Outcome(hotfix)
    tagged = replace(hotfix, stage=Stage.MONITORING, tag=tag, tag_commit=commit, previous_tag=previous_tag)
    event = Event(EventKind.TAGGED, BOT, now, {"tag": tag, "commit": commit, "previous_tag": previous_tag})
    times = policy.times
    timers = [StartTimer(TimerKind.MONITORING_CHECKIN, times.monitoring_checkin),
              StartTimer(TimerKind.MONITORING_END, times.monitoring_window)]
    if probe:
        timers.append(StartTimer(TimerKind.DEPLOY_PROBE, times.deploy_probe))
    return Outcome(tagged, (event,), tuple(timers))


def mark_stable(hotfix: Hotfix, *, user_id: str, targets: tuple[str, ...], policy: Policy, now: datetime,
                monitored_since: datetime) -> Outcome:
    """`monitored_since`: when the tag was pushed; Stable merges back only once the monitoring window has run."""
    if check_stable(hotfix, user_id=user_id, policy=policy, now=now, monitored_since=monitored_since):
        raise Refused(f"{_monitored_until(hotfix, policy, now, monitored_since)}.", Remedy.END_MONITORING_EARLY,
                      hotfix.key)
    return _stable(hotfix, user_id, targets, policy, now)


def end_monitoring_early(hotfix: Hotfix, *, user_id: str, reason: str, targets: tuple[str, ...], policy: Policy,
                         now: datetime, monitored_since: datetime) -> Outcome:
    """An on-call lead's Stable before the window is over, with a reason; once it is over, a plain Stable."""
    if not check_stable(hotfix, user_id=user_id, policy=policy, now=now, monitored_since=monitored_since):
        return _stable(hotfix, user_id, targets, policy, now)
    reason = _reason(reason, "why monitoring ends early")
    left = format_duration(_monitoring_left(policy, now, monitored_since))
    ended = Event(EventKind.MONITORING_ENDED_EARLY, user_id, now, {"reason": reason, "left": left})
    stable = _stable(hotfix, user_id, targets, policy, now)
    return replace(stable, events=(ended, *stable.events))


def check_stable(hotfix: Hotfix, *, user_id: str, policy: Policy, now: datetime, monitored_since: datetime) -> bool:
    """May this person press Stable now? True: only by ending monitoring early, with a reason (an on-call lead)."""
    _check_runner(hotfix, user_id, policy, "confirm it is stable")
    _check_stage(hotfix, {Stage.MONITORING}, "confirm stable", "while it is being monitored")
    if not _monitoring_left(policy, now, monitored_since):
        return False
    if policy.approvals.holds(user_id, ONCALL_LEAD):
        return True
    raise Refused(f"{_monitored_until(hotfix, policy, now, monitored_since)}: Stable merges back only after the "
                  "monitoring window. An on-call lead can end it early, with a reason.")


def _stable(hotfix: Hotfix, user_id: str, targets: tuple[str, ...], policy: Policy, now: datetime) -> Outcome:
    stable = replace(hotfix, stage=Stage.MERGING_BACK, merge_targets=targets)
    due = StartTimer(TimerKind.MERGE_BACK_DUE, policy.times.merge_back_due)
    event = Event(EventKind.STABLE, user_id, now, {"targets": targets})
    return Outcome(stable, (event,), (CancelTimers(MONITORING_TIMERS), MergeBack(), due))


def _monitoring_left(policy: Policy, now: datetime, monitored_since: datetime) -> timedelta:
    return max(monitored_since + policy.times.monitoring_window - now, timedelta(0))


def _monitored_until(hotfix: Hotfix, policy: Policy, now: datetime, monitored_since: datetime) -> str:
    until = monitored_since + policy.times.monitoring_window
    left = format_duration(_monitoring_left(policy, now, monitored_since))
    return f"{hotfix.key} is monitored until {until:%H:%M} UTC ({left} left)"


def roll_back(hotfix: Hotfix, *, user_id: str, policy: Policy, now: datetime) -> Outcome:
    _check_runner(hotfix, user_id, policy, "roll back")
    if hotfix.stage is Stage.DEPLOYING:  # the tag job may still push it: going back to fixing now would hide a deploy
        raise Refused(f"{hotfix.key}'s tag is not pushed yet, so nothing new is deployed to roll back. Roll back is "
                      "possible from the moment it is.")
    _check_stage(hotfix, {Stage.MONITORING}, "roll back", "while it is being monitored")
    detail = {"tag": hotfix.tag or "", "previous_tag": hotfix.previous_tag or ""}
    fixing = replace(hotfix, stage=Stage.FIXING)
    return Outcome(fixing, (Event(EventKind.ROLLED_BACK, user_id, now, detail),), (CancelTimers(MONITORING_TIMERS),))


def record_merged(hotfix: Hotfix, *, target: str, commit: str, by_hand: bool, now: datetime) -> Outcome:
    if target in hotfix.merged_into or target not in hotfix.merge_targets:
        return Outcome(hotfix)
    merged = replace(hotfix, merged_into=(*hotfix.merged_into, target))
    how = "by hand" if by_hand else "by the bot"
    events = [Event(EventKind.MERGED_BACK, BOT, now, {"target": target, "commit": commit, "how": how})]
    if merged.targets_left:
        return Outcome(merged, tuple(events))
    events.append(Event(EventKind.ALL_MERGED, BOT, now, {"targets": merged.merge_targets}))
    done = replace(merged, stage=Stage.MERGED)
    return Outcome(done, tuple(events), (CancelTimers((TimerKind.MERGE_BACK_DUE,)), DeleteBranch()))


def record_conflict(hotfix: Hotfix, *, target: str, files: Collection[str], now: datetime) -> Outcome:
    detail = {"target": target, "files": tuple(files)}
    return Outcome(hotfix, (Event(EventKind.MERGE_CONFLICT, BOT, now, detail),))


def merged_by_hand(hotfix: Hotfix, *, user_id: str, policy: Policy, now: datetime, verifying: bool) -> Outcome:
    """`verifying`: a check of the targets is already queued or running; its answer will come to the thread."""
    _check_runner(hotfix, user_id, policy, "say it was merged by hand")
    _check_stage(hotfix, {Stage.MERGING_BACK}, "check a merge by hand", "while merging back")
    if verifying:
        raise Refused(f"Git is already checking which branches have {hotfix.key}'s fix; the thread will say "
                      "what it finds.")
    return Outcome(hotfix, effects=(VerifyMerged(),))


def record_branch_deleted(hotfix: Hotfix, *, now: datetime) -> Outcome:
    return Outcome(hotfix, (Event(EventKind.BRANCH_DELETED, BOT, now, {"branch": hotfix.branch}),))


def record_branch_kept(hotfix: Hotfix, *, head: str, commits: tuple[Commit, ...], now: datetime) -> Outcome:
    """The branch has commits the merge-back did not include: deleting it would lose them."""
    detail = {"branch": hotfix.branch, "head": head, "merged": hotfix.approved_commit or "",
              "commits": commits_to_detail(commits)}
    return Outcome(hotfix, (Event(EventKind.BRANCH_KEPT, BOT, now, detail),))


def close(hotfix: Hotfix, *, user_id: str, reason: str, policy: Policy, now: datetime) -> Outcome:
    _check_runner(hotfix, user_id, policy, "close it")
    if not hotfix.stage.is_active:
        raise Refused(f"{hotfix.key} is already {hotfix.stage.label.lower()}.")
    if hotfix.stage is not Stage.MERGED:
        if not reason.strip():
            left = ", ".join(hotfix.targets_left) or "the fix"
            raise Refused(f"{hotfix.key} is not merged back yet ({left}).", Remedy.CLOSE_WITH_A_REASON, hotfix.key)
        reason = _reason(reason, "why it closes early")
    closed = replace(hotfix, stage=Stage.CLOSED, closed_at=now)
    event = Event(EventKind.CLOSED, user_id, now, {"reason": reason.strip()})
    return Outcome(closed, (event,), (CancelTimers(tuple(TimerKind)),
                                      StartTimer(TimerKind.POSTMORTEM_DUE, policy.times.postmortem_due)))


_RETRYABLE = {Stage.APPROVED: CutBranch(), Stage.DEPLOYING: TagRelease(), Stage.MERGING_BACK: MergeBack()}


def retry(hotfix: Hotfix, *, user_id: str, policy: Policy, now: datetime) -> Outcome:
    """Run the stage's git step again, e.g. after an admin allowed the bot to push (every git step is idempotent)."""
    _check_runner(hotfix, user_id, policy, "retry a step")
    if hotfix.stage not in _RETRYABLE:
        raise Refused(f"{hotfix.key} is {hotfix.stage.label.lower()}: there is no git step to retry.")
    event = Event(EventKind.RETRIED, user_id, now, {"stage": hotfix.stage.value})
    return Outcome(hotfix, (event,), (_RETRYABLE[hotfix.stage],))


def step_failed(hotfix: Hotfix, *, step: str, reason: str, then: str, now: datetime) -> Outcome:
    """A worker's step failed (bot.domain.failures): `then` says whether it retries by itself or waits for Retry."""
    return Outcome(hotfix, (Event(EventKind.STEP_FAILED, BOT, now, failures.failure_detail(step, reason, then)),))


def may_run(hotfix: Hotfix, user_id: str, policy: Policy) -> bool:
    """The later steps' buttons are for the declarer and the on-call leads."""
    return user_id == hotfix.declared_by or policy.approvals.holds(user_id, ONCALL_LEAD)


def _check_runner(hotfix: Hotfix, user_id: str, policy: Policy, what: str) -> None:
    if not may_run(hotfix, user_id, policy):
        raise Refused(f"Only {hotfix.key}'s declarer or an on-call lead can {what}.")


def _check_stage(hotfix: Hotfix, allowed: set[Stage], what: str, when: str) -> None:
    if hotfix.stage not in allowed:
        raise Refused(f"{hotfix.key} is {hotfix.stage.label.lower()}: you can {what} only {when}.")


def check_reviewer(hotfix: Hotfix, user_id: str, policy: Policy) -> str:
    _check_stage(hotfix, {Stage.IN_REVIEW}, "review it", "after Ready for review")
    if hotfix.review_commit is None:
        raise Refused(f"The review request of {hotfix.key} is not in the thread yet: wait for it, then review "
                      "the change it shows.")
    if user_id == hotfix.declared_by:
        raise Refused(f"You declared {hotfix.key}, so someone else has to review it.")
    for role in (REVIEWER, SECURITY):
        if policy.approvals.holds(user_id, role):
            return role
    raise Refused(f"Only a {role_label(REVIEWER).lower()} can review {hotfix.key}.")


def _security_review_missing(hotfix: Hotfix, policy: Policy, reviewers: Collection[str]) -> bool:
    security = policy.approvals.holders(SECURITY)
    return hotfix.security and bool(security) and not (security & set(reviewers))


def _reason(reason: str, what: str) -> str:
    reason = reason.strip()
    if not reason:
        raise Refused(f"Say {what}.")
    if len(reason) > REASON_MAX:
        raise Refused(f"Keep it under {REASON_MAX} characters.")
    return reason
