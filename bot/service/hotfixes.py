"""Use cases: load, apply a domain move, save the hotfix with its events and follow-up jobs in ONE transaction."""
from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session

from bot.domain import transitions
from bot.domain.declaration import Declaration, Field
from bot.domain.hotfix import CutBranch, Effect, Event, Hotfix
from bot.domain.policy import Policy
from bot.domain.transitions import Outcome, Refused
from bot.service.clock import Clock
from bot.store import jobs
from bot.store.db import reading, transaction
from bot.store.hotfix_store import HotfixStore, StaleWrite

SLACK, GIT = "slack", "git"
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
    queued: set[str]


class HotfixService:
    def __init__(self, engine: Engine, policy: Policy, repos: tuple[str, ...], clock: Clock,
                 wake: Callable[[str], None] = lambda queue: None) -> None:
        self.engine = engine
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

    def event(self, event_id: int) -> Event | None:
        with reading(self.engine) as session:
            return HotfixStore(session).event(event_id)

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
            outcome = transitions.declare(form, declared_by=declared_by, now=self.clock.now())
            hotfix = unit.store.add(outcome.hotfix, request_key=request_key)
            self._queue_status(unit, hotfix)
            self._record(unit, hotfix, outcome)
        return hotfix

    def approve(self, key: str, *, user_id: str) -> Hotfix:
        return self._move(key, lambda h, now: transitions.approve(h, user_id=user_id, policy=self.policy.approvals, now=now))

    def check_may_reject(self, key: str, *, user_id: str) -> Hotfix:
        hotfix = self.get(key)
        transitions.check_may_reject(hotfix, user_id=user_id, policy=self.policy.approvals)
        return hotfix

    def reject(self, key: str, *, user_id: str, reason: str) -> Hotfix:
        return self._move(
            key, lambda h, now: transitions.reject(h, user_id=user_id, reason=reason, policy=self.policy.approvals, now=now)
        )

    def record_branch_cut(self, key: str, *, base_ref: str, base_commit: str) -> Hotfix:
        return self._move(
            key, lambda h, now: transitions.record_branch_cut(h, base_ref=base_ref, base_commit=base_commit, now=now)
        )

    # --- plumbing ------------------------------------------------------------------------------------------
    def _move(self, key: str, move: Callable[[Hotfix, datetime], Outcome]) -> Hotfix:
        number = parse_key(key)
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
                return outcome.hotfix
            except StaleWrite:
                if attempt == _ATTEMPTS_ON_CONFLICT - 1:
                    raise
        raise AssertionError("unreachable")

    @contextmanager
    def _unit(self) -> Iterator[_Unit]:
        queued: set[str] = set()
        with transaction(self.engine) as session:
            yield _Unit(session, HotfixStore(session), queued)
        for queue in queued:
            self._wake(queue)

    def _record(self, unit: _Unit, hotfix: Hotfix, outcome: Outcome) -> None:
        """Audit events, a thread reply for each, the status message refreshed, and the effects queued."""
        if not outcome.events and not outcome.effects:
            return
        for event_id in unit.store.append_events(hotfix.number, outcome.events):
            self._queue(unit, SLACK, f"slack:{hotfix.key}", "announce", hotfix, {"event_id": event_id})
        self._queue_status(unit, hotfix)
        for effect in outcome.effects:
            self._queue_effect(unit, hotfix, effect)

    def _queue_status(self, unit: _Unit, hotfix: Hotfix) -> None:
        self._queue(unit, SLACK, f"slack:{hotfix.key}", "status", hotfix)

    def _queue_effect(self, unit: _Unit, hotfix: Hotfix, effect: Effect) -> None:
        match effect:
            case CutBranch():
                self._queue(unit, GIT, f"git:{hotfix.repo}", "cut_branch", hotfix)

    def _queue(self, unit: _Unit, queue: str, lane: str, kind: str, hotfix: Hotfix, payload: dict | None = None) -> None:
        jobs.enqueue(unit.session, queue=queue, lane=lane, kind=kind, now=self.clock.now(),
                     hotfix_id=hotfix.number, payload=payload)
        unit.queued.add(queue)


def parse_key(key: str) -> int:
    match = _KEY.match(key.strip())
    if not match:
        shown = key.strip()[:40] or "(nothing)"
        raise Refused(f"“{shown}” is not a hotfix ID; they look like HF-12. `/hotfix list` shows the active ones.")
    return int(match.group(1))
