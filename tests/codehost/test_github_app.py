"""A GitHub App instead of a token: a real RSA key made here signs the App's JWTs, the stand-in GitHub checks
them with the key's public half, finds the App's installation on the repo and hands out installation tokens."""
from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from bot.codehost.github import GitHubCodeHost
from bot.codehost.github_app import AppNotInstalled
from bot.codehost.port import CodeHostRefused
from bot.config import Settings, load_config
from bot.domain.codehost import CheckState
from bot.domain.hotfix import Stage
from bot.service.clock import ManualClock
from bot.wiring import Bot, build
from tests.codehost.app_keys import APP_ID, AppCheckingGitHub, new_key, write_key
from tests.codehost.conftest import REPO, open_fix, push_hotfix
from tests.github.conftest import BRANCH, GITHUB_CONFIG, approved, in_review
from tests.support.driver import Driver
from tests.support.fake_github import FakeGitHub
from tests.support.gitrepos import Clone, Remote

INSTALLATION = "apps/create-installation-access-token"


@pytest.fixture(scope="module")
def app_key() -> rsa.RSAPrivateKey:
    return new_key()


@pytest.fixture
def key_file(tmp_path: Path, app_key: rsa.RSAPrivateKey) -> Path:
    return write_key(tmp_path / "hotfix-bot.private-key.pem", app_key)


@pytest.fixture
def github(remote: Remote, app_key: rsa.RSAPrivateKey) -> Iterator[AppCheckingGitHub]:
    with AppCheckingGitHub(remote, app_key.public_key()) as fake:
        fake.add_user("dev-gh", "engineer@example.com")
        yield fake
        fake.assert_no_problems()


def app_host(github: FakeGitHub, key_file: Path, app_id: int = APP_ID) -> GitHubCodeHost:
    environ = {"GITHUB_APP_ID": str(app_id), "GITHUB_APP_PRIVATE_KEY": str(key_file), "GITHUB_API_URL": github.url}
    return GitHubCodeHost.from_environment(environ, write_interval=0)


def test_an_app_opens_the_pull_request_and_reads_checks_through_its_installation(
        github: AppCheckingGitHub, key_file: Path, engineer: Clone) -> None:
    head = push_hotfix(engineer)
    host = app_host(github, key_file)

    pull = open_fix(host)
    github.set_check_run(head, "tests")

    assert pull.author == "hotfix-bot[bot]"  # opened by the App, not by a person's token
    assert github.pull(pull.number).labels == ["hotfix"]
    assert [(c.name, c.state) for c in host.checks(REPO, head)] == [("tests", CheckState.SUCCESS)]
    # The installation is found once and its token reused for every call until it is about to expire.
    assert len(github.requests_to("apps/get-repo-installation")) == 1
    assert len(github.requests_to(INSTALLATION)) == 1
    assert github.refused_signatures == 0


def test_an_installation_token_about_to_expire_is_renewed_before_it_is_used(
        remote: Remote, app_key: rsa.RSAPrivateKey, key_file: Path) -> None:
    an_hour_ago = lambda: datetime.now(UTC) - timedelta(minutes=59, seconds=30)  # noqa: E731
    with AppCheckingGitHub(remote, app_key.public_key(), now=an_hour_ago) as github:  # tokens last 30 s more
        host = app_host(github, key_file)

        host.checks(REPO, "main")
        host.checks(REPO, "main")

        reads = github.requests_to("checks/list-for-ref") + github.requests_to("repos/get-combined-status-for-ref")
        assert len(reads) == 4 and len(github.requests_to(INSTALLATION)) == 4  # a new token for each read
        assert len(github.requests_to("apps/get-repo-installation")) == 1
        github.assert_no_problems()


def test_a_wrong_app_id_is_refused_with_what_to_check(github: AppCheckingGitHub, key_file: Path) -> None:
    host = app_host(github, key_file, app_id=APP_ID + 1)

    with pytest.raises(CodeHostRefused) as refused:
        host.checks(REPO, "main")

    assert refused.value.status == 401
    assert str(refused.value).startswith("GitHub refused the App's credentials (401): GITHUB_APP_ID is not the ID "
                                         "of the App whose private key GITHUB_APP_PRIVATE_KEY holds")
    assert any("is not the app id 314" in problem for problem in github.take_problems())


def test_a_key_of_another_app_is_refused_with_what_to_check(github: AppCheckingGitHub, tmp_path: Path) -> None:
    host = app_host(github, write_key(tmp_path / "other.pem"))

    with pytest.raises(CodeHostRefused, match="generate a new key on its settings page") as refused:
        host.checks(REPO, "main")

    assert refused.value.status == 401 and github.refused_signatures == 1
    assert not github.requests_to("checks/list-for-ref")


def test_a_repo_the_app_is_not_installed_on_says_to_install_it(github: AppCheckingGitHub, key_file: Path) -> None:
    host = app_host(github, key_file)

    with pytest.raises(AppNotInstalled) as missing:
        host.checks("acme/ledger", "main")

    assert str(missing.value) == (
        "the GitHub App (ID 314) is not installed on acme/ledger: install the App on acme/ledger (the App's settings, "
        "Install App), or add the repository to its installation")
    assert missing.value.permission is None  # the thread must not say "the token needs" something
    assert host.checks(REPO, "main") == ()  # the repos it is installed on still work


def test_the_key_never_shows_in_a_repr_an_error_or_a_log(
        github: AppCheckingGitHub, key_file: Path, engineer: Clone, caplog: pytest.LogCaptureFixture) -> None:
    key_body = key_file.read_text().splitlines()[5]  # a line of the key itself, not its BEGIN line
    push_hotfix(engineer)
    settings = Settings.from_env({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "GITHUB_APP_ID": "314",
                                  "GITHUB_APP_PRIVATE_KEY": str(key_file)})
    caplog.set_level(logging.DEBUG)
    host = app_host(github, key_file)
    open_fix(host)
    with pytest.raises(AppNotInstalled) as missing:
        host.checks("acme/ledger", "main")

    client = host._for(REPO)
    shown = [repr(settings), repr(host._clients), repr(client), repr(client.api.auth), str(missing.value),
             caplog.text]
    assert settings.github.app_key is not None and key_body in settings.github.app_key  # read once, at start
    assert all(key_body not in text for text in shown)


# The whole bot with only GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY: one step of the procedure on GitHub.
@pytest.fixture
def config_path(tmp_path: Path, remote_url: str) -> Path:
    path = tmp_path / "hotfix.toml"
    path.write_text(GITHUB_CONFIG.format(remote=remote_url))
    return path


@pytest.fixture
def env(env: dict[str, str], github: FakeGitHub, key_file: Path) -> dict[str, str]:
    return {**env, "GITHUB_APP_ID": str(APP_ID), "GITHUB_APP_PRIVATE_KEY": str(key_file), "GITHUB_API_URL": github.url}


@pytest.fixture
def bot(env: dict[str, str], clock: ManualClock) -> Iterator[Bot]:
    settings = Settings.from_env(env)
    running = build(settings, load_config(settings.config_path, settings), clock=clock, poll_seconds=0.05,
                    github_write_interval=0)
    running.start_workers()
    yield running
    running.stop()


def test_the_bot_with_only_an_app_opens_the_hotfix_pull_request(
        driver: Driver, github: AppCheckingGitHub, remote: Remote, tmp_path: Path) -> None:
    hotfix = approved(driver)
    in_review(driver, remote.clone(tmp_path / "engineer"), hotfix)

    pull = github.pull(1)
    assert (pull.head, pull.base, pull.title) == (BRANCH, "main", "HOTFIX HF-1: Checkout returns 500")
    assert pull.author == "hotfix-bot[bot]"
    assert sorted(pull.requested_reviewers) == ["rita-gh", "sam-gh"]
    assert driver.bot.service.read.get(hotfix.key).stage is Stage.IN_REVIEW
