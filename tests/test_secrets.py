"""The bot token, the signing secret and git credentials never show: not in logs, output, Slack, answers or the database.

A whole hotfix is walked from declare to close with every logger at DEBUG (slack_sdk logs each request it sends at
DEBUG), plus the faults that make code print what it holds: forged and stale signatures, Slack answering 500 and
invalid_auth, a modal that cannot open, and a second repository whose remote URL carries a password and cannot be
reached. Then every place an operator, a channel member or a database reader could look is searched for the secrets.
"""
from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import SQLModel

from bot.config import ConfigError, Settings
from bot.service.clock import ManualClock
from bot.slack.errors import SORRY
from bot.store.db import reading
from tests.conftest import CONFIG, SECRET, TOKEN
from bot.standins import payloads
from tests.support.driver import Answer, Driver, Posted, declaration_state
from tests.support.gitrepos import Remote
from bot.standins.signing import signed_headers

GIT_PASSWORD = "s3cr3t-pass"
VAULT_URL = f"https://deploy-bot:{GIT_PASSWORD}@127.0.0.1:9/vault.git"  # port 9: nothing listens, refused at once
APP_TOKEN = "xapp-1-A0HOTFIX-4242424242-0c5f1e9a8b7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a3928170"
SECRETS = {
    "the bot token": TOKEN,
    "the bot token's secret part": TOKEN.rsplit("-", 1)[1],
    "the signing secret": SECRET,
    "the git password": GIT_PASSWORD,
}
BRANCH = "hotfix/PROD-501-checkout-returns-500"

VAULT_REPO = f"""
[[repos]]
name = "vault"
url = "{VAULT_URL}"
"""


@pytest.fixture(autouse=True)
def everything_at_debug(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Autouse, so it is in place before the bot is built: start-up logs count too."""
    caplog.set_level(logging.DEBUG)
    return caplog


@pytest.fixture
def config_path(tmp_path: Path, remote_url: str) -> Path:
    """The team's config plus a second repository whose URL has credentials in it."""
    path = tmp_path / "hotfix.toml"
    path.write_text(CONFIG.format(remote=remote_url) + VAULT_REPO)
    return path


# --- where secrets could show ----------------------------------------------------------------------------------------
def log_texts(caplog: pytest.LogCaptureFixture) -> Iterator[tuple[str, str]]:
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    yield "the captured log", caplog.text
    for record in caplog.records:
        yield f"log record {record.name}:{record.lineno}", formatter.format(record)  # message, args, traceback


def slack_texts(driver: Driver) -> Iterator[tuple[str, str]]:
    for call in [*driver.slack.calls, *driver.slack.failed_calls]:
        yield f"Slack call {call.method}", json.dumps(call.args, ensure_ascii=False)


def database_texts(driver: Driver, tmp_path: Path) -> Iterator[tuple[str, str]]:
    with reading(driver.bot.engine) as session:
        for table in SQLModel.metadata.sorted_tables:
            for row in session.execute(table.select()):
                yield f"table {table.name}", repr(tuple(row))
    for file in sorted(tmp_path.glob("hotfix.db*")):  # the SQLite file and its WAL, freed pages included
        yield f"file {file.name}", file.read_bytes().decode("latin-1")


def assert_no_secret_in(places: list[tuple[str, str]], secrets: dict[str, str] = SECRETS) -> None:
    __tracebackhide__ = True
    leaks = [f"{name} in {where}: …{text[max(0, text.find(secret) - 120):text.find(secret) + 60]!r}…"
             for where, text in places for name, secret in secrets.items() if secret in text]
    assert leaks == [], "secrets leaked:\n" + "\n".join(leaks[:20])


# --- the walk --------------------------------------------------------------------------------------------------------
def test_a_whole_hotfix_with_faults_shows_no_token_secret_or_git_password_anywhere(
    driver: Driver, remote: Remote, tmp_path: Path, clock: ManualClock, caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    answers: list[Answer] = []

    def answered(answer: Answer) -> Answer:
        answers.append(answer)
        return answer

    # Forged and stale requests: refused, and the refusal says nothing about the secret.
    body = payloads.view_submission("hotfix_declare", declaration_state(), user_id="UDEV")
    assert answered(driver.post(body, headers=signed_headers("not-the-signing-secret-0000000000", body))).status == 401
    assert answered(driver.post(body, headers=signed_headers(SECRET[:-1] + "0", body))).status == 401
    assert answered(driver.post(body, timestamp=int(time.time()) - 6 * 60)).status == 401
    assert answered(driver.post(body, headers={"Content-Type": signed_headers(SECRET, body)["Content-Type"]})).status == 401

    # A second repository whose remote cannot be reached: the thread says so, without the password in the URL.
    vault = driver.declare(user="UDEV", repo="vault", issue_id="SEC-7", title="Vault rotates keys twice")
    approve(driver, vault)
    failure = next(t for t in driver.thread(vault) if "Can't reach the git remote of vault" in t)
    clock.advance(timedelta(seconds=5))  # the cut is retried: a second failure, logged but not posted again
    driver.settle()
    answered(driver.command("retry HF-1", user="UDEV"))
    driver.settle()

    # The procedure on the reachable repository, with Slack failing along the way.
    hotfix = driver.declare(user="UDEV")
    driver.slack.fail_next("chat.getPermalink", error="invalid_auth")  # a revoked token: the job gives up
    approve(driver, hotfix)
    engineer = remote.clone(tmp_path / "engineer")
    head = engineer.push_fix(BRANCH)

    driver.slack.fail_next("chat.postMessage", status=500)  # the next post (a reply or a stakeholder line) is retried
    answered(driver.click("Ready for review", hotfix, user="UDEV"))
    driver.settle()
    clock.advance(timedelta(seconds=30))
    driver.settle()
    assert any(t.startswith("🔍 <@UREV1> <@UREV2>: review") for t in driver.thread(hotfix))

    driver.slack.fail_next("views.open", status=500)  # the checklist cannot open: the reviewer is told
    assert answered(driver.click("Approve review", hotfix, user="UREV1")).status == 200
    assert driver.ephemerals("UREV1")[-1] == SORRY
    answered(driver.click("Approve review", hotfix, user="UREV1"))
    assert answered(driver.submit_review(hotfix, user="UREV1")).status == 200
    driver.settle()

    answered(driver.click("Tag & deploy", hotfix, user="UDEV"))
    driver.settle()
    assert remote.rev("v1.10.1") == head
    clock.advance(timedelta(minutes=30))  # Stable merges back only after the monitoring window
    answered(driver.click("Stable", hotfix, user="UDEV"))
    driver.settle()
    answered(driver.click("Close", hotfix, user="UDEV"))
    driver.settle()
    assert driver.thread(hotfix)[-1].startswith("🏁 <@UDEV> closed HF-2.")
    for text in ("list", "status HF-1", "status HF-2", "deploy HF-1", "bogus"):
        answered(driver.command(text, user="UDEV"))

    # The faults really happened and were logged, at DEBUG too, so the search below means something.
    assert GIT_PASSWORD not in failure and "127.0.0.1:9" in failure
    messages = [r.getMessage() for r in caplog.records]
    assert any("Sending a request" in m for m in messages), "slack_sdk's DEBUG request log was not captured"
    assert any("will retry" in m and "Slack answered 500" in m for m in messages)
    assert any("failed for good" in m for m in messages)  # the invalid_auth job
    assert any(r.exc_info for r in caplog.records if r.name == "bot.slack.errors")  # views.open 500, with traceback

    stored = list(database_texts(driver, tmp_path))
    assert {where.split()[0] for where, text in stored if "Vault rotates keys twice" in text} == {"table", "file"}

    output = capfd.readouterr()
    places = [*log_texts(caplog), *slack_texts(driver), *stored,
              *((f"HTTP answer {a.status}", a.body) for a in answers),
              ("stdout", output.out), ("stderr", output.err), ("fake Slack problems", "\n".join(driver.slack.problems))]
    assert_no_secret_in(places)


def approve(driver: Driver, hotfix: Posted) -> None:
    driver.click("Approve", hotfix, user="UEM")
    driver.click("Approve", hotfix, user="ULEAD")
    driver.settle()


# --- settings and start-up ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(("name", "value"), [
    ("SLACK_BOT_TOKEN", "xoxp-17653672481-19874698323-userTokenNotABot0000"),  # a user token pasted by mistake
    ("SLACK_BOT_TOKEN", "pdFZKVeTuE8sk7oOcBrzbqgy"),  # the prefix lost in copying
    ("SLACK_APP_TOKEN", "xoxb-wrong-kind-of-token-for-socket-mode-0000"),
])
def test_a_wrong_token_is_named_in_the_startup_error_but_never_echoed(
    name: str, value: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    from bot import cli

    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    env = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET, "HOTFIX_CONFIG": str(tmp_path / "none.toml"),
           name: value}
    for key, setting in env.items():
        monkeypatch.setenv(key, setting)

    with pytest.raises(SystemExit) as exit_:
        cli.main(["--log-level", "debug", "serve"])

    output = capfd.readouterr()
    assert exit_.value.code == 2
    assert f"hotfix-bot: {name}" in output.err  # the operator is told which setting to fix
    assert_no_secret_in([("stdout", output.out), ("stderr", output.err), *log_texts(caplog)],
                        {"the wrong token": value, **SECRETS})


def test_printing_the_settings_or_the_running_bot_shows_no_secret(driver: Driver) -> None:
    """What a crash report shows of `settings` or `bot` (error trackers record locals: `build(settings, …)`)."""
    settings = Settings.from_env({"SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET, "SLACK_APP_TOKEN": APP_TOKEN})

    shown = [("repr(Settings)", repr(settings)), ("str(Settings)", str(settings)),
             ("repr(bot.settings)", repr(driver.bot.settings)), ("repr(bot)", repr(driver.bot))]

    assert_no_secret_in(shown, {"the app token": APP_TOKEN, **SECRETS})


def test_a_missing_setting_error_names_the_setting_only() -> None:
    with pytest.raises(ConfigError) as missing:
        Settings.from_env({"SLACK_BOT_TOKEN": TOKEN})

    assert str(missing.value).startswith("SLACK_SIGNING_SECRET is not set")
    assert TOKEN not in str(missing.value)
