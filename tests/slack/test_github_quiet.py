"""Polling GitHub every 15 s stays out of sight: only what a poll learns reaches the status message and thread."""
from __future__ import annotations

from bot.service.clock import ManualClock
from tests.github.conftest import approved, bot, config_path, config_text, env, github, in_review, poll  # noqa: F401
from tests.support.driver import Driver
from tests.support.fake_github import FakeGitHub
from tests.support.gitrepos import Remote


def test_polls_that_learn_nothing_do_not_touch_the_status_message(
        driver: Driver, github: FakeGitHub, remote: Remote, clock: ManualClock, tmp_path) -> None:
    hotfix = approved(driver)
    head = in_review(driver, remote.clone(tmp_path / "engineer"), hotfix)
    github.set_check_run(head, "tests", status="in_progress", conclusion=None)
    poll(driver, clock)
    updates, replies = len(driver.slack.calls_to("chat.update")), len(driver.thread(hotfix))

    for _ in range(8):  # two minutes of nothing new
        poll(driver, clock)
    quiet = len(driver.slack.calls_to("chat.update")), len(driver.thread(hotfix))
    github.set_check_run(head, "tests")
    poll(driver, clock)

    assert quiet == (updates, replies)
    assert len(driver.slack.calls_to("chat.update")) == updates + 1
    assert driver.thread(hotfix)[-1] == f"✅ CI passed on `{head[:10]}` (1 check(s)). Tag & deploy opens once the " \
                                        "review approves this commit."
