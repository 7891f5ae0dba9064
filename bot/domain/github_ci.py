"""The CI gate on a GitHub repo: what the checks of the commit under review said, whether Tag & deploy may run,
an on-call lead's override when no check ever reported, and the checks the tag's push started.

Only changes are news: each of these records an event when the verdict on a commit changes, so polling the
same answer again records nothing.
"""
from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import datetime, timedelta

from bot.domain import procedure
from bot.domain.codehost import Check, CiOutcome, ci_verdict
from bot.domain.durations import format_duration
from bot.domain.hotfix import BOT, DetailValue, Event, EventKind, Hotfix, Row, Stage
from bot.domain.policy import ONCALL_LEAD, Policy
from bot.domain.transitions import REASON_MAX, Outcome, Refused, Remedy

CI_KINDS = (EventKind.CI_WAITING, EventKind.CI_PENDING, EventKind.CI_PASSED, EventKind.CI_FAILED,
            EventKind.CI_MISSING, EventKind.CI_OVERRIDDEN)
DEPLOY_CHECK_KINDS = (EventKind.DEPLOY_CHECKS_STARTED, EventKind.DEPLOY_CHECKS_PASSED,
                      EventKind.DEPLOY_CHECKS_FAILED)
_OUTCOME_KIND = {CiOutcome.PENDING: EventKind.CI_PENDING, CiOutcome.PASSED: EventKind.CI_PASSED,
                 CiOutcome.FAILED: EventKind.CI_FAILED}


def check_rows(checks: Iterable[Check]) -> tuple[Row, ...]:
    """Checks as an event keeps them: (name, state, link or "")."""
    return tuple((c.name, c.state.value, c.url or "") for c in checks)


def record_ci(hotfix: Hotfix, events: Sequence[Event], *, commit: str, checks: Iterable[Check],
              required_checks: Collection[str], ci_wait: timedelta, now: datetime) -> Outcome:
    """What CI says of `commit` (the pull request's head) while it is reviewed, when that changed."""
    if hotfix.stage not in (Stage.IN_REVIEW, Stage.REVIEWED):
        return Outcome(hotfix)
    checks = tuple(checks)
    verdict = ci_verdict(checks, required_checks)
    history = ci_events(events, commit)
    last = history[-1].kind if history else None
    detail: dict[str, DetailValue] = {"commit": commit}
    if verdict.outcome is CiOutcome.NONE_YET:
        if last is None:
            kind = EventKind.CI_WAITING
            detail["missing"] = verdict.missing
        elif last is EventKind.CI_WAITING and now - history[0].at >= ci_wait:
            kind = EventKind.CI_MISSING
            detail["waited"] = format_duration(now - history[0].at)
        else:
            return Outcome(hotfix)
    else:
        kind = _OUTCOME_KIND[verdict.outcome]
        if kind is last:
            return Outcome(hotfix)
        detail.update(checks=check_rows(checks), failing=check_rows(verdict.failing),
                      running=check_rows(verdict.running), missing=verdict.missing)
    return Outcome(hotfix, (Event(kind, BOT, now, detail),))


def ci_events(events: Sequence[Event], commit: str) -> tuple[Event, ...]:
    """The CI gate's events about `commit`, oldest first."""
    return tuple(e for e in events if e.kind in CI_KINDS and e.detail.get("commit") == commit)


def ci_allows_tag(hotfix: Hotfix, events: Sequence[Event]) -> Refused | None:
    """None when the approved commit's CI passed, or an on-call lead overrode a CI that never reported."""
    commit = hotfix.approved_commit
    if commit is None:
        return None  # not approved: tag_and_deploy refuses it on its stage
    history = ci_events(events, commit)
    last = history[-1] if history else None
    short = f"`{commit[:10]}`"
    if last is None or last.kind is EventKind.CI_WAITING:
        return Refused(f"No check has reported on {short} yet. Tag & deploy opens when CI passes; if no check "
                       "reports at all, the thread says so and an on-call lead can tag anyway, with a reason.")
    if last.kind in (EventKind.CI_PASSED, EventKind.CI_OVERRIDDEN):
        return None
    if last.kind is EventKind.CI_PENDING:
        waiting = [*_names(last.detail["running"]), *last.names("missing")]
        return Refused(f"CI is still running on {short} ({', '.join(waiting)}). Tag & deploy opens when it passes.")
    if last.kind is EventKind.CI_FAILED:
        return Refused(f"CI failed on {short}: {', '.join(_names(last.detail['failing']))}. Push a fix; the new "
                       "commit needs a review and a green CI.")
    return Refused(f"No check and no status reported on {short} after {last.detail['waited']}.",
                   Remedy.OVERRIDE_CI, hotfix.key)


def tag_and_deploy(hotfix: Hotfix, events: Sequence[Event], *, user_id: str, policy: Policy,
                   now: datetime) -> Outcome:
    """The plain move, once the CI gate lets the approved commit through."""
    outcome = procedure.tag_and_deploy(hotfix, user_id=user_id, policy=policy, now=now)
    if refusal := ci_allows_tag(hotfix, events):
        raise refusal
    return outcome


def override_ci(hotfix: Hotfix, events: Sequence[Event], *, user_id: str, reason: str, policy: Policy,
                now: datetime) -> Outcome:
    """An on-call lead lets the approved commit through without CI, only when no check ever reported on it."""
    if hotfix.stage is not Stage.REVIEWED or hotfix.approved_commit is None:
        raise Refused(f"{hotfix.key} is {hotfix.stage.label.lower()}: CI can be overridden only once the review "
                      "approved a commit, before Tag & deploy.")
    if not policy.approvals.holds(user_id, ONCALL_LEAD):
        raise Refused(f"Only an on-call lead can tag {hotfix.key} without CI.")
    commit = hotfix.approved_commit
    history = ci_events(events, commit)
    if history and history[-1].kind is EventKind.CI_OVERRIDDEN:
        return Outcome(hotfix)  # said already
    if not history or history[-1].kind is not EventKind.CI_MISSING:
        raise Refused(f"CI can be overridden only when no check reported on `{commit[:10]}` for the whole CI "
                      f"wait; {_ci_now(history)}.")
    reason = reason.strip()
    if not reason:
        raise Refused("Say why it ships without CI: the post-mortem shows it.")
    if len(reason) > REASON_MAX:
        raise Refused(f"Keep it under {REASON_MAX} characters.")
    event = Event(EventKind.CI_OVERRIDDEN, user_id, now, {"commit": commit, "reason": reason})
    return Outcome(hotfix, (event,))


def tag_anyway(hotfix: Hotfix, events: Sequence[Event], *, user_id: str, reason: str, policy: Policy,
               now: datetime) -> Outcome:
    """The override's button: override CI, then Tag & deploy, as one move."""
    override = override_ci(hotfix, events, user_id=user_id, reason=reason, policy=policy, now=now)
    tagged = tag_and_deploy(hotfix, (*events, *override.events), user_id=user_id, policy=policy, now=now)
    return Outcome(tagged.hotfix, (*override.events, *tagged.events), tagged.effects)


def _ci_now(history: Sequence[Event]) -> str:
    if not history or history[-1].kind is EventKind.CI_WAITING:
        return "it has not waited that long yet"
    return {EventKind.CI_PENDING: "its checks are running", EventKind.CI_PASSED: "it passed",
            EventKind.CI_FAILED: "it failed"}[history[-1].kind]


def _names(rows: DetailValue) -> list[str]:
    return [str(row[0]) for row in rows]


def record_deploy_checks(hotfix: Hotfix, events: Sequence[Event], *, checks: Iterable[Check],
                         now: datetime) -> Outcome:
    """The checks the tag's push started on the tagged commit (those CI had not already passed on it): when
    they start, pass, or fail (a failure is posted at once, with Roll back)."""
    if hotfix.stage is not Stage.MONITORING or not hotfix.tag or not hotfix.tag_commit:
        return Outcome(hotfix)
    seen = _passed_before_tag(events, hotfix.tag_commit)
    # A check CI passed before the tag is not news while it still passes; a run of the same name that is running
    # or failing now is the tag's (workflows often reuse job names such as "build").
    new = tuple(c for c in checks if c.name not in seen or not c.state.succeeded)
    verdict = ci_verdict(new)
    if verdict.outcome is CiOutcome.NONE_YET:
        return Outcome(hotfix)
    deploy = _this_deploy(events)
    last = deploy[-1].kind if deploy else None
    detail = {"tag": hotfix.tag, "commit": hotfix.tag_commit, "checks": check_rows(new)}
    news = [] if deploy else [Event(EventKind.DEPLOY_CHECKS_STARTED, BOT, now, detail)]
    if verdict.outcome is CiOutcome.PASSED and last is not EventKind.DEPLOY_CHECKS_PASSED:
        news.append(Event(EventKind.DEPLOY_CHECKS_PASSED, BOT, now, detail))
    if verdict.outcome is CiOutcome.FAILED and last is not EventKind.DEPLOY_CHECKS_FAILED:
        news.append(Event(EventKind.DEPLOY_CHECKS_FAILED, BOT, now, {**detail, "failing": check_rows(verdict.failing)}))
    return Outcome(hotfix, tuple(news))


def deploy_checks_settled(events: Sequence[Event]) -> bool:
    """The checks the latest tag started have all finished (passed or failed)."""
    deploy = _this_deploy(events)
    return bool(deploy) and deploy[-1].kind in (EventKind.DEPLOY_CHECKS_PASSED, EventKind.DEPLOY_CHECKS_FAILED)


def _passed_before_tag(events: Sequence[Event], commit: str) -> set[str]:
    passed = [e for e in ci_events(events, commit) if e.kind is EventKind.CI_PASSED]
    return set(_names(passed[-1].detail["checks"])) if passed else set()


def _this_deploy(events: Sequence[Event]) -> list[Event]:
    """The deploy checks' events since the latest tag: after a rollback and a new tag, they start afresh."""
    start = max((i for i, e in enumerate(events) if e.kind is EventKind.TAGGED), default=0)
    return [e for e in events[start:] if e.kind in DEPLOY_CHECK_KINDS]
