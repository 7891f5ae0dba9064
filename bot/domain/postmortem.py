"""The post-mortem draft: what happened, who approved, and each step against seed 001's time targets."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.durations import format_duration
from bot.domain.hotfix import Event, EventKind, Hotfix
from bot.domain.policy import role_label


@dataclass(frozen=True)
class StepTiming:
    step: str
    took: timedelta | None  # None: the step did not happen
    target: str
    within: bool | None


# Each step runs from the first event of one kind to the first (or last) of another; targets from seeds 001/003.
_STEPS = (
    ("Approval", EventKind.DECLARED, EventKind.FULLY_APPROVED, timedelta(minutes=15), "≤ 15m"),
    ("Branch", EventKind.FULLY_APPROVED, EventKind.BRANCH_CUT, timedelta(minutes=1), "≤ 1m"),
    ("Fix + test", EventKind.BRANCH_CUT, EventKind.REVIEW_REQUESTED, timedelta(minutes=40), "10–40m"),
    ("Review", EventKind.REVIEW_REQUESTED, EventKind.REVIEW_APPROVED, timedelta(minutes=15), "5–15m"),
    ("Deploy", EventKind.DEPLOY_STARTED, EventKind.TAGGED, timedelta(minutes=10), "5–10m"),
    ("Merge back", EventKind.STABLE, EventKind.ALL_MERGED, timedelta(minutes=5), "≤ 5m"),
)


def step_timings(events: Sequence[Event]) -> list[StepTiming]:
    timings = []
    for step, start_kind, end_kind, limit, target in _STEPS:
        start = _first(events, start_kind)
        end = _last(events, end_kind) if end_kind is EventKind.REVIEW_APPROVED else _first(events, end_kind)
        took = end - start if start and end and end >= start else None
        timings.append(StepTiming(step, took, target, None if took is None else took <= limit))
    return timings


def draft(hotfix: Hotfix, events: Sequence[Event]) -> str:
    """Markdown; also readable as Slack mrkdwn."""
    title = "Security fix" if hotfix.security else hotfix.title
    lines = [
        f"# Post-mortem draft: {hotfix.key} {title}",
        "",
        f"- Issue: {hotfix.issue_id}" + (" (security: keep details internal)" if hotfix.security else ""),
        f"- Severity: {hotfix.severity.label}",
        f"- Impact: {'see the security advisory' if hotfix.security else hotfix.impact}",
        f"- Declared by {hotfix.declared_by} at {_at(hotfix.declared_at)}",
        f"- Repository: {hotfix.repo}, branch {hotfix.branch}" + (f", tag {hotfix.tag}" if hotfix.tag else ""),
        *_went_live(events),
        *_monitoring_ended_early(events),
        "",
        "## Approvals",
        *[f"- {role_label(d.role)}: {d.user_id} at {_at(d.at)}" for d in hotfix.approvals],
        "",
        "## Steps against their targets",
        *[_timing_line(t) for t in step_timings(events)],
        "",
        "## Timeline",
        *[f"- {_at(e.at)} {e.kind.value.replace('_', ' ')} by {e.actor}{_detail(e)}" for e in events],
        "",
        "## To fill in",
        "- Root cause:",
        "- Why it reached production:",
        "- Follow-up actions (owner, due date):",
    ]
    return "\n".join(lines)


def _went_live(events: Sequence[Event]) -> list[str]:
    """As the version endpoint reported it; the last deploy's, after a rollback."""
    live = next((e for e in reversed(events) if e.kind is EventKind.WENT_LIVE), None)
    if live is None:
        return []
    return [f"- Went live: {_at(live.at)} ({live.detail['tag']}, {live.detail['after_tag']} after the tag)"]


def _monitoring_ended_early(events: Sequence[Event]) -> list[str]:
    return [f"- Monitoring ended early by {e.actor} at {_at(e.at)}, {e.detail['left']} before the window's end: "
            f"{e.detail['reason']}" for e in events if e.kind is EventKind.MONITORING_ENDED_EARLY]


def _timing_line(timing: StepTiming) -> str:
    if timing.took is None:
        return f"- {timing.step}: not done (target {timing.target})"
    mark = "within target" if timing.within else "OVER target"
    return f"- {timing.step}: {format_duration(timing.took)} (target {timing.target}, {mark})"


def _detail(event: Event) -> str:
    shown = {k: v for k, v in event.detail.items() if k in ("role", "tag", "target", "reason", "branch")}
    return "".join(f", {k} {v}" for k, v in shown.items())


def _first(events: Sequence[Event], kind: EventKind) -> datetime | None:
    return next((e.at for e in events if e.kind is kind), None)


def _last(events: Sequence[Event], kind: EventKind) -> datetime | None:
    return next((e.at for e in reversed(events) if e.kind is kind), None)


def _at(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%S UTC")
