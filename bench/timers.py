"""Times the bot's timers: arming 10,000, reloading them after a restart, and firing 1,000 due at one instant.

Run: .venv/bin/python bench/timers.py [--reps 3] [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test]
     [--prototype]          also run the lateness reps with the batched fire path (bench-only monkeypatch)
     [--profile]            cProfile one fire of 1,000 due timers and print the top functions

Everything goes through the bot's own code: rows are inserted with HotfixStore.add and timer_store.arm in
transactions, the bot is assembled with bot.wiring.build, and the real TimerScheduler (APScheduler
BackgroundScheduler, real SystemClock) fires the timers. The Slack and git job runners are never started:
Slack points at a dead port, and the reminders' Slack jobs just queue up in the jobs table, where they are
counted to check that every due timer was reminded exactly once.

Shape. arm() keeps at most ONE pending timer per (hotfix, kind), and there are 7 kinds, so 10,000 pending
timers cannot sit on 1,000 hotfixes; they sit on ceil(10,000 / 7) = 1,429 (7 each). The 1,000 timers due
together are on 1,000 distinct hotfixes, each of the kind live in the hotfix's stage (approval escalation while
awaiting approval, review overdue in review, monitoring check-in while monitoring), so each must produce one
REMINDED event, its Slack "announce" job, and re-arm the next round.

Figures.
  arm        10,000 timer_store.arm calls, one transaction per hotfix (as a use case arms in its own unit).
  reload     build(settings, config) + TimerScheduler.start() until the first tick has run and the scheduler
             knows the next due time, with 10,000 pending timers (in-process), and the same from spawning a
             fresh interpreter (`python bench/timers.py --child-reload`, i.e. including imports).
  lateness   per timer: when its reminder is COMMITTED (visible to the Slack runner) minus its due time.
             fire_due_timers records TimerRow.fired_at = the clock reading at the start of its 200-timer
             batch, which understates lateness; it is shown too ("fired_at").
  floor      in the same run, a bare APScheduler BackgroundScheduler (default executor, as TimerScheduler)
             with 1,000 no-op "date" jobs at one instant; each job records time.time() - run_date.
"""
from __future__ import annotations

import time

_T_PROCESS = time.time()  # for --child-reload: imports below are part of a restart

import argparse
import cProfile
import io
import json
import math
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import threading
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import create_engine, event, func, text
from sqlalchemy.engine import make_url
from sqlmodel import Session, select

from bot.config import Settings, load_config
from bot.domain import reminders
from bot.domain.declaration import Declaration
from bot.domain.hotfix import EventKind, Stage
from bot.domain.policy import Severity
from bot.domain.timers import TimerKind
from bot.domain.transitions import declare
from bot.service import hotfixes as hotfixes_module
from bot.service.clock import SystemClock
from bot.store import timer_store
from bot.store.db import create_schema, make_engine, transaction
from bot.store.hotfix_store import HotfixStore
from bot.store.tables import EventRow, JobRow, TimerRow
from bot.wiring import build

TIMERS = 10_000
DUE_TOGETHER = 1_000
KINDS = tuple(TimerKind)
INCIDENTS = math.ceil(TIMERS / len(KINDS))
STAGES = (Stage.AWAITING_APPROVAL, Stage.IN_REVIEW, Stage.MONITORING)
LIVE_KIND = {Stage.AWAITING_APPROVAL: TimerKind.APPROVAL_ESCALATION, Stage.IN_REVIEW: TimerKind.REVIEW_OVERDUE,
             Stage.MONITORING: TimerKind.MONITORING_CHECKIN}
LEAD = 3.0  # seconds between setting up a lateness rep and its due instant
TARGET_P99, TARGET_RELOAD = 1.0, 2.0

CONFIG = """
[slack]
channel = "C0HOTFIX"

[[repos]]
name = "payments"
url = "file:///nonexistent/payments.git"

[approvals]
critical = ["engineering_manager", "oncall_lead", "cto"]
high = ["engineering_manager", "oncall_lead"]

[roles]
engineering_manager = ["UEM"]
oncall_lead = ["ULEAD"]
cto = ["UCTO"]
reviewer = ["UREV1", "UREV2"]

[timers]
review_sla = "1h"
monitoring_window = "30m"
merge_back_due = "30m"
"""


# --- helpers -------------------------------------------------------------------------------------------------
def env_for(database_url: str, workdir: Path) -> dict[str, str]:
    return {"SLACK_BOT_TOKEN": "xoxb-bench", "SLACK_SIGNING_SECRET": "bench-secret",
            "SLACK_API_URL": "http://127.0.0.1:9/api/",  # a dead port: nothing may reach Slack
            "DATABASE_URL": database_url, "HOTFIX_CONFIG": str(workdir / "hotfix.toml"),
            "HOTFIX_WORKDIR": str(workdir / "work")}


def pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms"


class Claims:
    """Observes (never changes) firing: which timer ids each transaction claimed, and when it committed."""

    def __init__(self) -> None:
        self.committed: dict[int, list[float]] = {}  # timer id -> commit times (more than one = a duplicate)
        self.lock = threading.Lock()
        original = timer_store.claim

        def claim(session, timer_id, *, now):
            won = original(session, timer_id, now=now)
            if won:
                session.info.setdefault("bench_claims", []).append(timer_id)
            return won

        timer_store.claim = claim

        @event.listens_for(Session, "after_commit")
        def _committed(session) -> None:
            ids = session.info.pop("bench_claims", None)
            if ids:
                at = time.time()
                with self.lock:
                    for timer_id in ids:
                        self.committed.setdefault(timer_id, []).append(at)

        @event.listens_for(Session, "after_rollback")
        def _rolled_back(session) -> None:
            session.info.pop("bench_claims", None)


# --- set-up --------------------------------------------------------------------------------------------------
def add_hotfixes(engine, config) -> list[tuple[int, Stage]]:
    policy = config.policy()
    now = datetime.now(UTC)
    made: list[tuple[int, Stage]] = []
    for start in range(0, INCIDENTS, 200):
        with transaction(engine) as session:
            store = HotfixStore(session)
            for n in range(start, min(start + 200, INCIDENTS)):
                form = Declaration(f"Bench incident {n}", f"BENCH-{n}", (Severity.CRITICAL, Severity.HIGH)[n % 2],
                                   "Checkout returns 500 for some users.", "Small, reverted easily.", "payments")
                hotfix = declare(form, declared_by=f"UDEV{n % 17}", now=now, times=policy.times).hotfix
                stage = STAGES[n % len(STAGES)]
                made.append((store.add(replace(hotfix, stage=stage)).number, stage))
    return made


def arm_all(engine, incidents: list[tuple[int, Stage]]) -> tuple[float, int]:
    """10,000 arm() calls, one transaction per hotfix; every timer due 1-30 days out (none fires by itself)."""
    now = datetime.now(UTC)
    armed = 0
    started = time.perf_counter()
    for i, (number, _stage) in enumerate(incidents):
        with transaction(engine) as session:
            for k, kind in enumerate(KINDS):
                if armed == TIMERS:
                    break
                due = now + timedelta(days=1 + (i * len(KINDS) + k) % 30, seconds=i)
                timer_store.arm(session, hotfix_id=number, kind=kind, due_at=due, now=now)
                armed += 1
    return time.perf_counter() - started, armed


def counts(engine) -> dict[str, int]:
    with Session(engine) as session:
        rows = session.exec(select(TimerRow.state, func.count()).group_by(TimerRow.state)).all()
    return dict(rows)


# --- restart reload ------------------------------------------------------------------------------------------
def start_and_wait_first_tick(settings, config) -> tuple[object, float, float, datetime | None]:
    """build() + TimerScheduler.start() (what Bot.start_workers does for timers); returns after the first tick."""
    started = time.perf_counter()
    bot = build(settings, config, clock=SystemClock())
    built = time.perf_counter()
    ticked = threading.Event()
    seen: list[datetime | None] = []
    real_next_due = bot.service.next_timer_due

    def next_timer_due():
        value = real_next_due()
        if not ticked.is_set():
            seen.append(value)
            ticked.set()
        return value

    bot.service.next_timer_due = next_timer_due  # observe the tick; behaviour unchanged
    bot.timers.start()
    if not ticked.wait(60):
        raise SystemExit("the first timer tick did not run within 60 s")
    # _tick reschedules right after next_timer_due returns; wait until the date job reflects it
    deadline = time.perf_counter() + 5
    while time.perf_counter() < deadline:
        job = bot.timers._scheduler.get_job("fire-due-timers")
        if job is not None and job.next_run_time > datetime.now(UTC) + timedelta(seconds=1):
            break
        time.sleep(0.0005)
    done = time.perf_counter()
    return bot, built - started, done - started, seen[0]


def child_reload(args) -> None:
    settings = Settings.from_env(json.loads(args.child_reload))
    config = load_config(settings.config_path)
    bot, build_s, total_s, next_due = start_and_wait_first_tick(settings, config)
    done = time.time()
    bot.stop()
    print(json.dumps({"done": done, "process": _T_PROCESS, "build": build_s, "total": total_s,
                      "next_due": next_due.isoformat() if next_due else None}))


def reload_in_fresh_process(env: dict[str, str]) -> dict:
    spawned = time.time()
    out = subprocess.run([sys.executable, __file__, "--child-reload", json.dumps(env)],
                         capture_output=True, text=True, check=True, timeout=120)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["from_spawn"] = result["done"] - spawned
    return result


# --- lateness ------------------------------------------------------------------------------------------------
def floor_rep(n: int) -> list[float]:
    """APScheduler alone: n bare no-op date jobs all due at one instant; lateness of each job's start."""
    scheduler = BackgroundScheduler(timezone=UTC)
    scheduler.start()
    late: list[float] = []
    lock, all_ran = threading.Lock(), threading.Event()
    due = datetime.now(UTC) + timedelta(seconds=LEAD)
    due_ts = due.timestamp()

    def job() -> None:
        ran = time.time()
        with lock:
            late.append(ran - due_ts)
            if len(late) == n:
                all_ran.set()

    for i in range(n):
        scheduler.add_job(job, "date", run_date=due, id=f"noop-{i}", misfire_grace_time=None)
    if time.time() > due_ts:
        raise SystemExit("adding the floor's jobs took longer than the lead time; raise LEAD")
    all_ran.wait(60)
    scheduler.shutdown(wait=True)
    if len(late) != n:
        raise SystemExit(f"floor: only {len(late)} of {n} no-op jobs ran")
    return late


def bot_rep(bot, incidents: list[tuple[int, Stage]], claims: Claims) -> dict:
    """Move the chosen hotfixes' live timers to one instant T, wake the scheduler, measure when each fired."""
    chosen = incidents[:DUE_TOGETHER]
    engine = bot.engine
    with Session(engine) as session:
        max_event = session.exec(select(func.coalesce(func.max(EventRow.id), 0))).one()
        max_job = session.exec(select(func.coalesce(func.max(JobRow.id), 0))).one()
    due = datetime.now(UTC) + timedelta(seconds=LEAD)
    with transaction(engine) as session:
        for number, stage in chosen:
            assert timer_store.postpone(session, hotfix_id=number, kind=LIVE_KIND[stage], until=due)
    bot.timers.wake()  # what the service does when a use case arms or moves a timer
    with Session(engine) as session:
        ids = set(session.exec(select(TimerRow.id).where(TimerRow.state == "pending", TimerRow.due_at == due)).all())
    if len(ids) != DUE_TOGETHER or time.time() > due.timestamp():
        raise SystemExit(f"set-up: {len(ids)} timers due together, or set-up overran the {LEAD}s lead")
    due_ts = due.timestamp()
    deadline = due_ts + 120
    while time.time() < deadline:
        with claims.lock:
            if sum(1 for i in ids if i in claims.committed) == len(ids):
                break
        time.sleep(0.01)
    time.sleep(0.2)  # let any straggling duplicate show up
    with Session(engine) as session:
        rows = session.exec(select(TimerRow).where(TimerRow.id.in_(ids))).all()
        reminded = session.exec(
            select(EventRow.id, EventRow.hotfix_id).where(EventRow.id > max_event, EventRow.kind == EventKind.REMINDED.value)
        ).all()
        announces = session.exec(select(JobRow.payload).where(JobRow.id > max_job, JobRow.kind == "announce")).all()
    with claims.lock:
        committed = {i: list(claims.committed.get(i, [])) for i in ids}
    per_hotfix = Counter(h for _id, h in reminded)
    announced = Counter(json.loads(p)["event_id"] for p in announces)
    reminded_ids = {e for e, _h in reminded}
    chosen_numbers = {n for n, _s in chosen}
    problems = []
    if sum(1 for r in rows if r.state == "fired" and r.fired_at is not None) != len(ids):
        problems.append(f"{sum(1 for r in rows if r.state != 'fired')} due timers not fired")
    if any(len(v) != 1 for v in committed.values()):
        problems.append(f"{sum(1 for v in committed.values() if len(v) > 1)} timers claimed more than once")
    if len(reminded) != DUE_TOGETHER or set(per_hotfix) != chosen_numbers or max(per_hotfix.values(), default=0) != 1:
        problems.append(f"{len(reminded)} REMINDED events for {len(per_hotfix)} hotfixes (want {DUE_TOGETHER} / 1 each)")
    if set(announced) != reminded_ids or any(c != 1 for c in announced.values()):
        problems.append(f"{len(announces)} announce jobs for {len(reminded_ids)} REMINDED events")
    return {
        "committed": [v[0] - due_ts for v in committed.values() if v],
        "fired_at": [r.fired_at.timestamp() - due_ts for r in rows if r.fired_at is not None],
        "reminded": len(reminded), "announce": len(announces), "problems": problems,
    }


# --- prototype (bench process only; bot/ is not edited) ------------------------------------------------------
def batched_fire_due_timers(self) -> int:
    """PROTOTYPE of a batched fire path. Same semantics: claim each due timer once (one conditional UPDATE
    for the batch, RETURNING the ids won), load the batch's hotfixes and decisions in two SELECTs, then
    apply reminders.remind and _record per timer as today, in ONE transaction per batch."""
    from sqlalchemy import update
    from bot.store.tables import DecisionRow, HotfixRow
    from bot.domain.hotfix import Decision
    from bot.domain.timers import Timer

    fired = 0
    while True:
        now = self.clock.now()
        with self._unit() as unit:
            session = unit.session
            due = timer_store.due(session, now=now, limit=hotfixes_module._TIMER_BATCH)
            if due:
                won = set(session.execute(
                    update(TimerRow).where(TimerRow.id.in_([t.id for _h, t in due]), TimerRow.state == "pending")
                    .values(state="fired", fired_at=now).returning(TimerRow.id)
                ).scalars())
                for _h, t in due:  # bench instrumentation only (committed times)
                    if t.id in won:
                        session.info.setdefault("bench_claims", []).append(t.id)
                numbers = sorted({h for h, t in due if t.id in won})
                rows = {r.id: r for r in session.exec(select(HotfixRow).where(HotfixRow.id.in_(numbers)).with_for_update())}
                decisions: dict[int, list] = {}
                for d in session.exec(select(DecisionRow).where(DecisionRow.hotfix_id.in_(numbers)).order_by(DecisionRow.id)):
                    decisions.setdefault(d.hotfix_id, []).append(Decision(d.role, d.user_id, d.at, d.approved, d.reason))
                for hotfix_id, timer in due:
                    if timer.id not in won or hotfix_id not in rows:
                        continue
                    row = rows[hotfix_id]
                    unit.store._versions[row.id] = row.version
                    hotfix = HotfixStore._to_domain(row, tuple(decisions.get(hotfix_id, ())))
                    if reminders.quiet_for(hotfix, now, self.policy):
                        timer_store.arm(session, hotfix_id=hotfix_id, kind=timer.kind, round=timer.round, now=now,
                                        due_at=timers_end_of_quiet(now, self.policy))
                    else:
                        self._record(unit, hotfix, reminders.remind(hotfix, timer, policy=self.policy, now=now))
                    fired += 1
        if len(due) < hotfixes_module._TIMER_BATCH:
            return fired


def timers_end_of_quiet(now, policy):
    from bot.domain.timers import end_of_quiet_hours
    return end_of_quiet_hours(now, policy.times.quiet_hours)


# --- profile -------------------------------------------------------------------------------------------------
def profile_fire(bot, incidents) -> str:
    """Stop the scheduler, make 1,000 timers overdue, and profile one fire_due_timers() call in this thread."""
    bot.timers.stop()
    past = datetime.now(UTC) - timedelta(seconds=1)
    with transaction(bot.engine) as session:
        for number, stage in incidents[:DUE_TOGETHER]:
            timer_store.postpone(session, hotfix_id=number, kind=LIVE_KIND[stage], until=past)
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    fired = bot.service.fire_due_timers()
    profiler.disable()
    took = time.perf_counter() - started
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).sort_stats("cumulative")
    stats.print_stats(28)
    return f"profile: fire_due_timers() fired {fired} in {took:.2f} s (under cProfile)\n" + "\n".join(
        line for line in out.getvalue().splitlines() if line.strip())


# --- main ----------------------------------------------------------------------------------------------------
def postgres_schema(url: str) -> tuple[str, str]:
    schema = f"bench_timers_{os.getpid()}"
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    scoped = make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
    return scoped.render_as_string(hide_password=False), schema


def drop_postgres_schema(url: str, schema: str) -> None:
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


def run_reps(label, bot, incidents, claims, reps) -> list[dict]:
    results = []
    for rep in range(reps):
        floor = floor_rep(DUE_TOGETHER)
        mine = bot_rep(bot, incidents, claims)
        mine["floor"] = floor
        results.append(mine)
        c = mine["committed"]
        print(f"  {label} rep {rep + 1}: committed median {ms(statistics.median(c))}, p99 {ms(pct(c, 99))}, "
              f"max {ms(max(c))} | fired_at p99 {ms(pct(mine['fired_at'], 99))} | floor median "
              f"{ms(statistics.median(floor))}, p99 {ms(pct(floor, 99))}, max {ms(max(floor))} | "
              f"{mine['reminded']} reminded, {mine['announce']} announce"
              + (f" | PROBLEMS: {'; '.join(mine['problems'])}" if mine["problems"] else ""), flush=True)
    return results


def summarize(label: str, results: list[dict]) -> dict:
    med = lambda key, f: statistics.median(f(r[key]) for r in results)  # noqa: E731
    return {
        "label": label,
        "median": med("committed", statistics.median), "p99": med("committed", lambda v: pct(v, 99)),
        "max": med("committed", max),
        "fired_at_p99": med("fired_at", lambda v: pct(v, 99)),
        "floor_median": med("floor", statistics.median), "floor_p99": med("floor", lambda v: pct(v, 99)),
        "floor_max": med("floor", max),
        "problems": [p for r in results for p in r["problems"]],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--database-url", default=None, help="default: a temp SQLite file")
    parser.add_argument("--prototype", action="store_true", help="also time the batched fire path (bench only)")
    parser.add_argument("--profile", action="store_true", help="cProfile one fire of 1,000 due timers")
    parser.add_argument("--child-reload", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_reload:
        return child_reload(args)

    tmp = Path(tempfile.mkdtemp(prefix="bench-timers-"))
    (tmp / "hotfix.toml").write_text(CONFIG, encoding="utf-8")
    schema = None
    if args.database_url:
        url, schema = postgres_schema(args.database_url)
    else:
        url = f"sqlite:///{tmp / 'hotfix.db'}"
    env = env_for(url, tmp)
    settings, config = Settings.from_env(env), load_config(tmp / "hotfix.toml")
    backend = make_url(url).get_backend_name()
    print(f"bench/timers.py: {backend}, {TIMERS:,} timers on {INCIDENTS:,} hotfixes "
          f"(at most one pending per hotfix and kind, {len(KINDS)} kinds), {DUE_TOGETHER:,} due together, "
          f"{args.reps} reps, {os.cpu_count()} CPUs", flush=True)
    try:
        engine = make_engine(url)
        create_schema(engine)
        incidents = add_hotfixes(engine, config)
        arm_s, armed = arm_all(engine, incidents)
        state = counts(engine)
        engine.dispose()
        print(f"  armed {armed:,} in {arm_s:.2f} s ({arm_s / armed * 1e6:,.0f} us/timer); timers by state: {state}",
              flush=True)
        if state.get("pending") != TIMERS:
            raise SystemExit(f"expected {TIMERS} pending timers, found {state}")

        fresh = [reload_in_fresh_process(env) for _ in range(args.reps)]
        print("  reload, fresh process: " + ", ".join(
            f"{r['from_spawn']:.2f} s (build+first tick {r['total']:.2f} s)" for r in fresh), flush=True)
        inproc, bot = [], None
        for _ in range(args.reps):
            if bot is not None:
                bot.stop()
            bot, build_s, total_s, next_due = start_and_wait_first_tick(settings, config)
            inproc.append((build_s, total_s))
        print("  reload, in process (build + first tick): " + ", ".join(
            f"{t:.3f} s (build {b:.3f} s)" for b, t in inproc) + f"; next due {next_due:%Y-%m-%d %H:%M:%S}",
            flush=True)
        if counts(bot.engine).get("pending") != TIMERS:
            raise SystemExit("a restart fired or lost timers")

        claims = Claims()
        summaries = [summarize("bot (as is)", run_reps("as is", bot, incidents, claims, args.reps))]
        if args.prototype:
            original = hotfixes_module.HotfixService.fire_due_timers
            hotfixes_module.HotfixService.fire_due_timers = batched_fire_due_timers
            try:
                summaries.append(summarize("PROTOTYPE batched", run_reps("PROTOTYPE", bot, incidents, claims, args.reps)))
            finally:
                hotfixes_module.HotfixService.fire_due_timers = original
        profile = profile_fire(bot, incidents) if args.profile else None
        bot.stop()

        reload_proc = statistics.median(r["from_spawn"] for r in fresh)
        reload_in = statistics.median(t for _b, t in inproc)
        print()
        print(f"{'figure':<46}{'value':>14}  target")
        print(f"{'arm 10,000 timers (1 tx per hotfix)':<46}{arm_s:>12.2f} s  {arm_s / armed * 1e6:,.0f} us/timer")
        verdict = "PASS" if reload_in < TARGET_RELOAD else "FAIL"
        print(f"{'reload: build + first tick (median)':<46}{reload_in:>12.3f} s  < {TARGET_RELOAD:.0f} s  {verdict}")
        verdict = "PASS" if reload_proc < TARGET_RELOAD else "FAIL"
        print(f"{'reload: fresh process incl. imports (median)':<46}{reload_proc:>12.2f} s  < {TARGET_RELOAD:.0f} s  "
              f"{verdict}")
        for s in summaries:
            tag = s["label"]
            print(f"lateness of 1,000 due together, {tag}, median of {args.reps} reps:")
            print(f"{'  committed median':<46}{ms(s['median']):>14}")
            verdict = "PASS" if s["p99"] < TARGET_P99 else "FAIL"
            print(f"{'  committed p99':<46}{ms(s['p99']):>14}  < {TARGET_P99:.0f} s  {verdict}")
            print(f"{'  committed max':<46}{ms(s['max']):>14}")
            print(f"{'  fired_at p99 (batch start, understates)':<46}{ms(s['fired_at_p99']):>14}")
            print(f"{'  floor (bare APScheduler) median/p99/max':<46}{ms(s['floor_median']):>14}  "
                  f"{ms(s['floor_p99'])} / {ms(s['floor_max'])}")
            ratio = s["p99"] / s["floor_p99"] if s["floor_p99"] > 0 else float("inf")
            print(f"{'  p99 ratio bot / floor':<46}{ratio:>13.1f}x")
            verdict = "PASS" if not s["problems"] else "FAIL: " + "; ".join(s["problems"])
            print(f"{'  exactly once (fired, REMINDED, announce)':<46}{'':>14}  {verdict}")
        if profile:
            print()
            print(profile)
    finally:
        if schema:
            drop_postgres_schema(args.database_url, schema)


if __name__ == "__main__":
    main()
