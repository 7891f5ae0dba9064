"""Hotfix statistics as the people who run the procedure read them: `hotfix-bot stats` from the database alone, in
every format, and the same figures on the App Home tab."""
from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.service.clock import ManualClock
from bot.standins import payloads
from tests.support.driver import Driver, Posted
from tests.support.gitrepos import Remote

HOTFIX_BOT = Path(sys.executable).parent / "hotfix-bot"
REFUND_FIX = "def charge(card):\n    return gateway.charge(card, idempotent=True)\n"  # develop changed payments.py


@pytest.fixture
def clock() -> ManualClock:
    """`stats` measures against the real time: the seeded hotfixes happened 50 and 10 days ago."""
    return ManualClock(datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(days=50))


def walk(driver: Driver, remote: Remote, tmp_path: Path, clock: ManualClock, *, issue_id: str, title: str,
         approval: timedelta, fixing: timedelta, review: timedelta, filename: str = "checkout.py",
         fix: str = "def total(cart):\n    return sum(i.price for i in cart if i)\n") -> Posted:
    """Declared, approved, fixed, reviewed, tagged, monitored for the window and Stable: the merge-back runs."""
    hotfix = driver.declare(severity="high", issue_id=issue_id, title=title)
    clock.advance(approval)
    driver.click("Approve", hotfix, user="UEM")
    driver.click("Approve", hotfix, user="ULEAD")
    driver.settle()
    clock.advance(fixing)
    branch = f"hotfix/{issue_id}-{title.lower().replace(' ', '-')}"
    remote.clone(tmp_path / f"engineer-{issue_id}").push_fix(branch, filename=filename, content=fix)
    driver.click("Ready for review", hotfix, user="UDEV")
    driver.settle()
    clock.advance(review)
    driver.click("Approve review", hotfix, user="UREV1")
    driver.submit_review(hotfix, user="UREV1")
    driver.settle()
    driver.click("Tag & deploy", hotfix, user="UDEV")
    driver.settle()
    clock.advance(timedelta(minutes=30))
    driver.bot.service.timers.fire_due_timers()
    driver.settle()
    driver.click("Stable", hotfix, user="UDEV")
    driver.settle()
    return hotfix


def seed(driver: Driver, remote: Remote, tmp_path: Path, clock: ManualClock) -> None:
    """50 days ago, one clean hotfix; 10 days ago, one that cannot merge into develop (a conflict) and one rejected."""
    first = walk(driver, remote, tmp_path, clock, issue_id="PROD-501", title="Checkout returns 500",
                 approval=timedelta(minutes=20), fixing=timedelta(minutes=25), review=timedelta(minutes=40))
    driver.click("Close", first, user="UDEV")
    driver.settle()
    clock.advance(timedelta(days=40))
    walk(driver, remote, tmp_path, clock, issue_id="PROD-601", title="Refunds fail", filename="payments.py",
         fix=REFUND_FIX, approval=timedelta(minutes=10), fixing=timedelta(minutes=15), review=timedelta(minutes=20))
    clock.advance(timedelta(minutes=5))
    rejected = driver.declare(severity="critical", issue_id="PROD-602", title="Refunds fail again")
    driver.click("Reject", rejected, user="UEM")
    driver.submit_reason(rejected, "the same incident as HF-2", user="UEM")
    driver.settle()


def stats(env: dict[str, str], tmp_path: Path, *args: str) -> str:
    """The real command, with the database and hotfix.toml only: no Slack settings."""
    run = subprocess.run([str(HOTFIX_BOT), "stats", "--since", "30d", *args], capture_output=True, text=True,
                         cwd=tmp_path, timeout=60, env={"PATH": os.environ["PATH"], "DATABASE_URL": env["DATABASE_URL"],
                                                        "HOTFIX_CONFIG": env["HOTFIX_CONFIG"]})
    assert run.returncode == 0 and not run.stderr, run.stderr
    return run.stdout


def test_stats_prints_outcomes_steps_failures_and_debt_against_the_period_before_in_every_format(
    driver: Driver, remote: Remote, tmp_path: Path, clock: ManualClock, env: dict[str, str]
) -> None:
    seed(driver, remote, tmp_path, clock)

    table = stats(env, tmp_path)
    assert table.startswith("Hotfix statistics, ") and "(the last 30 days), compared with the 30 days before" in table
    lines = table.splitlines()
    assert next(line for line in lines if line.startswith("Hotfixes declared")).split() == ["Hotfixes", "declared",
                                                                                              "2", "1"]
    assert "Change failure rate" in table and "100% (1 of 1: 0 rolled back, 1 followed by another hotfix within 7d)" \
        in table and "0% (0 of 1: 0 rolled back, 0 followed by another hotfix within 7d)" in table
    assert next(line for line in lines if line.startswith("HIGH")).split() == ["HIGH", "1", "0", "0", "1", "0"]
    assert next(line for line in lines if line.startswith("CRITICAL")).split() == ["CRITICAL", "1", "0", "1", "0", "0"]
    assert next(line for line in lines if line.startswith("Approval")).split() == [
        "Approval", "1", "10m", "10m", "15m", "0", "20m", "faster"]  # HF-3 was rejected: its approval never ended
    assert next(line for line in lines if line.startswith("Review")).split() == [
        "Review", "1", "20m", "20m", "1h", "00m", "0", "40m", "faster"]
    assert ("Faster or slower than the 30 days before: time to restore no comparison; 3 step(s) faster, 0 slower."
            in table)
    assert "Where we wait: Review (median 20m)." in table
    debt = next(line for line in lines if line.startswith("HF-2"))
    assert debt.split()[:3] == ["HF-2", "payments", "develop"] and debt.split()[-1] == "yes"
    assert "9d 20h" in debt  # Stable 10 days ago plus the 3h 10m both walks took: 9d 20h 50m

    markdown = stats(env, tmp_path, "--format", "markdown")
    assert markdown.startswith("# Hotfix statistics, ")
    assert "\n## Steps against their targets\n\n| Step | Measured | Median | p90 | Target |" in markdown
    assert "| Fix & test | 1 | 15m | 15m | – |  | 25m | faster |" in markdown
    assert "| HF-2 | payments | develop | 9d 20h | yes |" in markdown

    data = json.loads(stats(env, tmp_path, "--format", "json"))
    assert data["current"]["outcomes"]["total"] == {"declared": 2, "closed": 0, "rejected": 1, "open": 1,
                                                    "rolled_back": 0}
    assert data["previous"]["outcomes"]["high"]["closed"] == 1
    review = next(s for s in data["current"]["steps"] if s["step"] == "Review")
    assert review == {"step": "Review", "target_seconds": 3600, "measured": 1, "median_seconds": 1200,
                      "p90_seconds": 1200, "over_target": 0}
    assert data["current"]["time_to_restore"] == {"measured": 0, "median_seconds": None, "p90_seconds": None,
                                                  "unknown": 1}  # no version endpoint reported the tag live
    assert data["current"]["change_failure"]["rate"] == 1.0
    assert [d["hotfix"] for d in data["merge_back_debt"]] == ["HF-2"] and data["merge_back_debt"][0]["overdue"]

    rows = list(csv.DictReader(io.StringIO(stats(env, tmp_path, "--format", "csv"))))
    def value(period: str, section: str, item: str, measure: str) -> str:
        return next(r["value"] for r in rows if (r["period"], r["section"], r["item"], r["measure"]) ==
                    (period, section, item, measure))
    assert value("previous", "steps", "Approval", "median_seconds") == "1200"
    assert value("current", "steps", "Approval", "median_seconds") == "600"
    assert value("current", "change_failure", "", "followed_up") == "1"
    assert value("current", "outcomes", "critical", "rejected") == "1"
    assert value("now", "merge_back_debt", "HF-2", "missing_in") == "develop"


def test_stats_on_a_missing_database_is_one_line_and_a_wrong_span_too(tmp_path: Path) -> None:
    missing = subprocess.run([str(HOTFIX_BOT), "stats"], capture_output=True, text=True, cwd=tmp_path,
                             env={"PATH": os.environ["PATH"]}, timeout=60)
    wrong = subprocess.run([str(HOTFIX_BOT), "stats", "--since", "3 months"], capture_output=True, text=True,
                           cwd=tmp_path, env={"PATH": os.environ["PATH"]}, timeout=60)

    assert missing.returncode == 2 and missing.stderr.startswith("hotfix-bot: there is no database at hotfix.db")
    assert wrong.returncode == 2 and wrong.stderr == (
        'hotfix-bot: --since "3 months" is not a duration; write it like "45s", "30m", "1h" or "2d".\n')
    assert list(tmp_path.iterdir()) == []


def test_the_home_tab_shows_the_last_30_days_above_the_active_hotfixes(
    driver: Driver, remote: Remote, tmp_path: Path, clock: ManualClock
) -> None:
    seed(driver, remote, tmp_path, clock)

    event = {"type": "app_home_opened", "user": "UEM", "channel": "D0HOME", "tab": "home", "event_ts": "1700000000.1"}
    assert driver.post(payloads.event_callback(event)).status == 200
    tab = driver.slack.wait_for("views.publish", user_id="UEM")[-1]["view"]

    texts = [b["text"]["text"] for b in tab["blocks"] if b.get("text")]
    fields = [f["text"] for f in tab["blocks"][1]["fields"]]
    assert texts[0] == "*The last 30 days*"
    assert fields == ["*Hotfixes declared*\n2 (1 the 30 days before)", "*Time to restore, median*\n– (– before)",
                      "*Change failure rate*\n100% (1 of 1 deployed)", "*Merge-back debt*\n1 fix(es), oldest 5m"]
    assert texts[1] == ("Median step time against its target\n```"
                        "Approval   ███████░░░  10m of 15m\n"
                        "Review     ███░░░░░░░  20m of 1h 00m```")
    where = tab["blocks"][3]["elements"][0]["text"]
    assert where == "Where we wait: Review (median 20m). `hotfix-bot stats` has the rest."
    assert texts[2] == "*Active hotfixes (1)*" and "*HF-2* · HIGH · Refunds fail" in texts[3]
    driver.slack.assert_no_problems()
