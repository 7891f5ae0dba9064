"""What the use cases need from the outside world, in the procedure's own terms. bot/store implements them."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from bot.domain.codehost import People
from bot.domain.hotfix import Effect, Event, Hotfix, Stage
from bot.domain.policy import Policy
from bot.domain.repo import RepoSpec
from bot.domain.timers import Timer, TimerKind
from bot.service.clock import Clock

__all__ = ["Clock"]  # re-exported: the clock is a port too


class StaleWrite(Exception):
    """Another writer saved this hotfix since we read it; the use case is retried."""


@dataclass(frozen=True)
class Rules:
    """The configuration the procedure follows, one snapshot: a reload swaps it whole."""

    policy: Policy
    repos: Mapping[str, RepoSpec]
    people: People = field(default_factory=lambda: People(logins={}, reviewers=frozenset()))  # [people]
    code_host_poll: timedelta = timedelta(seconds=15)  # [github] poll
    ci_wait: timedelta = timedelta(minutes=10)  # [github] ci_wait

    def on_github(self, repo: str) -> bool:
        spec = self.repos.get(repo)
        return spec is not None and spec.on_github


class OutboxJob(Protocol):
    """Work for a worker, written in the same transaction as what caused it. Jobs of one lane run in order."""

    @property
    def hotfix(self) -> int: ...

    @property
    def queue(self) -> str: ...

    @property
    def kind(self) -> str: ...

    @property
    def lane(self) -> str: ...


class HotfixRepository(Protocol):
    def get(self, number: int, *, for_update: bool = False) -> Hotfix | None: ...

    def get_many(self, numbers: list[int], *, for_update: bool = False) -> dict[int, Hotfix]: ...

    def add(self, hotfix: Hotfix, *, request_key: str | None = None) -> Hotfix: ...

    def save(self, before: Hotfix, after: Hotfix) -> None: ...

    def by_request_key(self, request_key: str) -> Hotfix | None: ...

    def active(self) -> list[Hotfix]: ...

    def events(self, number: int) -> list[Event]: ...

    def append_events(self, number: int, events: Sequence[Event]) -> list[int]:
        """Returns the new events' ids, in order."""
        ...


class Outbox(Protocol):
    def put(self, jobs: Iterable[OutboxJob]) -> None: ...

    def waiting(self, hotfix: int, kind: str) -> bool:
        """A job of this kind for the hotfix is queued (perhaps retrying later) or running."""
        ...

    def queued(self, hotfix: int, kind: str) -> bool:
        """A job of this kind for the hotfix is queued and has not started: a new one would only repeat it."""
        ...


class TimerBook(Protocol):
    def arm(self, hotfix: int, kind: TimerKind, due_at: datetime, round: int = 1) -> None:
        """Replaces a pending timer of the same kind when the unit of work ends."""
        ...

    def cancel(self, hotfix: int, kinds: tuple[TimerKind, ...]) -> None: ...

    def postpone(self, hotfix: int, kind: TimerKind, until: datetime) -> None: ...

    def due(self, now: datetime, limit: int) -> list[tuple[int, Timer]]: ...

    def claim(self, timer_ids: list[int], now: datetime) -> set[int]:
        """The timers this caller won: each is won by exactly one, however many processes race for it."""
        ...

    def pending(self, hotfix: int) -> list[Timer]: ...

    def next_due(self) -> datetime | None: ...


class UnitOfWork(Protocol):
    """A context manager: commits on a clean exit, rolls back on an exception."""

    hotfixes: HotfixRepository
    outbox: Outbox
    timers: TimerBook

    def after_commit(self, callback: Callable[[], None]) -> None: ...

    def __enter__(self) -> UnitOfWork: ...

    def __exit__(self, *exc_info: object) -> None: ...


class UnitsOfWork(Protocol):
    def writing(self) -> UnitOfWork: ...

    def reading(self) -> UnitOfWork:
        """Read-only: never takes the write lock, never commits."""
        ...


class Measures(Protocol):
    """Bot.metrics, seen from the use cases."""

    def step_completed(self, step: str, took: timedelta) -> None: ...

    def timer_fired(self, kind: str, late: timedelta) -> None: ...


@dataclass(frozen=True)
class StageChange:
    before: Stage | None  # None: just declared
    after: Stage


@dataclass(frozen=True)
class News:
    """What a move recorded, for the subscribers that turn it into outbox jobs (Slack replies...)."""

    hotfix: Hotfix
    events: tuple[tuple[int, Event], ...]  # with their ids
    effects: tuple[Effect, ...] = ()
    change: StageChange | None = None


Subscriber = Callable[[News], Iterable[OutboxJob]]
