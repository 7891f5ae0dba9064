"""A thread people read: one message per thing to read or act on, each in one place, times with their day."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.domain import postmortem
from bot.service.clock import ManualClock
from bot.standins import payloads
from tests.support.driver import Driver, find_button
from tests.support.gitrepos import Remote
from tests.test_procedure import approved, monitored, tagged


def test_a_monitoring_check_in_comes_once_in_the_thread_and_looks_fine_answers_it(
    driver: Driver, remote: Remote, tmp_path: Path, clock: ManualClock
) -> None:
    hotfix = tagged(driver, remote, tmp_path)
    monitored(driver, clock, timedelta(minutes=10))

    check_in = driver.slack.thread(hotfix.channel, hotfix.ts)[-1]
    assert check_in["text"] == "⏰ <@UDEV>: HF-1 monitoring check-in: are error rates and latency normal?"
    assert driver.slack.calls_to("chat.postMessage", channel="UDEV") == []  # not DM'd to the same person again

    def answer(user: str, button: str = "Looks fine") -> None:
        pressed = find_button(check_in, button)
        driver.post(payloads.block_actions(pressed["action_id"], pressed["value"], user_id=user,
                                           channel_id=hotfix.channel, message_ts=check_in["ts"], message=check_in,
                                           response_url=driver.slack.response_url()))
        driver.settle()

    find_button(check_in, "Snooze 30m")
    answer("UREV1")
    assert driver.ephemerals("UREV1") == ["Only HF-1's declarer or an on-call lead can answer its check-in."]
    answer("UDEV")
    replaced = driver.slack.last("response_url")
    assert replaced["replace_original"] is True
    assert replaced["text"] == "✅ <@UDEV> checked HF-1 at 17:10 UTC: looks fine."
    assert "blocks" not in replaced.args  # the buttons are gone
    assert driver.thread(hotfix)[-1] == check_in["text"]  # answered in place, no new reply

    draft = postmortem.to_markdown(*driver.bot.service.read.timeline(hotfix.key), driver.bot.current.rules().policy.times)
    assert "- 17:10:00 Monitoring check-in: @UDEV said it looks fine" in draft


def test_reviewers_reminded_get_the_thread_reply_and_a_dm_since_they_may_not_follow_the_thread(
    driver: Driver, remote: Remote, tmp_path: Path, clock: ManualClock
) -> None:
    hotfix = approved(driver)
    remote.clone(tmp_path / "engineer").push_fix("hotfix/PROD-501-checkout-returns-500")
    driver.click("Ready for review", hotfix, user="UDEV")
    driver.settle()
    clock.advance(timedelta(minutes=30))
    driver.bot.service.timers.fire_due_timers()
    driver.settle()
    assert driver.thread(hotfix)[-1].startswith("⏰ <@UREV1> <@UREV2>: review of HF-1")
    assert [c["channel"] for c in driver.slack.calls_to("chat.postMessage") if c["channel"].startswith("U")] == [
        "UREV1", "UREV2"]


def test_times_show_their_date_when_it_is_not_today(driver: Driver, clock: ManualClock) -> None:
    hotfix = driver.declare(severity="high")
    clock.advance(timedelta(days=1, minutes=5))
    driver.click("Approve", hotfix, user="UEM")
    driver.settle()
    status = driver.status_text(hotfix)
    assert "<@UDEV> at 20 Nov 17:00 UTC" in status  # declared yesterday
    assert "✅ Engineering manager: <@UEM> 17:05 UTC" in status  # approved today
    answer = driver.command("list", user="UEM").text
    assert "declared 20 Nov 17:00 UTC by <@UDEV>" in answer
