"""Prometheus metrics through the real app: a scripted hotfix, then a scrape of GET /metrics as Prometheus does it."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import timedelta
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from bot.service.clock import ManualClock
from tests.support.driver import Driver
from tests.support.fake_slack import FakeSlack
from tests.support.fake_socket_mode import FakeSocketMode
from tests.support.gitrepos import Remote
from tests.test_procedure import approved, monitored, reviewed

HOTFIX_BOT = Path(sys.executable).parent / "hotfix-bot"
Samples = dict[tuple[str, frozenset], float]


def samples(text: str) -> Samples:
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def scrape(driver: Driver) -> Samples:
    answer = driver.request("GET", "/metrics")
    assert answer.status == 200
    return samples(answer.body)


def value(scraped: Samples, name: str, **labels: str) -> float | None:
    return scraped.get((name, frozenset(labels.items())))


def test_a_scrape_after_a_hotfix_shows_each_step_slack_calls_git_steps_and_the_leader(
    driver: Driver, remote: Remote, tmp_path: Path, clock: ManualClock, slack: FakeSlack
) -> None:
    hotfix = driver.declare(severity="high")
    clock.advance(timedelta(minutes=7))
    driver.click("Approve", hotfix, user="UEM")
    driver.click("Approve", hotfix, user="ULEAD")
    driver.settle()
    engineer = remote.clone(tmp_path / "engineer")
    clock.advance(timedelta(minutes=12))
    reviewed(driver, engineer, hotfix)
    driver.click("Tag & deploy", hotfix, user="UDEV")
    driver.settle()
    before_stable = scrape(driver)
    monitored(driver, clock)
    driver.click("Stable", hotfix, user="UDEV")
    driver.settle()

    scraped = scrape(driver)
    step = "hotfix_bot_step_duration_seconds"
    for name in ("approval", "branch", "fix", "review", "deploy", "monitoring", "merge_back"):
        assert value(scraped, f"{step}_count", step=name) == 1, name
    assert value(scraped, f"{step}_sum", step="approval") == 7 * 60
    assert value(scraped, f"{step}_sum", step="fix") == 12 * 60
    assert value(scraped, f"{step}_sum", step="monitoring") == 30 * 60
    assert value(before_stable, f"{step}_count", step="monitoring") is None  # observed when the step completes

    posted = len(slack.calls_to("chat.postMessage"))
    assert value(scraped, "hotfix_bot_slack_api_calls_total", method="chat.postMessage") == posted
    assert value(scraped, "hotfix_bot_slack_api_calls_total", method="chat.update") == len(slack.calls_to("chat.update"))
    for git_step in ("cut_branch", "summarize_diff", "tag_release", "merge_back", "delete_branch"):
        assert value(scraped, "hotfix_bot_git_step_duration_seconds_count", step=git_step) == 1, git_step
    assert value(scraped, "hotfix_bot_reply_lead_time_seconds_count", event="tagged") == 1
    assert value(scraped, "hotfix_bot_timer_lateness_seconds_count", kind="monitoring_end") == 1
    assert value(scraped, "hotfix_bot_leader") == 1
    assert value(scraped, "hotfix_bot_active_hotfixes", stage="merged", severity="high") == 1
    assert value(before_stable, "hotfix_bot_active_hotfixes", stage="monitoring", severity="high") == 1
    assert value(scraped, "hotfix_bot_jobs_queued", queue="slack") == 0
    assert value(scraped, "hotfix_bot_oldest_job_age_seconds", queue="git") == 0


def test_slack_rate_limits_and_a_stuck_queue_show_in_the_scrape(
    driver: Driver, clock: ManualClock, slack: FakeSlack
) -> None:
    hotfix = driver.declare(severity="high")
    driver.settle()
    slack.fail_next("chat.postMessage", status=429, retry_after=30)
    driver.click("Approve", hotfix, user="UEM")
    driver.settle()
    clock.advance(timedelta(seconds=20))
    replies = len(driver.thread(hotfix))

    stuck = scrape(driver)
    assert value(stuck, "hotfix_bot_slack_api_rate_limited_total", method="chat.postMessage") == 1
    assert value(stuck, "hotfix_bot_slack_api_errors_total", method="chat.postMessage", error="rate_limited") == 1
    assert value(stuck, "hotfix_bot_jobs_queued", queue="slack") >= 1
    assert value(stuck, "hotfix_bot_oldest_job_age_seconds", queue="slack") == 20

    clock.advance(timedelta(seconds=10))
    driver.settle()
    assert len(driver.thread(hotfix)) == replies + 1  # the approval's reply, once Retry-After passed
    assert value(scrape(driver), "hotfix_bot_jobs_queued", queue="slack") == 0


def test_socket_mode_serves_metrics_on_its_own_port(env: dict[str, str], slack: FakeSlack, tmp_path: Path) -> None:
    server = FakeSocketMode().start()
    slack.offer_socket_mode(server.url, app_token="xapp-1-A0-1-good")
    port = _free_port()
    socket_env = {k: v for k, v in env.items() if k != "SLACK_SIGNING_SECRET"}
    bot = subprocess.Popen([str(HOTFIX_BOT), "serve", "--host", "127.0.0.1", "--metrics-port", str(port)],
                           cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                           env={**os.environ, **socket_env, "SLACK_APP_TOKEN": "xapp-1-A0-1-good"})
    try:
        server.wait_connected()
        scraped = _scrape_until_leader(port)
    finally:
        bot.terminate()
        _, stderr = bot.communicate(timeout=15)
        server.stop()
    assert value(scraped, "hotfix_bot_leader") == 1, stderr
    assert value(scraped, "hotfix_bot_jobs_queued", queue="git") == 0
    assert bot.returncode == 0, stderr


def _scrape_until_leader(port: int) -> Samples:
    deadline = time.monotonic() + 15
    while True:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            scraped = samples(response.read().decode())
        if value(scraped, "hotfix_bot_leader") == 1 or time.monotonic() > deadline:
            return scraped
        time.sleep(0.1)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
