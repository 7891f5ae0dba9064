"""The first hotfix after an install or a restart does not wait for a clone: the leader makes every repository's
mirror at start and fetches it every [git] mirror_refresh, off the request path."""
from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from bot.serving import check_remotes
from bot.config import Settings, load_config
from bot.domain.repo import RepoSpec
from bot.git.ops import GitOps
from bot.git.refresher import MirrorRefresher
from tests.support.driver import Driver, eventually
from tests.support.gitrepos import Remote, git

BRANCH = "hotfix/PROD-501-checkout-returns-500"


def git_commands(trace: Path, name: str) -> int:
    """How many top-level `git <name>` ran, from git's own trace (GIT_TRACE2_EVENT); no timing involved."""
    if not trace.exists():
        return 0
    events = [json.loads(line) for line in trace.read_text().splitlines() if line.strip()]
    return sum(1 for e in events if e.get("event") == "cmd_name" and e.get("hierarchy") == name)


def test_the_leader_makes_each_mirror_at_start_before_any_hotfix(driver: Driver, env: dict[str, str],
                                                                 remote: Remote) -> None:
    mirror = Path(env["HOTFIX_WORKDIR"]) / "payments.git"

    eventually(lambda: mirror.exists())

    assert git(mirror, "rev-parse", "refs/tags/v1.10.0^{commit}") == remote.rev("v1.10.0")


def test_after_a_restart_the_first_hotfix_clones_nothing_and_serve_fetches_once(
    env: dict[str, str], remote: Remote, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    settings = Settings.from_env(env)
    check_remotes(settings, load_config(settings.config_path))  # the first `serve`: makes the mirror
    mirror = Path(env["HOTFIX_WORKDIR"]) / "payments.git"
    made = mirror.stat().st_ino
    trace = tmp_path / "trace2.json"
    monkeypatch.setenv("GIT_TRACE2_EVENT", str(trace))

    check_remotes(settings, load_config(settings.config_path))  # the restarted `serve`'s start-up check
    driver: Driver = request.getfixturevalue("driver")  # then it builds the bot and leads
    hotfix = driver.declare(severity="high")
    driver.click("Approve", hotfix, user="UEM")
    driver.click("Approve", hotfix, user="ULEAD")
    driver.settle()

    assert any(f"`{BRANCH}`" in reply for reply in driver.thread(hotfix))
    assert remote.rev(f"refs/heads/{BRANCH}") == remote.rev("v1.10.0")
    assert mirror.stat().st_ino == made  # the same mirror, not made again
    assert git_commands(trace, "init") == git_commands(trace, "clone") == 0
    assert git_commands(trace, "fetch") == 2  # start-up check, then the cut's own; the leader's start adds none


def test_a_refresh_fetches_what_was_pushed_meanwhile(remote: Remote, tmp_path: Path) -> None:
    ops = GitOps(tmp_path / "work")
    spec = RepoSpec(name="payments", url=remote.url)
    refresher = MirrorRefresher(ops, lambda: [spec], lambda: timedelta(milliseconds=50))
    mirror = tmp_path / "work" / "payments.git"
    refresher.start()
    try:
        eventually(lambda: mirror.exists())
        engineer = remote.clone(tmp_path / "engineer")
        engineer.switch("develop")
        pushed = engineer.commit("payments.py", "# retried\n", "Retry payments")
        engineer.push("HEAD:refs/heads/develop")

        eventually(lambda: git(mirror, "rev-parse", "refs/heads/develop") == pushed)
    finally:
        refresher.stop()
