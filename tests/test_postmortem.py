"""The post-mortem draft as people read it: in the thread when a hotfix closes, and from `hotfix-bot report`."""
from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.domain import postmortem
from bot.domain.github_ci import CI_KINDS, DEPLOY_CHECK_KINDS
from bot.domain.hotfix import BOT, Event, EventKind, Hotfix, Stage
from bot.domain.policy import TimeTargets
from bot.service.clock import ManualClock
from bot.slack import postmortem_reply
from tests.domain.github_builders import HEAD, NEW, PR_URL, later, pr_opened
from tests.domain.github_builders import hotfix as github_hotfix
from tests.support.block_kit_limits import blocks_problems
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


# --- a hotfix on GitHub: the draft's GitHub section, and a line or two in the thread ------------------------------
DEVELOP_PR = "https://github.example.com/acme/payments/pull/13"
GITHUB_KINDS = (*CI_KINDS, *DEPLOY_CHECK_KINDS, EventKind.PULL_REQUEST_OPENED, EventKind.MERGE_BACK_PR_OPENED)
OVERRIDE_REASON = "CI is down <!channel> *all day*, see [status](https://evil.example)"


def github_event(kind: EventKind, minute: float, actor: str = BOT, **detail: Any) -> Event:
    return Event(kind, actor, later(minute), detail)


def github_trail(*, ci: tuple[Event, ...] | None = None) -> list[Event]:
    """Declared at 12:00; the pull request opened at 12:05, CI 12:06-12:14, approved 12:25, tagged 12:30, deploy
    checks 12:31-12:36, main merged 12:50, develop through its own pull request 12:51-12:58, closed 13:00."""
    ci_events = ci if ci is not None else (
        github_event(EventKind.CI_WAITING, 6, commit=HEAD, missing=()),
        github_event(EventKind.CI_PENDING, 7, commit=HEAD, checks=(), failing=(), running=(), missing=()),
        github_event(EventKind.CI_PASSED, 14, commit=HEAD, checks=(), failing=(), running=(), missing=()))
    return [
        github_event(EventKind.DECLARED, 0, "UDEV", issue_id="PROD-501", severity="HIGH"),
        replace(pr_opened(), at=later(5)),
        *ci_events,
        github_event(EventKind.REVIEW_APPROVED, 25, "UREV1", role="reviewer", commit=HEAD),
        github_event(EventKind.DEPLOY_STARTED, 30, "ULEAD"),
        github_event(EventKind.TAGGED, 30, tag="v1.4.1"),
        github_event(EventKind.DEPLOY_CHECKS_STARTED, 31, tag="v1.4.1", commit=HEAD, checks=()),
        github_event(EventKind.DEPLOY_CHECKS_PASSED, 36, tag="v1.4.1", commit=HEAD, checks=()),
        github_event(EventKind.STABLE, 45, "UDEV"),
        github_event(EventKind.MERGED_BACK, 50, target="main", commit=HEAD, how="by the bot"),
        github_event(EventKind.MERGE_BACK_PR_OPENED, 51, target="develop", number=13, url=DEVELOP_PR, head=HEAD),
        github_event(EventKind.MERGED_BACK, 58, target="develop", commit=NEW, how="by the bot"),
        github_event(EventKind.CLOSED, 60, "UDEV"),
    ]


def on_github(**changes: Any) -> Hotfix:
    return github_hotfix(Stage.CLOSED, tag="v1.4.1", previous_tag="v1.4.0", merge_targets=("main", "develop"),
                         merged_into=("main", "develop"), **changes)


def slack_post_mortem(hotfix: Hotfix, events: list[Event], private: bool = False) -> str:
    message = postmortem_reply.closed(events[-1], hotfix, events, TimeTargets(), private)
    posted = message.as_kwargs()
    assert blocks_problems(posted["blocks"], limit=50) == []
    return "\n".join(block["text"]["text"] for block in posted["blocks"])


def test_the_draft_lists_the_pull_requests_with_links_and_when_review_ci_and_deploy_checks_ran() -> None:
    markdown = postmortem.to_markdown(on_github(), github_trail(), TimeTargets())

    section = markdown.split("\n## GitHub\n\n", 1)[1].split("\n\n## ", 1)[0].splitlines()
    assert section == [
        f"- Pull request [#12]({PR_URL}) into `main`: opened 2026-12-01 12:05:00 UTC, merged at "
        "2026-12-01 12:50:00 UTC, 45m after it opened",
        f"- Pull request [#13]({DEVELOP_PR}) into `develop`: opened 2026-12-01 12:51:00 UTC, merged at "
        "2026-12-01 12:58:00 UTC, 7m after it opened",
        "- Review: started 2026-12-01 12:05:00 UTC, ended 2026-12-01 12:25:00 UTC (approved): 20m",
        "- CI: started 2026-12-01 12:06:00 UTC, ended 2026-12-01 12:14:00 UTC (passed): 8m",
        "- Deploy checks (started by the tag): started 2026-12-01 12:31:00 UTC, ended 2026-12-01 12:36:00 UTC "
        "(passed): 5m",
    ]
    assert markdown.index("## Steps against their targets") < markdown.index("## GitHub") < markdown.index(
        "## Timeline")


def test_the_thread_gets_the_github_part_in_a_line_with_links_that_slack_renders() -> None:
    text = slack_post_mortem(on_github(), github_trail())

    assert (f"*GitHub*\n• Pull requests: <{PR_URL}|#12> into `main` (merged), <{DEVELOP_PR}|#13> into `develop` "
            "(merged). Review 20m; CI 8m (passed); deploy checks 5m (passed).") in text
    assert "Deploy checks (started by the tag)" not in text  # the full section is for the Markdown draft


def test_a_ci_override_names_who_on_which_commit_and_why_without_pinging_or_linking() -> None:
    overridden = (github_event(EventKind.CI_WAITING, 6, commit=HEAD, missing=()),
                  github_event(EventKind.CI_MISSING, 16, commit=HEAD, waited="10m"),
                  github_event(EventKind.CI_OVERRIDDEN, 28, "ULEAD", commit=HEAD, reason=OVERRIDE_REASON))
    events = github_trail(ci=overridden)

    markdown = postmortem.to_markdown(on_github(), events, TimeTargets())
    assert "- CI: started 2026-12-01 12:06:00 UTC, ended 2026-12-01 12:28:00 UTC (overridden): 22m" in markdown
    assert ("- CI overridden by @ULEAD on `bbbbbbbbbb` at 2026-12-01 12:28:00 UTC: “CI is down \\<\\!channel\\> "
            "\\*all day\\*, see \\[status\\]\\(https\\://evil.example\\)”") in markdown
    text = slack_post_mortem(on_github(), events)
    assert "CI 22m (overridden)" in text
    assert ("• CI overridden by <@ULEAD> on `bbbbbbbbbb` at 2026-12-01 12:28:00 UTC: “CI is down &lt;!channel&gt; "
            "*all day*, see [status](https://evil.example)”") in text
    assert "<!channel>" not in text and "<https://evil" not in text


def test_an_unfinished_review_and_a_pull_request_that_is_no_link_are_said_as_they_are() -> None:
    forged = "https://github.example.com/acme/payments/pull/12) [click](https://evil.example"
    events = [github_event(EventKind.DECLARED, 0, "UDEV", issue_id="PROD-501", severity="HIGH"),
              github_event(EventKind.PULL_REQUEST_OPENED, 5, number=12, url=forged, head=HEAD, target="main`x",
                           how="opened"),
              github_event(EventKind.CI_WAITING, 6, commit=HEAD, missing=()),
              github_event(EventKind.CLOSED, 60, "UDEV", reason="Fixed by a config change instead")]
    hotfix = github_hotfix(Stage.CLOSED)

    markdown = postmortem.to_markdown(hotfix, events, TimeTargets())
    assert "- Pull request #12 into `mainˋx`: opened 2026-12-01 12:05:00 UTC, not merged" in markdown
    assert "- Review: started 2026-12-01 12:05:00 UTC, not ended" in markdown
    assert "- CI: started 2026-12-01 12:06:00 UTC, not ended" in markdown
    assert "- Deploy checks (started by the tag): none reported" in markdown
    assert "](" not in markdown
    text = slack_post_mortem(hotfix, events)
    assert "• Pull requests: #12 into `mainˋx` (not merged). Review not ended; CI not ended." in text
    assert "evil" not in text


def test_a_security_hotfix_on_github_shows_its_pull_requests_but_no_title_in_the_public_thread() -> None:
    hotfix = on_github(security=True, title="SQL injection in search")

    text = slack_post_mortem(hotfix, github_trail(), private=False)
    assert "*Post-mortem draft: HF-7 Security hotfix*" in text and "SQL injection" not in text
    assert f"<{PR_URL}|#12> into `main` (merged)" in text


def test_a_plain_git_hotfix_has_no_github_section() -> None:
    events = [e for e in github_trail() if e.kind not in GITHUB_KINDS]

    assert "GitHub" not in postmortem.to_markdown(on_github(), events, TimeTargets())
    assert "GitHub" not in slack_post_mortem(on_github(), events)
