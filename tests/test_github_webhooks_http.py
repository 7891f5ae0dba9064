"""POST /github/events on the real HTTP server: GitHub's signed deliveries are answered at once, anything else is
refused before it costs memory, and the Slack path keeps its own 1 MiB limit."""
from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.codehost.webhooks import MAX_BODY_BYTES
from bot.config import Settings, load_config
from bot.domain.hotfix import Stage
from bot.service.clock import ManualClock
from bot.standins.github import DEFAULT_TOKEN
from bot.standins.github_webhooks import WebhookSender, signature
from bot.wiring import Bot, build
from tests.github.conftest import GITHUB_CONFIG, approved, in_review, poll
from tests.slack.test_oversize import CHUNK, MIB, forever, rss_bytes, send_until_answered
from tests.support.driver import Driver, find_button, message_text
from tests.support.fake_github import FakeGitHub
from tests.support.gitrepos import Clone, Remote

HOOK_SECRET = "It's a Secret to Everybody"
ZEN = "Keep it logically awesome."


@pytest.fixture
def env(env: dict[str, str]) -> dict[str, str]:
    return {**env, "GITHUB_WEBHOOK_SECRET": HOOK_SECRET}


@pytest.fixture
def github_hooks() -> Iterator[WebhookSender]:
    sender = WebhookSender()
    yield sender
    sender.stop()


def url(driver: Driver) -> str:
    return f"http://127.0.0.1:{driver.port}/github/events"


def ping(padding: int = 0) -> dict:
    return {"zen": ZEN, "hook_id": 1, "hook": {"type": "Repository"}, **({"padding": "x" * padding} if padding else {})}


def post_hook(driver: Driver, payload: dict, *, secret: str | None = HOOK_SECRET, event: str = "ping",
              content_type: str = "application/json"):
    body = json.dumps(payload)
    headers = {"Content-Type": content_type, "X-GitHub-Event": event,
               "X-GitHub-Delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958"}
    if secret is not None:
        headers["X-Hub-Signature-256"] = signature(secret, body.encode())
    return driver.request("POST", "/github/events", body, headers)


def raw_head(path: str, extra: str) -> bytes:
    return (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"X-GitHub-Event: ping\r\n{extra}\r\n").encode()


def test_a_signed_delivery_from_github_is_accepted_at_once(driver: Driver, github_hooks: WebhookSender,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    github_hooks.subscribe(url(driver), HOOK_SECRET)
    with caplog.at_level(logging.INFO, logger="bot.http"):
        github_hooks.send("ping", ping)
        [delivery] = github_hooks.wait_for(1)

    assert delivery.status == 202
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name == "bot.http")
    assert f"GitHub delivery {delivery.id} (ping)" in logged
    assert ZEN not in logged  # the body is never logged


def test_a_delivery_signed_with_another_secret_or_unsigned_is_refused_with_401(
    driver: Driver, github_hooks: WebhookSender
) -> None:
    github_hooks.subscribe(url(driver), "an old secret")
    github_hooks.send("ping", ping)
    [forged] = github_hooks.wait_for(1)
    unsigned = post_hook(driver, ping(), secret=None)

    assert forged.status == 401
    assert unsigned.status == 401
    assert unsigned.body == ("The X-Hub-Signature-256 does not match: set the webhook's secret to "
                             "GITHUB_WEBHOOK_SECRET.\n")


def test_a_refusal_never_echoes_what_was_sent(driver: Driver) -> None:
    answer = post_hook(driver, {"action": "opened", "pull_request": "<script>" + ZEN}, event="pull_request")

    assert answer.status == 400
    assert answer.body == "Not a GitHub webhook delivery this bot reads.\n"


def test_a_form_encoded_webhook_is_told_to_send_json(driver: Driver) -> None:
    answer = post_hook(driver, ping(), content_type="application/x-www-form-urlencoded")

    assert answer.status == 415
    assert answer.body == "Set the webhook's content type to application/json.\n"


def test_only_post_is_allowed(driver: Driver) -> None:
    answer = driver.request("GET", "/github/events")

    assert answer.status == 405


def test_a_delivery_over_one_mib_is_read_on_the_github_path_and_refused_on_slack_s(driver: Driver) -> None:
    big = ping(padding=2 * MIB)

    assert post_hook(driver, big).status == 202
    slack, _ = send_until_answered(driver.port, raw_head("/slack/events", f"Content-Length: {2 * MIB}\r\n"),
                                   forever(CHUNK), limit=8 * MIB)
    assert slack.startswith(b"HTTP/1.1 413"), slack[:200]


def test_a_stated_length_over_github_s_25_mb_is_refused_unread(driver: Driver) -> None:
    before = rss_bytes()
    answer, sent = send_until_answered(driver.port, raw_head("/github/events", f"Content-Length: {300 * MIB}\r\n"),
                                       forever(CHUNK), limit=64 * MIB)

    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert sent < 64 * MIB, "the server kept reading a body it should have refused at its headers"
    assert rss_bytes() - before < 32 * MIB
    assert driver.command("help", user="UDEV").status == 200


def test_a_chunked_body_is_cut_off_at_github_s_25_mb(driver: Driver) -> None:
    chunk = b"%x\r\n%s\r\n" % (len(CHUNK), CHUNK)
    before = rss_bytes()
    answer, sent = send_until_answered(driver.port, raw_head("/github/events", "Transfer-Encoding: chunked\r\n"),
                                       forever(chunk), limit=128 * MIB)

    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert MAX_BODY_BYTES <= sent < MAX_BODY_BYTES + 8 * MIB
    assert rss_bytes() - before < 32 * MIB  # past waitress's in-memory limit, the body goes to a temporary file


class TestWebhooksOff:
    @pytest.fixture
    def env(self, env: dict[str, str]) -> dict[str, str]:
        return {key: value for key, value in env.items() if key != "GITHUB_WEBHOOK_SECRET"}

    def test_without_a_secret_the_path_does_not_exist(self, driver: Driver) -> None:
        assert post_hook(driver, ping()).status == 404
        assert driver.request("GET", "/github/events").status == 404

    def test_without_a_secret_a_big_body_gets_slack_s_limit(self, driver: Driver) -> None:
        answer, _ = send_until_answered(driver.port, raw_head("/github/events", f"Content-Length: {2 * MIB}\r\n"),
                                        forever(CHUNK), limit=8 * MIB)

        assert answer.startswith(b"HTTP/1.1 413"), answer[:200]


class TestOnGitHub:
    """The whole bot on a GitHub repo, the stand-in GitHub sending its webhooks to /github/events."""

    @pytest.fixture
    def github(self, remote: Remote) -> Iterator[FakeGitHub]:
        with FakeGitHub(remote, owner="acme", repo="payments") as fake:
            fake.add_user("dev-gh", "engineer@example.com")
            yield fake
            fake.assert_no_problems()

    @pytest.fixture
    def config_path(self, tmp_path: Path, remote_url: str) -> Path:
        path = tmp_path / "hotfix.toml"
        path.write_text(GITHUB_CONFIG.format(remote=remote_url))
        return path

    @pytest.fixture
    def env(self, env: dict[str, str], github: FakeGitHub) -> dict[str, str]:
        return {**env, "GITHUB_TOKEN": DEFAULT_TOKEN, "GITHUB_API_URL": github.url}

    @pytest.fixture
    def bot(self, env: dict[str, str], clock: ManualClock) -> Iterator[Bot]:
        settings = Settings.from_env(env)
        running = build(settings, load_config(settings.config_path), clock=clock, poll_seconds=0.05,
                        github_write_interval=0)
        running.start_workers()
        yield running
        running.stop()

    def test_an_approving_review_reaches_the_thread_without_waiting_for_the_poll(
        self, driver: Driver, github: FakeGitHub, engineer: Clone
    ) -> None:
        hotfix = approved(driver)
        head = in_review(driver, engineer, hotfix)
        github.set_check_run(head, "tests")
        github.send_webhooks_to(url(driver), HOOK_SECRET)

        github.add_review(1, "rita-gh", "APPROVED")
        answers = github.webhooks.wait_for(2)
        driver.settle()  # the clock has not moved: no poll timer came due

        assert [(d.event, d.status) for d in answers] == [("ping", 202), ("pull_request_review", 202)]
        assert driver.bot.service.read.get(hotfix.key).stage is Stage.REVIEWED
        assert find_button(driver.slack.message(hotfix.channel, hotfix.ts), "Tag & deploy")

    def test_a_forged_delivery_makes_nothing_poll_and_the_poll_still_catches_up(
        self, driver: Driver, github: FakeGitHub, engineer: Clone, clock: ManualClock
    ) -> None:
        hotfix = approved(driver)
        head = in_review(driver, engineer, hotfix)
        github.set_check_run(head, "tests")
        github.send_webhooks_to(url(driver), "not the secret")
        reads = len(github.requests)

        github.add_review(1, "rita-gh", "APPROVED")
        answers = github.webhooks.wait_for(2)
        driver.settle()

        assert [d.status for d in answers] == [401, 401]
        assert len(github.requests) == reads  # nobody read GitHub on a forged word
        assert driver.bot.service.read.get(hotfix.key).stage is Stage.IN_REVIEW
        poll(driver, clock)
        assert driver.bot.service.read.get(hotfix.key).stage is Stage.REVIEWED

    def test_a_hotfix_driven_by_webhooks_closes_with_a_post_mortem_linking_its_pull_requests(
        self, driver: Driver, github: FakeGitHub, engineer: Clone, clock: ManualClock
    ) -> None:
        github.send_webhooks_to(url(driver), HOOK_SECRET)
        hotfix = approved(driver)
        head = in_review(driver, engineer, hotfix)
        github.set_check_run(head, "tests", status="in_progress", conclusion=None)
        clock.advance(timedelta(minutes=4))
        github.set_check_run(head, "tests")
        github.add_review(1, "rita-gh", "APPROVED")
        github.webhooks.wait_for(1, event="pull_request_review")
        driver.settle()
        driver.click("Tag & deploy", hotfix, user="UDEV")
        driver.settle()
        clock.advance(timedelta(minutes=30))
        driver.bot.service.timers.fire_due_timers()
        driver.settle()
        driver.click("Stable", hotfix, user="UDEV")
        driver.settle()
        driver.click("Close", hotfix, user="UDEV")
        driver.settle()

        assert all(d.status == 202 for d in github.webhooks.deliveries)
        closing = message_text(driver.slack.thread(hotfix.channel, hotfix.ts)[-1])
        page = "https://github.com/acme/payments/pull"  # the stand-in's html_url, as GitHub's
        assert (f"*GitHub*\n• Pull requests: <{page}/1|#1> into `main` (merged), <{page}/2|#2> into `develop` "
                "(merged). Review 4m; CI 4m (passed).") in closing
