"""Fixtures: the real bot on a temp SQLite file, over signed HTTP, with Slack's Web API faked over HTTP."""
from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.config import Settings, load_config
from bot.service.clock import ManualClock
from bot.wiring import Bot, build
from tests.support.config import CONFIG, SECRET, TOKEN
from tests.support.driver import Driver
from tests.support.fake_slack import FakeSlack
from tests.support.gitrepos import GIT_TEST_ENV, Clone, Remote, build_release_remote, copy_remote
from tests.support.postgres import fresh_database



@pytest.fixture(autouse=True)
def _no_developer_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "SLACK_API_URL", "DATABASE_URL",
                 "HOTFIX_CONFIG", "HOTFIX_WORKDIR", "GITHUB_TOKEN", "GITHUB_API_URL", "GITHUB_WEBHOOK_SECRET",
                 "GITHUB_APP_ID", "GITHUB_APP_PRIVATE_KEY"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack(valid_tokens=[TOKEN]) as fake:
        yield fake
        fake.assert_no_problems()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    with fresh_database() as url:
        yield url


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture(autouse=True)
def root_logging() -> Iterator[None]:
    """A test that runs the CLI in process installs a handler on pytest's captured stderr; later threads must
    not write to it once it is closed."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:], root.level = handlers, level


@pytest.fixture(autouse=True)
def git_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in GIT_TEST_ENV.items():
        monkeypatch.setenv(name, value)


@pytest.fixture(scope="session")
def release_template(tmp_path_factory: pytest.TempPathFactory) -> Remote:
    with pytest.MonkeyPatch.context() as patch:
        for name, value in GIT_TEST_ENV.items():
            patch.setenv(name, value)
        return build_release_remote(tmp_path_factory.mktemp("template"))


@pytest.fixture
def remote(tmp_path: Path, release_template: Remote) -> Remote:
    """The team's git server: v1.9.0 and v1.10.0 released, main and develop moved on since."""
    return copy_remote(release_template, tmp_path / "payments.git")


@pytest.fixture
def engineer(remote: Remote, tmp_path: Path) -> Clone:
    """An engineer's clone of the team's remote, to push fixes from."""
    return remote.clone(tmp_path / "engineer")


@pytest.fixture
def remote_url(remote: Remote) -> str:
    return remote.url


@pytest.fixture
def config_path(tmp_path: Path, remote_url: str) -> Path:
    path = tmp_path / "hotfix.toml"
    path.write_text(CONFIG.format(remote=remote_url))
    return path


@pytest.fixture
def env(tmp_path: Path, slack: FakeSlack, config_path: Path) -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": slack.url,
        "DATABASE_URL": f"sqlite:///{tmp_path}/hotfix.db",
        "HOTFIX_CONFIG": str(config_path),
        "HOTFIX_WORKDIR": str(tmp_path / "work"),
    }


@pytest.fixture
def bot(env: dict[str, str], clock: ManualClock) -> Iterator[Bot]:
    settings = Settings.from_env(env)
    running = build(settings, load_config(settings.config_path), clock=clock, poll_seconds=0.05)
    running.start_workers()
    yield running
    running.stop()


@pytest.fixture
def driver(bot: Bot, slack: FakeSlack) -> Iterator[Driver]:
    http = Driver(bot, slack, SECRET)
    yield http
    http.close()
