"""Severity policy: what each severity means, who must approve it, and the procedure's time targets."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum


class Severity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @property
    def label(self) -> str:
        return self.name

    @property
    def goes_to_normal_release(self) -> bool:
        """The procedure: MEDIUM and LOW wait for the normal release unless someone overrides."""
        return self in (Severity.MEDIUM, Severity.LOW)


# The procedure's severity matrix, short enough for a select option (75 characters).
SEVERITY_CRITERIA: Mapping[Severity, str] = {
    Severity.CRITICAL: "Outage, security breach, data loss, payments or compliance broken",
    Severity.HIGH: "Over 50% of users degraded, key feature broken, timeouts",
    Severity.MEDIUM: "Partly working, under 50% of users, workaround; can wait 24-48h",
    Severity.LOW: "Cosmetic, minor bug or edge case; can wait for next sprint",
}

DEFAULT_REQUIRED_ROLES: Mapping[Severity, tuple[str, ...]] = {
    Severity.CRITICAL: ("engineering_manager", "oncall_lead", "cto"),
    Severity.HIGH: ("engineering_manager", "oncall_lead"),
}

ONCALL_LEAD = "oncall_lead"
REVIEWER = "reviewer"


def role_label(role: str) -> str:
    """`engineering_manager` -> `Engineering manager`; CTO stays upper case."""
    special = {"cto": "CTO", "oncall_lead": "On-call lead"}
    return special.get(role, role.replace("_", " ").capitalize())


@dataclass(frozen=True)
class ApprovalPolicy:
    """Which roles each severity needs, and which Slack users hold each role."""

    required: Mapping[Severity, tuple[str, ...]]
    members: Mapping[str, frozenset[str]]

    @classmethod
    def build(
        cls, required: Mapping[Severity, Iterable[str]], members: Mapping[str, Iterable[str]]
    ) -> ApprovalPolicy:
        needed = {s: tuple(required.get(s, ())) for s in Severity}
        for low in (Severity.MEDIUM, Severity.LOW):
            needed[low] = needed[low] or needed[Severity.HIGH]
        return cls(needed, {role: frozenset(users) for role, users in members.items()})

    def roles_needed(self, severity: Severity) -> tuple[str, ...]:
        return self.required[severity]

    def holders(self, role: str) -> frozenset[str]:
        return self.members.get(role, frozenset())

    def holds(self, user_id: str, role: str) -> bool:
        return user_id in self.holders(role)

    def open_role_for(self, user_id: str, severity: Severity, taken: Iterable[str]) -> str | None:
        """The first still-missing role this user may approve for, in the configured order."""
        done = set(taken)
        return next((r for r in self.required[severity] if r not in done and self.holds(user_id, r)), None)


@dataclass(frozen=True)
class TimeTargets:
    """Durations the procedure runs on; the procedure's defaults."""

    approval_escalation: timedelta = timedelta(minutes=15)
    review_sla: timedelta = timedelta(hours=1)
    monitoring_window: timedelta = timedelta(minutes=30)
    monitoring_checkin: timedelta = timedelta(minutes=10)
    merge_back_due: timedelta = timedelta(minutes=30)
    postmortem_due: timedelta = timedelta(days=2)
    reminder_repeat: timedelta = timedelta(minutes=15)
    deploy_probe: timedelta = timedelta(seconds=30)  # how often monitoring polls the health and version endpoints
    quiet_hours: tuple[int, int] | None = None  # (start, end) hour in UTC; MEDIUM/LOW reminders wait


@dataclass(frozen=True)
class Policy:
    approvals: ApprovalPolicy
    times: TimeTargets = field(default_factory=TimeTargets)
