"""Tag anyway, through signed HTTP against the stand-in GitHub: no check ever reported on the approved commit, so
the thread and the status message offer it; an on-call lead says why in a modal and the tag goes out."""
from __future__ import annotations

import pytest

from bot.service.clock import ManualClock
from bot.standins import payloads
from tests.github.conftest import (  # noqa: F401  (fixtures)
    CI_WAIT, approved, bot, config_path, config_text, env, github, in_review, poll,
)
from tests.support.driver import Driver, Posted, find_button
from tests.support.fake_github import FakeGitHub
from tests.support.gitrepos import Remote

@pytest.fixture
def no_ci(driver: Driver, github: FakeGitHub, remote: Remote, clock: ManualClock, tmp_path) -> tuple[Posted, str]:
    """Approved on GitHub, and no check or status for the whole CI wait."""
    hotfix = approved(driver)
    head = in_review(driver, remote.clone(tmp_path / "engineer"), hotfix)
    github.add_review(1, "rita-gh", "APPROVED")
    poll(driver, clock)
    poll(driver, clock, CI_WAIT)
    return hotfix, head

def click_in_thread(driver: Driver, hotfix: Posted, label: str, *, user: str) -> None:
    reply = next(m for m in driver.slack.thread(hotfix.channel, hotfix.ts) if m["text"].startswith("⏳ No check"))
    button = find_button(reply, label)
    answer = driver.post(payloads.block_actions(button["action_id"], button["value"], user_id=user,
                                                channel_id=hotfix.channel, message_ts=reply["ts"], message=reply,
                                                response_url=driver.slack.response_url()))
    assert answer.status == 200, answer

def test_an_on_call_lead_tags_without_ci_and_the_thread_says_why(
        driver: Driver, remote: Remote, no_ci: tuple[Posted, str]) -> None:
    hotfix, head = no_ci
    assert "Tag anyway" in str(driver.slack.message(hotfix.channel, hotfix.ts))

    click_in_thread(driver, hotfix, "Tag anyway", user="ULEAD")
    modal = driver.slack.wait_for("views.open")[-1]["view"]
    driver.submit_reason(hotfix, "CI is down org-wide; one-line fix", user="ULEAD", callback="hotfix_tag_anyway")
    driver.settle()

    thread = "\n".join(driver.thread(hotfix))
    assert modal["callback_id"] == "hotfix_tag_anyway" and "Why ship it without CI?" in str(modal)
    assert f"⚠️ <@ULEAD> ships `{head[:10]}` without CI: “CI is down org-wide; one-line fix”." in thread
    assert "🏷️ Tagged `v1.10.1`" in thread and remote.rev("v1.10.1") == head
    assert "Tag anyway" not in str(driver.slack.message(hotfix.channel, hotfix.ts))
    driver.slack.assert_no_problems()

def test_anyone_else_is_told_who_may_and_no_modal_opens(driver: Driver, no_ci: tuple[Posted, str]) -> None:
    hotfix, _ = no_ci

    driver.click("Tag anyway", hotfix, user="UDEV")

    note = driver.slack.wait_for("chat.postEphemeral", user="UDEV")[-1]["text"]
    assert note == f"Only an on-call lead can tag {hotfix.key} without CI."
    driver.settle()
    assert driver.slack.calls_to("views.open") == [] and not any("Tagged" in t for t in driver.thread(hotfix))

def test_before_the_ci_wait_is_over_there_is_no_tag_anyway(
        driver: Driver, github: FakeGitHub, remote: Remote, clock: ManualClock, tmp_path) -> None:
    hotfix = approved(driver)
    in_review(driver, remote.clone(tmp_path / "engineer"), hotfix)
    github.add_review(1, "rita-gh", "APPROVED")
    poll(driver, clock)

    status = str(driver.slack.message(hotfix.channel, hotfix.ts))
    assert "Tag anyway" not in status and "waiting for the first check" in status
    assert not any(t.startswith("⏳ No check") for t in driver.thread(hotfix))
