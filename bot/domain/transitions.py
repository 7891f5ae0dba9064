"""The procedure's moves: each takes a hotfix and returns the new hotfix, its audit event and effects."""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from bot.domain.declaration import Declaration
from bot.domain.hotfix import BOT, CutBranch, Decision, Effect, Event, EventKind, Hotfix, Stage
from bot.domain.naming import branch_name, security_branch_name, validate_issue_id
from bot.domain.policy import ApprovalPolicy, TimeTargets, role_label
from bot.domain.timers import CancelTimers, StartTimer, TimerKind

REASON_MAX = 500


class Remedy(StrEnum):
    """What the person can do instead of what was refused; each surface says it in its own words."""

    END_MONITORING_EARLY = "end_monitoring_early"  # an on-call lead's Stable with a reason
    CLOSE_WITH_A_REASON = "close_with_a_reason"
    SEE_THE_ACTIVE_ONES = "see_the_active_ones"  # an unknown or mistyped hotfix ID
    OVERRIDE_CI = "override_ci"  # an on-call lead's Tag & deploy without CI, with a reason


class Refused(Exception):
    """The procedure does not allow this; str(err) is shown to the person who asked, followed by how to do
    `remedy` for hotfix `key`, when there is one."""

    def __init__(self, message: str, remedy: Remedy | None = None, key: str = "") -> None:
        super().__init__(message)
        self.remedy = remedy
        self.key = key


@dataclass(frozen=True)
class Outcome:
    hotfix: Hotfix
    events: tuple[Event, ...] = ()
    effects: tuple[Effect, ...] = ()


def declare(form: Declaration, *, declared_by: str, now: datetime, times: TimeTargets | None = None) -> Outcome:
    """Caller has checked form.problems(); a severity is present."""
    assert form.severity is not None
    issue_id = validate_issue_id(form.issue_id)
    hotfix = Hotfix(
        title=form.title.strip(),
        issue_id=issue_id,
        severity=form.severity,
        impact=form.impact.strip(),
        risk=form.risk.strip(),
        repo=form.repo,
        branch="" if form.security else branch_name(issue_id, form.title),  # security: see name_branch
        declared_by=declared_by,
        declared_at=now,
        security=form.security,
        override=form.override,
    )
    detail = {"severity": hotfix.severity.label, "issue_id": issue_id}
    escalate = StartTimer(TimerKind.APPROVAL_ESCALATION, (times or TimeTargets()).approval_escalation)
    return Outcome(hotfix, (Event(EventKind.DECLARED, declared_by, now, detail),), (escalate,))


def name_branch(hotfix: Hotfix) -> Hotfix:
    """Once the store has numbered it, a security hotfix's branch is named after its key (the procedure: a CVE
    number is a disclosure)."""
    if hotfix.branch:
        return hotfix
    return replace(hotfix, branch=security_branch_name(hotfix.key))


def approve(hotfix: Hotfix, *, user_id: str, policy: ApprovalPolicy, now: datetime) -> Outcome:
    role = _role_deciding(hotfix, user_id, policy, verb="approve")
    decisions = (*hotfix.decisions, Decision(role, user_id, now))
    approved = replace(hotfix, decisions=decisions)
    missing = missing_roles(approved, policy)
    needed = policy.roles_needed(hotfix.severity)
    detail = {"role": role, "count": len(needed) - len(missing), "of": len(needed), "missing": missing}
    events = [Event(EventKind.APPROVED, user_id, now, detail)]
    if missing:
        return Outcome(approved, tuple(events))
    approved = replace(approved, stage=Stage.APPROVED)
    events.append(Event(EventKind.FULLY_APPROVED, BOT, now))
    return Outcome(approved, tuple(events), (CutBranch(), CancelTimers((TimerKind.APPROVAL_ESCALATION,))))


def check_may_reject(hotfix: Hotfix, *, user_id: str, policy: ApprovalPolicy) -> str:
    """The role the user would reject for; raises Refused before a reason is even asked."""
    return _role_deciding(hotfix, user_id, policy, verb="reject")


def reject(hotfix: Hotfix, *, user_id: str, reason: str, policy: ApprovalPolicy, now: datetime) -> Outcome:
    role = check_may_reject(hotfix, user_id=user_id, policy=policy)
    reason = reason.strip()
    if not reason:
        raise Refused("Say why you reject it: the declarer needs to know what to do instead.")
    if len(reason) > REASON_MAX:
        raise Refused(f"Keep the reason under {REASON_MAX} characters.")
    decision = Decision(role, user_id, now, approved=False, reason=reason)
    rejected = replace(hotfix, decisions=(*hotfix.decisions, decision), stage=Stage.REJECTED, closed_at=now)
    event = Event(EventKind.REJECTED, user_id, now, {"role": role, "reason": reason})
    return Outcome(rejected, (event,), (CancelTimers(tuple(TimerKind)),))


def record_branch_cut(hotfix: Hotfix, *, base_ref: str, base_commit: str, now: datetime) -> Outcome:
    if hotfix.stage is not Stage.APPROVED:
        return Outcome(hotfix)  # a re-run of a job that already reported
    cut = replace(hotfix, stage=Stage.FIXING, base_ref=base_ref, base_commit=base_commit)
    detail = {"branch": hotfix.branch, "base_ref": base_ref, "base_commit": base_commit}
    return Outcome(cut, (Event(EventKind.BRANCH_CUT, BOT, now, detail),))


def missing_roles(hotfix: Hotfix, policy: ApprovalPolicy) -> tuple[str, ...]:
    taken = {d.role for d in hotfix.approvals}
    return tuple(r for r in policy.roles_needed(hotfix.severity) if r not in taken)


def _role_deciding(hotfix: Hotfix, user_id: str, policy: ApprovalPolicy, *, verb: str) -> str:
    earlier = hotfix.decision_by(user_id)
    if earlier is not None:
        done = "approved" if earlier.approved else "rejected"
        raise Refused(f"You already {done} {hotfix.key} as {role_label(earlier.role)}; nothing changed.")
    if hotfix.stage is not Stage.AWAITING_APPROVAL:
        raise Refused(f"{hotfix.key} is {hotfix.stage.label.lower()}; it takes no more approvals.")
    if user_id == hotfix.declared_by:
        raise Refused(f"You declared {hotfix.key}, so someone else has to {verb} it.")
    role = policy.open_role_for(user_id, hotfix.severity, (d.role for d in hotfix.approvals))
    if role is None:
        needed = ", ".join(role_label(r) for r in missing_roles(hotfix, policy)) or "no one"
        raise Refused(f"{hotfix.key} needs approval from: {needed}. You hold none of those roles.")
    return role
