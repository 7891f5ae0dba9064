"""Slack rate limits and outages delay the thread; they never lose, double or reorder a message."""
from __future__ import annotations

from datetime import timedelta

from bot.service.clock import ManualClock
from tests.support.driver import Driver


def test_a_rate_limited_thread_is_delivered_after_retry_after_in_order_and_once(driver: Driver, clock: ManualClock) -> None:
    hotfix = driver.declare(severity="critical")
    driver.settle()
    driver.slack.fail_next("chat.postMessage", status=429, retry_after=20, times=2)
    for approver in ("UEM", "ULEAD"):
        assert driver.click("Approve", hotfix, user=approver).status == 200
    driver.settle()
    assert len(driver.thread(hotfix)) == 1  # waiting out Retry-After: nothing yet, nothing lost

    clock.advance(timedelta(seconds=19))
    driver.settle()
    assert len(driver.thread(hotfix)) == 1  # Slack said 20 s; the bot waits 20 s
    clock.advance(timedelta(seconds=1))
    driver.settle()
    clock.advance(timedelta(seconds=20))  # the second 429
    driver.settle()

    assert [t.split(" (")[0] for t in driver.thread(hotfix)[1:]] == [
        "✅ <@UEM> approved as Engineering manager", "✅ <@ULEAD> approved as On-call lead"]
    assert len(driver.slack.failed_calls) == 2
    assert "✅ On-call lead: <@ULEAD>" in driver.status_text(hotfix)  # the status message caught up too
