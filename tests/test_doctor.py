"""`hotfix-bot doctor` against the fake Slack and a real bare remote: one line per check, a fix for each failure."""
from __future__ import annotations

from pathlib import Path

import pytest

from bot.tools import doctor
from bot.cli import main
from bot.store.db import create_schema, make_engine
from tests.conftest import CONFIG
from tests.support.fake_slack import FakeSlack
from tests.support.gitrepos import Remote, git


@pytest.fixture
def healthy(env: dict[str, str]) -> dict[str, str]:
    """The conftest environment, with its database created and migrated the way `serve` does it."""
    engine = make_engine(env["DATABASE_URL"])
    create_schema(engine)
    engine.dispose()
    return env


def diagnose(env: dict[str, str]) -> tuple[int, list[str]]:
    lines: list[str] = []
    code = doctor.run(env, out=lines.append, socket_mode=False)
    return code, lines


def failures(lines: list[str]) -> list[str]:
    return [line for line in lines if line.startswith("✗")]


def test_a_healthy_setup_passes_every_check(healthy: dict[str, str], slack: FakeSlack) -> None:
    code, lines = diagnose(healthy)

    assert code == 0, "\n".join(lines)
    *checks, summary = lines
    assert all(line.startswith("✓ ") for line in checks), "\n".join(lines)
    assert summary == "All checks passed."
    assert "✓ Slack bot token accepted (team T0TEAM, bot @hotfix-bot)" in checks
    assert "✓ Channel C0HOTFIX reachable (#c0hotfix)" in checks
    assert any(line.startswith("✓ Repo payments: remote reachable, production tag v1.10.0 (") for line in checks)
    assert any(line.startswith("✓ Database sqlite:///") and "migrated (revision " in line for line in checks)
    assert slack.calls_to("conversations.info", channel="C0HOTFIX")


def test_the_cli_subcommand_exits_with_the_doctors_verdict(
    healthy: dict[str, str], slack: FakeSlack, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    for name, value in {**healthy, "SLACK_BOT_TOKEN": "xoxb-not-the-one-slack-issued"}.items():
        monkeypatch.setenv(name, value)

    with pytest.raises(SystemExit) as exit_:
        main(["doctor", "--http"])

    assert exit_.value.code == 1
    out = capsys.readouterr().out
    assert "✗ Slack bot token refused by auth.test: invalid_auth → copy the Bot User OAuth Token" in out
    slack.reset()  # the refused token is what this test is about, not a fault of the bot


def test_a_wrong_token_fails_with_the_fix(healthy: dict[str, str], slack: FakeSlack) -> None:
    code, lines = diagnose({**healthy, "SLACK_BOT_TOKEN": "xoxb-1-2-wrong"})

    assert code == 1
    assert failures(lines) == [
        "✗ Slack bot token refused by auth.test: invalid_auth → copy the Bot User OAuth Token (xoxb-…) again from "
        "OAuth & Permissions into SLACK_BOT_TOKEN"]
    assert not slack.calls_to("conversations.info")  # nothing more to learn with a refused token
    assert lines[-1].startswith("1 check failed")
    slack.reset()


def test_a_channel_without_the_bot_says_to_invite_it(healthy: dict[str, str], slack: FakeSlack) -> None:
    slack.fail_next("conversations.info", error="not_in_channel")

    code, lines = diagnose(healthy)

    assert code == 1
    assert failures(lines) == ["✗ Channel C0HOTFIX: not_in_channel → invite the bot: /invite @hotfix-bot"]


def test_missing_tokens_are_one_line_and_slack_is_not_checked(healthy: dict[str, str], slack: FakeSlack) -> None:
    code, lines = diagnose({k: v for k, v in healthy.items() if k != "SLACK_SIGNING_SECRET"})

    assert code == 1
    assert failures(lines) == ["✗ Environment: SLACK_SIGNING_SECRET is not set: put the Signing Secret from Basic "
                               "Information in .env or the environment."]
    assert "– Slack: not checked until the environment above is fixed" in lines
    assert not slack.calls


def test_an_unreachable_remote_fails_with_the_fix(healthy: dict[str, str], slack: FakeSlack, remote: Remote) -> None:
    remote.path.rename(remote.path.with_name("moved.git"))

    code, lines = diagnose(healthy)

    assert code == 1
    [failure] = failures(lines)
    assert failure.startswith(f"✗ Repo payments: can't reach {remote.path}: ")
    assert failure.endswith("→ check url in [[repos]] payments, and that this host can fetch and push it (key, VPN)")


def test_a_repo_without_a_production_tag_fails_with_the_fix(
    healthy: dict[str, str], slack: FakeSlack, tmp_path: Path
) -> None:
    untagged = untagged_remote(tmp_path)
    config = Path(healthy["HOTFIX_CONFIG"])
    config.write_text(CONFIG.format(remote=untagged))

    code, lines = diagnose(healthy)

    assert code == 1
    assert failures(lines) == [
        "✗ Repo payments: no production tag matches v* → tag what runs in production (git tag -a v1.0.0 -m "
        "'Release 1.0.0' && git push origin v1.0.0), or fix production_tag in hotfix.toml"]


def test_a_role_nobody_holds_is_a_config_error_line(healthy: dict[str, str], slack: FakeSlack) -> None:
    config = Path(healthy["HOTFIX_CONFIG"])
    config.write_text(config.read_text().replace('oncall_lead = ["ULEAD"]', "oncall_lead = []"))

    code, lines = diagnose(healthy)

    assert code == 1
    assert failures(lines) == [
        f'✗ Config {config}: [approvals] critical needs role "oncall_lead", but [roles] lists nobody for it; '
        'add oncall_lead = ["U…"] under [roles].']
    assert "– Approvals and repos: not checked until the config above loads" in lines


def test_a_severity_needing_no_approval_fails(healthy: dict[str, str], slack: FakeSlack) -> None:
    config = Path(healthy["HOTFIX_CONFIG"])
    config.write_text(config.read_text().replace('high = ["engineering_manager", "oncall_lead"]', "high = []"))

    code, lines = diagnose(healthy)

    assert code == 1
    assert failures(lines) == [f"✗ Config {config}: [approvals] high is empty, so a HIGH hotfix would need nobody's "
                               'approval; list roles, e.g. high = ["engineering_manager", "oncall_lead"].']


def test_without_the_optional_read_scopes_channels_and_members_are_not_verified_and_say_which_scope(
    healthy: dict[str, str], slack: FakeSlack
) -> None:
    slack.fail_next("conversations.info", error="missing_scope", times=3)
    slack.fail_next("users.info", error="missing_scope")

    code, lines = diagnose(healthy)

    assert code == 0, "\n".join(lines)  # a minimal app (commands, chat:write) is a working set-up
    assert ("– Channel C0HOTFIX: not verified, the app lacks the optional scope channels:read / groups:read → add it "
            "to let doctor check the channel and the bot's membership; meanwhile invite the bot: /invite @hotfix-bot"
            ) in lines
    assert any(line.startswith("– Channel G0SECRET: not verified, the app lacks the optional scope groups:read →")
               for line in lines)
    assert ("– Role members: not verified, the app lacks the optional scope users:read → add it to let doctor check "
            "every member ID in [roles] and show their names") in lines


def test_with_users_read_every_role_member_is_looked_up_and_named(healthy: dict[str, str], slack: FakeSlack) -> None:
    slack.add_user("UCTO", real_name="Chen Li")

    code, lines = diagnose(healthy)

    assert code == 0, "\n".join(lines)
    assert any(line.startswith("✓ Role members: 5 found (") and "Chen Li" in line for line in lines), lines
    slack.add_user("UCTO", deleted=True)
    code, lines = diagnose(healthy)
    assert code == 1
    assert failures(lines) == ["✗ Role members: [roles] cto lists UCTO, a deactivated account → replace UCTO with "
                               "someone who still works here"]


def test_http_mode_ignores_a_placeholder_app_token_and_socket_mode_needs_no_signing_secret(
    healthy: dict[str, str], slack: FakeSlack
) -> None:
    code, lines = diagnose({**healthy, "SLACK_APP_TOKEN": "xapp-your-app-token"})  # as .env.example had it

    assert code == 0, "\n".join(lines)
    assert not slack.calls_to("apps.connections.open")

    socket_env = {k: v for k, v in healthy.items() if k != "SLACK_SIGNING_SECRET"}
    lines = []
    code = doctor.run({**socket_env, "SLACK_APP_TOKEN": "xapp-1-A0-1-abc"}, out=lines.append, socket_mode=True)
    assert "✓ Environment: SLACK_BOT_TOKEN and SLACK_APP_TOKEN set, for Socket Mode" in lines
    assert failures(lines) == ["✗ Slack app token refused: invalid_auth → create an app-level token with "
                               "connections:write under Basic Information and put it in SLACK_APP_TOKEN"]
    slack.reset()  # the refused app token is what this part is about


def test_socket_mode_without_an_app_token_fails_the_environment_check(healthy: dict[str, str], slack: FakeSlack) -> None:
    lines: list[str] = []

    code = doctor.run(healthy, out=lines.append, socket_mode=True)

    assert code == 1
    assert failures(lines)[0].startswith("✗ Environment: SLACK_APP_TOKEN is not set: Socket Mode needs an app-level "
                                         "token")


def test_an_unreachable_database_fails_with_the_fix(healthy: dict[str, str], slack: FakeSlack, tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a directory")

    code, lines = diagnose({**healthy, "DATABASE_URL": f"sqlite:///{tmp_path}/a-file/hotfix.db"})

    assert code == 1
    [failure] = failures(lines)
    assert failure.startswith(f"✗ Database sqlite:///{tmp_path}/a-file/hotfix.db: can't be created ")
    assert "→ point DATABASE_URL at a file in a writable directory" in failure
    assert not (tmp_path / "a-file").is_dir()


def test_a_database_server_that_refuses_is_shown_without_its_password(
    healthy: dict[str, str], slack: FakeSlack
) -> None:
    code, lines = diagnose({**healthy, "DATABASE_URL": "postgresql+psycopg://bot:s3cret@127.0.0.1:9/hotfix"})

    assert code == 1
    [failure] = failures(lines)
    assert failure.startswith("✗ Database postgresql+psycopg://bot:***@127.0.0.1:9/hotfix: ")
    assert "s3cret" not in "\n".join(lines)
    assert failure.endswith("→ check DATABASE_URL, that the server is up and accepts this host, and the credentials")


def test_a_database_not_created_yet_is_left_to_serve(healthy: dict[str, str], slack: FakeSlack, tmp_path: Path) -> None:
    code, lines = diagnose({**healthy, "DATABASE_URL": f"sqlite:///{tmp_path}/new/hotfix.db"})

    assert code == 0, "\n".join(lines)
    assert (f"✓ Database sqlite:///{tmp_path}/new/hotfix.db: not created yet; `hotfix-bot serve` creates and "
            "migrates it") in lines
    assert not (tmp_path / "new").exists()  # the doctor looks; it does not create


def untagged_remote(root: Path) -> Path:
    """A bare remote with main and develop but no release tag at all."""
    git(root, "init", "--quiet", "--initial-branch=main", "untagged-seed")
    seed = root / "untagged-seed"
    (seed / "README").write_text("Shop\n")
    git(seed, "add", "README")
    git(seed, "commit", "--quiet", "-m", "Start")
    git(root, "init", "--quiet", "--bare", "--initial-branch=main", "untagged.git")
    git(seed, "push", "--quiet", str(root / "untagged.git"), "main", "main:develop")
    return root / "untagged.git"
