"""The engine under every use case: load the hotfix, apply one domain move, save it with its events, the jobs they
cause and its timers, all in ONE transaction. A refusal (Refused) rolls the whole unit back."""
from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from bot.domain.hotfix import (
    CutBranch, DeleteBranch, Effect, Event, Hotfix, MergeBack, MergePullRequest, OpenMergeBackPullRequest,
    OpenPullRequest, PollCodeHost, ProbeDeploy, PushMergeBranch, SummarizeDiff, TagRelease, VerifyMerged,
)
from bot.domain.completed_steps import completed_steps, ends_a_step
from bot.domain.timers import CancelTimers, DelayTimer, StartTimer
from bot.domain.trail import deploy_attempts
from bot.domain.transitions import Outcome, Refused, Remedy
from bot.service.jobs import GIT_STEPS, POLL, CodeHostJob, GitJob, ProbeJob
from bot.service.ports import Clock, Measures, News, Rules, StageChange, StaleWrite, Subscriber, UnitOfWork, UnitsOfWork

log = logging.getLogger(__name__)

_ATTEMPTS_ON_CONFLICT = 3


@dataclass(frozen=True)
class Turn:
    """What a move may look at besides the hotfix: the time, the rules, and its history in the same transaction."""

    unit: UnitOfWork
    now: datetime
    rules: Rules

    def events(self, hotfix: Hotfix) -> list[Event]:
        assert hotfix.number is not None
        return self.unit.hotfixes.events(hotfix.number)

    def git_step_waiting(self, hotfix: Hotfix, effect: type) -> bool:
        assert hotfix.number is not None
        return self.unit.outbox.waiting(hotfix.number, GIT_STEPS[effect])


Move = Callable[[Hotfix, Turn], Outcome]


class Moves:
    def __init__(self, units: UnitsOfWork, clock: Clock, rules: Callable[[], Rules], *,
                 subscribers: Sequence[Subscriber] = (), measures: Measures | None = None) -> None:
        self.units, self.clock, self.rules = units, clock, rules
        self.subscribers, self.measures = tuple(subscribers), measures

    def run(self, number: int, move: Move) -> Hotfix:
        """Once, under the hotfix's write lock; again only when another writer saved it in between."""
        for attempt in range(_ATTEMPTS_ON_CONFLICT):
            try:
                with self.units.writing() as unit:
                    before = unit.hotfixes.get(number, for_update=True)
                    if before is None:
                        raise no_such_hotfix(number)
                    outcome = move(before, Turn(unit, self.clock.now(), self.rules()))
                    if outcome.hotfix != before:
                        unit.hotfixes.save(before, outcome.hotfix)
                    # The change as it happened: by delivery time the hotfix may have moved on again.
                    changed = outcome.hotfix.stage is not before.stage
                    self.record(unit, outcome, StageChange(before.stage, outcome.hotfix.stage) if changed else None)
                return outcome.hotfix
            except StaleWrite:
                if attempt == _ATTEMPTS_ON_CONFLICT - 1:
                    raise
        raise AssertionError("unreachable")

    def record(self, unit: UnitOfWork, outcome: Outcome, change: StageChange | None = None) -> None:
        """Audit events, whatever the subscribers make of them (Slack replies...), and the effects queued."""
        hotfix = outcome.hotfix
        assert hotfix.number is not None
        if not outcome.events and not outcome.effects and change is None:
            return
        ids = unit.hotfixes.append_events(hotfix.number, outcome.events)
        self._measure_steps(unit, hotfix.number, outcome.events)
        for event in outcome.events:
            log.info("%s %s by %s", hotfix.key, event.kind.value, event.actor,
                     extra={"hotfix": hotfix.key, "event": event.kind.value, "actor": event.actor})
        news = News(hotfix, tuple(zip(ids, outcome.events)), outcome.effects, change)
        for subscriber in self.subscribers:
            unit.outbox.put(subscriber(news))
        for effect in outcome.effects:
            self._queue_effect(unit, hotfix, effect)

    def _measure_steps(self, unit: UnitOfWork, number: int, events: tuple[Event, ...]) -> None:
        if self.measures is None or not ends_a_step(events):
            return
        for step, took in completed_steps(unit.hotfixes.events(number), len(events)):
            unit.after_commit(partial(self.measures.step_completed, step, took))

    def _queue_effect(self, unit: UnitOfWork, hotfix: Hotfix, effect: Effect) -> None:
        number, now = hotfix.number, self.clock.now()
        assert number is not None
        match effect:
            case StartTimer(kind=kind, after=after, round=round_):
                unit.timers.arm(number, kind, now + after, round_)
            case CancelTimers(kinds=kinds):
                unit.timers.cancel(number, kinds)
            case DelayTimer(kind=kind, by=by):
                unit.timers.postpone(number, kind, now + by)
            case ProbeDeploy():
                unit.outbox.put([ProbeJob(number, hotfix.repo)])
            case TagRelease():
                # One tag marker per deploy attempt: a re-run finds its tag, a deploy after a rollback makes a new one.
                attempt = deploy_attempts(unit.hotfixes.events(number))
                unit.outbox.put([GitJob.of(number, hotfix.repo, effect, attempt=attempt)])
            case CutBranch() | SummarizeDiff() | MergeBack() | VerifyMerged() | DeleteBranch() | PushMergeBranch():
                unit.outbox.put([GitJob.of(number, hotfix.repo, effect)])
            case PollCodeHost():
                if not unit.outbox.queued(number, POLL):  # one read of GitHub answers every hint before it
                    unit.outbox.put([CodeHostJob.of(number, hotfix.repo, effect)])
            case OpenPullRequest() | MergePullRequest() | OpenMergeBackPullRequest():
                unit.outbox.put([CodeHostJob.of(number, hotfix.repo, effect)])


def no_such_hotfix(number: int) -> Refused:
    return Refused(f"There is no hotfix HF-{number}.", Remedy.SEE_THE_ACTIVE_ONES)
