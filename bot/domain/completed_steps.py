"""How long each step of the procedure took, read off a hotfix's trail of events."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from bot.domain.hotfix import Event, EventKind

# Each step of the procedure: the event that starts it, and the events that end it (the last start before the end).
STEPS: dict[str, tuple[EventKind, tuple[EventKind, ...]]] = {
    "approval": (EventKind.DECLARED, (EventKind.FULLY_APPROVED,)),
    "branch": (EventKind.FULLY_APPROVED, (EventKind.BRANCH_CUT,)),
    "fix": (EventKind.BRANCH_CUT, (EventKind.REVIEW_REQUESTED,)),
    "review": (EventKind.REVIEW_REQUESTED, (EventKind.REVIEW_APPROVED,)),
    "deploy": (EventKind.REVIEW_APPROVED, (EventKind.TAGGED,)),
    "monitoring": (EventKind.TAGGED, (EventKind.STABLE, EventKind.ROLLED_BACK)),
    "merge_back": (EventKind.STABLE, (EventKind.ALL_MERGED,)),
}
_STEP_ENDS = {end for _, ends in STEPS.values() for end in ends}


def ends_a_step(events: Sequence[Event]) -> bool:
    return any(e.kind in _STEP_ENDS for e in events)


def completed_steps(events: Sequence[Event], new: int) -> list[tuple[str, timedelta]]:
    """The steps the last `new` of `events` (a hotfix's whole trail, in order) complete, with how long each took."""
    done = []
    for index in range(len(events) - new, len(events)):
        end = events[index]
        for step, (start_kind, end_kinds) in STEPS.items():
            if end.kind not in end_kinds:
                continue
            start = next((e for e in reversed(events[:index]) if e.kind is start_kind), None)
            if start is not None:
                done.append((step, end.at - start.at))
    return done
