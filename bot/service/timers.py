"""Time moves the procedure too: timers that come due fire reminders, escalations and the end of monitoring."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial

from bot.domain import deploy, github_flow, github_merge, reminders
from bot.domain.codehost import Signal
from bot.domain.hotfix import Hotfix, PollCodeHost
from bot.domain.timers import Timer, TimerKind, end_of_quiet_hours
from bot.domain.transitions import Outcome
from bot.service.moves import Moves
from bot.service.ports import Clock, Measures, Rules, UnitOfWork, UnitsOfWork

_TIMER_BATCH = 200


class TimerFiring:
    def __init__(self, moves: Moves, units: UnitsOfWork, clock: Clock, rules: Callable[[], Rules],
                 measures: Measures | None = None) -> None:
        self.moves, self.units, self.clock, self.rules, self.measures = moves, units, clock, rules, measures

    def fire_due_timers(self) -> int:
        """Fire every timer due now, each exactly once across processes; returns how many fired.

        A batch takes a handful of statements, not a handful per timer: 1,000 timers due together fire in
        well under a second. A hotfix with several timers due fires one per round, so the next one sees what
        the first did (monitoring's end cancels its check-in). Reminders that a later one of the same thing
        makes moot (after downtime) are claimed silently.
        """
        fired = 0
        while True:
            now = self.clock.now()
            with self.units.writing() as unit:
                due = unit.timers.due(now, _TIMER_BATCH)
                fired += self._fire_batch(unit, due, now)
            if not due:
                return fired

    def next_timer_due(self) -> datetime | None:
        with self.units.reading() as unit:
            return unit.timers.next_due()

    def poll_now(self, signal: Signal) -> int:
        """A webhook says something changed on `signal.repo`: every hotfix there that waits on GitHub reads it
        now (polling stays the source of truth: a lost or forged hint costs at most a poll). Returns how many."""
        if not signal.worth_polling:
            return 0
        with self.units.writing() as unit:
            rules = self.rules()
            named = {name for name, spec in rules.repos.items()
                     if spec.github is not None and spec.github.lower() == (signal.repo or "").lower()}
            waiting = [h for h in unit.hotfixes.active() if h.repo in named and github_flow.waits_on_github(h)]
            for hotfix in waiting:
                self.moves.record(unit, Outcome(hotfix, effects=(PollCodeHost(),)))
        return len(waiting)

    def _fire_batch(self, unit: UnitOfWork, due: list[tuple[int, Timer]], now: datetime) -> int:
        by_hotfix: dict[int, list[Timer]] = {}
        for number, timer in due:
            by_hotfix.setdefault(number, []).append(timer)
        moot = {t for timers in by_hotfix.values() for t in reminders.outdated(timers)}
        first = {h: next(t for t in timers if t not in moot) for h, timers in by_hotfix.items()}
        won = unit.timers.claim([t.id for t in (*first.values(), *moot)], now)
        hotfixes = unit.hotfixes.get_many(sorted(h for h, t in first.items() if t.id in won), for_update=True)
        rules = self.rules()
        for number, hotfix in hotfixes.items():
            timer = first[number]
            self._fire(unit, hotfix, timer, now, rules)
            if self.measures is not None:
                unit.after_commit(partial(self.measures.timer_fired, timer.kind.value, now - timer.due_at))
        return len(hotfixes)

    def _fire(self, unit: UnitOfWork, hotfix: Hotfix, timer: Timer, now: datetime, rules: Rules) -> None:
        assert hotfix.number is not None
        if reminders.quiet_for(hotfix, now, rules.policy, timer.kind):
            unit.timers.arm(hotfix.number, timer.kind, end_of_quiet_hours(now, rules.policy.times.quiet_hours),
                            timer.round)
            return
        never_live = timer.kind is TimerKind.MONITORING_END and _never_live(unit, hotfix, rules)
        outcome = reminders.remind(hotfix, timer, policy=rules.policy, now=now, never_live=never_live)
        if timer.kind is TimerKind.MERGE_BACK_DUE and rules.on_github(hotfix.repo):
            # GitHub does not say when a review or a check arrives: try the merges it refused again.
            retry = github_merge.retry_refused_merges(outcome.hotfix, unit.hotfixes.events(hotfix.number))
            outcome = Outcome(outcome.hotfix, outcome.events, (*outcome.effects, *retry.effects))
        self.moves.record(unit, outcome)


def _never_live(unit: UnitOfWork, hotfix: Hotfix, rules: Rules) -> bool:
    spec = rules.repos.get(hotfix.repo)
    if spec is None or not spec.version_url or not hotfix.tag or hotfix.number is None:
        return False
    return deploy.live_at(unit.hotfixes.events(hotfix.number), hotfix.tag) is None
