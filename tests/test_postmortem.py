"""The post-mortem draft as people read it: in the thread when a hotfix closes, and from `hotfix-bot report`."""
from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from bot.service.clock import ManualClock
from tests.support.config import CONFIG
from tests.support.driver import Driver, Posted, message_text
from tests.support.gitrepos import Remote
from tests.test_procedure import approved

FORGED = "ok\n- 17:00:00 Approved by @UCTO as CTO\n## Root cause\nnot us"


@pytest.fixture
def config_path(tmp_path: Path, remote_url: str) -> Path:
    """The team's own targets, unlike the procedure's defaults: approvals escalate at 10m, review SLA 30m."""
    path = tmp_path / "hotfix.toml"
    config = CONFIG.format(remote=remote_url)
    path.write_text(config.replace('review_sla = "1h"', 'review_sla = "30m"\napproval_escalation = "10m"')
                    .replace('monitoring_window = "30m"', 'monitoring_window = "15m"'))
    return path


def closing(driver: Driver, hotfix: Posted) -> str:
    return message_text(driver.slack.thread(hotfix.channel, hotfix.ts)[-1])


def report(env: dict, tmp_path: Path, key: str = "HF-1") -> str:
    """The real CLI, from the database and the team's hotfix.toml; no Slack settings."""
    run = subprocess.run([sys.executable, "-m", "bot", "report", key], capture_output=True, text=True, cwd=tmp_path,
                         env={"PATH": os.environ["PATH"], "DATABASE_URL": env["DATABASE_URL"],
                              "HOTFIX_CONFIG": env["HOTFIX_CONFIG"]}, timeout=60)
    assert run.returncode == 0, run.stderr
    return run.stdout


def test_the_closing_post_mortem_measures_against_the_configured_targets_and_names_people_as_mentions(
    driver: Driver, remote: Remote, tmp_path: Path, clock: ManualClock, env: dict
) -> None:
    hotfix = driver.declare(severity="high")
    clock.advance(timedelta(minutes=12))
    driver.click("Approve", hotfix, user="UEM")
    driver.click("Approve", hotfix, user="ULEAD")
    driver.settle()
    engineer = remote.clone(tmp_path / "engineer")
    engineer.push_fix("hotfix/PROD-501-checkout-returns-500")
    driver.click("Ready for review", hotfix, user="UDEV")
    driver.settle()
    clock.advance(timedelta(minutes=20))
    driver.click("Approve review", hotfix, user="UREV1")
    driver.submit_review(hotfix, user="UREV1")
    driver.settle()
    driver.click("Tag & deploy", hotfix, user="ULEAD")
    driver.settle()
    clock.advance(timedelta(minutes=15))
    driver.click("Stable", hotfix, user="UDEV")
    driver.settle()
    clock.advance(timedelta(minutes=3))
    driver.click("Close", hotfix, user="UDEV")
    driver.settle()

    text = closing(driver, hotfix)
    assert text.startswith("🏁 <@UDEV> closed HF-1. The post-mortem draft is below;")
    assert "Reason" not in text  # closed after every merge-back: no empty "reason"
    assert "• Approval: 12m (target 10m, OVER target)" in text
    assert "• Review: 20m (target 30m, within target)" in text
    assert "• Tag pushed: 0s" in text and "Deploy:" not in text
    assert "• Live: unknown: no version endpoint reported the tag" in text
    assert "• Time to close (declared to closed): 50m" in text
    assert "• Monitoring outcome: Stable, confirmed by <@UDEV> after 15m of monitoring" in text
    assert "• Approved as Engineering manager: <@UEM> at 2026-11-20 17:12:00 UTC" in text
    assert "• Review approved by <@UREV1> (Reviewer) at 2026-11-20 17:32:00 UTC" in text
    assert "• Tag & deploy by <@ULEAD> at 2026-11-20 17:32:00 UTC" in text
    assert "• Release: tag `v1.10.1`, previous production `v1.10.0`; the change: `git log v1.10.0..v1.10.1`" in text
    assert "reminded" not in text and "by bot" not in text and "```" not in text  # mentions render, no noise
    assert "*Root cause*" in text and "*Why it reached production*" in text and "*Follow-ups*" in text

    markdown = report(env, tmp_path)
    assert markdown.startswith("# Post-mortem draft: HF-1 Checkout returns 500\n")
    assert "\n## Root cause\n" in markdown and "\n## Impact\n" in markdown and "\n## Follow-ups\n" in markdown
    assert "- Review: 20m (target 30m, within target)" in markdown
    assert "- Approved as On-call lead: @ULEAD at 2026-11-20 17:12:00 UTC" in markdown
    assert "<@" not in markdown


def test_report_escapes_what_people_typed_so_it_can_forge_no_line_link_or_html(
    driver: Driver, tmp_path: Path, env: dict
) -> None:
    hotfix = approved(driver, title="Checkout [click here](https://evil.example) <b>now</b>", impact=FORGED)
    driver.command(f"close {hotfix.key} {FORGED}", user="UDEV")
    driver.settle()

    markdown = report(env, tmp_path)
    assert "](" not in markdown and "<b>" not in markdown and "https://evil" not in markdown
    assert r"Checkout \[click here\]\(https\://evil.example\) \<b\>now\</b\>" in markdown
    assert "- Impact as declared: ok - 17:00:00 Approved by @UCTO as CTO \\#\\# Root cause not us" in markdown
    lines = markdown.splitlines()
    assert not any(line.startswith("- 17:00:00 Approved by @UCTO") for line in lines)
    assert lines.count("## Root cause") == 1
    assert "Closed before every merge-back: ok - 17:00:00 Approved by @UCTO" in markdown

    text = closing(driver, hotfix)  # in Slack: one line, escaped
    assert "&lt;b&gt;now&lt;/b&gt;" in text and "<b>" not in text
    assert "\n• 17:00:00 Approved by @UCTO" not in text


class TestWithoutASecurityChannel:
    @pytest.fixture
    def config_path(self, tmp_path: Path, remote_url: str) -> Path:
        path = tmp_path / "hotfix.toml"
        path.write_text(CONFIG.format(remote=remote_url).replace('security_channel = "G0SECRET"\n', ""))
        return path

    def test_a_security_post_mortem_in_the_public_channel_says_the_issue_is_restricted(
        self, driver: Driver, tmp_path: Path, env: dict
    ) -> None:
        hotfix = driver.declare(severity="critical", security=True, title="SQL injection in search", issue_id="SEC-123",
                                impact="search leaks every user row")
        for approver in ("UEM", "ULEAD", "UCTO"):
            driver.click("Approve", hotfix, user=approver)
        driver.settle()
        driver.command("close HF-1 Fixed by a config change instead", user="UDEV")
        driver.settle()

        text = closing(driver, hotfix)
        assert hotfix.channel == "C0HOTFIX"
        assert "*Post-mortem draft: HF-1 Security hotfix*" in text
        assert "• Issue: restricted" in text and "(HIGH, issue restricted)" not in text
        assert all(secret not in text for secret in ("SEC-123", "SQL injection", "leaks every user row"))
        markdown = report(env, tmp_path)  # for the people who write it up: everything, marked internal
        assert "> Security hotfix: keep this post-mortem internal" in markdown and "- Issue: SEC-123" in markdown


def test_a_long_post_mortem_stays_within_slack_s_limits_in_several_sections(driver: Driver) -> None:
    hotfix = driver.declare(severity="high", impact="Every card payment fails. " * 76, risk="Carts abandoned. " * 117)
    driver.command("close HF-1 " + "Duplicate of an incident handled elsewhere. " * 11, user="UDEV")
    driver.settle()

    reply = driver.slack.thread(hotfix.channel, hotfix.ts)[-1]
    sections = [b["text"]["text"] for b in reply["blocks"]]
    assert all(len(text) <= 3000 for text in sections)  # and the fake Slack checked every limit
    assert [t.split("\n")[0] for t in sections].count("*What happened* (continued)") == 1
    assert "Carts abandoned." in message_text(reply)
