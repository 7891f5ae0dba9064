"""`hotfix-bot doctor` on a repo that names a GitHub repository: the token's access checked against the stand-in
GitHub over real HTTP, one line per repo, each missing permission named with what to grant."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.standins.github import DEFAULT_TOKEN
from bot.standins.github_account import APP_PERMISSIONS
from tests.codehost.app_keys import write_key
from tests.support.fake_github import FakeGitHub
from tests.support.fake_slack import FakeSlack
from tests.support.gitrepos import Remote
from tests.test_doctor import diagnose, failures, healthy  # noqa: F401  (healthy is a fixture)

GITHUB_KEYS = 'merge_back = ["main", "develop"]\ngithub = "acme/payments"\nrequired_checks = ["build"]\n'
PEOPLE = '\n[people]\nUREV1 = "rita-gh"\n'
WHERE = "GitHub acme/payments (repo payments)"
INSTALLATION_TOKEN = "apps/create-installation-access-token"


@pytest.fixture
def github(remote: Remote) -> Iterator[FakeGitHub]:
    with FakeGitHub(remote, owner="acme", repo="payments") as fake:
        yield fake
        fake.assert_no_problems()


@pytest.fixture
def on_github(healthy: dict[str, str], github: FakeGitHub) -> dict[str, str]:  # noqa: F811
    """The healthy set-up with its repo on the stand-in GitHub and a token that may read it."""
    config = Path(healthy["HOTFIX_CONFIG"])
    text = config.read_text().replace('merge_back = ["main", "develop"]\n', GITHUB_KEYS)
    config.write_text(text + PEOPLE)
    return {**healthy, "GITHUB_TOKEN": DEFAULT_TOKEN, "GITHUB_API_URL": github.url}


def github_lines(lines: list[str]) -> list[str]:
    return [line for line in lines if "GitHub" in line]


def test_a_token_that_may_read_everything_passes_with_writes_unverified(
    on_github: dict[str, str], slack: FakeSlack, github: FakeGitHub
) -> None:
    code, lines = diagnose(on_github)

    assert code == 0, "\n".join(lines)
    assert github_lines(lines) == [
        f"✓ GitHub at {github.url}: GITHUB_TOKEN set; 1 of 2 reviewers have a GitHub login in [people]",
        f"✓ {WHERE}: reads the repository, pull requests, checks and statuses; write (pull_requests: write, "
        "contents: write) unverified: a token shows it only when it writes",
    ]
    assert github.requests_to("repos/get") and github.requests_to("checks/list-for-ref")
    assert all(exchange.method == "GET" for exchange in github.requests)  # doctor never writes


def test_a_missing_permission_is_named_with_what_to_grant(
    on_github: dict[str, str], slack: FakeSlack, github: FakeGitHub
) -> None:
    github.forbid_next(permissions="statuses=read", operation="repos/get-combined-status-for-ref")

    code, lines = diagnose(on_github)

    assert code == 1
    assert failures(lines) == [
        f"✗ {WHERE}: the token lacks statuses: read → grant the token statuses: read on acme/payments "
        "(fine-grained token: Repository permissions; classic token: the repo scope), or use a token of someone "
        "who has them"]


def test_a_refused_token_is_one_failure_that_says_to_replace_it_and_never_shows_it(
    on_github: dict[str, str], slack: FakeSlack, github: FakeGitHub
) -> None:
    revoked = "ghp_revoked0token0that0github0refuses"

    code, lines = diagnose({**on_github, "GITHUB_TOKEN": revoked})

    assert code == 1
    [failure] = failures(lines)
    assert failure.startswith(f"✗ GitHub at {github.url}: GitHub refused the token (401 Bad credentials): "
                              "GITHUB_TOKEN is wrong, expired or revoked → set GITHUB_TOKEN to a fine-grained token")
    assert not any(revoked in line for line in lines)
    assert len(github.take_problems()) == 1  # the stand-in notes the refused token: it is what this test is about


def test_a_repository_the_token_cannot_see_says_to_check_the_name_and_the_tokens_access(
    on_github: dict[str, str], slack: FakeSlack
) -> None:
    config = Path(on_github["HOTFIX_CONFIG"])
    config.write_text(config.read_text().replace('"acme/payments"', '"acme/elsewhere"'))

    code, lines = diagnose(on_github)

    assert code == 1
    assert failures(lines) == [
        '✗ GitHub acme/elsewhere (repo payments): not found, or the token cannot see it → check github = '
        '"acme/elsewhere" in [[repos]] payments, and give the token access to that repository']


def test_no_token_is_one_failure_saying_to_set_it(on_github: dict[str, str], slack: FakeSlack,
                                                  github: FakeGitHub) -> None:
    code, lines = diagnose({k: v for k, v in on_github.items() if k != "GITHUB_TOKEN"})

    assert code == 1
    assert failures(lines) == [
        "✗ GitHub: [[repos]] payments names the GitHub repository acme/payments: set GITHUB_TOKEN to a fine-grained "
        "token (or an installation token) with read access to metadata, checks and commit statuses and read and "
        "write access to pull requests and contents, or GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY for a GitHub App "
        "installed on it."]
    assert not github.requests


def test_an_unreachable_github_says_to_check_the_network_and_the_url(on_github: dict[str, str], slack: FakeSlack,
                                                                     github: FakeGitHub) -> None:
    url = github.url
    github.stop()

    code, lines = diagnose(on_github)

    assert code == 1
    [failure] = failures(lines)
    assert failure.startswith(f"✗ GitHub at {url}: GitHub could not be reached: ")
    assert failure.endswith("→ check this host's network and proxy, and GITHUB_API_URL or [github] api_url")


def test_a_config_without_github_prints_no_github_line(healthy: dict[str, str], slack: FakeSlack) -> None:  # noqa: F811
    code, lines = diagnose({**healthy, "GITHUB_TOKEN": DEFAULT_TOKEN})

    assert code == 0 and github_lines(lines) == []


def test_each_repo_on_github_gets_its_own_line(on_github: dict[str, str], slack: FakeSlack, remote: Remote) -> None:
    config = Path(on_github["HOTFIX_CONFIG"])
    ledger = f'\n[[repos]]\nname = "ledger"\nurl = "{remote.url}"\ngithub = "acme/ledger"\n'
    config.write_text(config.read_text().replace("\n[approvals]", ledger + "\n[approvals]"))

    code, lines = diagnose(on_github)

    assert code == 1
    per_repo = [line.split(":")[0] for line in github_lines(lines)[1:]]
    assert per_repo == [f"✓ {WHERE}", "✗ GitHub acme/ledger (repo ledger)"]


@pytest.fixture
def app(on_github: dict[str, str], github: FakeGitHub, tmp_path: Path) -> dict[str, str]:
    """The App of the stand-in GitHub instead of a token."""
    key = write_key(tmp_path / "app.pem")
    environ = {k: v for k, v in on_github.items() if k != "GITHUB_TOKEN"}
    return {**environ, "GITHUB_APP_ID": str(github.app_id), "GITHUB_APP_PRIVATE_KEY": str(key)}


def test_a_github_app_installed_with_every_permission_passes(app: dict[str, str], slack: FakeSlack,
                                                             github: FakeGitHub) -> None:
    code, lines = diagnose(app)

    assert code == 0, "\n".join(lines)
    assert github_lines(lines) == [
        f"✓ GitHub at {github.url}: GitHub App 1 (no GITHUB_TOKEN); 1 of 2 reviewers have a GitHub login in [people]",
        f"✓ {WHERE}: reads the repository, pull requests, checks and statuses; writes pull requests and contents (the "
        "installation's permissions)"]
    assert github.requests_to("apps/get-repo-installation") and github.requests_to("repos/get")
    assert all(exchange.method == "GET" for exchange in github.requests if exchange.operation != INSTALLATION_TOKEN)


def test_an_installation_without_a_permission_names_it_with_what_to_grant(
        app: dict[str, str], slack: FakeSlack, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(APP_PERMISSIONS, "statuses")  # an App not granted a permission has no key for it
    monkeypatch.setitem(APP_PERMISSIONS, "pull_requests", "read")

    code, lines = diagnose(app)

    assert code == 1
    assert failures(lines) == [
        f"✗ {WHERE}: the App lacks pull_requests: write, statuses: read → give the App pull_requests: write, "
        "statuses: read (its settings, Permissions & events), then accept the new permissions on its installation "
        "for acme"]


def test_a_repo_the_app_is_not_installed_on_says_to_install_it(app: dict[str, str], slack: FakeSlack) -> None:
    config = Path(app["HOTFIX_CONFIG"])
    config.write_text(config.read_text().replace('"acme/payments"', '"acme/elsewhere"'))

    code, lines = diagnose(app)

    assert code == 1
    assert failures(lines) == [
        "✗ GitHub acme/elsewhere (repo payments): the App is not installed there → install the App on "
        "acme/elsewhere (the App's settings, Install App), or add the repository to its installation"]


def test_a_wrong_app_id_is_one_failure_that_says_what_to_check(app: dict[str, str], slack: FakeSlack,
                                                                github: FakeGitHub) -> None:
    code, lines = diagnose({**app, "GITHUB_APP_ID": "999"})

    assert code == 1
    [failure] = failures(lines)
    assert failure.startswith(f"✗ GitHub at {github.url}: GitHub refused the App's credentials (401): GITHUB_APP_ID "
                              "is not the ID of the App whose private key GITHUB_APP_PRIVATE_KEY holds")
    assert failure.endswith("→ check GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY (the App's settings: App ID, Private "
                            "keys)")
    assert "PRIVATE KEY-----" not in "\n".join(lines)
    assert github.take_problems()  # the stand-in saw the JWT of another App


def test_a_token_wins_over_an_app(app: dict[str, str], slack: FakeSlack) -> None:
    code, lines = diagnose({**app, "GITHUB_TOKEN": DEFAULT_TOKEN})

    assert code == 0
    assert any(line.endswith("GITHUB_APP_ID is not used (GITHUB_TOKEN wins)") for line in lines)


def test_a_broken_github_setting_is_an_environment_failure_and_github_is_not_checked(
    on_github: dict[str, str], slack: FakeSlack, github: FakeGitHub
) -> None:
    code, lines = diagnose({**on_github, "GITHUB_API_URL": "ghe.example.com"})

    assert code == 1
    assert failures(lines)[0].startswith("✗ Environment: GITHUB_API_URL must be an http(s) URL")
    assert "– GitHub: not checked until the environment above is fixed" in lines
    assert not github.requests
