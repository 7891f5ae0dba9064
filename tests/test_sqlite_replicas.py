"""Two real `serve --http` processes on one SQLite file: one leads (a lock file beside the database), the other
answers Slack, never resets the claims of a living leader, and takes over when the leader is killed."""
from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlmodel import Session, select

from bot.store.db import make_engine
from bot.store.tables import JobRow
from bot.standins import payloads
from tests.support.driver import declaration_state, eventually, find_button, message_text
from tests.support.fake_slack import FakeSlack
from tests.support.gitrepos import Remote, git
from tests.support.serve_process import Replica

TAKEOVER_LIMIT = 5.0
BRANCH_REF = "refs/heads/hotfix/PROD-501-checkout-returns-500"
Click = Callable[[Replica, str, str], int]  # (replica, button label, user) -> HTTP status


@pytest.fixture
def start(env: dict[str, str], tmp_path: Path) -> Iterator[Callable[[str], Replica]]:
    """Starts `serve --http` on the test's SQLite file and waits until it answers; all are stopped at the end."""
    running: list[Replica] = []

    def start_one(name: str) -> Replica:
        replica = Replica(env, tmp_path / f"{name}.log")
        running.append(replica)
        eventually(replica.health, timeout=30)
        return replica
    yield start_one
    for replica in running:
        replica.stop()


def role(replica: Replica) -> str | None:
    return (replica.health() or {}).get("role")


def declare(via: Replica, env: dict[str, str], slack: FakeSlack) -> tuple[dict, Click]:
    secret = env["SLACK_SIGNING_SECRET"]
    declared = payloads.view_submission("hotfix_declare", declaration_state(severity="high"), user_id="UDEV")
    assert via.post(declared, secret) == 200
    status = eventually(lambda: next((m for m in slack.messages("C0HOTFIX") if m["text"].startswith("HF-1 ")), None),
                        timeout=10)

    def click(replica: Replica, label: str, user: str) -> int:
        message = slack.message("C0HOTFIX", status["ts"])
        button = find_button(message, label)
        return replica.post(payloads.block_actions(button["action_id"], button["value"], user_id=user,
                                                   channel_id="C0HOTFIX", message_ts=status["ts"], message=message),
                            secret)
    return status, click


def cut_branch_jobs(env: dict[str, str]) -> list[tuple[str, int, str | None]]:
    engine = make_engine(env["DATABASE_URL"])
    try:
        with Session(engine) as session:
            rows = session.exec(select(JobRow).where(JobRow.kind == "cut_branch")).all()
            return [(row.state, row.attempts, row.claimed_by) for row in rows]
    finally:
        engine.dispose()


def hotfix_branches(remote: Remote) -> list[str]:
    return git(remote.path, "for-each-ref", "--format=%(refname) %(objectname)", "refs/heads/hotfix/").splitlines()


def branch_replies(slack: FakeSlack, status: dict) -> list[str]:
    return [m["text"] for m in slack.thread("C0HOTFIX", status["ts"]) if m["text"].startswith("🌿 Branch")]


def test_one_process_leads_the_other_answers_slack_and_takes_over_when_the_leader_is_killed(
    start: Callable[[str], Replica], env: dict[str, str], slack: FakeSlack, remote: Remote
) -> None:
    leader, follower = start("first"), start("second")
    assert [role(leader), role(follower)] == ["leader", "follower"]

    status, click = declare(follower, env, slack)  # the follower takes it; the leader posts it
    body = payloads.slash_command("status HF-1", user_id="UDEV")
    code, answer = follower.answer(body, env["SLACK_SIGNING_SECRET"])
    status_reply = json.loads(answer)
    assert code == 200 and status_reply["response_type"] == "ephemeral"
    assert "HF-1" in message_text(status_reply) and "Checkout returns 500" in message_text(status_reply)
    assert click(follower, "Approve", "UEM") == 200
    eventually(lambda: "✅ Engineering manager" in message_text(slack.message("C0HOTFIX", status["ts"])), timeout=10)

    leader.kill()
    killed_at = time.monotonic()
    assert click(follower, "Approve", "ULEAD") == 200  # queues the branch cut, with or without a leader yet
    eventually(lambda: role(follower) == "leader", timeout=TAKEOVER_LIMIT)
    assert time.monotonic() - killed_at < TAKEOVER_LIMIT

    eventually(lambda: "*Stage*\nFixing" in message_text(slack.message("C0HOTFIX", status["ts"])), timeout=10)
    time.sleep(1)  # a second run of the job would have shown by now
    assert hotfix_branches(remote) == [f"{BRANCH_REF} {remote.rev('v1.10.0')}"]
    assert len(branch_replies(slack, status)) == 1
    assert [(state, attempts) for state, attempts, _ in cut_branch_jobs(env)] == [("done", 1)]


def test_a_second_process_starting_leaves_the_job_the_living_leader_runs_alone(
    start: Callable[[str], Replica], env: dict[str, str], slack: FakeSlack, remote: Remote, tmp_path: Path
) -> None:
    pushing, gate = tmp_path / "pushing", tmp_path / "gate"
    remote.install_hook("pre-receive", f'touch "{pushing}"\ni=0\n'
                                       f'while [ ! -e "{gate}" ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i+1)); done\n')
    try:
        leader = start("first")
        status, click = declare(leader, env, slack)
        assert click(leader, "Approve", "UEM") == 200
        eventually(lambda: "✅ Engineering manager" in message_text(slack.message("C0HOTFIX", status["ts"])), timeout=10)
        assert click(leader, "Approve", "ULEAD") == 200
        eventually(pushing.exists, timeout=10)  # the leader is pushing the branch, its job claimed
        claimed = cut_branch_jobs(env)
        assert [(state, attempts) for state, attempts, _ in claimed] == [("running", 1)]
        assert claimed[0][2].endswith(f":{leader.process.pid}")

        second = start("second")  # answers /healthz once its start-up is done
        assert cut_branch_jobs(env) == claimed
        assert [role(leader), role(second)] == ["leader", "follower"]
    finally:
        gate.touch()

    eventually(lambda: "*Stage*\nFixing" in message_text(slack.message("C0HOTFIX", status["ts"])), timeout=10)
    time.sleep(1)  # a second run of the job would have shown by now
    assert hotfix_branches(remote) == [f"{BRANCH_REF} {remote.rev('v1.10.0')}"]
    assert len(branch_replies(slack, status)) == 1
    assert [(state, attempts) for state, attempts, _ in cut_branch_jobs(env)] == [("done", 1)]
