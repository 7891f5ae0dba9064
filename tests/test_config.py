"""Start-up settings: every mistake is one line naming the setting and how to fix it; good files load."""
from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from bot.config import ConfigError, Settings, load_config, load_environment
from bot.domain.policy import Severity

REPO_ROOT = Path(__file__).resolve().parents[1]

# The example from the issue: a team's whole procedure, durations written the way people write them.
EXAMPLE = """
[slack]
channel = "C0HOTFIX"
stakeholders_channel = "C0STAKE"

[[repos]]
name = "payments"
url = "git@github.com:acme/payments.git"
flow = "production-tag"
production_tag = "v*"
main = "main"
merge_back = ["main", "develop"]

[approvals]
critical = ["engineering_manager", "oncall_lead", "cto"]
high = ["engineering_manager", "oncall_lead"]

[roles]
engineering_manager = ["U0123EM"]
oncall_lead = ["U0123LEAD"]
cto = ["U0123CTO"]
reviewer = ["U0123REV1", "U0123REV2"]

[timers]
approval_escalation = "45s"
review_sla = "1h"
monitoring_window = "30m"
merge_back_due = "30m"
"""

GOOD_ENV = {
    "SLACK_BOT_TOKEN": "xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy",
    "SLACK_SIGNING_SECRET": "8f742231b10e8888abcd99yyyzzz85a5",
}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "hotfix.toml"
    path.write_text(text, encoding="utf-8")
    return path


def config_problem(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as problem:
        load_config(write(tmp_path, text))
    return one_line(problem.value)


def settings_problem(env: dict[str, str], **kwargs) -> str:
    with pytest.raises(ConfigError) as problem:
        Settings.from_env(env, **kwargs)
    return one_line(problem.value)


def one_line(error: Exception) -> str:
    message = str(error)
    assert message and "\n" not in message and "\r" not in message, message
    assert "Traceback" not in message and "pydantic" not in message and "errors.pydantic.dev" not in message, message
    return message


# --- the good case ----------------------------------------------------------------------------------------------
def test_the_example_config_loads_with_its_durations_and_policy(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, EXAMPLE))

    assert config.slack.channel == "C0HOTFIX" and config.slack.stakeholders_channel == "C0STAKE"
    assert config.repo_names == ("payments",)
    assert config.repo("payments").merge_back == ("main", "develop")
    policy = config.policy()
    assert policy.times.approval_escalation == timedelta(seconds=45)
    assert policy.times.review_sla == timedelta(hours=1)
    assert policy.times.monitoring_window == timedelta(minutes=30)
    assert policy.times.merge_back_due == timedelta(minutes=30)
    assert policy.times.postmortem_due == timedelta(days=2)  # not in the file: the procedure's default
    approvals = policy.approvals
    assert approvals.roles_needed(Severity.CRITICAL) == ("engineering_manager", "oncall_lead", "cto")
    assert approvals.roles_needed(Severity.HIGH) == ("engineering_manager", "oncall_lead")
    assert approvals.roles_needed(Severity.MEDIUM) == approvals.roles_needed(Severity.HIGH)
    assert approvals.roles_needed(Severity.LOW) == approvals.roles_needed(Severity.HIGH)
    assert approvals.holds("U0123CTO", "cto") and not approvals.holds("U0123EM", "cto")
    assert approvals.holders("reviewer") == {"U0123REV1", "U0123REV2"}


def test_the_shipped_example_file_loads() -> None:
    config = load_config(REPO_ROOT / "hotfix.example.toml")

    assert config.policy().times.review_sla == timedelta(hours=1)
    assert config.repo_names == ("payments",)


@pytest.mark.parametrize(("written", "meant"), [
    ("45s", timedelta(seconds=45)), ("30m", timedelta(minutes=30)), ("1h", timedelta(hours=1)),
    ("2d", timedelta(days=2)), ("1h30m", timedelta(hours=1, minutes=30)),
])
def test_durations_are_read_as_people_write_them(tmp_path: Path, written: str, meant: timedelta) -> None:
    config = load_config(write(tmp_path, EXAMPLE.replace('review_sla = "1h"', f'review_sla = "{written}"')))

    assert config.policy().times.review_sla == meant


def test_load_environment_reads_settings_then_the_file_they_point_at(tmp_path: Path) -> None:
    path = write(tmp_path, EXAMPLE)

    settings, config = load_environment({**GOOD_ENV, "HOTFIX_CONFIG": str(path), "SLACK_API_URL": "http://x/api"})

    assert settings.config_path == path
    assert settings.slack_api_url == "http://x/api/"
    assert config.slack.channel == "C0HOTFIX"


# --- the file ------------------------------------------------------------------------------------------------------
def test_a_missing_file_says_which_and_how_to_fix_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as problem:
        load_config(tmp_path / "nowhere.toml")

    message = one_line(problem.value)
    assert "nowhere.toml" in message and "no such file" in message
    assert "hotfix.example.toml" in message and "HOTFIX_CONFIG" in message


def test_invalid_toml_names_the_file_and_the_line(tmp_path: Path) -> None:
    message = config_problem(tmp_path, EXAMPLE.replace('channel = "C0HOTFIX"', "channel = C0HOTFIX"))

    assert "hotfix.toml" in message and "not valid TOML" in message and "line 3" in message


def test_an_unknown_key_is_named_as_unknown(tmp_path: Path) -> None:
    message = config_problem(tmp_path, EXAMPLE.replace('channel = "C0HOTFIX"', 'channel = "C0HOTFIX"\nchanel = "C0X"'))

    assert "[slack] chanel" in message and "not a setting" in message and "spelling" in message


def test_a_misspelt_key_is_named_not_just_the_one_it_leaves_missing(tmp_path: Path) -> None:
    """`chanel` instead of `channel`: the person must learn which line of their file is wrong."""
    message = config_problem(tmp_path, EXAMPLE.replace('channel = "C0HOTFIX"', 'chanel = "C0HOTFIX"'))

    assert "chanel" in message


def test_a_missing_channel_is_named(tmp_path: Path) -> None:
    message = config_problem(tmp_path, EXAMPLE.replace('channel = "C0HOTFIX"\n', ""))

    assert "[slack] channel is missing" in message and "hotfix.example.toml" in message


def test_an_empty_file_says_what_is_missing(tmp_path: Path) -> None:
    message = config_problem(tmp_path, "")

    assert "[slack] is missing" in message


def test_an_approval_role_with_nobody_in_it_is_named_with_the_line_to_add(tmp_path: Path) -> None:
    message = config_problem(tmp_path, EXAMPLE.replace('cto = ["U0123CTO"]\n', ""))

    assert '[approvals] critical needs role "cto"' in message and "[roles] lists nobody" in message
    assert 'add cto = ["U…"] under [roles]' in message


def test_an_approval_role_listed_empty_counts_as_nobody(tmp_path: Path) -> None:
    message = config_problem(tmp_path, EXAMPLE.replace('cto = ["U0123CTO"]', "cto = []"))

    assert 'needs role "cto"' in message and "[roles]" in message


def test_a_bad_duration_names_the_timer_and_shows_how_to_write_one(tmp_path: Path) -> None:
    message = config_problem(tmp_path, EXAMPLE.replace('review_sla = "1h"', 'review_sla = "5 minutes"'))

    assert "[timers] review_sla" in message and '"5 minutes" is not a duration' in message
    assert '"30m"' in message


def test_a_bad_duration_message_ends_with_one_full_stop(tmp_path: Path) -> None:
    message = config_problem(tmp_path, EXAMPLE.replace('review_sla = "1h"', 'review_sla = "5 minutes"'))

    assert message.endswith('"2d".') and not message.endswith(".."), message


def test_a_duration_without_a_unit_is_refused(tmp_path: Path) -> None:
    """`review_sla = 5` must not silently mean five seconds."""
    message = config_problem(tmp_path, EXAMPLE.replace('review_sla = "1h"', "review_sla = 5"))

    assert "[timers] review_sla" in message and '"30m"' in message


# --- the environment -------------------------------------------------------------------------------------------------
def test_missing_bot_token_names_it_and_where_to_find_it() -> None:
    message = settings_problem({"SLACK_SIGNING_SECRET": GOOD_ENV["SLACK_SIGNING_SECRET"]})

    assert message.startswith("SLACK_BOT_TOKEN is not set")
    assert "xoxb-" in message and "OAuth & Permissions" in message and ".env" in message


def test_a_blank_bot_token_counts_as_missing() -> None:
    assert settings_problem({**GOOD_ENV, "SLACK_BOT_TOKEN": "   "}).startswith("SLACK_BOT_TOKEN is not set")


@pytest.mark.parametrize("token", ["xapp-1-A0-123-abc", "xoxp-123-456", "hunter2"])
def test_a_token_that_is_not_a_bot_token_is_refused(token: str) -> None:
    message = settings_problem({**GOOD_ENV, "SLACK_BOT_TOKEN": token})

    assert "SLACK_BOT_TOKEN" in message and "xoxb-" in message and "OAuth & Permissions" in message
    assert token not in message  # a pasted secret is never echoed to logs


def test_missing_signing_secret_names_it_and_where_to_find_it() -> None:
    message = settings_problem({"SLACK_BOT_TOKEN": GOOD_ENV["SLACK_BOT_TOKEN"]})

    assert message.startswith("SLACK_SIGNING_SECRET is not set") and "Basic Information" in message


def test_socket_mode_without_an_app_token_says_how_to_fix_it() -> None:
    message = settings_problem(dict(GOOD_ENV), needs_app_token=True)

    assert "SLACK_APP_TOKEN" in message and "xapp-" in message and "connections:write" in message
    assert "--http" in message


def test_http_mode_needs_no_app_token() -> None:
    assert Settings.from_env(dict(GOOD_ENV)).app_token is None


def test_an_app_token_of_the_wrong_kind_is_refused() -> None:
    message = settings_problem({**GOOD_ENV, "SLACK_APP_TOKEN": GOOD_ENV["SLACK_BOT_TOKEN"]}, needs_app_token=True)

    assert "SLACK_APP_TOKEN" in message and "xapp-" in message


def test_load_environment_reports_the_environment_before_the_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as problem:
        load_environment({"HOTFIX_CONFIG": str(tmp_path / "nowhere.toml")})

    assert one_line(problem.value).startswith("SLACK_BOT_TOKEN is not set")


# --- the real command line ---------------------------------------------------------------------------------------------
def run_cli(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(REPO_ROOT), "HOME": str(tmp_path),
             "DATABASE_URL": f"sqlite:///{tmp_path}/hotfix.db", "HOTFIX_WORKDIR": str(tmp_path / "work"), **env}
    # cwd is the temp dir, so no developer .env is picked up.
    return subprocess.run([sys.executable, "-m", "bot", "serve", "--http", "--port", "0"], cwd=tmp_path, env=clean,
                          capture_output=True, text=True, timeout=60)


def assert_one_line_failure(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, (result.returncode, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("hotfix-bot: ")
    assert result.stdout == ""
    return lines[0]


def test_serve_with_an_empty_config_exits_2_with_one_line(tmp_path: Path) -> None:
    path = write(tmp_path, "")

    line = assert_one_line_failure(run_cli(tmp_path, {**GOOD_ENV, "HOTFIX_CONFIG": str(path)}))

    assert str(path) in line and "[slack] is missing" in line
    assert not (tmp_path / "hotfix.db").exists()  # nothing was built


def test_serve_with_a_wrong_config_exits_2_with_one_line(tmp_path: Path) -> None:
    path = write(tmp_path, EXAMPLE.replace('review_sla = "1h"', 'review_sla = "5 minutes"'))

    line = assert_one_line_failure(run_cli(tmp_path, {**GOOD_ENV, "HOTFIX_CONFIG": str(path)}))

    assert "[timers] review_sla" in line


def test_serve_with_a_user_token_exits_2_with_one_line(tmp_path: Path) -> None:
    path = write(tmp_path, EXAMPLE)

    line = assert_one_line_failure(run_cli(tmp_path, {**GOOD_ENV, "SLACK_BOT_TOKEN": "xoxp-1-2-3",
                                                      "HOTFIX_CONFIG": str(path)}))

    assert "SLACK_BOT_TOKEN" in line and "xoxb-" in line
