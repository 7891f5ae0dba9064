"""However short the durations (a config that slipped past validation, an old reload), reminders to a person come
back at most every five minutes: one hotfix cannot flood the channel or anyone's DMs."""
from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

import pytest

from bot.config import Settings, load_config
from bot.service.clock import ManualClock
from bot.wiring import build
from tests.support.config import SECRET
from tests.support.driver import Driver
from tests.support.fake_slack import FakeSlack

EVERY_REMINDER = ("approval_escalation", "review_sla", "monitoring_checkin", "merge_back_due", "reminder_repeat")


@pytest.fixture
def flooding(env: dict[str, str], slack: FakeSlack, clock: ManualClock) -> Iterator[Driver]:
    """The bot with every reminder duration at zero, the config that once sent 490 messages in 15 s."""
    settings = Settings.from_env(env)
    config = load_config(settings.config_path)
    zero = config.timers.model_copy(update=dict.fromkeys(EVERY_REMINDER, timedelta(0)))
    bot = build(settings, config.model_copy(update={"timers": zero}), clock=clock, poll_seconds=0.05)
    driver = Driver(bot, slack, SECRET)
    yield driver
    driver.close()
    bot.stop()


def fire_due_timers(driver: Driver) -> None:
    firing = threading.Thread(target=driver.bot.service.timers.fire_due_timers, daemon=True)
    firing.start()
    firing.join(timeout=10)
    assert not firing.is_alive(), "due timers keep coming due: a zero duration re-arms at once, for ever"


def test_an_hour_of_unanswered_approvals_sends_a_bounded_number_of_messages(
    flooding: Driver, slack: FakeSlack, clock: ManualClock
) -> None:
    hotfix = flooding.declare(severity="high")
    flooding.settle()

    for _ in range(60):
        clock.advance(timedelta(minutes=1))
        fire_due_timers(flooding)
        flooding.settle()

    posts = slack.calls_to("chat.postMessage")
    dms = Counter(call["channel"] for call in posts if call["channel"].startswith("U"))
    reminders = [text for text in flooding.thread(hotfix) if text.startswith("⏰")]
    assert set(dms) == {"UEM", "ULEAD", "UCTO"}  # the escalation reached everyone it should
    assert max(dms.values()) <= 13, dms  # at most one every 5 minutes each, over the hour
    assert len(reminders) <= 13, reminders
    assert len(posts) <= 60, len(posts)
