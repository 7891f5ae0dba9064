"""The whole procedure from declare to close, in Slack, on a real git remote."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.service.clock import ManualClock
from tests.support.driver import Driver, Posted, message_text
from tests.support.gitrepos import CHECKOUT_FIX, Clone, Remote, git

BRANCH = "hotfix/PROD-501-checkout-returns-500"
QUIET_WALK_REPLIES = 12  # was 16 (without the window's end) before pairs became one message and the check-in came once


def approved(driver: Driver, **fields) -> Posted:
    hotfix = driver.declare(**{"severity": "high", **fields})
    driver.click("Approve", hotfix, user="UEM")
    driver.click("Approve", hotfix, user="ULEAD")
    driver.settle()
    return hotfix


def reviewed(driver: Driver, engineer: Clone, hotfix: Posted, branch: str = BRANCH, fix: str = CHECKOUT_FIX,
             filename: str = "checkout.py") -> str:
    head = engineer.push_fix(branch, filename=filename, content=fix)
    driver.click("Ready for review", hotfix, user="UDEV")
    driver.settle()
    assert driver.click("Approve review", hotfix, user="UREV1").status == 200
    assert driver.submit_review(hotfix, user="UREV1").status == 200
    driver.settle()
    return head


def tagged(driver: Driver, remote: Remote, tmp_path: Path) -> Posted:
    """Approved, reviewed and tagged: monitoring has just started."""
    hotfix = approved(driver)
    reviewed(driver, remote.clone(tmp_path / "engineer"), hotfix)
    driver.click("Tag & deploy", hotfix, user="UDEV")
    driver.settle()
    return hotfix


def monitored(driver: Driver, clock: ManualClock, span: timedelta = timedelta(minutes=30)) -> None:
    """The monitoring window runs its course (Stable merges back only after it); its reminders are posted."""
    clock.advance(span)
    driver.bot.service.timers.fire_due_timers()
    driver.settle()


def test_declare_to_close_on_a_real_remote(driver: Driver, remote: Remote, tmp_path: Path, clock: ManualClock) -> None:
    hotfix = approved(driver)
    engineer = remote.clone(tmp_path / "engineer")
    clock.advance(timedelta(minutes=12))
    head = engineer.push_fix(BRANCH)

    driver.click("Ready for review", hotfix, user="UDEV")
    driver.settle()
    request = driver.thread(hotfix)[-1]
    assert request.startswith(f"🔍 <@UREV1> <@UREV2>: review `hotfix/PROD-501-checkout-returns-500` at `{head[:10]}` "
                              "please")
    assert "1 file(s), +1 −1: `checkout.py`" in request
    assert "The diff:\n```diff --git a/checkout.py b/checkout.py" in request  # the reviewer reads the change itself
    assert "-    return sum(item.price for item in cart)\n+    return sum(0, item.price for item in cart)" in request
    assert "In review" in driver.status_text(hotfix)
    assert "Review reminder 17:42 UTC" in driver.status_text(hotfix)  # half of the 1 h SLA

    driver.click("Approve review", hotfix, user="UREV1")
    assert driver.submit_review(hotfix, user="UREV1", ticked=3).json()["response_action"] == "errors"
    driver.submit_review(hotfix, user="UREV1")
    driver.settle()
    assert "Review approved" in driver.status_text(hotfix)

    clock.advance(timedelta(minutes=5))
    driver.click("Tag & deploy", hotfix, user="UDEV")
    driver.settle()
    assert remote.rev("v1.10.1") == head
    assert remote.object_type("refs/tags/v1.10.1") == "tag"  # annotated: the deploy pipeline's trigger
    assert "Hotfix: HF-1/deploy-1" in remote.tag_message("v1.10.1")
    tagged = driver.thread(hotfix)[-1]
    assert tagged.startswith(f"🏷️ Tagged `v1.10.1` on `{head[:10]}` and pushed") and "Previous production: `v1.10.0`" in tagged
    assert "Monitoring" in driver.status_text(hotfix)

    clock.advance(timedelta(minutes=10))
    driver.bot.service.timers.fire_due_timers()
    driver.settle()
    assert driver.thread(hotfix)[-1] == "⏰ <@UDEV>: HF-1 monitoring check-in: are error rates and latency normal?"

    monitored(driver, clock, timedelta(minutes=20))
    driver.click("Stable", hotfix, user="UDEV")
    driver.settle()
    for target in ("main", "develop"):
        merge = remote.rev(target)
        assert remote.parents(merge)[1] == head  # --no-ff: a merge commit whose second parent is the fix
    assert not remote.has_ref(f"refs/heads/{BRANCH}")  # cleaned up once every target has the fix
    status = driver.status_text(hotfix)
    assert "Merged back, ready to close" in status and "✅ `main` · ✅ `develop`" in status
    assert driver.thread(hotfix)[-1] == ("🎉 Every target has the fix (`main`, `develop`); the bot deletes "
                                         "`hotfix/PROD-501-checkout-returns-500`. Press *Close* to finish.")

    driver.click("Close", hotfix, user="UDEV")
    driver.settle()
    closing = message_text(driver.slack.thread(hotfix.channel, hotfix.ts)[-1])
    assert closing.startswith("🏁 <@UDEV> closed HF-1. The post-mortem draft is below;")
    assert "• Review: 0s (target 1h 00m, within target)" in closing
    assert "• Fix & test: 12m" in closing
    assert "• Approved as Engineering manager: <@UEM> at" in closing
    # One reply per thing to read or act on: who must approve, 2 approvals, branch, review request, review, tag,
    # check-in, the window's end (Stable or Roll back?), stable, all merged, close. The status message carries the rest (the bot's merges, its branch).
    assert len(driver.thread(hotfix)) == QUIET_WALK_REPLIES
    assert "Closed" in driver.status_text(hotfix)
    assert driver.command("list", user="UDEV").text.startswith("No active hotfixes")


def test_roll_back_returns_to_fixing_and_the_second_deploy_gets_the_next_tag(
    driver: Driver, remote: Remote, tmp_path: Path
) -> None:
    hotfix = approved(driver)
    engineer = remote.clone(tmp_path / "engineer")
    reviewed(driver, engineer, hotfix)
    driver.click("Tag & deploy", hotfix, user="ULEAD")
    driver.settle()

    driver.click("Roll back", hotfix, user="UDEV")
    driver.settle()
    assert driver.thread(hotfix)[-1].startswith("⏪ <@UDEV> rolled back `v1.10.1`. Redeploy `v1.10.0` now.")
    assert "Fixing" in driver.status_text(hotfix)
    assert remote.has_ref(f"refs/heads/{BRANCH}")  # the branch stays for the fix of the fix

    second = reviewed(driver, engineer, hotfix, fix=CHECKOUT_FIX + "# and the fix of the fix\n")
    driver.click("Tag & deploy", hotfix, user="UDEV")
    driver.settle()
    assert remote.rev("v1.10.2") == second
    assert "`v1.10.2` (was `v1.10.1`)" in driver.status_text(hotfix)


def test_a_merge_conflict_is_reported_and_a_hand_merge_is_verified_from_git(
    driver: Driver, remote: Remote, tmp_path: Path, clock: ManualClock
) -> None:
    hotfix = approved(driver)
    engineer = remote.clone(tmp_path / "engineer")
    reviewed(driver, engineer, hotfix, filename="payments.py",  # develop changed payments.py since v1.10.0
             fix="def charge(card):\n    return gateway.charge(card, idempotent=True)\n")
    driver.click("Tag & deploy", hotfix, user="UDEV")
    driver.settle()
    develop_before = remote.rev("develop")
    monitored(driver, clock)

    driver.click("Stable", hotfix, user="UDEV")
    driver.settle()
    conflict = next(t for t in driver.thread(hotfix) if t.startswith("⚠️ Merging into `develop`"))
    assert "conflicts in `payments.py`; nothing was pushed" in conflict
    assert f"git merge --no-ff {remote.rev(BRANCH)}" in conflict  # the reviewed commit, not whatever the branch is
    assert remote.rev("develop") == develop_before
    assert "✅ `main` · ⏳ `develop`" in driver.status_text(hotfix)

    driver.click("Merged by hand", hotfix, user="UDEV")  # nothing merged yet: verification finds nothing
    driver.settle()
    assert "⏳ `develop`" in driver.status_text(hotfix)

    engineer.switch("develop")
    git(engineer.path, "merge", "--no-ff", "--quiet", f"origin/{BRANCH}", "-X", "theirs", "-m", "Merge hotfix by hand")
    engineer.push("HEAD:refs/heads/develop")
    driver.click("Merged by hand", hotfix, user="UDEV")
    driver.settle()
    assert "Merged back, ready to close" in driver.status_text(hotfix)
    assert any("`develop` has the fix (merged by hand" in t for t in driver.thread(hotfix))


def test_overdue_merge_back_is_reminded_until_git_shows_the_fix(
    driver: Driver, remote: Remote, tmp_path: Path, clock: ManualClock
) -> None:
    hotfix = approved(driver)
    engineer = remote.clone(tmp_path / "engineer")
    reviewed(driver, engineer, hotfix, filename="payments.py", fix="def charge(card):\n    return None\n")
    driver.click("Tag & deploy", hotfix, user="UDEV")
    driver.settle()
    monitored(driver, clock)
    driver.click("Stable", hotfix, user="UDEV")
    driver.settle()

    clock.advance(timedelta(minutes=30))
    driver.bot.service.timers.fire_due_timers()
    driver.settle()
    assert driver.thread(hotfix)[-1] == ("⏰ <@UDEV>: merge-back of HF-1 is overdue: git does not show the fix in "
                                         "`develop` yet.")

    engineer.switch("develop")
    git(engineer.path, "merge", "--no-ff", "--quiet", f"origin/{BRANCH}", "-X", "theirs", "-m", "Merge by PR")
    engineer.push("HEAD:refs/heads/develop")
    clock.advance(timedelta(minutes=15))
    driver.bot.service.timers.fire_due_timers()
    driver.settle()
    assert "Merged back, ready to close" in driver.status_text(hotfix)
    reminders = [t for t in driver.thread(hotfix) if t.startswith("⏰ <@UDEV>: merge-back")]
    assert len(reminders) == 1  # the fix was found, so no second reminder


def test_tag_and_deploy_before_review_and_a_declarer_reviewing_are_refused(
    driver: Driver, remote: Remote, tmp_path: Path
) -> None:
    hotfix = approved(driver)
    remote.clone(tmp_path / "engineer").push_fix(BRANCH)
    assert driver.command("deploy HF-1", user="UDEV").text == (
        "HF-1 is fixing: you can tag and deploy only after a reviewer approved the change.")
    driver.click("Ready for review", hotfix, user="UDEV")
    driver.settle()
    driver.click("Approve review", hotfix, user="UDEV")
    assert driver.ephemerals("UDEV")[-1] == "You declared HF-1, so someone else has to review it."
    assert "v1.10.1" not in remote.tags()


def test_two_hotfixes_at_once_keep_their_own_thread_branch_and_tag(driver: Driver, remote: Remote, tmp_path: Path) -> None:
    first = approved(driver, title="Checkout returns 500", issue_id="PROD-501")
    second = approved(driver, title="Login loops", issue_id="PROD-502")
    engineer = remote.clone(tmp_path / "engineer")
    reviewed(driver, engineer, first, "hotfix/PROD-501-checkout-returns-500")
    reviewed(driver, engineer, second, "hotfix/PROD-502-login-loops")
    driver.click("Tag & deploy", first, user="UDEV")
    driver.click("Tag & deploy", second, user="UDEV")
    driver.settle()
    assert {remote.rev("v1.10.1"), remote.rev("v1.10.2")} == {
        remote.rev("refs/heads/hotfix/PROD-501-checkout-returns-500"), remote.rev("refs/heads/hotfix/PROD-502-login-loops")}
    assert first.ts != second.ts
    assert all("PROD-502" not in t and "login-loops" not in t for t in driver.thread(first))


def test_review_sla_reminds_the_reviewers_at_half_time_and_when_overdue(
    driver: Driver, remote: Remote, tmp_path: Path, clock: ManualClock
) -> None:
    hotfix = approved(driver)
    remote.clone(tmp_path / "engineer").push_fix(BRANCH)
    driver.click("Ready for review", hotfix, user="UDEV")
    driver.settle()

    clock.advance(timedelta(minutes=30))
    driver.bot.service.timers.fire_due_timers()
    driver.settle()
    assert driver.thread(hotfix)[-1] == ("⏰ <@UREV1> <@UREV2>: review of HF-1 "
                                         "(`hotfix/PROD-501-checkout-returns-500`) is half-way through its SLA. "
                                         "Please review it now.")
    clock.advance(timedelta(minutes=30))
    driver.bot.service.timers.fire_due_timers()
    driver.settle()
    assert "is overdue" in driver.thread(hotfix)[-1]
    assert {c["channel"] for c in driver.slack.calls_to("chat.postMessage") if c["channel"].startswith("UREV")} == {
        "UREV1", "UREV2"}  # each reviewer also gets a DM

    driver.click("Approve review", hotfix, user="UREV1")
    driver.submit_review(hotfix, user="UREV1")
    driver.settle()
    clock.advance(timedelta(hours=2))
    assert driver.bot.service.timers.fire_due_timers() == 0  # the review cancelled the SLA reminders


def test_the_end_of_monitoring_asks_stable_or_roll_back_in_the_thread_until_answered(
    driver: Driver, remote: Remote, tmp_path: Path, clock: ManualClock
) -> None:
    hotfix = tagged(driver, remote, tmp_path)
    monitored(driver, clock)
    question = driver.slack.thread(hotfix.channel, hotfix.ts)[-1]
    assert question["text"] == ("⏰ <@UDEV>: the monitoring window of HF-1 (`v1.10.1`) is over. "
                                "Press Stable or Roll back.")

    clock.advance(timedelta(minutes=10))
    driver.bot.service.timers.fire_due_timers()
    driver.settle()
    assert driver.thread(hotfix)[-1] == question["text"]  # unanswered: asked again

    from bot.standins import payloads
    from tests.support.driver import find_button
    stable = find_button(question, "Stable")
    answer = driver.post(payloads.block_actions(stable["action_id"], stable["value"], user_id="UDEV",
                                                channel_id=hotfix.channel, message_ts=question["ts"], message=question))
    assert answer.status == 200
    driver.settle()
    assert "Merged back, ready to close" in driver.status_text(hotfix)
    clock.advance(timedelta(hours=1))
    driver.bot.service.timers.fire_due_timers()
    driver.settle()
    thread = driver.thread(hotfix)
    answered = max(i for i, t in enumerate(thread) if t.startswith("✅ <@UDEV> confirmed HF-1 stable"))
    assert not any("monitoring" in t for t in thread[answered:])
