"""When a timer comes due: who is reminded, who it escalates to, and when to ask again."""
from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from bot.domain.hotfix import (
    BOT, DetailValue, Event, EventKind, Hotfix, PollCodeHost, ProbeDeploy, Stage, VerifyMerged,
)
from bot.domain.policy import ONCALL_LEAD, REVIEWER, Policy
from bot.domain.timers import CancelTimers, DelayTimer, StartTimer, Timer, TimerKind, in_quiet_hours
from bot.domain.transitions import Outcome, Refused, missing_roles

# The procedure's escalation path when nobody answers: on-call lead, then engineering manager, then CTO.
ESCALATION_PATH = (ONCALL_LEAD, "engineering_manager", "cto")

# The soonest any reminder comes back, however the durations are set: a ceiling on what one hotfix can send a
# person (each kind of reminder at most 12 times an hour). The config refuses shorter ones; this holds regardless.
MIN_REPEAT = timedelta(minutes=5)

# The stage in which each timer still matters; in any other stage it is moot and fires silently.
_LIVE_IN = {
    TimerKind.APPROVAL_ESCALATION: {Stage.AWAITING_APPROVAL},
    TimerKind.REVIEW_HALFWAY: {Stage.IN_REVIEW},
    TimerKind.REVIEW_OVERDUE: {Stage.IN_REVIEW},
    TimerKind.MONITORING_CHECKIN: {Stage.MONITORING},
    TimerKind.MONITORING_END: {Stage.MONITORING},
    TimerKind.MERGE_BACK_DUE: {Stage.MERGING_BACK},
    TimerKind.POSTMORTEM_DUE: {Stage.CLOSED},
    TimerKind.DEPLOY_PROBE: {Stage.MONITORING},
    TimerKind.CODE_HOST_POLL: {Stage.IN_REVIEW, Stage.REVIEWED, Stage.DEPLOYING, Stage.MONITORING, Stage.MERGING_BACK},
}


# Reminders of the same thing, in the order they come due. When several came due together (the bot was down),
# people should read one reminder, not a burst: only the last of them is posted.
_SAME_THING = ((TimerKind.REVIEW_HALFWAY, TimerKind.REVIEW_OVERDUE),
               (TimerKind.MONITORING_CHECKIN, TimerKind.MONITORING_END))


def outdated(due: Collection[Timer]) -> list[Timer]:
    """Of one hotfix's timers due now, those a later reminder of the same thing, also due, makes moot."""
    kinds = {t.kind for t in due}
    moot = {kind for series in _SAME_THING for i, kind in enumerate(series) if kinds & set(series[i + 1:])}
    return [t for t in due if t.kind in moot]


def remind(hotfix: Hotfix, timer: Timer, *, policy: Policy, now: datetime, never_live: bool = False) -> Outcome:
    """`never_live`: a version endpoint is configured and has not reported the hotfix's tag."""
    if hotfix.stage not in _LIVE_IN[timer.kind]:
        return Outcome(hotfix)
    if timer.kind is TimerKind.DEPLOY_PROBE:  # not a reminder: the probe reports only what changed
        again = StartTimer(timer.kind, policy.times.deploy_probe, timer.round + 1)
        return Outcome(hotfix, effects=(ProbeDeploy(), again))
    if timer.kind is TimerKind.CODE_HOST_POLL:  # not a reminder either; the poll re-arms it (github_flow.keep_polling)
        return Outcome(hotfix, effects=(PollCodeHost(),))
    if timer.kind is TimerKind.MERGE_BACK_DUE:  # verification, not trust: ask git which targets still lack it
        return Outcome(hotfix, effects=(VerifyMerged(remind=True), _ask_again(timer, policy)))
    people = _people_to_remind(hotfix, timer, policy)
    detail: dict[str, DetailValue] = {"timer": timer.kind.value, "round": timer.round, "users": people}
    if timer.kind is TimerKind.APPROVAL_ESCALATION:
        detail["missing"] = missing_roles(hotfix, policy.approvals)
    if timer.kind is TimerKind.MONITORING_END:
        detail["tag"] = hotfix.tag or ""
        if never_live:
            detail["never_live"] = hotfix.tag or ""
    effects = [again] if (again := _ask_again(timer, policy)) else []
    if timer.kind is TimerKind.MONITORING_END:
        effects.append(CancelTimers((TimerKind.MONITORING_CHECKIN,)))
    return Outcome(hotfix, (Event(EventKind.REMINDED, BOT, now, detail),), tuple(effects))


def _people_to_remind(hotfix: Hotfix, timer: Timer, policy: Policy) -> tuple[str, ...]:
    approvals = policy.approvals
    if timer.kind is TimerKind.APPROVAL_ESCALATION:
        roles = list(missing_roles(hotfix, approvals))
        roles += [r for r in ESCALATION_PATH[: timer.round] if r not in roles]
        users = {u for role in roles for u in approvals.holders(role)}
    elif timer.kind in (TimerKind.REVIEW_HALFWAY, TimerKind.REVIEW_OVERDUE):
        users = set(approvals.holders(REVIEWER))
    else:
        return (hotfix.declared_by,)
    return tuple(sorted(users - {hotfix.declared_by}))  # they cannot approve or review their own hotfix


def _ask_again(timer: Timer, policy: Policy) -> StartTimer | None:
    times = policy.times
    match timer.kind:
        case TimerKind.APPROVAL_ESCALATION | TimerKind.REVIEW_OVERDUE | TimerKind.MERGE_BACK_DUE:
            return StartTimer(timer.kind, max(times.reminder_repeat, MIN_REPEAT), timer.round + 1)
        case TimerKind.MONITORING_CHECKIN | TimerKind.MONITORING_END:
            return StartTimer(timer.kind, max(times.monitoring_checkin, MIN_REPEAT), timer.round + 1)
    return None


SNOOZE_CHOICES = (timedelta(minutes=30), timedelta(hours=1))


def snooze(hotfix: Hotfix, kind: TimerKind, *, user_id: str, by: timedelta, policy: Policy, now: datetime) -> Outcome:
    if hotfix.stage not in _LIVE_IN[kind]:
        raise Refused(f"That reminder for {hotfix.key} is over; nothing to snooze.")
    if by not in SNOOZE_CHOICES:
        raise Refused("Snooze for 30 minutes or 1 hour.")
    if user_id not in _people_to_remind(hotfix, Timer(0, kind, now), policy) and user_id != hotfix.declared_by:
        raise Refused("Only the people this reminder names can snooze it.")
    event = Event(EventKind.SNOOZED, user_id, now, {"timer": kind.value, "minutes": int(by.total_seconds() // 60)})
    return Outcome(hotfix, (event,), (DelayTimer(kind, by),))


def looks_fine(hotfix: Hotfix, *, user_id: str, policy: Policy, now: datetime) -> Outcome:
    """A monitoring check-in answered: recorded for the post-mortem; the check-ins go on until the window ends."""
    if hotfix.stage is not Stage.MONITORING:
        raise Refused(f"{hotfix.key} is {hotfix.stage.label.lower()}: that check-in is over.")
    if user_id not in _people_to_remind(hotfix, Timer(0, TimerKind.MONITORING_CHECKIN, now), policy) \
            and not policy.approvals.holds(user_id, ONCALL_LEAD):
        raise Refused(f"Only {hotfix.key}'s declarer or an on-call lead can answer its check-in.")
    return Outcome(hotfix, (Event(EventKind.LOOKED_FINE, user_id, now, {"tag": hotfix.tag or ""}),))


# Reminders to the declarer stay in the thread they own, where the mention notifies them. Approvers and reviewers
# also get a DM: the ones escalated to may not be in the hotfix channel, and a mention does not reach them there.
_ALSO_BY_DM = (TimerKind.APPROVAL_ESCALATION, TimerKind.REVIEW_HALFWAY, TimerKind.REVIEW_OVERDUE)


def also_by_direct_message(event: Event) -> tuple[str, ...]:
    """Who gets this event as a DM besides the thread reply."""
    if event.kind is not EventKind.REMINDED or TimerKind(event.detail["timer"]) not in _ALSO_BY_DM:
        return ()
    return event.names("users")


def quiet_for(hotfix: Hotfix, now: datetime, policy: Policy, kind: TimerKind | None = None) -> bool:
    """MEDIUM/LOW hotfixes (overrides) respect quiet hours; CRITICAL and HIGH never do. Probes and GitHub polls
    wake nobody (what they learn is posted only when it matters)."""
    if kind in (TimerKind.DEPLOY_PROBE, TimerKind.CODE_HOST_POLL):
        return False
    return hotfix.severity.goes_to_normal_release and in_quiet_hours(now, policy.times.quiet_hours)


def remind_merge_back(hotfix: Hotfix, *, missing: tuple[str, ...], now: datetime) -> Outcome:
    """After verification: name the targets git does not yet show as containing the fix."""
    if not missing or hotfix.stage is not Stage.MERGING_BACK:
        return Outcome(hotfix)
    detail = {"timer": TimerKind.MERGE_BACK_DUE.value, "users": (hotfix.declared_by,), "targets": missing}
    return Outcome(hotfix, (Event(EventKind.REMINDED, BOT, now, detail),))
