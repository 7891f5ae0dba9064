"""Two processes on one SQLite file: WAL and a busy timeout, so a busy file delays a person but never fails them."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from bot.wiring import Bot
from tests.support.driver import Driver, eventually

ROOT = Path(__file__).resolve().parents[2]


def helper(*args: str, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "tests.support.busy_sqlite_process", *args],
                            env={**os.environ, **env}, cwd=ROOT)


def sqlite_file(env: dict[str, str]) -> str:
    return env["DATABASE_URL"].removeprefix("sqlite:///")


def test_a_click_while_another_process_holds_the_write_lock_waits_for_it_and_succeeds(
    driver: Driver, env: dict[str, str], tmp_path: Path
) -> None:
    hotfix = driver.declare(severity="high")
    driver.settle()
    marker = tmp_path / "locked"
    other = helper("hold", sqlite_file(env), "1.0", str(marker), env=env)
    try:
        eventually(marker.exists, timeout=30)
        started = time.monotonic()
        answer = driver.click("Approve", hotfix, user="UEM")
        waited = time.monotonic() - started
    finally:
        assert other.wait(timeout=30) == 0

    assert answer.status == 200 and not answer.body
    assert 0.3 < waited < 3  # it did wait for the other process, and still answered inside Slack's 3 s
    driver.settle()
    assert "✅ Engineering manager: <@UEM>" in driver.status_text(hotfix)
    assert not driver.ephemerals("UEM")  # no "Sorry, that failed", no "database is locked"


def test_two_processes_declaring_at_once_record_every_hotfix_once(bot: Bot, env: dict[str, str]) -> None:
    others = [helper("declare", "50", prefix, env=env) for prefix in ("ONE", "TWO")]
    for other in others:
        assert other.wait(timeout=120) == 0

    declared = sorted(h.issue_id for h in bot.service.read.active())
    assert declared == sorted(f"{prefix}-{n}" for prefix in ("ONE", "TWO") for n in range(50))
    assert len({h.key for h in bot.service.read.active()}) == 100
