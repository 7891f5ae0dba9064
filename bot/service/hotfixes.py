"""Use cases: load, apply a domain move, save the hotfix with its events and follow-up jobs in ONE transaction."""
from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session

from bot.domain import deploy, procedure, reminders, transitions
from bot.domain.declaration import Declaration, Field
from bot.domain.hotfix import (
    CutBranch, DeleteBranch, Effect, Event, EventKind, Hotfix, MergeBack, ProbeDeploy, SummarizeDiff, TagRelease,
    VerifyMerged,
)
from bot.domain.repo import RepoSpec
from bot.domain.timers import CancelTimers, DelayTimer, StartTimer, Timer, TimerKind, end_of_quiet_hours
from bot.domain.policy import Policy
from bot.domain.transitions import Outcome, Refused
from bot.metrics import Metrics, completed_steps, ends_a_step
from bot.service.clock import Clock
from bot.service.steps import Steps
from bot.store import jobs, timer_store
from bot.store.db import reading, transaction
from bot.store.event_detail import detail_from_stored
from bot.store.hotfix_store import HotfixStore, StaleWrite

log = logging.getLogger(__name__)

SLACK, GIT, TIMERS, PROBE = "slack", "git", "timers", "probe"
PROBE_DEPLOY = "probe_deploy"
_TIMER_BATCH = 200
GIT_JOBS = {CutBranch: "cut_branch", SummarizeDiff: "summarize_diff", TagRelease: "tag_release",
            MergeBack: "merge_back", VerifyMerged: "verify_merged", DeleteBranch: "delete_branch"}
_KEY = re.compile(r"^(?:HF-?)?(\d{1,9})$", re.IGNORECASE)
_ATTEMPTS_ON_CONFLICT = 3


class InvalidDeclaration(Exception):
    def __init__(self, problems: dict[Field, str]) -> None:
        super().__init__("; ".join(problems.values()))
        self.problems = problems


@dataclass
class _Unit:
    session: Session
    store: HotfixStore
    queued: set[str] = field(default_factory=set)
    # Written together when the unit ends: a handful of statements however much the unit did.
    arms: list[timer_store.Arm] = field(default_factory=list)
    jobs: list[dict] = field(default_factory=list)
    measured: list[Callable[[], None]] = field(default_factory=list)  # metrics, once committed

    def write(self, now: datetime) -> None:
        jobs.insert(self.session, self.jobs)
        timer_store.arm_many(self.session, self.arms, now=now)


class HotfixService(Steps):
    def __init__(self, engine: Engine, policy: Policy, repos: Mapping[str, RepoSpec], clock: Clock,
                 wake: Callable[[str], None] = lambda queue: None, metrics: Metrics | None = None) -> None:
        self.engine = engine
        self.metrics = metrics or Metrics()
        self.policy = policy
        self.repos = repos
        self.clock = clock
        self._wake = wake

    # --- reading -------------------------------------------------------------------------------------------
    def get(self, key: str) -> Hotfix:
        number = parse_key(key)
        with reading(self.engine) as session:
            hotfix = HotfixStore(session).get(number)
        if hotfix is None:
            raise Refused(f"There is no hotfix HF-{number}. `/hotfix list` shows the active ones.")
        return hotfix

    def active(self) -> list[Hotfix]:
        with reading(self.engine) as session:
            return HotfixStore(session).active()

    def timeline(self, key: str) -> tuple[Hotfix, list[Event]]:
        hotfix = self.get(key)
        with reading(self.engine) as session:
            return hotfix, HotfixStore(session).events(hotfix.number)

    def status_message_of(self, hotfix: Hotfix) -> tuple[str, str] | None:
        """Where the hotfix's status message is in Slack: (channel, ts), once posted."""
        with reading(self.engine) as session:
            return HotfixStore(session).status_message(hotfix.number)

    def remember_status_message(self, hotfix: Hotfix, *, channel: str, ts: str) -> None:
        with transaction(self.engine) as session:
            HotfixStore(session).set_status_message(hotfix.number, channel, ts)

    # --- moves ---------------------------------------------------------------------------------------------
    def declare(self, form: Declaration, *, declared_by: str, request_key: str | None = None) -> Hotfix:
        problems = form.problems(self.repos)
        if problems:
            raise InvalidDeclaration(problems)
        with self._unit() as unit:
            if request_key and (earlier := unit.store.by_request_key(request_key)):
                return earlier  # Slack resent the submission
            outcome = transitions.declare(form, declared_by=declared_by, now=self.clock.now(), times=self.policy.times)
            hotfix = unit.store.add(outcome.hotfix, request_key=request_key)
            if (named := transitions.name_branch(hotfix)) != hotfix:
                unit.store.save(hotfix, named)
                hotfix = named
            self._queue_status(unit, hotfix)
            self._record(unit, hotfix, outcome)
            declared = {"from": "", "to": hotfix.stage.value}
            self._queue(unit, SLACK, f"slack:{hotfix.key}", "stakeholders", hotfix, declared)
        return hotfix

    def approve(self, key: str, *, user_id: str) -> Hotfix:
        return self._move(key, lambda h, now: transitions.approve(h, user_id=user_id, policy=self.policy.approvals, now=now))

    def check_may_reject(self, key: str, *, user_id: str) -> Hotfix:
        hotfix = self.get(key)
        transitions.check_may_reject(hotfix, user_id=user_id, policy=self.policy.approvals)
        return hotfix

    def check_may_review(self, key: str, *, user_id: str) -> Hotfix:
        hotfix = self.get(key)
        procedure.check_reviewer(hotfix, user_id, self.policy)
        return hotfix

    def reject(self, key: str, *, user_id: str, reason: str) -> Hotfix:
        return self._move(
            key, lambda h, now: transitions.reject(h, user_id=user_id, reason=reason, policy=self.policy.approvals, now=now)
        )

    def record_branch_cut(self, key: str, *, base_ref: str, base_commit: str) -> Hotfix:
        return self._move(
            key, lambda h, now: transitions.record_branch_cut(h, base_ref=base_ref, base_commit=base_commit, now=now)
        )

    def snooze(self, key: str, kind: str, *, user_id: str, by: timedelta) -> Hotfix:
        if kind not in TimerKind._value2member_map_:
            raise Refused("That reminder no longer exists; nothing to snooze.")
        return self._move(key, lambda h, now: reminders.snooze(h, TimerKind(kind), user_id=user_id, by=by,
                                                                policy=self.policy, now=now))

    def looks_fine(self, key: str, *, user_id: str) -> Hotfix:
        return self._move(key, lambda h, now: reminders.looks_fine(h, user_id=user_id, policy=self.policy, now=now))

    # --- time --------------------------------------------------------------------------------------------------
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
            with self._unit() as unit:
                due = timer_store.due(unit.session, now=now, limit=_TIMER_BATCH)
                by_hotfix: dict[int, list[Timer]] = {}
                for hotfix_id, timer in due:
                    by_hotfix.setdefault(hotfix_id, []).append(timer)
                moot = {t for timers in by_hotfix.values() for t in reminders.outdated(timers)}
                first = {h: next(t for t in timers if t not in moot) for h, timers in by_hotfix.items()}
                won = timer_store.claim_many(unit.session, [t.id for t in (*first.values(), *moot)], now=now)
                hotfixes = unit.store.get_many(sorted(h for h, t in first.items() if t.id in won), for_update=True)
                for number, hotfix in hotfixes.items():
                    self._fire(unit, hotfix, first[number], now)
                    timer = first[number]
                    unit.measured.append(partial(self.metrics.timer_fired, timer.kind.value, now - timer.due_at))
                fired += len(hotfixes)
            if not due:
                return fired

    def next_timer_due(self) -> datetime | None:
        with reading(self.engine) as session:
            return timer_store.next_due(session)

    def pending_timers(self, hotfix: Hotfix) -> list[Timer]:
        with reading(self.engine) as session:
            return timer_store.pending(session, hotfix_id=hotfix.number)

    def git_job_waiting(self, hotfix: Hotfix, effect: type) -> bool:
        """A git job of this kind is queued or running for the hotfix."""
        with reading(self.engine) as session:
            return jobs.waiting(session, hotfix_id=hotfix.number, kind=GIT_JOBS[effect])

    def _fire(self, unit: _Unit, hotfix: Hotfix, timer: Timer, now: datetime) -> None:
        if reminders.quiet_for(hotfix, now, self.policy, timer.kind):
            quiet_end = end_of_quiet_hours(now, self.policy.times.quiet_hours)
            unit.arms.append(timer_store.Arm(hotfix.number, timer.kind, quiet_end, timer.round))
            return
        never_live = timer.kind is TimerKind.MONITORING_END and self._never_live(unit, hotfix)
        outcome = reminders.remind(hotfix, timer, policy=self.policy, now=now, never_live=never_live)
        self._record(unit, hotfix, outcome)

    def _never_live(self, unit: _Unit, hotfix: Hotfix) -> bool:
        spec = self.repos.get(hotfix.repo)
        if spec is None or not spec.version_url or not hotfix.tag:
            return False
        return deploy.live_at(unit.store.events(hotfix.number), hotfix.tag) is None

    # --- plumbing ------------------------------------------------------------------------------------------
    def _move(self, key: str, move: Callable[[Hotfix, datetime], Outcome]) -> Hotfix:
        number = parse_key(key)
        # Most refusals (a stranger's click, a double click) are decided on a snapshot, without the write lock.
        move(self.get(key), self.clock.now())
        for attempt in range(_ATTEMPTS_ON_CONFLICT):
            try:
                with self._unit() as unit:
                    before = unit.store.get(number, for_update=True)
                    if before is None:
                        raise Refused(f"There is no hotfix HF-{number}. `/hotfix list` shows the active ones.")
                    outcome = move(before, self.clock.now())
                    if outcome.hotfix != before:
                        unit.store.save(before, outcome.hotfix)
                    self._record(unit, outcome.hotfix, outcome)
                    if outcome.hotfix.stage is not before.stage:
                        # The change as it happened: by delivery time the hotfix may have moved on again.
                        change = {"from": before.stage.value, "to": outcome.hotfix.stage.value}
                        self._queue(unit, SLACK, f"slack:{before.key}", "stakeholders", before, change)
                return outcome.hotfix
            except StaleWrite:
                if attempt == _ATTEMPTS_ON_CONFLICT - 1:
                    raise
        raise AssertionError("unreachable")

    @contextmanager
    def _unit(self) -> Iterator[_Unit]:
        with transaction(self.engine) as session:
            unit = _Unit(session, HotfixStore(session))
            yield unit
            unit.write(self.clock.now())
        for measure in unit.measured:
            measure()
        for queue in unit.queued:
            self._wake(queue)

    def _record(self, unit: _Unit, hotfix: Hotfix, outcome: Outcome) -> None:
        """Audit events, a thread reply for each, the status message refreshed, and the effects queued."""
        if not outcome.events and not outcome.effects:
            return
        unit.store.append_events(hotfix.number, outcome.events)
        if ends_a_step(outcome.events):
            for step, took in completed_steps(unit.store.events(hotfix.number), len(outcome.events)):
                unit.measured.append(partial(self.metrics.step_completed, step, took))
        for event in outcome.events:
            log.info("%s %s by %s", hotfix.key, event.kind.value, event.actor,
                     extra={"hotfix": hotfix.key, "event": event.kind.value, "actor": event.actor})
            self._queue(unit, SLACK, f"slack:{hotfix.key}", "announce", hotfix, event_payload(event))
            for user in reminders.also_by_direct_message(event):
                self._queue(unit, SLACK, f"slack:{hotfix.key}", "dm", hotfix, event_payload(event) | {"user": user})
        if outcome.events or not all(map(_unseen, outcome.effects)):
            self._queue_status(unit, hotfix)
        for effect in outcome.effects:
            self._queue_effect(unit, hotfix, effect)

    def _queue_status(self, unit: _Unit, hotfix: Hotfix) -> None:
        self._queue(unit, SLACK, f"slack:{hotfix.key}", "status", hotfix)

    def _queue_effect(self, unit: _Unit, hotfix: Hotfix, effect: Effect) -> None:
        now = self.clock.now()
        match effect:
            case VerifyMerged(remind=remind):
                self._queue(unit, GIT, f"git:{hotfix.repo}", "verify_merged", hotfix, {"remind": remind})
            case CutBranch() | SummarizeDiff() | TagRelease() | MergeBack() | DeleteBranch():
                self._queue(unit, GIT, f"git:{hotfix.repo}", GIT_JOBS[type(effect)], hotfix)
            case ProbeDeploy():
                self._queue(unit, PROBE, f"probe:{hotfix.repo}", PROBE_DEPLOY, hotfix)
            case StartTimer(kind=kind, after=after, round=round_):
                unit.arms.append(timer_store.Arm(hotfix.number, kind, now + after, round_))
                unit.queued.add(TIMERS)
            case CancelTimers(kinds=kinds):
                timer_store.cancel(unit.session, hotfix_id=hotfix.number, kinds=kinds)
            case DelayTimer(kind=kind, by=by):
                timer_store.postpone(unit.session, hotfix_id=hotfix.number, kind=kind, until=now + by)
                unit.queued.add(TIMERS)

    def _queue(self, unit: _Unit, queue: str, lane: str, kind: str, hotfix: Hotfix, payload: dict | None = None) -> None:
        unit.jobs.append(jobs.new_job(queue=queue, lane=lane, kind=kind, now=self.clock.now(),
                                      hotfix_id=hotfix.number, payload=payload))
        unit.queued.add(queue)


def _unseen(effect: Effect) -> bool:
    """The probe's loop changes nothing the status message shows: no chat.update every 30 s."""
    match effect:
        case ProbeDeploy() | StartTimer(kind=TimerKind.DEPLOY_PROBE):
            return True
    return False


def event_payload(event: Event) -> dict:
    """Slack jobs carry the event they announce, so queueing one needs no round trip for the event's ID."""
    return {"event": {"kind": event.kind.value, "actor": event.actor, "at": event.at.isoformat(),
                      "detail": dict(event.detail)}}


def event_from_payload(payload: dict) -> Event:
    data = payload["event"]
    return Event(EventKind(data["kind"]), data["actor"], datetime.fromisoformat(data["at"]),
                 detail_from_stored(data["detail"]))


def parse_key(key: str) -> int:
    match = _KEY.match(key.strip())
    if not match:
        shown = key.strip()[:40] or "(nothing)"
        raise Refused(f"“{shown}” is not a hotfix ID; they look like HF-12. `/hotfix list` shows the active ones.")
    return int(match.group(1))
