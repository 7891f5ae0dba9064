"""Reminders come when due, exactly once, survive restarts, and stop when the event that makes them moot happens."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from bot.config import Settings, load_config
from bot.service.clock import ManualClock
from bot.store.tables import TimerRow
from bot.wiring import build
from tests.support.driver import Driver, eventually, find_button
from tests.support.gitrepos import Remote
from tests.test_procedure import BRANCH, approved, monitored, tagged


def reminders_in(driver: Driver, hotfix) -> list[str]:
    return [text for text in driver.thread(hotfix) if text.startswith("⏰")]


def test_a_missing_approval_is_asked_for_again_after_15_minutes_then_escalated(driver: Driver, clock: ManualClock) -> None:
    hotfix = driver.declare(severity="critical")
    driver.click("Approve", hotfix, user="UEM")
    driver.settle()
    assert "Next: Approval escalation 17:15 UTC" in driver.status_text(hotfix)

    clock.advance(timedelta(minutes=14))
    assert driver.bot.service.timers.fire_due_timers() == 0

    clock.advance(timedelta(minutes=1))
    assert driver.bot.service.timers.fire_due_timers() == 1
    driver.settle()
    first = reminders_in(driver, hotfix)
    assert first == ["⏰ <@UCTO> <@ULEAD>: HF-1 still needs approval from On-call lead, CTO. "
                     "Approve or Reject on the status message."]
    dms = {c["channel"] for c in driver.slack.calls_to("chat.postMessage") if c["channel"].startswith("U")}
    assert dms == {"ULEAD", "UCTO"}

    clock.advance(timedelta(minutes=15))
    driver.bot.service.timers.fire_due_timers()
    driver.settle()
    assert "<@UEM>" in reminders_in(driver, hotfix)[-1]  # round 2 escalates to the engineering manager


def test_the_last_approval_cancels_the_escalation(driver: Driver, clock: ManualClock) -> None:
    hotfix = driver.declare(severity="high")
    driver.click("Approve", hotfix, user="UEM")
    driver.click("Approve", hotfix, user="ULEAD")
    driver.settle()
    clock.advance(timedelta(hours=2))
    assert driver.bot.service.timers.fire_due_timers() == 0
    driver.settle()
    assert reminders_in(driver, hotfix) == []
    assert "Next:" not in driver.status_text(hotfix)


def test_snooze_moves_the_reminder_by_30_minutes_and_only_the_named_people_may_snooze(
    driver: Driver, clock: ManualClock
) -> None:
    hotfix = driver.declare(severity="high")
    clock.advance(timedelta(minutes=15))
    driver.bot.service.timers.fire_due_timers()
    driver.settle()
    reply = driver.slack.thread(hotfix.channel, hotfix.ts)[-1]
    button = find_button(reply, "Snooze 30m")
    from bot.standins import payloads

    def snooze(user: str):
        return driver.post(payloads.block_actions(button["action_id"], button["value"], user_id=user,
                                                  channel_id=hotfix.channel, message_ts=reply["ts"], message=reply))

    assert snooze("UREV1").status == 200
    assert driver.ephemerals("UREV1") == ["Only the people this reminder names can snooze it."]
    assert snooze("ULEAD").status == 200
    driver.settle()
    assert driver.thread(hotfix)[-1] == "💤 <@ULEAD> snoozed the approval escalation for 30 minutes."
    clock.advance(timedelta(minutes=29))
    assert driver.bot.service.timers.fire_due_timers() == 0
    clock.advance(timedelta(minutes=1))
    assert driver.bot.service.timers.fire_due_timers() == 1


def test_timers_due_while_the_bot_was_down_fire_once_after_restart(env: dict, slack, clock: ManualClock) -> None:
    settings = Settings.from_env(env)
    config = load_config(settings.config_path)
    first = build(settings, config, clock=clock, poll_seconds=0.05)
    first.start_workers()
    driver = Driver(first, slack, env["SLACK_SIGNING_SECRET"])
    hotfix = driver.declare(severity="high")
    driver.settle()
    driver.close()
    first.stop()  # the bot is down for an hour

    clock.advance(timedelta(hours=1))
    second = build(settings, config, clock=clock, poll_seconds=0.05)
    second.start_workers()  # the scheduler looks at once on start
    try:
        eventually(lambda: any(t.startswith("⏰") for t in driver_thread(slack, hotfix)))
        second.run_pending()
        assert second.service.timers.fire_due_timers() == 0
        assert len([t for t in driver_thread(slack, hotfix) if t.startswith("⏰")]) == 1
        with Session(second.engine) as session:
            pending = session.exec(select(TimerRow).where(TimerRow.state == "pending")).all()
            assert [(t.kind, t.round) for t in pending] == [("approval_escalation", 2)]  # asked again later
    finally:
        second.stop()


def test_after_downtime_only_the_latest_reminder_of_the_review_is_posted_and_sent(
    driver: Driver, remote: Remote, tmp_path: Path, clock: ManualClock
) -> None:
    hotfix = approved(driver)
    remote.clone(tmp_path / "engineer").push_fix(BRANCH)
    driver.click("Ready for review", hotfix, user="UDEV")
    driver.settle()
    dms_before = len(driver.slack.calls_to("chat.postMessage"))

    clock.advance(timedelta(minutes=75))  # the bot was down past the half-way and the overdue reminder
    driver.bot.service.timers.fire_due_timers()
    driver.settle()
    assert reminders_in(driver, hotfix) == [
        "⏰ <@UREV1> <@UREV2>: review of HF-1 (`hotfix/PROD-501-checkout-returns-500`) is overdue. Please review it now."]
    dms = [c["channel"] for c in driver.slack.calls_to("chat.postMessage")[dms_before:] if c["channel"].startswith("U")]
    assert sorted(dms) == ["UREV1", "UREV2"]

    clock.advance(timedelta(minutes=15))
    driver.bot.service.timers.fire_due_timers()
    driver.settle()
    assert len(reminders_in(driver, hotfix)) == 2  # the overdue reminder still comes back every 15 minutes


def test_after_downtime_the_end_of_monitoring_is_posted_without_the_check_ins_before_it(
    driver: Driver, remote: Remote, tmp_path: Path, clock: ManualClock
) -> None:
    hotfix = tagged(driver, remote, tmp_path)
    monitored(driver, clock, timedelta(minutes=45))
    assert reminders_in(driver, hotfix) == [
        "⏰ <@UDEV>: the monitoring window of HF-1 (`v1.10.1`) is over. Press Stable or Roll back."]


def driver_thread(slack, hotfix) -> list[str]:
    return [m.get("text", "") for m in slack.thread(hotfix.channel, hotfix.ts)]


@pytest.mark.parametrize("database", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_two_processes_on_one_database_never_send_the_same_reminder(
    database: str, env: dict, slack, clock: ManualClock, request: pytest.FixtureRequest
) -> None:
    if database == "postgres":
        env = {**env, "DATABASE_URL": request.getfixturevalue("postgres_url")}
    settings = Settings.from_env(env)
    config = load_config(settings.config_path)
    bots = [build(settings, config, clock=clock) for _ in range(2)]
    driver = Driver(bots[0], slack, env["SLACK_SIGNING_SECRET"])
    try:
        for n in range(6):
            driver.declare(severity="high", issue_id=f"PROD-{n}")
        clock.advance(timedelta(minutes=15))
        fired: list[int] = []
        racers = [threading.Thread(target=lambda b=b: fired.append(b.service.timers.fire_due_timers())) for b in bots]
        for racer in racers:
            racer.start()
        for racer in racers:
            racer.join()
        assert sum(fired) == 6
        bots[0].run_pending()
        reminders = [c for c in slack.calls_to("chat.postMessage", channel="C0HOTFIX") if c["text"].startswith("⏰")]
        assert len(reminders) == 6 and len({c["thread_ts"] for c in reminders}) == 6  # one in each thread
    finally:
        driver.close()
        for b in bots:
            b.stop()


def test_quiet_hours_hold_medium_reminders_but_never_critical_ones(tmp_path, env: dict, slack) -> None:
    config_path = tmp_path / "quiet.toml"
    config_path.write_text(open(env["HOTFIX_CONFIG"]).read() + 'quiet_hours = "22:00-07:00"\n')
    env = {**env, "HOTFIX_CONFIG": str(config_path)}
    clock = ManualClock()
    clock.advance(timedelta(hours=5))  # 22:00 UTC
    settings = Settings.from_env(env)
    bot = build(settings, load_config(settings.config_path), clock=clock)
    driver = Driver(bot, slack, env["SLACK_SIGNING_SECRET"])
    try:
        medium = driver.declare(severity="medium", override=True, issue_id="PROD-1")
        critical = driver.declare(severity="critical", issue_id="PROD-2")
        clock.advance(timedelta(minutes=15))
        assert bot.service.timers.fire_due_timers() == 2
        bot.run_pending()
        assert len(reminders_in(driver, critical)) == 1
        assert reminders_in(driver, medium) == []
        clock.advance(timedelta(hours=9))  # 07:15: quiet hours are over
        bot.service.timers.fire_due_timers()
        bot.run_pending()
        assert len(reminders_in(driver, medium)) == 1
    finally:
        driver.close()
        bot.stop()


@pytest.mark.parametrize("stop_at", ["claim", "commit"])
@pytest.mark.parametrize("database", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_a_process_killed_while_firing_timers_leaves_every_reminder_to_be_sent_once_after_restart(
    database: str, stop_at: str, env: dict, slack, clock: ManualClock, tmp_path, request: pytest.FixtureRequest
) -> None:
    if database == "postgres":
        env = {**env, "DATABASE_URL": request.getfixturevalue("postgres_url")}
    settings = Settings.from_env(env)
    config = load_config(settings.config_path)
    survivor = build(settings, config, clock=clock)
    driver = Driver(survivor, slack, env["SLACK_SIGNING_SECRET"])
    try:
        hotfixes = [driver.declare(severity="high", issue_id=f"PROD-{n}") for n in range(3)]
        clock.advance(timedelta(minutes=15))  # every approval reminder is due

        marker = tmp_path / f"stopped-at-{stop_at}"
        victim = subprocess.Popen(
            [sys.executable, "-m", "tests.support.dying_timer_process", clock.now().isoformat(), stop_at, str(marker)],
            env={**os.environ, **env}, cwd=Path(__file__).resolve().parents[2],
        )
        try:
            eventually(marker.exists, timeout=30)
        finally:
            victim.kill()  # SIGKILL, in the middle of its transaction
            victim.wait(timeout=10)
        assert victim.returncode == -signal.SIGKILL

        assert survivor.service.timers.fire_due_timers() == 3
        assert survivor.service.timers.fire_due_timers() == 0
        survivor.run_pending()
        for hotfix in hotfixes:
            assert len([t for t in driver_thread(slack, hotfix) if t.startswith("⏰")]) == 1
    finally:
        driver.close()
        survivor.stop()
