"""The whole bot on a repo that lives on GitHub: the real app over signed HTTP, the fake Slack, the stand-in GitHub
over the tests' real bare remote, the code-host worker between them."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.config import Settings, load_config
from bot.domain.hotfix import EventKind, Stage
from bot.service.clock import ManualClock
from bot.standins.github import DEFAULT_TOKEN
from bot.wiring import Bot, build
from tests.support.config import CONFIG
from tests.support.driver import Driver, Posted
from tests.support.fake_github import FakeGitHub
from tests.support.fake_slack import FakeSlack
from tests.support.gitrepos import Remote

BRANCH = "hotfix/PROD-501-checkout-returns-500"
POLL = timedelta(seconds=15)
CI_WAIT = timedelta(minutes=10)
GITHUB_CONFIG = CONFIG.replace('name = "payments"\n', 'name = "payments"\ngithub = "acme/payments"\n') + """
[github]
poll = "15s"
ci_wait = "10m"

[people]
UREV1 = "rita-gh"
UREV2 = "sam-gh"
UDEV = "dev-gh"
ULEAD = "lead-gh"
"""


@pytest.fixture
def github(remote: Remote) -> Iterator[FakeGitHub]:
    with FakeGitHub(remote, owner="acme", repo="payments") as fake:
        fake.add_user("dev-gh", "engineer@example.com")  # the tests' engineer commits as the declarer
        yield fake
        fake.assert_no_problems()


@pytest.fixture
def config_text() -> str:
    """The team's hotfix.toml with `{remote}` for the remote's URL; a test module overrides it for its variant."""
    return GITHUB_CONFIG


@pytest.fixture
def config_path(tmp_path: Path, remote_url: str, config_text: str) -> Path:
    path = tmp_path / "hotfix.toml"
    path.write_text(config_text.format(remote=remote_url))
    return path


@pytest.fixture
def env(env: dict[str, str], github: FakeGitHub) -> dict[str, str]:
    return {**env, "GITHUB_TOKEN": DEFAULT_TOKEN, "GITHUB_API_URL": github.url}


@pytest.fixture
def bot(env: dict[str, str], clock: ManualClock) -> Iterator[Bot]:
    settings = Settings.from_env(env)
    running = build(settings, load_config(settings.config_path), clock=clock, poll_seconds=0.05,
                    github_write_interval=0)
    running.start_workers()
    yield running
    running.stop()


def kinds(driver: Driver, key: str) -> list[EventKind]:
    return [e.kind for e in driver.bot.service.read.timeline(key)[1]]


def stage(driver: Driver, key: str) -> Stage:
    return driver.bot.service.read.get(key).stage


def poll(driver: Driver, clock: ManualClock, after: timedelta = POLL) -> None:
    """The poll timer comes due: the bot reads GitHub and the thread hears what changed."""
    clock.advance(after)
    driver.bot.service.timers.fire_due_timers()
    driver.settle()


def approved(driver: Driver) -> Posted:
    hotfix = driver.declare(severity="high")
    driver.click("Approve", hotfix, user="UEM")
    driver.click("Approve", hotfix, user="ULEAD")
    driver.settle()
    return hotfix


def in_review(driver: Driver, engineer, hotfix: Posted) -> str:
    """The fix pushed and Ready for review pressed: the pull request is open. Returns the fix's commit."""
    head = engineer.push_fix(BRANCH)
    driver.click("Ready for review", hotfix, user="UDEV")
    driver.settle()
    return head
