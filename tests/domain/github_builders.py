"""Plain values for the GitHub path's domain tests: one hotfix, its people, reviews, checks and events."""
from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bot.domain.codehost import Check, CheckState, People, Review, ReviewState, review_verdict
from bot.domain.hotfix import BOT, Event, EventKind, Hotfix, Stage
from bot.domain.policy import ApprovalPolicy, Policy, Severity

AT = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
OLD, HEAD, NEW = "a" * 40, "b" * 40, "c" * 40
PR_URL = "https://github.example.com/acme/payments/pull/12"
POLL = timedelta(seconds=15)
CI_WAIT = timedelta(minutes=10)
ROLES = {"engineering_manager": ["UEM"], "oncall_lead": ["ULEAD"], "reviewer": ["UREV1", "UREV2", "UDEV"]}
POLICY = Policy(ApprovalPolicy.build({Severity.HIGH: ("engineering_manager", "oncall_lead")}, ROLES))
PEOPLE = People(logins={"UREV1": "rita-gh", "UREV2": "sam-gh", "UDEV": "dev-gh"},
                reviewers={"UREV1", "UREV2", "UDEV"})


def later(minutes: float) -> datetime:
    return AT + timedelta(minutes=minutes)


def hotfix(stage: Stage = Stage.IN_REVIEW, **changes) -> Hotfix:
    base = Hotfix(title="Checkout total is wrong", issue_id="PROD-501", severity=Severity.HIGH,
                  impact="Half the carts charge 0", risk="Low", repo="payments",
                  branch="hotfix/PROD-501-checkout-total", declared_by="UDEV", declared_at=AT, number=7,
                  stage=stage, base_ref="v1.4.0", base_commit=OLD, review_commit=HEAD)
    return replace(base, **changes)


def pr_opened(number: int = 12, head: str = HEAD, target: str = "main") -> Event:
    detail = {"number": number, "url": PR_URL, "head": head, "target": target, "how": "opened"}
    return Event(EventKind.PULL_REQUEST_OPENED, BOT, AT, detail)


def review(login: str, state: ReviewState, commit: str = HEAD, body: str = "", minute: float = 5) -> Review:
    return Review(login, state, commit, body, later(minute))


def verdict(*reviews: Review, head: str = HEAD, authors: tuple[str, ...] = ()):
    return review_verdict(reviews, head, PEOPLE, "UDEV", authors)


def check(name: str, state: CheckState) -> Check:
    return Check(name, state, f"https://ci.example.com/{name}")
