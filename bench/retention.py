"""Times retention on a year of traffic: the bot's batched prune against one plain DELETE, and the hot query.

Run: .venv/bin/python bench/retention.py [--reps 3] [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test]
  --database-url  PostgreSQL instead of a temp SQLite file; the bench makes its own databases and drops them

A year of traffic: 500 hotfixes declared evenly over 365 days; each has 200 jobs (100,000 in all) created over
its first two days and finished a few seconds after (1 in 200 failed for good), 20 timers (fired, cancelled) and
40 audit events. The newest hotfix is still open: its last 10 jobs are pending, its last 2 timers pending. The
database is seeded once, then copied for each measurement (a file copy on SQLite, CREATE DATABASE ... TEMPLATE on
PostgreSQL), so every variant starts from the same rows.

Figures, each variant in a fresh interpreter on a fresh copy (median of --reps):
  batched   bot.store.retention.prune, the bot's own code: 1,000 rows per statement, each in its own transaction.
  single    the floor: one `DELETE ... WHERE state IN (done, failed) AND finished_at < cutoff` per table, in one
            transaction; the fewest statements the database can do it in.
  time      wall time of the whole prune; "longest hold" is the longest single transaction, i.e. how long a Slack
            click that writes waits at most behind the prune (on SQLite the write lock, on PostgreSQL row locks).
  memory    growth of the interpreter's peak RSS (ru_maxrss) during the prune: the bot's side; the server's own
            memory (PostgreSQL) is not counted.
  (an index on jobs.finished_at was tried, see BENCHMARKS.md: no faster on SQLite, slower on PostgreSQL, where
  each batch walked the index entries of the rows the batches before it had deleted. The jobs' ids follow
  their age, so the LIMIT subselect's table scan finds the old rows first.)
  hourly    the next run an hour later, as the leader does it every hour (it deletes an hour's worth).
  claim     jobs.claim of the next job (the query every Slack post and git step goes through), median of 300,
            on the year-old table and on the pruned one.
"""
from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, delete, func, insert, text, update  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlmodel import select  # noqa: E402

from bot.store import jobs  # noqa: E402
from bot.store.db import create_schema, make_engine, reading, transaction  # noqa: E402
from bot.store.retention import prune  # noqa: E402
from bot.store.tables import DecisionRow, EventRow, HotfixRow, JobRow, TimerRow  # noqa: E402

HOTFIXES, JOBS_EACH, TIMERS_EACH, EVENTS_EACH = 500, 200, 20, 40
YEAR_END = datetime(2026, 11, 20, 17, 0, tzinfo=UTC)
YEAR_START = YEAR_END - timedelta(days=365)
KEEP = timedelta(days=30)
CLAIMS = 300


# --- seeding ---------------------------------------------------------------------------------------------------------
def seed(url: str) -> None:
    engine = make_engine(url)
    create_schema(engine)
    spacing = (YEAR_END - YEAR_START - timedelta(days=2)) / HOTFIXES
    for n in range(HOTFIXES):
        declared = YEAR_START + spacing * n
        last = n == HOTFIXES - 1
        with transaction(engine) as session:
            number = session.execute(insert(HotfixRow.__table__).values(hotfix(n, declared, last))).inserted_primary_key[0]
            session.execute(insert(DecisionRow.__table__), [
                {"hotfix_id": number, "role": role, "user_id": f"U{role[:3].upper()}", "approved": True, "reason": "",
                 "at": declared + timedelta(minutes=5)} for role in ("engineering_manager", "oncall_lead")])
            session.execute(insert(JobRow.__table__), [job(number, declared, i, last) for i in range(JOBS_EACH)])
            session.execute(insert(TimerRow.__table__), [timer(number, declared, i, last) for i in range(TIMERS_EACH)])
            session.execute(insert(EventRow.__table__), [
                {"hotfix_id": number, "kind": "reminded", "actor": "bot", "at": declared + timedelta(minutes=i),
                 "detail": "{}"} for i in range(EVENTS_EACH)])
    if engine.dialect.name == "postgresql":  # what autovacuum has done on a database a year old
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
    engine.dispose()


def hotfix(n: int, declared: datetime, open_: bool) -> dict:
    return {"title": f"Incident {n}", "issue_id": f"BENCH-{n}", "severity": "high", "impact": "Checkout fails",
            "risk": "Small", "repo": "payments", "branch": f"hotfix/bench-{n}", "declared_by": "UDEV",
            "declared_at": declared, "security": False, "override": False,
            "stage": "fixing" if open_ else "closed", "merge_targets": "main,develop", "merged_into": "",
            "closed_at": None if open_ else declared + timedelta(days=2), "version": 1}


def job(number: int, declared: datetime, i: int, open_: bool) -> dict:
    created = declared + timedelta(days=2) * i / JOBS_EACH
    pending = open_ and i >= JOBS_EACH - 10
    state = "pending" if pending else ("failed" if i % 200 == 199 else "done")
    return {"queue": ("slack", "git")[i % 4 == 0], "lane": f"hotfix:{number}" if i % 4 else "payments",
            "kind": "post", "hotfix_id": number, "payload": '{"text": "' + "x" * 200 + '"}', "state": state,
            "attempts": 1, "not_before": created, "created_at": created,
            "finished_at": None if pending else created + timedelta(seconds=3)}


def timer(number: int, declared: datetime, i: int, open_: bool) -> dict:
    due = declared + timedelta(hours=2) * i
    pending = open_ and i >= TIMERS_EACH - 2
    state = "pending" if pending else ("fired", "cancelled")[i % 3 == 0]
    return {"hotfix_id": number, "kind": "review_half", "due_at": due, "state": state, "round": 1,
            "created_at": declared, "fired_at": due if state == "fired" else None}


# --- copies ----------------------------------------------------------------------------------------------------------
class Databases:
    """The seeded database, and fresh copies of it."""

    def __init__(self, server_url: str | None, workdir: Path) -> None:
        self.server_url, self.workdir = server_url, workdir
        self.made: list[str] = []
        self.template = self._new_url()
        seed(self.template)

    def copy(self) -> str:
        url = self._new_url(template=True)
        return url

    def _new_url(self, template: bool = False) -> str:
        if self.server_url is None:
            path = self.workdir / f"{uuid.uuid4().hex[:8]}.db"
            if template:
                shutil.copyfile(make_url(self.template).database, path)
            return f"sqlite:///{path}"
        name = f"bench_retention_{uuid.uuid4().hex[:10]}"
        admin = create_engine(self.server_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            copy = f' TEMPLATE "{make_url(self.template).database}"' if template else ""
            connection.execute(text(f'CREATE DATABASE "{name}"{copy}'))
        admin.dispose()
        self.made.append(name)
        return str(make_url(self.server_url).set(database=name).render_as_string(hide_password=False))

    def drop(self) -> None:
        if self.server_url is None:
            return
        admin = create_engine(self.server_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            for name in reversed(self.made):
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


# --- one measurement, in a fresh interpreter ---------------------------------------------------------------------------
def child(variant: str, url: str) -> dict:
    engine = make_engine(url)
    cutoff = YEAR_END - KEEP
    result: dict = {"rows": rows(engine), "claim_before_ms": claim_ms(engine)}
    rss_before = peak_rss_mb()
    started = time.perf_counter()
    if variant == "batched":
        marks: list[float] = []
        pruned = prune(engine, before=cutoff, stopping=lambda: marks.append(time.perf_counter()) or False)
        marks.append(time.perf_counter())
        result["deleted"] = [pruned.jobs, pruned.timers]
        holds = [b - a for a, b in zip(marks, marks[1:])]
        result["longest_hold_ms"], result["median_hold_ms"] = max(holds) * 1000, statistics.median(holds) * 1000
    else:
        with transaction(engine) as session:
            deleted_jobs = session.execute(delete(JobRow).where(
                JobRow.state.in_(["done", "failed"]), JobRow.finished_at < cutoff)).rowcount
            deleted_timers = session.execute(delete(TimerRow).where(
                TimerRow.state.in_(["fired", "cancelled"]), TimerRow.due_at < cutoff)).rowcount
        result["deleted"] = [deleted_jobs, deleted_timers]
    result["seconds"] = time.perf_counter() - started
    if variant != "batched":
        result["longest_hold_ms"] = result["median_hold_ms"] = result["seconds"] * 1000
    result["rss_growth_mb"], result["peak_rss_mb"] = peak_rss_mb() - rss_before, peak_rss_mb()
    started = time.perf_counter()
    hourly = prune(engine, before=cutoff + timedelta(hours=1))
    result["hourly_ms"] = (time.perf_counter() - started) * 1000
    result["hourly_deleted"] = [hourly.jobs, hourly.timers]
    result["claim_after_ms"] = claim_ms(engine)
    result["rows_after"] = rows(engine)
    engine.dispose()
    return result


def rows(engine) -> dict[str, int]:
    with reading(engine) as session:
        return {table.__tablename__: session.exec(select(func.count()).select_from(table)).one()
                for table in (HotfixRow, DecisionRow, EventRow, JobRow, TimerRow)}


def claim_ms(engine) -> float:
    """Median time of claiming the next runnable job; the job is put back after each claim, outside the timing."""
    times = []
    for _ in range(CLAIMS):
        started = time.perf_counter()
        claimed = jobs.claim(engine, queue="slack", worker="bench", now=YEAR_END, lease=timedelta(minutes=5), limit=1)
        times.append(time.perf_counter() - started)
        assert claimed, "no pending job to claim"
        with transaction(engine) as session:
            session.execute(update(JobRow).where(JobRow.id == claimed[0].id)
                            .values(state="pending", claimed_by=None, lease_until=None))
    return statistics.median(times) * 1000


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def measure(variant: str, url: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", variant, url], capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout)


# --- report --------------------------------------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--database-url", help="a PostgreSQL server URL; default: temp SQLite files")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(*args.child)))
        return
    workdir = Path(tempfile.mkdtemp(prefix="bench-retention-"))
    started = time.perf_counter()
    databases = Databases(args.database_url, workdir)
    backend = make_url(databases.template).get_backend_name()
    print(f"{backend}: seeded a year of traffic in {time.perf_counter() - started:.1f} s")
    try:
        results = {variant: [measure(variant, databases.copy()) for _ in range(args.reps)]
                   for variant in ("single", "batched")}
    finally:
        databases.drop()
        shutil.rmtree(workdir, ignore_errors=True)
    first = results["batched"][0]
    print(f"rows: {first['rows']}")
    print(f"after: {first['rows_after']}  (deleted jobs, timers: {first['deleted']}; "
          f"the hourly run after: {first['hourly_deleted']})")
    print(f"{'variant':16} {'prune s':>8} {'hold ms: median':>16} {'longest':>8} {'RSS growth MB':>14} "
          f"{'peak RSS MB':>12} {'hourly ms':>10} {'claim before ms':>16} {'claim after ms':>15}")
    for variant, reps in results.items():
        def med(key: str) -> float:
            return statistics.median(r[key] for r in reps)
        print(f"{variant:16} {med('seconds'):8.2f} {med('median_hold_ms'):16.1f} {med('longest_hold_ms'):8.1f} "
              f"{med('rss_growth_mb'):14.1f} {med('peak_rss_mb'):12.1f} {med('hourly_ms'):10.1f} "
              f"{med('claim_before_ms'):16.2f} {med('claim_after_ms'):15.2f}")
    single, batched = results["single"], results["batched"]
    ratio = statistics.median(r["seconds"] for r in batched) / statistics.median(r["seconds"] for r in single)
    hold = (statistics.median(r["longest_hold_ms"] for r in batched)
            / statistics.median(r["longest_hold_ms"] for r in single))
    print(f"batched / single: prune time {ratio:.2f}x, longest hold {hold:.3f}x")


if __name__ == "__main__":
    main()
