"""What happens when a timer of the procedure comes due: who is reminded, escalated to, and when again."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class TimerKind(StrEnum):
    APPROVAL_ESCALATION = "approval_escalation"
    REVIEW_HALFWAY = "review_halfway"
    REVIEW_OVERDUE = "review_overdue"
    MONITORING_CHECKIN = "monitoring_checkin"
    MONITORING_END = "monitoring_end"
    MERGE_BACK_DUE = "merge_back_due"
    POSTMORTEM_DUE = "postmortem_due"
    DEPLOY_PROBE = "deploy_probe"
    CODE_HOST_POLL = "code_host_poll"  # read GitHub again while the hotfix waits on it (webhooks only hurry it)

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    TimerKind.APPROVAL_ESCALATION: "Approval escalation",
    TimerKind.REVIEW_HALFWAY: "Review reminder",
    TimerKind.REVIEW_OVERDUE: "Review due",
    TimerKind.MONITORING_CHECKIN: "Monitoring check-in",
    TimerKind.MONITORING_END: "Monitoring ends",
    TimerKind.MERGE_BACK_DUE: "Merge-back due",
    TimerKind.POSTMORTEM_DUE: "Post-mortem due",
    TimerKind.DEPLOY_PROBE: "Deploy check",
    TimerKind.CODE_HOST_POLL: "GitHub check",
}


@dataclass(frozen=True)
class Timer:
    id: int
    kind: TimerKind
    due_at: datetime
    round: int = 1


@dataclass(frozen=True)
class StartTimer:
    """Effect: arm a timer `after` from now (replacing a pending one of the same kind)."""

    kind: TimerKind
    after: timedelta
    round: int = 1


@dataclass(frozen=True)
class DelayTimer:
    """Effect: a person snoozed the pending timer of this kind."""

    kind: TimerKind
    by: timedelta


@dataclass(frozen=True)
class CancelTimers:
    """Effect: the event that makes these timers moot has happened."""

    kinds: tuple[TimerKind, ...]


def in_quiet_hours(now: datetime, quiet: tuple[int, int] | None) -> bool:
    """`quiet` is (start_hour, end_hour) in UTC, possibly wrapping midnight, e.g. (22, 7)."""
    if quiet is None:
        return False
    start, end = quiet
    hour = now.hour
    return start <= hour < end if start < end else hour >= start or hour < end


def end_of_quiet_hours(now: datetime, quiet: tuple[int, int]) -> datetime:
    candidate = now.replace(hour=quiet[1], minute=0, second=0, microsecond=0)
    return candidate if candidate > now else candidate + timedelta(days=1)
