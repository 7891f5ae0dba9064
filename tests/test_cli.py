"""The real `hotfix-bot` command: every error a user can meet is one line, never a traceback; serve checks each
repository's remote before it takes traffic; SIGTERM stops it promptly and quietly."""
from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.store.db import create_schema, make_engine
from tests.support.config import CONFIG
from tests.support.fake_slack import FakeSlack
from tests.support.fake_socket_mode import FakeSocketMode
from tests.support.git_hosts import git_host_answering
from tests.support.serve_process import Replica

HOTFIX_BOT = Path(sys.executable).parent / "hotfix-bot"


def hotfix_bot(*args: str, env: dict[str, str], cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(HOTFIX_BOT), *args], env={**os.environ, **env}, cwd=cwd, capture_output=True,
                          text=True, timeout=timeout)


def one_line_failure(result: subprocess.CompletedProcess[str], code: int = 2) -> str:
    assert result.returncode == code, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("hotfix-bot: "), result.stderr
    return lines[0]


def serve_errors(result: subprocess.CompletedProcess[str]) -> str:
    """serve logs (JSON lines, not a terminal) go to stderr too; the failure is its last line."""
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("hotfix-bot: "), result.stderr
    return last


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- serve ----------------------------------------------------------------------------------------------------------
def test_a_port_in_use_is_one_line_with_the_fix(env: dict[str, str], tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = hotfix_bot("serve", "--http", "--host", "127.0.0.1", "--port", str(port), env=env, cwd=tmp_path)

    assert serve_errors(result) == (f"hotfix-bot: port {port} on 127.0.0.1 is in use by another process; stop it, or "
                                    "choose another port with --port.")


def test_a_database_server_that_refuses_is_one_line(env: dict[str, str], tmp_path: Path) -> None:
    result = hotfix_bot("serve", "--http", "--port", "0",
                        env={**env, "DATABASE_URL": "postgres://bot:s3cret@127.0.0.1:9/hotfix"}, cwd=tmp_path)

    line = serve_errors(result)
    assert line.startswith("hotfix-bot: can't open the database postgresql+psycopg://bot:***@127.0.0.1:9/hotfix: ")
    assert "s3cret" not in result.stderr


def test_log_level_after_the_subcommand_is_understood(tmp_path: Path) -> None:
    result = hotfix_bot("serve", "--log-level", "debug", env={"HOME": str(tmp_path)}, cwd=tmp_path)

    assert serve_errors(result).startswith("hotfix-bot: SLACK_BOT_TOKEN is not set")
    assert '"level": "debug"' in result.stderr


def test_serve_help_shows_the_defaults(tmp_path: Path) -> None:
    result = hotfix_bot("serve", "--help", env={}, cwd=tmp_path)

    assert result.returncode == 0
    assert "(default: 3000)" in result.stdout and "(default: 0.0.0.0)" in result.stdout


def test_socket_mode_with_a_refused_app_token_is_one_line(
    env: dict[str, str], slack: FakeSlack, tmp_path: Path
) -> None:
    socket_env = {k: v for k, v in env.items() if k != "SLACK_SIGNING_SECRET"}  # Socket Mode needs none

    result = hotfix_bot("serve", env={**socket_env, "SLACK_APP_TOKEN": "xapp-1-A0-1-revoked"}, cwd=tmp_path)

    assert serve_errors(result) == (
        "hotfix-bot: Slack refused SLACK_APP_TOKEN (invalid_auth): create an app-level token with connections:write "
        "under Basic Information → App-Level Tokens and put it in SLACK_APP_TOKEN, or run with --http.")
    slack.reset()  # the refused token is what this test is about


def test_socket_mode_starts_without_a_signing_secret(env: dict[str, str], slack: FakeSlack, tmp_path: Path) -> None:
    server = FakeSocketMode().start()
    slack.offer_socket_mode(server.url, app_token="xapp-1-A0-1-good")
    socket_env = {k: v for k, v in env.items() if k != "SLACK_SIGNING_SECRET"}
    bot = subprocess.Popen([str(HOTFIX_BOT), "serve"], cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                           env={**os.environ, **socket_env, "SLACK_APP_TOKEN": "xapp-1-A0-1-good"}, text=True)
    try:
        server.wait_connected()
    finally:
        bot.terminate()
        _, stderr = bot.communicate(timeout=15)
        server.stop()
    assert bot.returncode == 0, stderr


def test_repeated_sigterms_stop_serve_promptly_and_without_a_traceback(env: dict[str, str], tmp_path: Path) -> None:
    replica = Replica(env, tmp_path / "serve.log")
    deadline = time.monotonic() + 30
    while replica.health() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert replica.health(), (tmp_path / "serve.log").read_text()

    started = time.monotonic()
    while replica.process.poll() is None and time.monotonic() - started < 10:
        replica.process.send_signal(signal.SIGTERM)  # again and again: one of them lands while it is stopping
        time.sleep(0.05)
    code = replica.process.wait(timeout=1)

    log = (tmp_path / "serve.log").read_text()
    assert code == 0 and time.monotonic() - started < 10, log
    assert "Traceback" not in log and "KeyboardInterrupt" not in log, log


# --- the remote, checked at start -----------------------------------------------------------------------------------
@pytest.fixture
def missing_repository() -> Iterator[str]:
    """A git host that answers 404 for every repository: what GitHub answers for a mistyped URL."""
    with git_host_answering(404) as host:
        yield f"{host.url}/acme/paymnts.git"


def test_serve_refuses_a_repository_the_host_does_not_have(
    env: dict[str, str], tmp_path: Path, missing_repository: str
) -> None:
    Path(env["HOTFIX_CONFIG"]).write_text(CONFIG.format(remote=missing_repository))

    result = hotfix_bot("serve", "--http", "--port", "0", env=env, cwd=tmp_path)

    line = serve_errors(result)
    assert line.startswith(f"hotfix-bot: [[repos]] payments: The git remote of payments refused the bot: repository "
                           f"'{missing_repository}/' not found."), line
    assert line.endswith("Check url under [[repos]] payments in hotfix.toml, and that this host's SSH key or token "
                         "may fetch and push it."), line
    assert not Path(env["DATABASE_URL"].removeprefix("sqlite:///")).exists()  # refused before anything was built


def test_serve_refuses_a_remote_without_a_production_tag(env: dict[str, str], tmp_path: Path, remote_url: str) -> None:
    Path(env["HOTFIX_CONFIG"]).write_text(CONFIG.format(remote=remote_url).replace(
        'production_tag = "v*"', 'production_tag = "release-*"'))

    result = hotfix_bot("serve", "--http", "--port", "0", env=env, cwd=tmp_path)

    assert serve_errors(result) == ("hotfix-bot: [[repos]] payments: no tag on the remote matches production_tag "
                                    "release-*; tag what runs in production, or fix production_tag.")


def test_serve_starts_with_a_warning_when_the_remote_is_only_unreachable(
    env: dict[str, str], tmp_path: Path, remote_url: str
) -> None:
    Path(remote_url).rename(Path(remote_url).with_name("offline.git"))  # the server is down, not the URL wrong
    replica = Replica(env, tmp_path / "serve.log")
    try:
        deadline = time.monotonic() + 30
        while replica.health() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert replica.health() == {"status": "ok", "role": "leader"}
    finally:
        replica.stop()
    log = (tmp_path / "serve.log").read_text()
    assert f"repo payments: can't reach {remote_url} (" in log
    assert "starting anyway, its git steps retry until it is back" in log


# --- report ---------------------------------------------------------------------------------------------------------
def test_report_on_a_missing_database_is_one_line_and_creates_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "not" / "there" / "hotfix.db"

    result = hotfix_bot("report", "HF-1", env={"DATABASE_URL": f"sqlite:///{missing}"}, cwd=tmp_path)

    assert one_line_failure(result).startswith(f"hotfix-bot: there is no database at {missing}; set DATABASE_URL")
    assert not (tmp_path / "not").exists()


def test_report_by_default_does_not_create_hotfix_db(tmp_path: Path) -> None:
    result = hotfix_bot("report", "HF-1", env={}, cwd=tmp_path)

    assert one_line_failure(result).startswith("hotfix-bot: there is no database at hotfix.db")
    assert list(tmp_path.iterdir()) == []


def test_report_on_a_database_serve_never_migrated_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "hotfix.db").write_bytes(b"")

    result = hotfix_bot("report", "HF-1", env={}, cwd=tmp_path)

    assert one_line_failure(result).startswith("hotfix-bot: can't read hotfixes from sqlite:///hotfix.db: ")
    with sqlite3.connect(tmp_path / "hotfix.db") as database:  # not migrated behind the user's back
        assert database.execute("SELECT name FROM sqlite_master").fetchall() == []


def test_report_accepts_the_common_postgres_spelling(postgres_url: str, tmp_path: Path) -> None:
    engine = make_engine(postgres_url)
    create_schema(engine)
    engine.dispose()
    written = postgres_url.replace("postgresql+psycopg://", "postgres://")

    result = hotfix_bot("report", "HF-7", env={"DATABASE_URL": written}, cwd=tmp_path)

    assert one_line_failure(result, code=1).startswith("hotfix-bot: there is no hotfix HF-7 in postgresql+psycopg://")


def test_the_git_mirrors_are_kept_out_of_the_repository() -> None:
    """`make run` from a checkout keeps its mirrors in ./.hotfix-work: git must not offer to commit them."""
    repo = Path(__file__).resolve().parents[1]
    if not (repo / ".git").exists():
        pytest.skip("not a git checkout")

    ignored = subprocess.run(["git", "check-ignore", "--quiet", ".hotfix-work/payments.git/HEAD"], cwd=repo)

    assert ignored.returncode == 0
