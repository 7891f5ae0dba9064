"""Monitoring is not skipped: Stable only after the window, Roll back from the tag on, an early end only by an
on-call lead with a reason; Merged by hand only by the declarer or an on-call lead, one git check at a time.

Signed requests into the real app, the fake Slack Web API, a real git remote, the ManualClock.
"""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlmodel import Session, select

from bot.domain import postmortem
from bot.service.clock import ManualClock
from bot.service.jobs import GIT
from bot.store.tables import JobRow
from bot.standins import payloads
from tests.support.driver import Driver, Posted, find_button, message_text
from tests.support.gitrepos import Remote, git
from tests.test_procedure import BRANCH, approved, reviewed

PAST_ANY_BACKOFF = timedelta(minutes=6)  # JobRunner caps its back-off at 5 minutes
EARLY = "Error rates back to baseline for 20 minutes; the incident bridge agrees"


def deployed(driver: Driver, remote: Remote, tmp_path: Path, **fix) -> Posted:
    """HF-1 tagged `v1.10.1` at 17:00: monitored until 17:30."""
    hotfix = approved(driver)
    reviewed(driver, remote.clone(tmp_path / "engineer"), hotfix, **fix)
    driver.click("Tag & deploy", hotfix, user="UDEV")
    driver.settle()
    assert driver.thread(hotfix)[-1].startswith("🏷️ Tagged `v1.10.1`")
    return hotfix


def wait(driver: Driver, clock: ManualClock, span: timedelta) -> None:
    clock.advance(span)
    driver.bot.service.timers.fire_due_timers()
    driver.settle()


def reminders(driver: Driver, hotfix: Posted) -> list[dict]:
    return [m for m in driver.slack.thread(hotfix.channel, hotfix.ts) if m.get("text", "").startswith("⏰")]


def click_in(driver: Driver, hotfix: Posted, message: dict, label: str, *, user: str) -> None:
    button = find_button(message, label)
    driver.post(payloads.block_actions(button["action_id"], button["value"], user_id=user, channel_id=hotfix.channel,
                                       message_ts=message["ts"], message=message))


def git_jobs(driver: Driver, kind: str) -> list[JobRow]:
    with Session(driver.bot.engine) as session:
        return list(session.exec(select(JobRow).where(JobRow.queue == GIT, JobRow.kind == kind)).all())


# --- Stable only after the window ------------------------------------------------------------------------------
def test_stable_before_the_window_is_over_says_how_long_is_left_and_merges_back_once_it_is(
    driver: Driver, remote: Remote, tmp_path: Path, clock: ManualClock
) -> None:
    hotfix = deployed(driver, remote, tmp_path)
    main_before, modals = remote.rev("main"), len(driver.slack.calls_to("views.open"))
    wait(driver, clock, timedelta(minutes=12))

    driver.click("Stable", hotfix, user="UDEV")
    told = ("HF-1 is monitored until 17:30 UTC (18m left): Stable merges back only after the monitoring window. "
            "An on-call lead can end it early, with a reason.")
    assert driver.ephemerals("UDEV") == [told]
    assert driver.command("stable HF-1", user="UDEV").text == told
    assert driver.command("stable HF-1 looks fine to me", user="UDEV").text == told  # a reason is not enough
    driver.settle()
    assert "*Stage*\nMonitoring" in driver.status_text(hotfix)
    assert remote.rev("main") == main_before
    assert len(driver.slack.calls_to("views.open")) == modals  # nothing to ask the declarer: the answer is no

    wait(driver, clock, timedelta(minutes=18))
    assert reminders(driver, hotfix)[-1]["text"].startswith("⏰ <@UDEV>: the monitoring window of HF-1")
    driver.click("Stable", hotfix, user="UDEV")
    driver.settle()
    assert remote.parents(remote.rev("main"))[1] == remote.rev("v1.10.1")
    assert "Merged back, ready to close" in driver.status_text(hotfix)


def test_an_oncall_lead_ends_monitoring_early_with_a_reason_that_the_thread_and_post_mortem_show(
    driver: Driver, remote: Remote, tmp_path: Path, clock: ManualClock
) -> None:
    hotfix = deployed(driver, remote, tmp_path)
    wait(driver, clock, timedelta(minutes=10))
    driver.click("Stable", hotfix, user="UREV1")
    assert driver.ephemerals("UREV1") == ["Only HF-1's declarer or an on-call lead can confirm it is stable."]

    driver.click("Stable", hotfix, user="ULEAD")  # asks why before anything happens
    modal = driver.slack.last("views.open").args["view"]
    assert modal["title"]["text"] == "End monitoring HF-1" and modal["callback_id"] == "hotfix_end_monitoring_early"
    assert "Why end monitoring early?" in message_text(modal)
    driver.settle()
    assert "*Stage*\nMonitoring" in driver.status_text(hotfix)

    blank = driver.submit_reason(hotfix, "   ", user="ULEAD", callback="hotfix_end_monitoring_early")
    assert blank.json() == {"response_action": "errors", "errors": {"reason": "Say why monitoring ends early."}}
    declarer = driver.submit_reason(hotfix, EARLY, user="UDEV", callback="hotfix_end_monitoring_early")
    assert declarer.json()["errors"]["reason"].startswith("HF-1 is monitored until 17:30 UTC (20m left)")
    assert driver.submit_reason(hotfix, EARLY, user="ULEAD", callback="hotfix_end_monitoring_early").status == 200
    driver.settle()

    thread = driver.thread(hotfix)
    ended = thread.index(f"⏩ <@ULEAD> ended monitoring early, 20m before the window's end: “{EARLY}”.")
    assert thread[ended + 1].startswith("✅ <@ULEAD> confirmed HF-1 stable. Merging back into `main`, `develop`")
    assert remote.parents(remote.rev("develop"))[1] == remote.rev("v1.10.1")

    driver.click("Close", hotfix, user="UDEV")
    driver.settle()
    draft = postmortem.to_markdown(*driver.bot.service.read.timeline(hotfix.key), driver.bot.current.rules().policy.times)
    early = postmortem.markdown_text(EARLY)
    assert f"Stable, confirmed by @ULEAD after 10m of monitoring; monitoring ended early, 20m before the " \
           f"window's end: “{early}”" in draft
    assert f"Monitoring ended early by @ULEAD: “{early}”" in draft  # its line in the timeline


def test_an_oncall_lead_ends_monitoring_early_from_the_keyboard(
    driver: Driver, remote: Remote, tmp_path: Path, clock: ManualClock
) -> None:
    hotfix = deployed(driver, remote, tmp_path)
    clock.advance(timedelta(minutes=5))
    assert driver.command("stable HF-1", user="ULEAD").text == (
        "HF-1 is monitored until 17:30 UTC (25m left). To end monitoring early, say why: press *Stable* on the "
        "status message, or `/hotfix stable HF-1 &lt;reason&gt;`.")
    assert driver.command(f"stable HF-1 {EARLY}", user="ULEAD").text == "HF-1: Merging back."
    driver.settle()
    assert f"⏩ <@ULEAD> ended monitoring early, 25m before the window's end: “{EARLY}”." in driver.thread(hotfix)
    assert "Merged back, ready to close" in driver.status_text(hotfix)


# --- Roll back from the tag on ------------------------------------------------------------------------------------
def test_roll_back_is_offered_from_the_moment_the_tag_is_pushed_until_stable(
    driver: Driver, remote: Remote, tmp_path: Path, clock: ManualClock
) -> None:
    hotfix = approved(driver)
    reviewed(driver, remote.clone(tmp_path / "engineer"), hotfix)
    offline = remote.path.with_name("payments.offline")
    remote.path.rename(offline)
    driver.click("Tag & deploy", hotfix, user="UDEV")
    driver.settle()
    assert "*Stage*\nTagging & deploying" in driver.status_text(hotfix)
    assert driver.command("rollback HF-1", user="UDEV").text == (
        "HF-1's tag is not pushed yet, so nothing new is deployed to roll back. Roll back is possible from the "
        "moment it is.")

    offline.rename(remote.path)
    wait(driver, clock, PAST_ANY_BACKOFF)  # the tag job retries: pushed at 17:06, monitored until 17:36
    status = driver.slack.message(hotfix.channel, hotfix.ts)
    assert "*Stage*\nMonitoring" in message_text(status) and find_button(status, "Roll back")

    wait(driver, clock, timedelta(minutes=10))
    check_in = reminders(driver, hotfix)[-1]
    assert check_in["text"] == "⏰ <@UDEV>: HF-1 monitoring check-in: are error rates and latency normal?"
    wait(driver, clock, timedelta(minutes=20))
    window_over = reminders(driver, hotfix)[-1]
    assert window_over["text"].startswith("⏰ <@UDEV>: the monitoring window of HF-1 (`v1.10.1`) is over.")
    assert find_button(window_over, "Roll back") and find_button(window_over, "Stable")

    click_in(driver, hotfix, check_in, "Roll back", user="ULEAD")  # an older reply's button still works
    driver.settle()
    assert driver.thread(hotfix)[-1].startswith("⏪ <@ULEAD> rolled back `v1.10.1`. Redeploy `v1.10.0` now.")
    assert "*Stage*\nFixing" in driver.status_text(hotfix)


# --- Merged by hand -----------------------------------------------------------------------------------------------
def conflicted(driver: Driver, remote: Remote, tmp_path: Path, clock: ManualClock) -> Posted:
    """Merged into main; develop conflicts and waits for a merge by hand."""
    hotfix = deployed(driver, remote, tmp_path, filename="payments.py",  # develop changed payments.py
                      fix="def charge(card):\n    return gateway.charge(card, idempotent=True)\n")
    wait(driver, clock, timedelta(minutes=30))
    driver.click("Stable", hotfix, user="UDEV")
    driver.settle()
    assert "✅ `main` · ⏳ `develop`" in driver.status_text(hotfix)
    return hotfix


def merge_develop_by_hand(remote: Remote, tmp_path: Path) -> None:
    person = remote.clone(tmp_path / "by-hand")
    person.switch("develop")
    git(person.path, "merge", "--no-ff", "--quiet", f"origin/{BRANCH}", "-X", "theirs", "-m", "Merge hotfix by hand")
    person.push("HEAD:refs/heads/develop")


def test_merged_by_hand_is_for_the_declarer_or_an_oncall_lead(
    driver: Driver, remote: Remote, tmp_path: Path, clock: ManualClock
) -> None:
    hotfix = conflicted(driver, remote, tmp_path, clock)
    merge_develop_by_hand(remote, tmp_path)
    checks = len(git_jobs(driver, "verify_merged"))

    driver.click("Merged by hand", hotfix, user="UREV1")
    refused = "Only HF-1's declarer or an on-call lead can say it was merged by hand."
    assert driver.ephemerals("UREV1") == [refused]
    assert driver.command("merged HF-1", user="UREV1").text == refused
    driver.settle()
    assert len(git_jobs(driver, "verify_merged")) == checks
    assert "⏳ `develop`" in driver.status_text(hotfix)

    driver.click("Merged by hand", hotfix, user="ULEAD")
    driver.settle()
    assert "Merged back, ready to close" in driver.status_text(hotfix)


def test_a_second_merged_by_hand_while_git_is_checking_queues_nothing(
    driver: Driver, remote: Remote, tmp_path: Path, clock: ManualClock
) -> None:
    hotfix = conflicted(driver, remote, tmp_path, clock)
    merge_develop_by_hand(remote, tmp_path)
    offline = remote.path.with_name("payments.offline")
    remote.path.rename(offline)  # the check cannot reach git, so it waits to retry
    driver.click("Merged by hand", hotfix, user="UDEV")
    driver.settle()
    [check] = git_jobs(driver, "verify_merged")
    assert check.state == "pending"

    driver.click("Merged by hand", hotfix, user="UDEV")
    waiting = "Git is already checking which branches have HF-1's fix; the thread will say what it finds."
    assert driver.ephemerals("UDEV") == [waiting]
    assert driver.command("merged HF-1", user="ULEAD").text == waiting
    driver.settle()
    assert len(git_jobs(driver, "verify_merged")) == 1

    offline.rename(remote.path)
    wait(driver, clock, PAST_ANY_BACKOFF)
    assert "Merged back, ready to close" in driver.status_text(hotfix)
    assert len([t for t in driver.thread(hotfix) if t.startswith("🔀 `develop` has the fix (merged by hand")]) == 1
