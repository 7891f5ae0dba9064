"""Approve, reject and the refusals, at the domain level: plain objects, no I/O, milliseconds."""
from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.timers import CancelTimers, StartTimer, TimerKind

from bot.domain import procedure, transitions
from bot.domain.declaration import Declaration, Field
from bot.domain.hotfix import CutBranch, EventKind, Hotfix, Stage
from bot.domain.policy import ApprovalPolicy, Policy, Severity
from bot.domain.transitions import Refused, Remedy

NOW = datetime(2026, 11, 20, 17, 0, tzinfo=UTC)
REPOS = ("payments",)
ROLES = {"engineering_manager": ["UEM"], "oncall_lead": ["ULEAD"], "cto": ["UCTO"], "reviewer": ["UREV1", "UREV2"]}
REQUIRED = {
    Severity.CRITICAL: ("engineering_manager", "oncall_lead", "cto"),
    Severity.HIGH: ("engineering_manager", "oncall_lead"),
}
POLICY = ApprovalPolicy.build(REQUIRED, ROLES)


def form(**changes) -> Declaration:
    fields = dict(title="Checkout returns 500", issue_id="PROD-501", severity=Severity.HIGH,
                  impact="All card payments fail", risk="Revenue loss every minute", repo="payments")
    return Declaration(**{**fields, **changes})


def declared(severity: Severity = Severity.HIGH, *, by: str = "UDEV", number: int = 7) -> Hotfix:
    outcome = transitions.declare(form(severity=severity, override=severity.goes_to_normal_release),
                                  declared_by=by, now=NOW)
    return replace(outcome.hotfix, number=number)


def approve(hotfix: Hotfix, user: str, policy: ApprovalPolicy = POLICY) -> transitions.Outcome:
    return transitions.approve(hotfix, user_id=user, policy=policy, now=NOW + timedelta(minutes=1))


def reject(hotfix: Hotfix, user: str, reason: str = "A workaround exists") -> transitions.Outcome:
    return transitions.reject(hotfix, user_id=user, reason=reason, policy=POLICY, now=NOW + timedelta(minutes=2))


# --- declare ---------------------------------------------------------------------------------------------------
def test_declare_starts_awaiting_approval_with_a_branch_named_from_issue_and_title() -> None:
    outcome = transitions.declare(form(title="  Checkout returns 500  "), declared_by="UDEV", now=NOW)

    assert outcome.hotfix.stage is Stage.AWAITING_APPROVAL
    assert outcome.hotfix.title == "Checkout returns 500"
    assert outcome.hotfix.branch == "hotfix/PROD-501-checkout-returns-500"
    assert [(e.kind, e.actor) for e in outcome.events] == [(EventKind.DECLARED, "UDEV")]
    assert outcome.effects == (StartTimer(TimerKind.APPROVAL_ESCALATION, timedelta(minutes=15)),)


def test_a_security_hotfix_branch_is_named_after_its_number_not_its_issue() -> None:
    outcome = transitions.declare(form(issue_id="CVE-2026-1234", security=True), declared_by="UDEV", now=NOW)

    numbered = transitions.name_branch(replace(outcome.hotfix, number=7))

    assert numbered.branch == "hotfix/HF-7-security-fix"
    ordinary = replace(transitions.declare(form(), declared_by="UDEV", now=NOW).hotfix, number=8)
    assert transitions.name_branch(ordinary).branch == "hotfix/PROD-501-checkout-returns-500"


def test_a_security_hotfix_still_refuses_a_hostile_issue_id() -> None:
    with pytest.raises(ValueError):
        transitions.declare(form(issue_id="--upload-pack=touch x", security=True), declared_by="UDEV", now=NOW)


# --- approve: refusals -------------------------------------------------------------------------------------------
def test_declarer_cannot_approve_their_own_hotfix_even_holding_a_needed_role() -> None:
    hotfix = declared(by="UEM")

    with pytest.raises(Refused, match=r"You declared HF-7, so someone else has to approve it"):
        approve(hotfix, "UEM")


def test_user_without_a_needed_role_is_refused_with_the_missing_roles_named() -> None:
    hotfix = declared(Severity.CRITICAL)

    with pytest.raises(Refused) as refusal:
        approve(hotfix, "UREV1")  # a reviewer: a real role, but not one CRITICAL needs

    message = str(refusal.value)
    assert "Engineering manager" in message and "On-call lead" in message and "CTO" in message
    assert "none of those roles" in message


def test_refusal_names_only_the_roles_still_missing() -> None:
    hotfix = approve(declared(Severity.CRITICAL), "UEM").hotfix

    with pytest.raises(Refused) as refusal:
        approve(hotfix, "UDEV2")

    message = str(refusal.value)
    assert "On-call lead" in message and "CTO" in message
    assert "Engineering manager" not in message


def test_second_approval_by_the_same_user_is_refused_as_already_done() -> None:
    once = approve(declared(Severity.CRITICAL), "UEM").hotfix

    with pytest.raises(Refused, match=r"already approved HF-7 as Engineering manager"):
        approve(once, "UEM")


def test_approval_after_a_rejection_is_refused() -> None:
    rejected = reject(declared(), "UEM").hotfix

    with pytest.raises(Refused, match=r"HF-7 is rejected; it takes no more approvals"):
        approve(rejected, "ULEAD")


def test_approval_on_an_approved_hotfix_is_refused() -> None:
    approved = approve(approve(declared(), "UEM").hotfix, "ULEAD").hotfix
    assert approved.stage is Stage.APPROVED

    with pytest.raises(Refused, match=r"HF-7 is approved, cutting branch; it takes no more approvals"):
        approve(approved, "UCTO")


# --- approve: progress -------------------------------------------------------------------------------------------
def test_an_approval_that_leaves_roles_missing_records_the_decision_and_cuts_nothing() -> None:
    outcome = approve(declared(Severity.CRITICAL), "ULEAD")

    assert outcome.hotfix.stage is Stage.AWAITING_APPROVAL
    assert [(d.role, d.user_id, d.approved) for d in outcome.hotfix.decisions] == [("oncall_lead", "ULEAD", True)]
    assert [e.kind for e in outcome.events] == [EventKind.APPROVED]
    assert outcome.effects == ()
    assert transitions.missing_roles(outcome.hotfix, POLICY) == ("engineering_manager", "cto")


def test_the_last_approval_sets_approved_and_asks_for_the_branch() -> None:
    hotfix = declared(Severity.CRITICAL)
    for user in ("UCTO", "UEM"):
        hotfix = approve(hotfix, user).hotfix

    outcome = approve(hotfix, "ULEAD")

    assert outcome.hotfix.stage is Stage.APPROVED
    assert [e.kind for e in outcome.events] == [EventKind.APPROVED, EventKind.FULLY_APPROVED]
    assert outcome.effects == (CutBranch(), CancelTimers((TimerKind.APPROVAL_ESCALATION,)))
    assert {d.role for d in outcome.hotfix.approvals} == {"engineering_manager", "oncall_lead", "cto"}


def test_medium_and_low_need_the_same_roles_as_high() -> None:
    for severity in (Severity.MEDIUM, Severity.LOW):
        hotfix = approve(declared(severity), "UEM").hotfix
        assert hotfix.stage is Stage.AWAITING_APPROVAL
        assert approve(hotfix, "ULEAD").hotfix.stage is Stage.APPROVED


def test_one_user_holding_two_roles_counts_once() -> None:
    policy = ApprovalPolicy.build(REQUIRED, {**ROLES, "engineering_manager": ["UBOSS"], "oncall_lead": ["UBOSS"]})
    hotfix = declared(Severity.HIGH)

    first = approve(hotfix, "UBOSS", policy)
    assert first.hotfix.stage is Stage.AWAITING_APPROVAL
    assert first.effects == ()
    assert [d.role for d in first.hotfix.decisions] == ["engineering_manager"]
    with pytest.raises(Refused, match="already"):
        approve(first.hotfix, "UBOSS", policy)
    assert transitions.missing_roles(first.hotfix, policy) == ("oncall_lead",)


# --- reject --------------------------------------------------------------------------------------------------------
def test_reject_with_a_reason_ends_rejected_and_keeps_the_reason() -> None:
    outcome = reject(declared(), "ULEAD", reason="  MEDIUM at most: ship it Monday  ")

    assert outcome.hotfix.stage is Stage.REJECTED
    assert outcome.hotfix.closed_at == NOW + timedelta(minutes=2)
    rejection = outcome.hotfix.rejection
    assert rejection is not None and (rejection.user_id, rejection.role, rejection.approved) == ("ULEAD", "oncall_lead", False)
    assert rejection.reason == "MEDIUM at most: ship it Monday"
    assert [(e.kind, e.detail["reason"]) for e in outcome.events] == [(EventKind.REJECTED, "MEDIUM at most: ship it Monday")]
    assert outcome.effects == (CancelTimers(tuple(TimerKind)),)  # every reminder of it stops


@pytest.mark.parametrize("reason", ["", "   \n  "])
def test_reject_needs_a_reason(reason: str) -> None:
    with pytest.raises(Refused, match="Say why you reject it"):
        reject(declared(), "UEM", reason=reason)


def test_reject_refuses_an_overlong_reason() -> None:
    with pytest.raises(Refused, match=f"under {transitions.REASON_MAX} characters"):
        reject(declared(), "UEM", reason="x" * (transitions.REASON_MAX + 1))


def test_reject_is_refused_for_the_declarer_and_for_people_without_a_needed_role() -> None:
    with pytest.raises(Refused, match="someone else has to reject it"):
        reject(declared(by="UEM"), "UEM")
    with pytest.raises(Refused, match="needs approval from: Engineering manager, On-call lead"):
        transitions.check_may_reject(declared(), user_id="UREV2", policy=POLICY)


def test_an_approver_cannot_then_reject() -> None:
    approved_once = approve(declared(Severity.CRITICAL), "UEM").hotfix

    with pytest.raises(Refused, match="already approved"):
        reject(approved_once, "UEM")


# --- Declaration.problems ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("severity", [Severity.MEDIUM, Severity.LOW])
def test_medium_and_low_without_override_are_steered_to_the_normal_release(severity: Severity) -> None:
    problems = form(severity=severity).problems(REPOS)

    assert set(problems) == {Field.OVERRIDE}
    assert f"{severity.label} issues go to the normal release" in problems[Field.OVERRIDE]
    assert form(severity=severity, override=True).problems(REPOS) == {}


def test_a_good_declaration_has_no_problems() -> None:
    assert form().problems(REPOS) == {}
    assert form(severity=Severity.CRITICAL, title="t" * 150, impact="i" * 2000).problems(REPOS) == {}


@pytest.mark.parametrize("title", ["", "   "])
def test_empty_title_is_a_problem(title: str) -> None:
    assert "short title" in form(title=title).problems(REPOS)[Field.TITLE]


def test_oversize_title_impact_and_risk_are_problems() -> None:
    problems = form(title="t" * 151, impact="i" * 2001, risk="r" * 2001).problems(REPOS)

    assert "under 150 characters" in problems[Field.TITLE]
    assert "under 2000 characters" in problems[Field.IMPACT]
    assert "under 2000 characters" in problems[Field.RISK]


def test_missing_severity_impact_and_risk_are_problems() -> None:
    problems = form(severity=None, impact=" ", risk="").problems(REPOS)

    assert problems[Field.SEVERITY] == "Choose a severity."
    assert "Required" in problems[Field.IMPACT] and "Required" in problems[Field.RISK]


def test_unknown_repository_is_a_problem() -> None:
    assert "configured repositories" in form(repo="billing").problems(REPOS)[Field.REPO]
    assert Field.REPO in form(repo="").problems(REPOS)


@pytest.mark.parametrize("issue_id", [
    "PROD-1; rm -rf /",
    "../../x",
    "--upload-pack=touch x",
    "PROD-" + "1" * 1995,
    "PRÖD-1",
    "",
    "PROD 1",
    "-PROD-1",
    "PROD-1\nPROD-2",
])
def test_hostile_issue_ids_are_problems(issue_id: str) -> None:
    problems = form(issue_id=issue_id).problems(REPOS)

    assert "Issue ID must look like PROD-501" in problems[Field.ISSUE_ID]


def test_surrounding_whitespace_around_an_issue_id_is_trimmed() -> None:
    assert Field.ISSUE_ID not in form(issue_id="  PROD-1\n").problems(REPOS)
    assert transitions.declare(form(issue_id=" PROD-1 "), declared_by="UDEV", now=NOW).hotfix.issue_id == "PROD-1"


def test_hostile_issue_ids_never_reach_a_branch_name() -> None:
    with pytest.raises(ValueError):
        transitions.declare(form(issue_id="--upload-pack=touch x"), declared_by="UDEV", now=NOW)



def test_a_refusal_names_its_remedy_and_leaves_the_words_for_it_to_the_surface() -> None:
    fixing = replace(declared(), stage=Stage.FIXING)
    with pytest.raises(Refused) as refused:
        procedure.close(fixing, user_id="UDEV", reason=" ", policy=Policy(POLICY), now=NOW)

    assert (str(refused.value), refused.value.remedy, refused.value.key) == (
        "HF-7 is not merged back yet (the fix).", Remedy.CLOSE_WITH_A_REASON, "HF-7")
