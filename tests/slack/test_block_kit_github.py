"""The GitHub variants of test_block_kit_surfaces: a hotfix on GitHub at its longest, with GitHub's text as long
and hostile as it gets (300 checks, a 5,000-char check name, a javascript: link, a review that tries to ping the
channel), shown by the real bot from what the stand-in GitHub answers, within Slack's Block Kit limits."""
from __future__ import annotations

import re
from pathlib import Path

from bot.service.clock import ManualClock
from tests.github.conftest import bot, config_path, config_text, env, github, poll  # noqa: F401
from tests.slack.test_block_kit_surfaces import BRANCH, declare_longest, many_people
from tests.support.driver import Driver, Posted
from tests.support.fake_github import FakeGitHub
from tests.support.gitrepos import Remote

HOSTILE = "<!channel> <@U123> *bold* `x` " + "&" * 5000


def in_review_at_its_longest(driver: Driver, config_path: Path, remote: Remote, tmp_path: Path) -> tuple[Posted, str]:
    many_people(driver, config_path)
    hotfix = declare_longest(driver)
    for approver in ("UEM", "ULEAD", "UCTO"):
        driver.click("Approve", hotfix, user=approver)
    driver.settle()
    head = remote.clone(tmp_path / "engineer").push_fix(BRANCH)
    driver.click("Ready for review", hotfix, user="UDEV")
    driver.settle()
    return hotfix, head


def test_a_github_hotfix_at_its_longest_stays_within_the_limits(
    driver: Driver, github: FakeGitHub, config_path: Path, remote: Remote, clock: ManualClock, tmp_path: Path
) -> None:
    hotfix, head = in_review_at_its_longest(driver, config_path, remote, tmp_path)
    for n in range(300):
        github.set_check_run(head, f"job {n} {HOSTILE}", status="in_progress", conclusion=None,
                             details_url="https://ci.example.com/" + "x" * 900)
    poll(driver, clock)
    running = str(driver.slack.message(hotfix.channel, hotfix.ts))
    github.set_check_run(head, HOSTILE, conclusion="failure", details_url="javascript:alert(1)")
    poll(driver, clock)
    github.add_review(1, "rita-gh", "CHANGES_REQUESTED", body=HOSTILE[:600])
    poll(driver, clock)
    answer = str(driver.command(f"status {hotfix.key}", user="UDEV").json())

    thread = driver.thread(hotfix)
    assert "|#1> into `main`" in running
    assert "⏳ running, 0 of 300 done" in running and re.search(r"…and 29\d more'", running)
    assert "Approve review" not in running  # the review is on GitHub
    assert any(t.startswith("🔍") and "Review it on GitHub" in t for t in thread)
    assert any(t.startswith("❌ CI failed") and "javascript" not in t for t in thread)
    assert any(t.startswith("✏️ <@UREV1> requested changes on GitHub: “‹!channel› ‹＠U123› ∗bold∗ ˋxˋ &amp;") for t in thread)
    assert "*Pull request*" in answer
    assert "<!channel>" not in str([c.args for c in driver.slack.calls if c.method == "chat.postMessage"])
    driver.slack.assert_no_problems()
