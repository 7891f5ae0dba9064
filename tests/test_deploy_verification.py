"""Deploy verification: while a hotfix is monitored the bot polls the repo's health and version endpoints.

Real HTTP both ways: a small production service on 127.0.0.1 answers the probe, Slack is the fake Web API,
git is a real remote. Probes are made due by moving the ManualClock, never by sleeping.
"""
from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Self

import pytest
from sqlmodel import Session, select

from bot.config import ConfigError, load_config
from bot.domain import postmortem
from bot.service.clock import ManualClock
from bot.service.jobs import PROBE
from bot.store.tables import JobRow
from tests.conftest import CONFIG
from bot.standins import payloads
from tests.support.driver import Driver, Posted, find_button
from tests.support.gitrepos import CHECKOUT_FIX, Remote

BRANCH = "hotfix/PROD-501-checkout-returns-500"
PROBE_EVERY = timedelta(seconds=30)
WINDOW_OVER = ("⏰ <@UDEV>: the monitoring window of HF-1 (`v1.10.1`) is over. Press Stable or Roll back.")


class Production:
    """The payments service as the probe sees it: /health answers `health`, /version answers `version`."""

    def __init__(self) -> None:
        self.health, self.version = 200, "v1.10.0"
        self.requests: list[str] = []
        production = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                production.requests.append(self.path)
                status, body = production.answer(self.path)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body.encode())

            def log_message(self, *args) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="production", daemon=True)

    def answer(self, path: str) -> tuple[int, str]:
        if path == "/health":
            return self.health, '{"status": "ok"}' if self.health == 200 else '{"status": "down"}'
        if path == "/version":
            return 200, f'{{"version": "{self.version}", "commit": "abc123"}}'
        return 404, "{}"

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{path}"

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def production() -> Iterator[Production]:
    with Production() as service:
        yield service


@pytest.fixture
def endpoints(production: Production) -> dict[str, str]:
    return {"health_url": production.url("/health"), "version_url": production.url("/version")}


@pytest.fixture
def config_path(tmp_path: Path, remote_url: str, endpoints: dict[str, str]) -> Path:
    return write_config(tmp_path, endpoints, remote=remote_url)


def write_config(tmp_path: Path, endpoints: dict[str, str], *, remote: str = "/srv/payments.git",
                 timers: str = "") -> Path:
    """conftest's CONFIG with the endpoints under payments' [[repos]] and more [timers]."""
    merge_back = 'merge_back = ["main", "develop"]\n'
    keys = "".join(f'{key} = "{url}"\n' for key, url in endpoints.items())
    text = CONFIG.format(remote=remote).replace(merge_back, merge_back + keys, 1).replace("[timers]\n", "[timers]\n" + timers)
    path = tmp_path / "hotfix.toml"
    path.write_text(text)
    return path


def deployed(driver: Driver, remote: Remote, tmp_path: Path) -> Posted:
    hotfix = driver.declare(severity="high")
    driver.click("Approve", hotfix, user="UEM")
    driver.click("Approve", hotfix, user="ULEAD")
    driver.settle()
    remote.clone(tmp_path / "engineer").push_fix(BRANCH, content=CHECKOUT_FIX)
    driver.click("Ready for review", hotfix, user="UDEV")
    driver.settle()
    driver.click("Approve review", hotfix, user="UREV1")
    driver.submit_review(hotfix, user="UREV1")
    driver.settle()
    driver.click("Tag & deploy", hotfix, user="UDEV")
    driver.settle()
    assert driver.thread(hotfix)[-1].startswith("🏷️ Tagged `v1.10.1`")
    return hotfix


def wait(driver: Driver, clock: ManualClock, span: timedelta = PROBE_EVERY) -> None:
    """Let `span` pass: every timer due by then fires, and every job it queued runs."""
    clock.advance(span)
    driver.bot.service.timers.fire_due_timers()
    driver.settle()


def replies(driver: Driver, hotfix: Posted, prefix: str) -> list[str]:
    return [text for text in driver.thread(hotfix) if text.startswith(prefix)]


def probe_jobs(driver: Driver) -> list[JobRow]:
    with Session(driver.bot.engine) as session:
        return list(session.exec(select(JobRow).where(JobRow.queue == PROBE)).all())


def test_the_thread_hears_when_the_tag_goes_live_and_when_health_fails_and_recovers(
    driver: Driver, remote: Remote, tmp_path: Path, clock: ManualClock, production: Production
) -> None:
    hotfix = deployed(driver, remote, tmp_path)
    before = driver.thread(hotfix)
    wait(driver, clock)
    assert production.requests == ["/health", "/version"]
    assert driver.thread(hotfix) == before  # healthy and still the old version: nothing to say
    assert "Deploy check" not in driver.status_text(hotfix)  # a 30 s loop is not worth a status line

    production.version = "v1.10.1"
    wait(driver, clock, timedelta(minutes=11, seconds=30))  # the probe finds it at 17:12
    wait(driver, clock)
    assert replies(driver, hotfix, "🟢 `") == [
        "🟢 `v1.10.1` is live: the version endpoint reported it at 17:12 UTC (12m after the tag)."]

    production.health = 503
    for _ in range(3):
        wait(driver, clock)
    assert replies(driver, hotfix, "🚨") == ["🚨 Health check failed: HTTP 503 Service Unavailable. Consider Roll back."]

    production.health = 200
    wait(driver, clock)
    wait(driver, clock)
    assert replies(driver, hotfix, "💚") == ["💚 Health check passes again."]
    assert len(replies(driver, hotfix, "🟢 `")) == 1

    wait(driver, clock, timedelta(minutes=20))
    assert driver.thread(hotfix)[-1] == WINDOW_OVER  # it went live, so nothing more to say
    draft = postmortem.to_markdown(*driver.bot.service.read.timeline(hotfix.key), driver.bot.current.rules().policy.times)
    assert "- Time to mitigate (declared to live): 12m (the version endpoint reported v1.10.1)" in draft
    assert "- Live (after the tag, as the version endpoint said): 12m" in draft

    driver.click("Stable", hotfix, user="UDEV")
    driver.settle()
    probes = len(production.requests)
    wait(driver, clock, timedelta(minutes=5))
    assert len(production.requests) == probes  # Stable ends the polling


def test_the_end_of_monitoring_says_when_the_version_endpoint_never_reported_the_tag(
    driver: Driver, remote: Remote, tmp_path: Path, clock: ManualClock, production: Production
) -> None:
    hotfix = deployed(driver, remote, tmp_path)
    wait(driver, clock, timedelta(minutes=30))
    assert driver.thread(hotfix)[-1] == WINDOW_OVER + " `v1.10.1` was never reported by the version endpoint."
    assert not replies(driver, hotfix, "🟢 `")


@pytest.mark.parametrize("endpoints", [{}])
def test_a_repo_without_endpoints_is_never_probed(
    driver: Driver, remote: Remote, tmp_path: Path, clock: ManualClock, endpoints: dict[str, str]
) -> None:
    hotfix = deployed(driver, remote, tmp_path)
    wait(driver, clock, timedelta(minutes=30))
    assert driver.thread(hotfix)[-1] == WINDOW_OVER
    assert probe_jobs(driver) == []
    assert all(t.kind.value != "deploy_probe" for t in driver.bot.service.read.pending_timers(1))


def test_endpoint_urls_are_http_only_kept_out_of_reprs_and_probes_at_most_every_second(tmp_path: Path) -> None:
    secret_url = "https://payments.example.com/version?token=s3cret"
    config = load_config(write_config(tmp_path, {"health_url": "https://payments.example.com/health",
                                                 "version_url": secret_url}))
    assert config.repo("payments").version_url == secret_url
    assert "s3cret" not in repr(config) and "s3cret" not in repr(config.repo("payments"))
    assert config.policy().times.deploy_probe == timedelta(seconds=30)

    with pytest.raises(ConfigError, match=r"health_url: write it as a full http:// or https:// URL"):
        load_config(write_config(tmp_path, {"health_url": "file:///etc/passwd"}))
    with pytest.raises(ConfigError, match=r"\[timers\] deploy_probe: \"0s\" is too short; the minimum is \"1s\""):
        load_config(write_config(tmp_path, {}, timers='deploy_probe = "0s"\n'))


def test_roll_back_stops_the_probes_and_after_the_window_they_watch_on_until_someone_answers(
    driver: Driver, remote: Remote, tmp_path: Path, clock: ManualClock, production: Production
) -> None:
    hotfix = deployed(driver, remote, tmp_path)
    wait(driver, clock)
    driver.click("Roll back", hotfix, user="UDEV")
    driver.settle()
    probes = len(production.requests)
    wait(driver, clock, timedelta(minutes=5))
    assert probes == 2 and len(production.requests) == probes  # Roll back ends the polling

    remote.clone(tmp_path / "second").push_fix(BRANCH, content=CHECKOUT_FIX + "# and the fix of the fix\n")
    driver.click("Ready for review", hotfix, user="UDEV")
    driver.settle()
    driver.click("Approve review", hotfix, user="UREV1")
    driver.submit_review(hotfix, user="UREV1")
    driver.settle()
    driver.click("Tag & deploy", hotfix, user="UDEV")
    driver.settle()
    wait(driver, clock, timedelta(minutes=30))
    assert driver.thread(hotfix)[-1].startswith("⏰ <@UDEV>: the monitoring window of HF-1 (`v1.10.2`) is over.")

    production.health = 503  # after the window, before anyone pressed Stable: still watched
    wait(driver, clock)
    failed = driver.slack.thread(hotfix.channel, hotfix.ts)[-1]
    assert failed["text"] == "🚨 Health check failed: HTTP 503 Service Unavailable. Consider Roll back."
    button = find_button(failed, "Roll back")
    driver.post(payloads.block_actions(button["action_id"], button["value"], user_id="ULEAD",
                                       channel_id=hotfix.channel, message_ts=failed["ts"], message=failed))
    driver.settle()
    assert driver.thread(hotfix)[-1].startswith("⏪ <@ULEAD> rolled back `v1.10.2`. Redeploy `v1.10.1` now.")
    probes = len(production.requests)
    wait(driver, clock, timedelta(minutes=5))
    assert len(production.requests) == probes


def test_an_early_end_of_monitoring_stops_the_probes(
    driver: Driver, remote: Remote, tmp_path: Path, clock: ManualClock, production: Production
) -> None:
    hotfix = deployed(driver, remote, tmp_path)
    wait(driver, clock)
    assert driver.command("stable HF-1 Verified in production by the payments team", user="ULEAD").status == 200
    driver.settle()
    assert "Merged back, ready to close" in driver.status_text(hotfix)
    probes = len(production.requests)
    wait(driver, clock, timedelta(minutes=5))
    assert probes == 2 and len(production.requests) == probes
