"""Retention: the leader deletes finished jobs and fired or cancelled timers after `[retention] keep`, and nothing else.

The store tests run on a fresh SQLite file and on a fresh PostgreSQL database; the leader test runs the real bot.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert
from sqlmodel import select

from bot.config import Settings, load_config
from bot.domain.hotfix import Event, EventKind
from bot.service.clock import ManualClock
from bot.runtime.retention import RetentionSchedule
from bot.store.db import create_schema, make_engine, reading, transaction
from bot.store.hotfix_store import HotfixStore
from bot.store.leadership import FileLock
from bot.store.retention import prune
from bot.store.tables import JobRow, TimerRow
from bot.wiring import build
from tests.support.driver import eventually
from tests.support.postgres import fresh_database
from tests.store.test_migrations import the_hotfix
from tests.test_config import EXAMPLE, config_problem, write

KEEP = timedelta(days=30)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path}/hotfix.db")
        create_schema(engine)
        yield engine
        engine.dispose()
        return
    with fresh_database() as url:
        engine = make_engine(url)
        create_schema(engine)
        try:
            yield engine
        finally:
            engine.dispose()


def seed_a_month_old_hotfix(engine: Engine, clock: ManualClock) -> int:
    """A hotfix whose work is 31 days old by the time the test prunes: finished and unfinished jobs, fired,
    cancelled and pending timers, its audit trail; then a day ago, one more finished job and fired timer."""
    hotfix, events = the_hotfix()
    old = clock.now()
    with transaction(engine) as session:
        store = HotfixStore(session)
        number = store.add(hotfix).number
        store.append_events(number, (*events, Event(EventKind.TAGGED, "UDEV", old, {"tag": "v1.10.1"})))
        session.execute(insert(JobRow.__table__), [
            job(number, "old done", old, state="done", finished_at=old),
            job(number, "old failed", old, state="failed", finished_at=old),
            job(number, "old pending", old, state="pending"),  # a git remote down for a month: still to run
            job(number, "old running", old, state="running"),
        ])
        session.execute(insert(TimerRow.__table__), [
            timer(number, "review_halfway", old, state="fired", fired_at=old),
            timer(number, "review_overdue", old, state="cancelled"),
            timer(number, "merge_back_due", old, state="pending"),  # overdue while the bot was down
        ])
    recent = clock.advance(KEEP)
    with transaction(engine) as session:
        session.execute(insert(JobRow.__table__), [job(number, "recent done", recent, state="done", finished_at=recent)])
        session.execute(insert(TimerRow.__table__), [
            timer(number, "monitoring_checkin", recent, state="fired", fired_at=recent),
            timer(number, "postmortem_due", recent + timedelta(days=2), state="pending"),
        ])
    clock.advance(timedelta(days=1))
    return number


def job(hotfix_id: int, kind: str, at, *, state: str, finished_at=None) -> dict:
    # In a queue no runner serves, so the leader under test leaves the unfinished ones as they are.
    return {"queue": "elsewhere", "lane": f"hotfix:{hotfix_id}", "kind": kind, "hotfix_id": hotfix_id, "payload": "{}",
            "state": state, "attempts": 1, "not_before": at, "created_at": at, "finished_at": finished_at}


def timer(hotfix_id: int, kind: str, due_at, *, state: str, fired_at=None) -> dict:
    return {"hotfix_id": hotfix_id, "kind": kind, "due_at": due_at, "state": state, "round": 1,
            "created_at": due_at, "fired_at": fired_at}


def jobs_left(engine: Engine) -> list[str]:
    with reading(engine) as session:
        return list(session.exec(select(JobRow.kind).order_by(JobRow.id)).all())


def timers_left(engine: Engine) -> list[tuple[str, str]]:
    with reading(engine) as session:
        return [tuple(row) for row in session.exec(select(TimerRow.kind, TimerRow.state).order_by(TimerRow.id)).all()]


def events_of(engine: Engine, number: int) -> list[str]:
    with reading(engine) as session:
        return [e.kind.value for e in HotfixStore(session).events(number)]


def test_pruning_deletes_only_finished_jobs_and_settled_timers_older_than_keep(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    clock = ManualClock()
    number = seed_a_month_old_hotfix(engine, clock)
    with reading(engine) as session:
        hotfix_before = HotfixStore(session).get(number)

    with caplog.at_level(logging.INFO, logger="bot.runtime.retention"):
        pruned = RetentionSchedule(engine, clock, keep=lambda: KEEP).prune_once()

    assert (pruned.jobs, pruned.timers) == (2, 2)
    assert caplog.messages == ["retention: deleted 2 finished job(s) and 2 fired or cancelled timer(s) older than 30d"]
    assert jobs_left(engine) == ["old pending", "old running", "recent done"]
    assert timers_left(engine) == [("merge_back_due", "pending"), ("monitoring_checkin", "fired"),
                                   ("postmortem_due", "pending")]
    assert events_of(engine, number) == ["declared", "approved", "rejected", "tagged"]
    with reading(engine) as session:
        assert HotfixStore(session).get(number) == hotfix_before  # with its approval and rejection


def test_pruning_goes_in_batches_until_nothing_old_is_left(engine: Engine) -> None:
    clock = ManualClock()
    number = seed_a_month_old_hotfix(engine, clock)
    old = clock.now() - KEEP - timedelta(days=1)
    with transaction(engine) as session:
        session.execute(insert(JobRow.__table__), [job(number, f"old {n}", old, state="done", finished_at=old)
                                                    for n in range(5)])

    pruned = prune(engine, before=clock.now() - KEEP, batch_size=2)

    assert (pruned.jobs, pruned.timers) == (7, 2)
    assert jobs_left(engine) == ["old pending", "old running", "recent done"]
    assert prune(engine, before=clock.now() - KEEP, batch_size=2) == type(pruned)(0, 0)


def test_a_stop_between_batches_leaves_the_rest_for_the_next_run(engine: Engine) -> None:
    clock = ManualClock()
    seed_a_month_old_hotfix(engine, clock)
    batches = iter([False, True])

    pruned = prune(engine, before=clock.now() - KEEP, batch_size=1, stopping=lambda: next(batches, True))

    assert (pruned.jobs, pruned.timers) == (1, 0)
    assert len(jobs_left(engine)) == 4


def test_the_leader_prunes_and_a_follower_does_not(
    env: dict[str, str], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings.from_env({**env, "HOTFIX_LEADER_RETRY_SECONDS": "0.05"})
    clock = ManualClock()
    bot = build(settings, load_config(settings.config_path), clock=clock, poll_seconds=0.05,
                prune_every=timedelta(seconds=0.05))
    seed_a_month_old_hotfix(bot.engine, clock)
    other_leader = FileLock(f"{tmp_path}/hotfix.db.leader.lock")
    assert other_leader.acquire()
    caplog.set_level(logging.INFO, logger="bot.runtime.retention")
    try:
        bot.start_workers()
        assert bot.role == "follower"
        time.sleep(0.3)  # six prune intervals
        assert bot.role == "follower"
        assert len(jobs_left(bot.engine)) == 5 and len(timers_left(bot.engine)) == 5
        assert caplog.messages == []

        other_leader.release()  # the other process died: this one takes over, and prunes
        eventually(lambda: bot.role == "leader", timeout=5)
        eventually(lambda: len(timers_left(bot.engine)) == 3, timeout=5)  # timers go after the jobs
        assert jobs_left(bot.engine) == ["old pending", "old running", "recent done"]
        eventually(lambda: "retention: deleted 2 finished job(s) and 2 fired or cancelled timer(s) older than 30d"
                   in caplog.messages, timeout=5)  # logged once the last batch is committed
    finally:
        bot.stop()
        other_leader.release()


def test_keep_defaults_to_30_days_and_hotfix_toml_may_change_it(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, EXAMPLE)).retention.keep == timedelta(days=30)
    assert load_config(write(tmp_path, EXAMPLE + '\n[retention]\nkeep = "90d"\n')).retention.keep == timedelta(days=90)


@pytest.mark.parametrize("written", ["12h", "0d"])
def test_keep_below_a_day_is_refused_naming_the_minimum(tmp_path: Path, written: str) -> None:
    message = config_problem(tmp_path, EXAMPLE + f'\n[retention]\nkeep = "{written}"\n')

    assert message.endswith(f'[retention] keep: "{written}" is too short; the minimum is "1d".'), message


def test_the_example_config_keeps_30_days() -> None:
    example = load_config(Path(__file__).resolve().parents[2] / "hotfix.example.toml")

    assert example.retention.keep == timedelta(days=30)
