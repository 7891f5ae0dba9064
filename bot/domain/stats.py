"""Hotfix statistics over a period, against the period before it: are we getting faster, and where do we wait?

Pure: takes the hotfixes with their events and `now`; `hotfix-bot stats` and the App Home tab render the result.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.deploy import live_at
from bot.domain.hotfix import Event, EventKind, Hotfix, Stage
from bot.domain.policy import Severity, TimeTargets
from bot.domain.step_timing import step_timings
from bot.domain.trail import last_at

FOLLOW_UP_WINDOW = timedelta(days=7)  # another hotfix on the same repo this soon after the tag: the fix failed
OUTCOMES = ("closed", "rejected", "open", "rolled_back")


@dataclass(frozen=True)
class History:
    """One hotfix and its audit trail, oldest event first."""

    hotfix: Hotfix
    events: Sequence[Event]


@dataclass(frozen=True)
class Spread:
    """Durations summed up: the middle one, and the one 90 % of them stay within (nearest rank)."""

    count: int = 0
    median: timedelta | None = None
    p90: timedelta | None = None

    @classmethod
    def of(cls, durations: Sequence[timedelta]) -> Spread:
        if not durations:
            return cls()
        ordered = sorted(durations)
        middle = len(ordered) // 2
        median = ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
        return cls(len(ordered), median, ordered[math.ceil(0.9 * len(ordered)) - 1])


@dataclass(frozen=True)
class Outcomes:
    """Hotfixes declared in the period by how they ended; a rollback is counted besides the end."""

    closed: int = 0
    rejected: int = 0
    open: int = 0
    rolled_back: int = 0  # rolled back at least once

    @property
    def declared(self) -> int:
        return self.closed + self.rejected + self.open


@dataclass(frozen=True)
class StepFigures:
    step: str
    target: timedelta | None
    spread: Spread
    over_target: int = 0  # how many of the measured hotfixes took longer than the target


@dataclass(frozen=True)
class ChangeFailure:
    """DORA's change failure rate: of the hotfixes that pushed a tag, how many failed."""

    deployed: int = 0
    rolled_back: int = 0
    followed_up: int = 0  # another hotfix on the same repo within FOLLOW_UP_WINDOW of the tag
    failed: int = 0  # rolled back, followed up, or both

    @property
    def rate(self) -> float | None:
        return self.failed / self.deployed if self.deployed else None


@dataclass(frozen=True)
class PeriodFigures:
    start: datetime
    end: datetime
    outcomes: dict[Severity, Outcomes]
    steps: tuple[StepFigures, ...]
    restore: Spread  # declared to the version endpoint reporting the last tag live
    restore_unknown: int  # tagged, but no version endpoint ever reported the tag
    change_failure: ChangeFailure

    @property
    def total(self) -> Outcomes:
        rows = self.outcomes.values()
        return Outcomes(*(sum(getattr(row, name) for row in rows) for name in OUTCOMES))

    def step(self, name: str) -> StepFigures | None:
        return next((s for s in self.steps if s.step == name), None)

    @property
    def slowest(self) -> StepFigures | None:
        """Where we wait: the step with the longest median."""
        measured = [s for s in self.steps if s.spread.median is not None]
        return max(measured, key=lambda s: s.spread.median, default=None)


@dataclass(frozen=True)
class MergeBackDebt:
    """A fix in production that some merge target still lacks: the next release would bring the bug back."""

    key: str
    repo: str
    targets_left: tuple[str, ...]
    waiting: timedelta  # since Stable
    overdue: bool  # waiting longer than merge_back_due


@dataclass(frozen=True)
class Stats:
    current: PeriodFigures
    previous: PeriodFigures  # the same span just before, to compare with
    debt: tuple[MergeBackDebt, ...]  # now, whenever the hotfix was declared; the oldest first


def compute(histories: Sequence[History], times: TimeTargets, *, now: datetime, span: timedelta) -> Stats:
    """`histories`: every hotfix declared since `now - 2 * span`, and any older one that may owe a merge-back."""
    start = now - span
    return Stats(
        current=_period(histories, times, start, now),
        previous=_period(histories, times, start - span, start),
        debt=tuple(sorted(filter(None, (_debt(h, times, now) for h in histories)), key=lambda d: -d.waiting)),
    )


def may_owe_merge_back(hotfix: Hotfix) -> bool:
    """What a reader loads besides the period: a fix Stable but not yet in every target (see _debt)."""
    return bool(hotfix.targets_left) and hotfix.stage in (Stage.MERGING_BACK, Stage.CLOSED)


def _period(histories: Sequence[History], times: TimeTargets, start: datetime, end: datetime) -> PeriodFigures:
    declared = [h for h in histories if start < h.hotfix.declared_at <= end]  # one declared this instant counts
    tagged = [h for h in declared if last_at(h.events, EventKind.TAGGED)]
    restored = [at - h.hotfix.declared_at for h in tagged if (at := live_at(h.events, h.hotfix.tag or ""))]
    return PeriodFigures(
        start=start, end=end,
        outcomes={s: _outcomes([h for h in declared if h.hotfix.severity is s]) for s in Severity},
        steps=_steps(declared, times),
        restore=Spread.of(restored),
        restore_unknown=len(tagged) - len(restored),
        change_failure=_change_failure(tagged, histories),
    )


def _outcomes(histories: Sequence[History]) -> Outcomes:
    stages = [h.hotfix.stage for h in histories]
    return Outcomes(
        closed=stages.count(Stage.CLOSED), rejected=stages.count(Stage.REJECTED),
        open=sum(1 for stage in stages if stage.is_active),
        rolled_back=sum(1 for h in histories if _rolled_back(h)),
    )


def _steps(histories: Sequence[History], times: TimeTargets) -> tuple[StepFigures, ...]:
    """The post-mortem's steps (its last round, after any rollback), gathered over every hotfix of the period."""
    took: dict[str, list[timedelta]] = {}
    targets: dict[str, timedelta | None] = {}
    for history in histories:
        for timing in step_timings(history.events, times):
            name = timing.step.split(" (")[0]  # "Live (after the tag, as the version endpoint said)" is "Live"
            targets[name] = timing.target
            took.setdefault(name, [])
            if timing.took is not None:
                took[name].append(timing.took)
    return tuple(
        StepFigures(name, targets[name], Spread.of(spans), sum(1 for t in spans if targets[name] and t > targets[name]))
        for name, spans in took.items()
    )


def _change_failure(tagged: Sequence[History], histories: Sequence[History]) -> ChangeFailure:
    rolled_back = {h.hotfix.number for h in tagged if _rolled_back(h)}
    followed_up = {h.hotfix.number for h in tagged if _followed_up(h, histories)}
    return ChangeFailure(len(tagged), len(rolled_back), len(followed_up), len(rolled_back | followed_up))


def _followed_up(history: History, histories: Sequence[History]) -> bool:
    tagged_at = last_at(history.events, EventKind.TAGGED)
    return any(other.hotfix.repo == history.hotfix.repo and other.hotfix.number != history.hotfix.number
               and tagged_at < other.hotfix.declared_at <= tagged_at + FOLLOW_UP_WINDOW for other in histories)


def _debt(history: History, times: TimeTargets, now: datetime) -> MergeBackDebt | None:
    stable_at = last_at(history.events, EventKind.STABLE)
    if stable_at is None or not may_owe_merge_back(history.hotfix):
        return None
    waiting = now - stable_at
    hotfix = history.hotfix
    return MergeBackDebt(hotfix.key, hotfix.repo, hotfix.targets_left, waiting, waiting > times.merge_back_due)


def _rolled_back(history: History) -> bool:
    return any(e.kind is EventKind.ROLLED_BACK for e in history.events)
