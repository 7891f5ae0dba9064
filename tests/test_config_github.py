"""GitHub in the config: [github], a repo's `github` and `required_checks`, [people], and GITHUB_* from the
environment; every mistake is one line saying how to write it, and no secret is ever echoed."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.config import ConfigError, Settings, load_config, load_environment
from bot.domain.repo import RepoSpec
from tests.codehost.app_keys import write_key
from tests.test_config import EXAMPLE, GOOD_ENV, config_problem, one_line, settings_problem, write

TOKEN = "github_pat_11AAAAAAA0hotfix0bot0secret0token0value"

# The issue's example: one repo on GitHub, with its section and the reviewers' logins.
ON_GITHUB = EXAMPLE.replace('merge_back = ["main", "develop"]\n', '''merge_back = ["main", "develop"]
github = "acme/payments"
required_checks = []
''') + '''
[github]
api_url = "https://api.github.com"
poll = "15s"
ci_wait = "10m"

[people]
U0123REV1 = "rita-gh"
'''


def github_config(tmp_path: Path, text: str = ON_GITHUB):
    return load_config(write(tmp_path, text))


# --- the good case ------------------------------------------------------------------------------------------------
def test_the_issues_example_loads_with_the_repo_on_github_and_the_reviewers_login(tmp_path: Path) -> None:
    config = github_config(tmp_path)

    repo = config.repo("payments")
    assert repo.on_github and repo.github == "acme/payments" and repo.required_checks == ()
    assert config.github.api_url == "https://api.github.com"
    assert (config.github.poll, config.github.ci_wait) == (timedelta(seconds=15), timedelta(minutes=10))
    people = config.people_on_github()
    assert people.user_of("Rita-GH") == "U0123REV1"  # logins are case-insensitive
    assert people.logins_to_request(declarer="U0123EM", authors=()) == ("rita-gh",)


def test_a_config_without_github_keeps_its_repos_plain_git_with_the_defaults(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, EXAMPLE))

    repo = config.repo("payments")
    assert not repo.on_github and repo.github is None and repo.required_checks == ()
    assert config.github.api_url == "https://api.github.com" and config.github.poll == timedelta(seconds=15)
    assert config.people == {}


def test_required_checks_are_kept_by_name(tmp_path: Path) -> None:
    text = ON_GITHUB.replace("required_checks = []", 'required_checks = ["build", "test (3.12)"]')

    assert github_config(tmp_path, text).repo("payments").required_checks == ("build", "test (3.12)")


@pytest.mark.parametrize("repo", ["acme/payments", "Acme-Corp/pay.ments_2", "a/.github", "octo-org/x"])
def test_github_repository_names_github_allows_are_accepted(tmp_path: Path, repo: str) -> None:
    assert github_config(tmp_path, ON_GITHUB.replace("acme/payments", repo)).repo("payments").github == repo


def test_an_enterprise_server_api_url_and_the_environment_override(tmp_path: Path) -> None:
    config = github_config(tmp_path, ON_GITHUB.replace("https://api.github.com", "https://ghe.example.com/api/v3"))

    assert Settings.from_env(GOOD_ENV).github_api_url(config) == "https://ghe.example.com/api/v3"
    overridden = Settings.from_env({**GOOD_ENV, "GITHUB_API_URL": "http://127.0.0.1:8080"})
    assert overridden.github_api_url(config) == "http://127.0.0.1:8080"


# --- mistakes in the file -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("written", [
    "https://github.com/acme/payments", "acme/payments.git", "acme", "acme/pay/ments", "-acme/payments",
    "acme/-payments", "acme/..", "acme/a..b", "ac--me/payments", "acme/pay ments", "",
])
def test_a_github_repo_that_is_not_owner_slash_name_is_refused_with_how_to_write_it(tmp_path: Path,
                                                                                     written: str) -> None:
    message = config_problem(tmp_path, ON_GITHUB.replace('"acme/payments"', f'"{written}"'))

    assert message.endswith(f'[repos[0]] github: "{written}" is not a GitHub repository; write owner/name as in its '
                            'GitHub address, e.g. "acme/payments" (no URL, no .git).'), message


@pytest.mark.parametrize("written", ['[""]', '["  "]', '["build\\u0007"]', '["a\\nb"]'])
def test_a_required_check_without_a_usable_name_is_refused(tmp_path: Path, written: str) -> None:
    message = config_problem(tmp_path, ON_GITHUB.replace("required_checks = []", f"required_checks = {written}"))

    assert "[repos[0]] required_checks" in message and 'e.g. ["build", "test"]' in message


def test_required_checks_on_a_repo_not_on_github_are_refused_rather_than_ignored(tmp_path: Path) -> None:
    text = ON_GITHUB.replace('github = "acme/payments"\n', "").replace("required_checks = []",
                                                                       'required_checks = ["build"]')

    message = config_problem(tmp_path, text)

    assert message.endswith('[repos[0]]: Repository payments lists required_checks but names no GitHub repository: '
                            'add github = "owner/name", or remove required_checks.'), message


def test_the_domain_refuses_the_same_repo_spec_on_its_own() -> None:
    with pytest.raises(ValueError, match="not a GitHub owner/name"):
        RepoSpec("payments", "/srv/git/payments.git", github="acme/../etc")
    with pytest.raises(ValueError, match="required_checks"):
        RepoSpec("payments", "/srv/git/payments.git", required_checks=("build",))
    assert RepoSpec("payments", "/srv/git/payments.git", github="acme/payments", required_checks=["ci"]).on_github


@pytest.mark.parametrize(("key", "written", "said"), [
    ("poll", "1s", '[github] poll: "1s" is too short; the minimum is "5s".'),
    ("ci_wait", "30s", '[github] ci_wait: "30s" is too short; the minimum is "1m".'),
    ("poll", "15", '[github] poll: write it as text with a unit, e.g. "15s".'),
    ("api_url", "api.github.com", '[github] api_url: write it as an http(s) URL: "https://api.github.com", or for '
                                  'GitHub Enterprise Server "https://ghe.example.com/api/v3".'),
])
def test_a_github_setting_written_wrong_says_how_to_write_it(tmp_path: Path, key: str, written: str,
                                                             said: str) -> None:
    line = next(line for line in ON_GITHUB.splitlines() if line.startswith(f"{key} ="))
    value = written if written.isdigit() else f'"{written}"'

    assert config_problem(tmp_path, ON_GITHUB.replace(line, f"{key} = {value}")).endswith(said)


def test_an_unknown_github_key_is_named(tmp_path: Path) -> None:
    message = config_problem(tmp_path, ON_GITHUB.replace('poll = "15s"', 'pol = "15s"'))

    assert "[github] pol is not a setting hotfix-bot knows" in message


@pytest.mark.parametrize(("entry", "said"), [
    ('"@rita" = "rita-gh"', '[people] "@rita" is not a Slack member ID; write the ID, e.g. U0123ABCD = "their-login"'),
    ('U0123REV2 = "@rita-gh"', '[people] U0123REV2: "@rita-gh" is not a GitHub login; write the login alone'),
    ('U0123REV2 = "https://github.com/rita"', '"https://github.com/rita" is not a GitHub login'),
    ('U0123REV2 = "-rita"', '"-rita" is not a GitHub login'),
    ('U0123REV2 = "rita-"', '"rita-" is not a GitHub login'),
    ('U0123REV2 = "ri--ta"', '"ri--ta" is not a GitHub login'),
    ('U0123REV2 = "' + "r" * 40 + '"', '"' + "r" * 40 + '" is not a GitHub login'),
    ('U0123REV2 = "RITA-GH"', '[people] U0123REV1 and U0123REV2 are both "RITA-GH"; one person, one GitHub login'),
])
def test_people_are_slack_ids_mapped_to_one_github_login_each(tmp_path: Path, entry: str, said: str) -> None:
    message = config_problem(tmp_path, ON_GITHUB + entry + "\n")

    assert said in message, message


def test_an_enterprise_managed_users_login_is_accepted(tmp_path: Path) -> None:
    config = github_config(tmp_path, ON_GITHUB.replace('"rita-gh"', '"rita_acme"'))

    assert config.people_on_github().user_of("rita_acme") == "U0123REV1"


def test_a_repo_on_github_with_no_reviewer_login_is_refused_as_no_one_could_approve(tmp_path: Path) -> None:
    message = config_problem(tmp_path, ON_GITHUB.replace('U0123REV1 = "rita-gh"', 'U0123EM = "emma-gh"'))

    assert message.endswith("[[repos]] payments is reviewed on GitHub, but [people] maps no reviewer to a GitHub "
                            'login, so no pull request could be approved; add e.g. U0123REV1 = "rita-gh".')


# --- the environment ------------------------------------------------------------------------------------------------
def test_github_settings_are_optional_and_read_when_set(tmp_path: Path) -> None:
    key = write_key(tmp_path / "app.pem")

    assert Settings.from_env(GOOD_ENV).github.token is None
    github = Settings.from_env({**GOOD_ENV, "GITHUB_TOKEN": f" {TOKEN} ", "GITHUB_WEBHOOK_SECRET": "whsec",
                                "GITHUB_APP_ID": "123456", "GITHUB_APP_PRIVATE_KEY": str(key)}).github
    assert (github.token, github.webhook_secret, github.app_id, github.app_private_key) == (
        TOKEN, "whsec", "123456", key)
    assert github.app_key == key.read_text() and not github.uses_app  # a token wins over the App


@pytest.mark.parametrize(("env", "said"), [
    ({"GITHUB_API_URL": "ghe.example.com"}, "GITHUB_API_URL must be an http(s) URL"),
    ({"GITHUB_APP_ID": "my-app", "GITHUB_APP_PRIVATE_KEY": "/k.pem"}, "GITHUB_APP_ID must be the App's numeric ID"),
    ({"GITHUB_APP_ID": "123"}, "GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY go together"),
    ({"GITHUB_APP_ID": "123", "GITHUB_APP_PRIVATE_KEY": "/nowhere/app.pem"},
     "GITHUB_APP_PRIVATE_KEY: /nowhere/app.pem is not a file"),
])
def test_a_github_setting_in_the_environment_written_wrong_is_one_line(env: dict[str, str], said: str) -> None:
    assert settings_problem({**GOOD_ENV, **env}).startswith(said)


def test_a_pasted_key_or_a_broken_token_is_refused_without_echoing_it() -> None:
    pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEsecretsecret\n-----END RSA PRIVATE KEY-----"
    key_problem = settings_problem({**GOOD_ENV, "GITHUB_APP_ID": "1", "GITHUB_APP_PRIVATE_KEY": pem})
    token_problem = settings_problem({**GOOD_ENV, "GITHUB_TOKEN": f"{TOKEN} {TOKEN}"})

    assert "path of the App's .pem key file, not the key itself" in key_problem and "MIIE" not in key_problem
    assert "GITHUB_TOKEN has a space" in token_problem and TOKEN not in token_problem


def test_the_settings_never_show_the_token_or_the_webhook_secret() -> None:
    settings = Settings.from_env({**GOOD_ENV, "GITHUB_TOKEN": TOKEN, "GITHUB_WEBHOOK_SECRET": "whsec-0secret0"})

    for shown in (repr(settings), str(settings), repr(settings.github)):
        assert TOKEN not in shown and "whsec-0secret0" not in shown


def test_a_repo_on_github_without_a_token_is_refused_at_start(tmp_path: Path) -> None:
    env = {**GOOD_ENV, "HOTFIX_CONFIG": str(write(tmp_path, ON_GITHUB))}

    with pytest.raises(ConfigError) as problem:
        load_environment(env)
    settings, config = load_environment({**env, "GITHUB_TOKEN": TOKEN})

    assert one_line(problem.value).startswith("[[repos]] payments names the GitHub repository acme/payments: set "
                                              "GITHUB_TOKEN to a fine-grained token")
    assert config.repo("payments").on_github and settings.github.token == TOKEN


def test_a_github_app_alone_is_enough_to_start(tmp_path: Path) -> None:
    key = write_key(tmp_path / "app.pem")
    env = {**GOOD_ENV, "HOTFIX_CONFIG": str(write(tmp_path, ON_GITHUB)), "GITHUB_APP_ID": "42",
           "GITHUB_APP_PRIVATE_KEY": str(key)}

    settings, config = load_environment(env)

    assert config.repo("payments").on_github and settings.github.uses_app and settings.github.app_id == "42"


@pytest.mark.parametrize("written", [
    "MIIEsecret0not0a0pem0file",
    "-----BEGIN RSA PRIVATE KEY-----\nMIIEsecret0broken\n-----END RSA PRIVATE KEY-----\n",
    "-----BEGIN PUBLIC KEY-----\nMIIEsecret0public\n-----END PUBLIC KEY-----\n",
], ids=["not PEM", "broken PEM", "public key"])
def test_a_key_file_that_is_not_a_pem_private_key_is_refused_at_start_without_echoing_it(
        tmp_path: Path, written: str) -> None:
    key = tmp_path / "app.pem"
    key.write_text(written)

    problem = settings_problem({**GOOD_ENV, "GITHUB_APP_ID": "42", "GITHUB_APP_PRIVATE_KEY": str(key)})

    assert problem.startswith(f"GITHUB_APP_PRIVATE_KEY: {key} is not a PEM private key of a GitHub App; download "
                              "one from the App's settings (Private keys, Generate a private key)")
    assert "MIIE" not in problem


def test_the_settings_never_show_the_apps_key(tmp_path: Path) -> None:
    key = write_key(tmp_path / "app.pem")
    github = Settings.from_env({**GOOD_ENV, "GITHUB_APP_ID": "42", "GITHUB_APP_PRIVATE_KEY": str(key)}).github

    assert github.app_key is not None and "PRIVATE KEY" not in repr(github) and "PRIVATE KEY" not in str(github)


def test_without_a_repo_on_github_no_github_setting_is_needed(tmp_path: Path) -> None:
    settings, config = load_environment({**GOOD_ENV, "HOTFIX_CONFIG": str(write(tmp_path, EXAMPLE))})

    assert settings.github.token is None and not any(r.on_github for r in config.repos)


# --- the documentation ----------------------------------------------------------------------------------------------
def test_the_readmes_hotfix_toml_with_every_key_loads(tmp_path: Path) -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    block = readme.split("### `hotfix.toml`", 1)[1].split("```toml\n", 1)[1].split("```", 1)[0]

    config = load_config(write(tmp_path, block))

    assert config.repo("payments").github == "acme/payments" and config.people == {"U0123REV1": "rita-gh"}


def test_the_shipped_examples_github_lines_load_once_uncommented(tmp_path: Path) -> None:
    example = (Path(__file__).resolve().parents[1] / "hotfix.example.toml").read_text(encoding="utf-8")
    keys = ("# github =", "# required_checks =", "# [github]", "# api_url =", "# poll =", "# ci_wait =", "# [people]",
            "# U0123REV1 =")
    text = "\n".join(line.removeprefix("# ") if line.startswith(keys) else line for line in example.splitlines())

    config = load_config(write(tmp_path, text))

    assert config.repo("payments").on_github and config.github.ci_wait == timedelta(minutes=10)
