"""How long each step of the procedure took, against the targets the team configured."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from bot.domain.deploy import live_at
from bot.domain.hotfix import Event, EventKind
from bot.domain.policy import TimeTargets
from bot.domain.trail import last_before, last_event


@dataclass(frozen=True)
class StepTiming:
    step: str
    took: timedelta | None  # None: the step did not happen, or nobody could see when it ended
    target: timedelta | None  # None: the config sets no target for it
    missing: str = "not done"


def step_timings(events: Sequence[Event], times: TimeTargets) -> list[StepTiming]:
    """Each step of the last round (after a rollback, the second deploy); targets as the config sets them."""
    return [
        _step(events, "Approval", EventKind.DECLARED, EventKind.FULLY_APPROVED, times.approval_escalation),
        _step(events, "Branch cut", EventKind.FULLY_APPROVED, EventKind.BRANCH_CUT),
        _step(events, "Fix & test", EventKind.BRANCH_CUT, EventKind.REVIEW_REQUESTED),
        _step(events, "Review", EventKind.REVIEW_REQUESTED, EventKind.REVIEW_APPROVED, times.review_sla),
        _step(events, "Tag pushed", EventKind.DEPLOY_STARTED, EventKind.TAGGED),
        _live_step(events),
        _step(events, "Merge back", EventKind.STABLE, EventKind.ALL_MERGED, times.merge_back_due),
    ]


def _step(events: Sequence[Event], step: str, start_kind: EventKind, end_kind: EventKind,
          target: timedelta | None = None) -> StepTiming:
    end = last_event(events, end_kind)
    start = last_before(events, start_kind, end) if end else None
    return StepTiming(step, end.at - start.at if end and start else None, target)


def _live_step(events: Sequence[Event]) -> StepTiming:
    tagged = last_event(events, EventKind.TAGGED)
    if tagged is None:
        return StepTiming("Live", None, None)
    live = live_at(events, tagged.detail["tag"])
    if live is None:
        return StepTiming("Live", None, None, missing="unknown: no version endpoint reported the tag")
    return StepTiming("Live (after the tag, as the version endpoint said)", live - tagged.at, None)
