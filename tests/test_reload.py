"""hotfix.toml changes while hotfixes are active: new decisions follow it, recorded ones stay."""
from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from bot import serving
from bot.config import Settings, load_config
from bot.service.clock import ManualClock
from bot.wiring import build
from tests.support.driver import Driver
from tests.support.gitrepos import Remote


def test_a_reloaded_config_changes_who_may_approve_and_where_the_fix_merges(
    driver: Driver, config_path: Path, remote: Remote, tmp_path: Path, clock: ManualClock
) -> None:
    hotfix = driver.declare(severity="high")
    driver.click("Approve", hotfix, user="UEM")
    driver.settle()

    text = config_path.read_text().replace('oncall_lead = ["ULEAD"]', 'oncall_lead = ["ULEAD2"]')
    config_path.write_text(text.replace('merge_back = ["main", "develop"]', 'merge_back = ["main"]'))
    driver.bot.reload(load_config(config_path))

    driver.click("Approve", hotfix, user="ULEAD")
    assert driver.ephemerals("ULEAD")[-1] == "HF-1 needs approval from: On-call lead. You hold none of those roles."
    driver.click("Approve", hotfix, user="ULEAD2")
    driver.settle()
    assert "Fixing" in driver.status_text(hotfix)
    assert "✅ Engineering manager: <@UEM>" in driver.status_text(hotfix)  # the earlier approval stays

    remote.clone(tmp_path / "engineer").push_fix("hotfix/PROD-501-checkout-returns-500")
    driver.click("Ready for review", hotfix, user="UDEV")
    driver.settle()
    driver.click("Approve review", hotfix, user="UREV1")
    driver.submit_review(hotfix, user="UREV1")
    driver.settle()
    driver.click("Tag & deploy", hotfix, user="UDEV")
    driver.settle()
    clock.advance(timedelta(minutes=30))  # Stable merges back only after the monitoring window
    driver.click("Stable", hotfix, user="UDEV")
    driver.settle()
    assert "Merged back, ready to close" in driver.status_text(hotfix)
    assert "✅ `main`" in driver.status_text(hotfix) and "develop" not in driver.status_text(hotfix)


def test_a_repository_removed_from_the_config_is_named_in_the_thread(driver: Driver, config_path: Path) -> None:
    hotfix = driver.declare(severity="high")
    driver.click("Approve", hotfix, user="UEM")
    config_path.write_text(config_path.read_text().replace('name = "payments"', 'name = "billing"'))
    driver.bot.reload(load_config(config_path))
    driver.click("Approve", hotfix, user="ULEAD")
    driver.settle()
    assert driver.thread(hotfix)[-1] == (
        "⚠️ Cutting the branch failed: the repository payments is no longer in hotfix.toml; add it back under "
        "[[repos]]. Fix that, then press *Retry*.")


def test_a_reload_that_adds_the_security_channel_keeps_an_earlier_public_status_message_redacted(
    driver: Driver, config_path: Path
) -> None:
    with_channel = config_path.read_text()
    config_path.write_text(with_channel.replace('security_channel = "G0SECRET"\n', ""))
    driver.bot.reload(load_config(config_path))
    secret = ("Token forgery in login", "CVE-2026-1234", "any account can be taken over")
    hotfix = driver.declare(severity="critical", security=True, title=secret[0], issue_id=secret[1], impact=secret[2])
    driver.settle()
    assert hotfix.channel == "C0HOTFIX"

    config_path.write_text(with_channel)
    driver.bot.reload(load_config(config_path))
    for approver in ("UEM", "ULEAD", "UCTO"):
        driver.click("Approve", hotfix, user=approver)
    driver.settle()

    assert "Fixing" in driver.status_text(hotfix) and "hotfix/HF-1-security-fix" in driver.status_text(hotfix)
    assert "Security hotfix in progress" in driver.status_text(hotfix)
    public = [c for c in driver.slack.calls if c.get("channel") in ("C0HOTFIX", "C0STAKE")]
    assert any(c.method == "chat.update" for c in public)
    for call in public:
        assert not any(word.lower() in json.dumps(call.args).lower() for word in secret), call


def test_sighup_makes_a_running_server_read_hotfix_toml_again(env: dict, slack, config_path: Path, tmp_path: Path) -> None:
    import signal

    from bot.standins import payloads
    from tests.support.driver import eventually
    from tests.test_replicas import Replica

    server = Replica(env, tmp_path / "serve.log")
    try:
        eventually(server.health, timeout=30)
        config_path.write_text(config_path.read_text() + '\n[[repos]]\nname = "ledger"\nurl = "/srv/git/ledger.git"\n')
        server.process.send_signal(signal.SIGHUP)
        eventually(lambda: "config reloaded" in server.log.read_text(), timeout=10)

        command = payloads.slash_command("declare", user_id="UDEV", response_url=slack.response_url())
        assert server.post(command, env["SLACK_SIGNING_SECRET"]) == 200
        modal = slack.wait_for("views.open")[-1]["view"]
        repo_block = next(b for b in modal["blocks"] if b["block_id"] == "repo")
        assert [o["value"] for o in repo_block["element"]["options"]] == ["payments", "ledger"]

        config_path.write_text("not = [valid")
        server.process.send_signal(signal.SIGHUP)
        eventually(lambda: "config not reloaded, keeping the running one" in server.log.read_text(), timeout=10)
        assert server.health()["status"] == "ok"
    finally:
        server.stop()


GITHUB_KEYS = ('merge_back = ["main", "develop"]', 'merge_back = ["main", "develop"]\ngithub = "acme/payments"\n'
               'required_checks = ["build"]')
GITHUB_SECTIONS = '\n[github]\npoll = "30s"\nci_wait = "20m"\n\n[people]\nUREV1 = "rita-gh"\n'


def test_sighup_takes_the_github_keys_when_a_token_is_set(
    env: dict[str, str], clock: ManualClock, config_path: Path
) -> None:
    settings = Settings.from_env({**env, "GITHUB_TOKEN": "ghp_0hotfix0reload0token0"})
    bot = build(settings, load_config(config_path), clock=clock)
    try:
        config_path.write_text(config_path.read_text().replace(*GITHUB_KEYS) + GITHUB_SECTIONS)
        serving._reload(bot)

        repo = bot.config.repo("payments")
        assert repo.on_github and repo.github == "acme/payments" and repo.required_checks == ("build",)
        assert bot.config.github.poll == timedelta(seconds=30) and bot.config.github.ci_wait == timedelta(minutes=20)
        assert bot.config.people_on_github().user_of("rita-gh") == "UREV1"
    finally:
        bot.stop()


def test_sighup_keeps_the_running_config_when_a_repo_moves_to_github_without_a_token(
    driver: Driver, config_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config_path.write_text(config_path.read_text().replace(*GITHUB_KEYS) + GITHUB_SECTIONS)

    serving._reload(driver.bot)

    assert not driver.bot.config.repo("payments").on_github
    assert ("config not reloaded, keeping the running one: [[repos]] payments names the GitHub repository "
            "acme/payments: set GITHUB_TOKEN to") in caplog.text
