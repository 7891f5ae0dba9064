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
    config = load_config(write(tmp_path, EXAMPLE.replace('approval_escalation = "45s"',
                                                         f'approval_escalation = "{written}"')))

    assert config.policy().times.approval_escalation == meant


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


def test_an_unknown_key_in_a_repo_is_named_as_unknown(tmp_path: Path) -> None:
    misspelt = EXAMPLE.replace('main = "main"', 'main = "main"\nhelth_url = "https://x/health"')
    message = config_problem(tmp_path, misspelt)

    assert message.endswith("[repos[0]] helth_url is not a setting hotfix-bot knows; check its spelling "
                            "against the README.")


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


@pytest.mark.parametrize(("written", "named"), [
    ('engineering_manager = ["@emma"]', '[roles] engineering_manager: "@emma" is not a Slack member ID'),
    ('engineering_manager = ["emma@acme.com"]', '[roles] engineering_manager: "emma@acme.com" is not a Slack member ID'),
])
def test_a_member_written_as_a_name_or_email_is_refused_with_how_to_find_the_id(
    tmp_path: Path, written: str, named: str
) -> None:
    message = config_problem(tmp_path, EXAMPLE.replace('engineering_manager = ["U0123EM"]', written))

    assert message.endswith(named + '; write the ID, e.g. "U0123ABCD" (their profile → ⋮ → Copy member ID), not a '
                                    "@name or an email."), message
    assert str(tmp_path) in message


def test_a_channel_written_as_its_name_is_refused_with_how_to_find_the_id(tmp_path: Path) -> None:
    message = config_problem(tmp_path, EXAMPLE.replace('channel = "C0HOTFIX"', 'channel = "#hotfixes"'))

    assert message.endswith('[slack] channel: "#hotfixes" is not a channel ID; write the ID, e.g. "C0123ABCD" (open '
                            "the channel, click its name: the ID is at the bottom of About).")


def test_enterprise_member_ids_and_private_channel_ids_are_accepted(tmp_path: Path) -> None:
    text = EXAMPLE.replace('"U0123CTO"', '"W0123CTO"').replace('stakeholders_channel = "C0STAKE"',
                                                               'stakeholders_channel = "G0STAKE"')

    config = load_config(write(tmp_path, text))

    assert config.roles["cto"] == ("W0123CTO",) and config.slack.stakeholders_channel == "G0STAKE"


def test_a_severity_that_needs_nobody_is_refused(tmp_path: Path) -> None:
    message = config_problem(tmp_path, EXAMPLE.replace('high = ["engineering_manager", "oncall_lead"]', "high = []"))

    assert message.endswith("[approvals] high is empty, so a HIGH hotfix would need nobody's approval; list roles, "
                            'e.g. high = ["engineering_manager", "oncall_lead"].')


def test_a_role_no_severity_or_step_uses_is_named_as_a_probable_typo(tmp_path: Path) -> None:
    message = config_problem(tmp_path, EXAMPLE.replace("reviewer = [", "reviewers = ["))

    assert "[roles] reviewers is not needed by any severity or step, probably a typo; did you mean reviewer?" in message
    assert "oncall_lead, engineering_manager, cto, reviewer, security" in message


def test_a_role_an_approval_needs_is_not_a_typo(tmp_path: Path) -> None:
    text = EXAMPLE.replace("[roles]\n", '[roles]\nsre = ["U0SRE"]\n').replace(
        'high = ["engineering_manager", "oncall_lead"]', 'high = ["engineering_manager", "oncall_lead", "sre"]')

    assert load_config(write(tmp_path, text)).roles["sre"] == ("U0SRE",)


def test_a_config_without_reviewers_is_refused(tmp_path: Path) -> None:
    message = config_problem(tmp_path, EXAMPLE.replace('reviewer = ["U0123REV1", "U0123REV2"]\n', ""))

    assert message.endswith('[roles] lists no reviewer, so no hotfix could pass review; add reviewer = ["U…"].')


@pytest.mark.parametrize(("timer", "written", "minimum"), [
    ("reminder_repeat", "0s", "5m"), ("reminder_repeat", "0m", "5m"), ("review_sla", "0s", "5m"),
    ("monitoring_checkin", "1m", "5m"), ("approval_escalation", "0s", "30s"), ("merge_back_due", "30s", "1m"),
    ("deploy_probe", "0s", "1s"),
])
def test_a_duration_below_its_minimum_is_refused_naming_the_minimum(
    tmp_path: Path, timer: str, written: str, minimum: str
) -> None:
    others = "".join(line + "\n" for line in EXAMPLE.splitlines() if not line.startswith(f"{timer} ="))
    message = config_problem(tmp_path, others.replace("[timers]\n", f'[timers]\n{timer} = "{written}"\n'))

    shown = "0s" if written in ("0s", "0m") else written
    assert message.endswith(f'[timers] {timer}: "{shown}" is too short; the minimum is "{minimum}".'), message


@pytest.mark.parametrize(("written", "refused"), [("10s", True), ("0s", True), ("30s", False), ("15m", False)])
def test_a_mirror_refresh_below_its_minimum_is_refused_naming_the_minimum(tmp_path: Path, written: str,
                                                                          refused: bool) -> None:
    text = EXAMPLE + f'\n[git]\nmirror_refresh = "{written}"\n'
    if refused:
        assert config_problem(tmp_path, text).endswith(
            f'[git] mirror_refresh: "{written}" is too short; the minimum is "30s".')
    else:
        assert load_config(write(tmp_path, text)).git.mirror_refresh.total_seconds() == {"30s": 30, "15m": 900}[written]


@pytest.mark.parametrize("written", ["postgres://bot:pw@db.internal/hotfix", "postgresql://bot:pw@db.internal/hotfix"])
def test_the_common_postgres_spellings_mean_postgresql_with_the_installed_driver(written: str) -> None:
    settings = Settings.from_env({**GOOD_ENV, "DATABASE_URL": written})

    assert settings.database_url == "postgresql+psycopg://bot:pw@db.internal/hotfix"


@pytest.mark.parametrize("written", ["hotfix.db", "mysql://bot@db/hotfix"])
def test_a_database_url_hotfix_bot_cannot_use_is_one_line_with_examples(written: str) -> None:
    message = settings_problem({**GOOD_ENV, "DATABASE_URL": written})

    assert message == ("DATABASE_URL is not a database URL hotfix-bot can use; write it like "
                       "sqlite:////var/lib/hotfix-bot/hotfix.db or postgresql://user:password@host/db.")


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
    message = settings_problem(dict(GOOD_ENV), socket_mode=True)

    assert "SLACK_APP_TOKEN" in message and "xapp-" in message and "connections:write" in message
    assert "--http" in message


def test_http_mode_needs_no_app_token_and_ignores_a_placeholder_one() -> None:
    assert Settings.from_env(dict(GOOD_ENV)).app_token is None
    assert Settings.from_env({**GOOD_ENV, "SLACK_APP_TOKEN": "your-app-token"}).app_token is None


def test_socket_mode_needs_no_signing_secret() -> None:
    settings = Settings.from_env({"SLACK_BOT_TOKEN": GOOD_ENV["SLACK_BOT_TOKEN"], "SLACK_APP_TOKEN": "xapp-1-A-1-x"},
                                 socket_mode=True)

    assert settings.app_token == "xapp-1-A-1-x" and settings.signing_secret is None


def test_an_app_token_of_the_wrong_kind_is_refused() -> None:
    message = settings_problem({**GOOD_ENV, "SLACK_APP_TOKEN": GOOD_ENV["SLACK_BOT_TOKEN"]}, socket_mode=True)

    assert "SLACK_APP_TOKEN" in message and "xapp-" in message


def test_the_leader_retry_is_3_seconds_unless_set() -> None:
    assert Settings.from_env(dict(GOOD_ENV)).leader_retry_seconds == 3.0
    assert Settings.from_env({**GOOD_ENV, "HOTFIX_LEADER_RETRY_SECONDS": " 0.5 "}).leader_retry_seconds == 0.5


@pytest.mark.parametrize("written", ["0", "-1", "soon", "nan", "inf"])
def test_a_leader_retry_that_is_no_positive_number_is_refused(written: str) -> None:
    message = settings_problem({**GOOD_ENV, "HOTFIX_LEADER_RETRY_SECONDS": written})

    assert message == f'HOTFIX_LEADER_RETRY_SECONDS must be a number of seconds above 0, e.g. "3"; it is "{written}".'


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
