"""Faults lose nothing: git remote down, push rejected, tag taken, a process killed mid-step, Slack down.

Real git (a bare remote under tmp_path, broken the way servers break) and real HTTP (signed requests in, the
fake Slack Web API out). Retries are made due by moving the ManualClock, never by sleeping.
"""
from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import and_, exists, func
from sqlmodel import Session, select

from bot.config import Settings, load_config
from bot.domain.hotfix import EventKind
from bot.domain.timers import TimerKind
from bot.git.ops import GitOps
from bot.git.worker import merge_message, release_message
from bot.service.clock import ManualClock
from bot.service.jobs import GIT
from bot.slack.notifier import SLACK
from bot.store import jobs
from bot.store.tables import JobRow
from bot.wiring import Bot, build
from tests.conftest import SECRET
from tests.support.driver import Driver, Posted
from tests.support.fake_slack import FakeSlack
from tests.support.gitrepos import Clone, Remote, git

BRANCH = "hotfix/PROD-501-checkout-returns-500"
BRANCH_REF = f"refs/heads/{BRANCH}"
PAST_ANY_BACKOFF = timedelta(minutes=6)  # JobRunner caps its back-off at 5 minutes

REJECT_HOTFIX_BRANCHES = """
while read old new ref; do
  case "$ref" in
    refs/heads/hotfix/*) echo "hotfix/* branches are created by the release team only" >&2; exit 1 ;;
  esac
done
exit 0
"""

# A colleague's push of v1.10.1 lands after the bot fetched and before its own push is applied. The hook runs
# inside git's quarantine, where ref updates are refused, so it steps out of it to create the competing tag.
COMPETING_TAG_AT_THE_LAST_MOMENT = """
while read old new ref; do
  if [ "$ref" = refs/tags/v1.10.1 ] && ! git show-ref --quiet --verify refs/tags/v1.10.1; then
    taken="$(git rev-parse 'v1.10.0^{commit}')"
    env -u GIT_QUARANTINE_PATH git update-ref refs/tags/v1.10.1 "$taken" || exit 1
  fi
done
exit 0
"""


# --- helpers ------------------------------------------------------------------------------------------------
def stage_is(driver: Driver, hotfix: Posted, label: str) -> bool:
    return f"*Stage*\n{label}" in driver.status_text(hotfix)


def replies(driver: Driver, hotfix: Posted, prefix: str) -> list[str]:
    return [text for text in driver.thread(hotfix) if text.startswith(prefix)]


def events(bot: Bot, hotfix: Posted, kind: EventKind) -> list:
    return [e for e in bot.service.read.timeline(hotfix.key)[1] if e.kind is kind]


def git_jobs(bot: Bot, kind: str) -> list[JobRow]:
    with Session(bot.engine) as session:
        return list(session.exec(select(JobRow).where(JobRow.queue == GIT, JobRow.kind == kind)).all())


def hotfix_branches(remote: Remote) -> list[str]:
    listing = git(remote.path, "for-each-ref", "--format=%(refname) %(objectname)", "refs/heads/hotfix/")
    return listing.splitlines()


def take_remote_offline(remote: Remote) -> Path:
    offline = remote.path.with_name(remote.path.name + ".offline")
    remote.path.rename(offline)
    return offline


def approve(driver: Driver, hotfix: Posted) -> None:
    assert driver.click("Approve", hotfix, user="UEM").status == 200
    assert driver.click("Approve", hotfix, user="ULEAD").status == 200


def review(driver: Driver, engineer: Clone, hotfix: Posted) -> str:
    head = engineer.push_fix(BRANCH)
    driver.click("Ready for review", hotfix, user="UDEV")
    driver.settle()
    assert driver.click("Approve review", hotfix, user="UREV1").status == 200
    assert driver.submit_review(hotfix, user="UREV1").status == 200
    driver.settle()
    assert stage_is(driver, hotfix, "Review approved")
    return head


def settle(driver: Driver) -> None:
    """Like Driver.settle, but also quiet while a lane waits behind a job that will retry later.

    Driver.settle counts every due pending job as work left, including jobs queued behind a Slack post that is
    waiting out its back-off; those cannot run until the clock moves, so it would time out.
    """
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        time.sleep(0.02)
        if driver.bot.run_pending() == 0 and not runnable_or_running(driver.bot):
            return
    raise AssertionError("jobs still running after 10 s")


def runnable_or_running(bot: Bot) -> int:
    now = bot.clock.now()
    earlier = JobRow.__table__.alias("earlier")
    blocked = exists().where(and_(earlier.c.lane == JobRow.lane, earlier.c.id < JobRow.id,
                                  earlier.c.state.in_(["pending", "running"])))
    runnable = (JobRow.state == "pending") & (JobRow.not_before <= now) & ~blocked
    with Session(bot.engine) as session:
        busy = (JobRow.state == "running") | runnable
        return session.exec(select(func.count()).select_from(JobRow).where(busy)).one()


def retry_rounds(driver: Driver, clock: ManualClock, rounds: int) -> None:
    for _ in range(rounds):
        clock.advance(PAST_ANY_BACKOFF)
        settle(driver)


@contextmanager
def process(env: dict[str, str], slack: FakeSlack, clock: ManualClock, *, workers: bool) -> Iterator[Driver]:
    """A bot process on the shared database, driven over HTTP; without workers it runs jobs only when told."""
    settings = Settings.from_env(env)
    bot = build(settings, load_config(settings.config_path), clock=clock, poll_seconds=0.05)
    if workers:
        bot.start_workers()
    driver = Driver(bot, slack, SECRET)
    try:
        yield driver
    finally:
        driver.close()
        bot.stop()


def deliver_slack_only(bot: Bot) -> None:
    """Slack posts go out; the git job the clicks queued stays pending for the worker that is about to die."""
    while bot.runners[SLACK].run_pending():
        pass


def die_holding_the_git_job(bot: Bot, clock: ManualClock, kind: str) -> None:
    claimed = jobs.claim(bot.engine, queue=GIT, worker="dead:1", now=clock.now(), lease=timedelta(minutes=10))
    assert [job.kind for job in claimed] == [kind]


# --- git remote down ----------------------------------------------------------------------------------------
def test_remote_down_at_the_last_approval_is_told_once_and_the_branch_is_cut_once_it_is_back(
    driver: Driver, remote: Remote, clock: ManualClock
) -> None:
    hotfix = driver.declare()
    driver.click("Approve", hotfix, user="UEM")
    driver.settle()
    offline = take_remote_offline(remote)

    driver.click("Approve", hotfix, user="ULEAD")
    driver.settle()
    retry_rounds(driver, clock, 4)

    down = replies(driver, hotfix, "⚠️")
    assert len(down) == 1, driver.thread(hotfix)
    assert down[0].startswith("⚠️ Can't reach the git remote of payments") and down[0].endswith(
        "Retrying until it is back.")
    assert stage_is(driver, hotfix, "Approved, cutting branch")
    [job] = git_jobs(driver.bot, "cut_branch")
    assert job.state == "pending" and job.attempts >= 5  # it really was retried, quietly

    offline.rename(remote.path)
    retry_rounds(driver, clock, 1)

    assert hotfix_branches(remote) == [f"{BRANCH_REF} {remote.rev('v1.10.0')}"]
    assert len(replies(driver, hotfix, f"🌿 Branch `{BRANCH}` pushed from `v1.10.0`")) == 1
    assert len(replies(driver, hotfix, "⚠️")) == 1
    assert stage_is(driver, hotfix, "Fixing")
    retry_rounds(driver, clock, 2)
    assert len(replies(driver, hotfix, "🌿")) == 1


def test_remote_down_at_tag_and_deploy_is_told_once_and_tags_once_it_is_back(
    driver: Driver, remote: Remote, tmp_path: Path, clock: ManualClock
) -> None:
    hotfix = driver.declare()
    approve(driver, hotfix)
    driver.settle()
    head = review(driver, remote.clone(tmp_path / "engineer"), hotfix)
    offline = take_remote_offline(remote)  # the bot's mirror exists now: its fetch fails, not a first clone

    driver.click("Tag & deploy", hotfix, user="UDEV")
    driver.settle()
    retry_rounds(driver, clock, 3)
    down = replies(driver, hotfix, "⚠️")
    assert len(down) == 1, driver.thread(hotfix)
    assert down[0].startswith("⚠️ Can't reach the git remote of payments")
    assert stage_is(driver, hotfix, "Tagging & deploying")

    offline.rename(remote.path)
    retry_rounds(driver, clock, 1)
    assert remote.rev("v1.10.1") == head and "v1.10.2" not in remote.tags()
    assert len(replies(driver, hotfix, "🏷️ Tagged `v1.10.1`")) == 1
    assert stage_is(driver, hotfix, "Monitoring")


# --- push rejected ------------------------------------------------------------------------------------------
def test_a_rejected_branch_push_is_told_plainly_with_gits_reason_and_not_retried(
    driver: Driver, remote: Remote, clock: ManualClock
) -> None:
    remote.install_hook("pre-receive", REJECT_HOTFIX_BRANCHES)
    hotfix = driver.declare()
    approve(driver, hotfix)
    driver.settle()

    [failure] = replies(driver, hotfix, "⚠️")
    assert failure.startswith(f"⚠️ Cutting the branch failed: The remote rejected the push to {BRANCH_REF}")
    assert "pre-receive hook declined" in failure  # git's own reason
    assert [job.state for job in git_jobs(driver.bot, "cut_branch")] in (["done"], ["failed"])
    assert hotfix_branches(remote) == []

    retry_rounds(driver, clock, 3)
    assert len(replies(driver, hotfix, "⚠️")) == 1  # told once, not retried forever
    assert hotfix_branches(remote) == []
    assert not replies(driver, hotfix, "🌿")


def test_a_rejected_branch_push_tells_the_thread_what_the_server_said(driver: Driver, remote: Remote) -> None:
    """The hook's own words are the only place the team learns *why* (protected branch, permissions...)."""
    remote.install_hook("pre-receive", REJECT_HOTFIX_BRANCHES)
    hotfix = driver.declare()
    approve(driver, hotfix)
    driver.settle()

    [failure] = replies(driver, hotfix, "⚠️")
    assert "hotfix/* branches are created by the release team only" in failure, failure
    assert failure.endswith("Fix that, then press *Retry*.")


def test_retry_after_the_server_allows_the_push_cuts_the_branch(driver: Driver, remote: Remote) -> None:
    remote.install_hook("pre-receive", REJECT_HOTFIX_BRANCHES)
    hotfix = driver.declare()
    approve(driver, hotfix)
    driver.settle()
    assert "Approved, cutting branch" in driver.status_text(hotfix)

    (remote.path / "hooks" / "pre-receive").unlink()  # an admin lets the bot push hotfix/* branches
    assert driver.click("Retry branch", hotfix, user="UDEV").status == 200
    driver.settle()
    assert hotfix_branches(remote) == [f"{BRANCH_REF} {remote.rev('v1.10.0')}"]
    assert "Fixing" in driver.status_text(hotfix)
    assert len(replies(driver, hotfix, "🌿")) == 1


# --- tag taken ----------------------------------------------------------------------------------------------
def test_a_tag_someone_else_took_is_skipped_and_the_thread_names_the_tag_the_bot_pushed(
    driver: Driver, remote: Remote, tmp_path: Path
) -> None:
    hotfix = driver.declare()
    approve(driver, hotfix)
    driver.settle()
    engineer = remote.clone(tmp_path / "engineer")
    head = review(driver, engineer, hotfix)
    colleague = remote.clone(tmp_path / "colleague")
    git(colleague.path, "tag", "-a", "v1.10.1", "-m", "Someone else's release", "origin/develop")
    colleague.push("refs/tags/v1.10.1")
    theirs = remote.rev("v1.10.1")

    driver.click("Tag & deploy", hotfix, user="UDEV")
    driver.settle()

    assert remote.rev("v1.10.2") == head
    assert remote.rev("v1.10.1") == theirs  # never moved
    [tagged] = replies(driver, hotfix, "🏷️")
    assert tagged.startswith(f"🏷️ Tagged `v1.10.2` on `{head[:10]}` and pushed"), tagged
    assert "`v1.10.2`" in driver.status_text(hotfix) and stage_is(driver, hotfix, "Monitoring")
    assert not replies(driver, hotfix, "⚠️")


def test_a_tag_taken_between_the_bots_fetch_and_its_push_is_skipped(
    driver: Driver, remote: Remote, tmp_path: Path
) -> None:
    hotfix = driver.declare()
    approve(driver, hotfix)
    driver.settle()
    head = review(driver, remote.clone(tmp_path / "engineer"), hotfix)
    remote.install_hook("pre-receive", COMPETING_TAG_AT_THE_LAST_MOMENT)

    driver.click("Tag & deploy", hotfix, user="UDEV")
    driver.settle()

    assert remote.rev("v1.10.1") == remote.rev("v1.10.0")  # the colleague's tag won the race and stays
    assert remote.rev("v1.10.2") == head
    [tagged] = replies(driver, hotfix, "🏷️")
    assert tagged.startswith("🏷️ Tagged `v1.10.2`"), tagged
    assert not replies(driver, hotfix, "⚠️")


# --- a process killed mid-step; restarting resumes exactly once ---------------------------------------------
@pytest.mark.parametrize("died", ["after claiming", "after pushing", "after reporting"])
def test_a_worker_killed_while_cutting_the_branch_is_resumed_exactly_once_after_restart(
    died: str, env: dict[str, str], slack: FakeSlack, clock: ManualClock, remote: Remote, tmp_path: Path
) -> None:
    with process(env, slack, clock, workers=False) as a:
        hotfix = a.declare()
        approve(a, hotfix)
        deliver_slack_only(a.bot)
        assert stage_is(a, hotfix, "Approved, cutting branch")
        die_holding_the_git_job(a.bot, clock, "cut_branch")
        if died in ("after pushing", "after reporting"):
            spec = a.bot.current.rules().repos["payments"]
            cut = GitOps(tmp_path / "dead-worker").cut_branch(spec, BRANCH)
            if died == "after reporting":
                a.bot.service.reports.record_branch_cut(a.bot.service.read.get(hotfix.key).number,
                                                        base_ref=cut.base_ref, base_commit=cut.base_commit)
        # the process is gone before it finished the job (and before it delivered anything else)

    clock.advance(timedelta(minutes=1))
    with process(env, slack, clock, workers=True) as b:
        b.settle()
        retry_rounds(b, clock, 2)

        assert hotfix_branches(remote) == [f"{BRANCH_REF} {remote.rev('v1.10.0')}"]
        assert len(events(b.bot, hotfix, EventKind.BRANCH_CUT)) == 1
        assert len(replies(b, hotfix, f"🌿 Branch `{BRANCH}` pushed from `v1.10.0`")) == 1
        assert stage_is(b, hotfix, "Fixing")
        assert not replies(b, hotfix, "⚠️")
        assert [job.state for job in git_jobs(b.bot, "cut_branch")] == ["done"]


@pytest.mark.parametrize("died, queued_by", [("after claiming", "this version"),
                                              ("after pushing the tag", "this version"),
                                              ("after reporting", "this version"),
                                              ("after pushing the tag", "the version before typed jobs")])
def test_a_worker_killed_while_tagging_is_resumed_exactly_once_after_restart(
    died: str, queued_by: str, env: dict[str, str], slack: FakeSlack, clock: ManualClock, remote: Remote,
    tmp_path: Path
) -> None:
    with process(env, slack, clock, workers=False) as a:
        hotfix = a.declare()
        approve(a, hotfix)
        a.settle()
        head = review(a, remote.clone(tmp_path / "engineer"), hotfix)
        a.click("Tag & deploy", hotfix, user="UDEV")
        deliver_slack_only(a.bot)
        die_holding_the_git_job(a.bot, clock, "tag_release")
        if queued_by != "this version":  # an upgrade mid-deploy: the job row as that version wrote it
            with Session(a.bot.engine) as session:
                row = session.exec(select(JobRow).where(JobRow.kind == "tag_release")).one()
                row.payload = "{}"
                session.add(row)
                session.commit()
        if died != "after claiming":
            spec = a.bot.current.rules().repos["payments"]
            marker = f"{hotfix.key}/deploy-1"  # GitWorker.tag_release: one marker per deploy attempt
            tagged = GitOps(tmp_path / "dead-worker").tag_release(
                spec, BRANCH, head, marker=marker, message=release_message(a.bot.service.read.get(hotfix.key)))
            assert tagged.tag == "v1.10.1"
            if died == "after reporting":
                a.bot.service.reports.record_tag(a.bot.service.read.get(hotfix.key).number, tag=tagged.tag,
                                                 commit=tagged.commit, previous_tag=tagged.previous_tag)

    clock.advance(timedelta(minutes=1))
    with process(env, slack, clock, workers=True) as b:
        b.settle()
        assert remote.rev("v1.10.1") == head
        assert {t for t in remote.tags() if t.startswith("v1.10.")} == {"v1.10.0", "v1.10.1"}
        assert len(events(b.bot, hotfix, EventKind.TAGGED)) == 1
        assert len(replies(b, hotfix, f"🏷️ Tagged `v1.10.1` on `{head[:10]}`")) == 1
        assert stage_is(b, hotfix, "Monitoring")
        timers = sorted(t.kind for t in b.bot.service.read.pending_timers(b.bot.service.read.get(hotfix.key).number))
        assert timers == sorted([TimerKind.MONITORING_CHECKIN, TimerKind.MONITORING_END])

        clock.advance(timedelta(minutes=10))
        b.bot.service.timers.fire_due_timers()
        b.settle()
        assert replies(b, hotfix, "⏰") == [
            f"⏰ <@UDEV>: {hotfix.key} monitoring check-in: are error rates and latency normal?"]
        assert not replies(b, hotfix, "⚠️")


def test_a_worker_killed_after_merging_main_back_merges_each_target_exactly_once_after_restart(
    env: dict[str, str], slack: FakeSlack, clock: ManualClock, remote: Remote, tmp_path: Path
) -> None:
    with process(env, slack, clock, workers=False) as a:
        hotfix = a.declare()
        approve(a, hotfix)
        a.settle()
        head = review(a, remote.clone(tmp_path / "engineer"), hotfix)
        a.click("Tag & deploy", hotfix, user="UDEV")
        a.settle()
        main_before = remote.rev("main")
        clock.advance(timedelta(minutes=30))  # Stable merges back only after the monitoring window
        a.click("Stable", hotfix, user="UDEV")
        deliver_slack_only(a.bot)
        die_holding_the_git_job(a.bot, clock, "merge_back")
        spec = a.bot.current.rules().repos["payments"]
        GitOps(tmp_path / "dead-worker").merge_back(
            spec, head, "main", message=merge_message(a.bot.service.read.get(hotfix.key), "main"))

    clock.advance(timedelta(minutes=1))
    with process(env, slack, clock, workers=True) as b:
        b.settle()
        for target in ("main", "develop"):
            assert remote.parents(remote.rev(target))[1] == head
        assert remote.parents(remote.rev("main"))[0] == main_before  # one merge commit on main, not two
        merged = events(b.bot, hotfix, EventKind.MERGED_BACK)
        assert sorted(e.detail["target"] for e in merged) == ["develop", "main"]
        assert len(replies(b, hotfix, "🎉 Every target has the fix (`main`, `develop`)")) == 1
        assert stage_is(b, hotfix, "Merged back, ready to close")
        assert not remote.has_ref(BRANCH_REF)


# --- Slack down while the git job reports -------------------------------------------------------------------
def test_slack_down_while_the_branch_is_cut_delivers_every_reply_once_and_in_order(
    driver: Driver, slack: FakeSlack, remote: Remote, clock: ManualClock
) -> None:
    hotfix = driver.declare()
    driver.click("Approve", hotfix, user="UEM")
    settle(driver)
    slack.fail_next("chat.postMessage", status=503, times=3)

    driver.click("Approve", hotfix, user="ULEAD")
    settle(driver)
    assert remote.has_ref(BRANCH_REF)  # git went on while Slack was down
    assert len(slack.failed_calls) >= 1

    retry_rounds(driver, clock, 4)
    assert len(slack.failed_calls) == 3
    thread = driver.thread(hotfix)
    expected = ["HF-1 needs approval from", "✅ <@UEM> approved",
                "✅ <@ULEAD> approved as On-call lead (2 of 2): all approvals in", f"🌿 Branch `{BRANCH}` pushed"]
    assert len(thread) == len(expected), thread
    for text, start in zip(thread, expected):
        assert text.startswith(start), thread
    assert stage_is(driver, hotfix, "Fixing")


def test_slack_down_while_the_remote_is_down_still_tells_the_thread_once(
    driver: Driver, slack: FakeSlack, remote: Remote, clock: ManualClock
) -> None:
    hotfix = driver.declare()
    driver.click("Approve", hotfix, user="UEM")
    settle(driver)
    offline = take_remote_offline(remote)
    slack.fail_next("chat.postMessage", status=503, times=3)

    driver.click("Approve", hotfix, user="ULEAD")
    settle(driver)
    retry_rounds(driver, clock, 4)
    offline.rename(remote.path)
    retry_rounds(driver, clock, 2)

    thread = driver.thread(hotfix)
    heads = ("✅ <@ULEAD> approved as On-call lead (2 of 2): all approvals in",
             "⚠️ Can't reach the git remote of payments", f"🌿 Branch `{BRANCH}` pushed")
    assert len(thread) >= 3 and all(t.startswith(h) for t, h in zip(thread[-3:], heads)), thread
    assert len(replies(driver, hotfix, "⚠️ Can't reach the git remote of payments")) == 1
    assert len(replies(driver, hotfix, "🌿")) == 1
    assert stage_is(driver, hotfix, "Fixing")
