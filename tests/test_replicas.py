"""Several replicas on one PostgreSQL database: any answers Slack, one leads, a dead leader is replaced."""
from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.store import jobs
from bot.store.db import make_engine
from bot.standins import payloads
from tests.support.driver import declaration_state, eventually
from tests.support.serve_process import Replica

pytestmark = pytest.mark.postgres
TAKEOVER_LIMIT = 15.0


@pytest.fixture
def replicas(env: dict[str, str], postgres_url: str, tmp_path: Path) -> Iterator[list[Replica]]:
    env = {**env, "DATABASE_URL": postgres_url}
    started: list[Replica] = []
    try:
        for n in range(2):
            replica = Replica(env, tmp_path / f"replica-{n}.log")
            started.append(replica)
            eventually(lambda r=replica: r.health(), timeout=30)  # one at a time: the first creates the schema
        yield started
    finally:
        for replica in started:
            replica.stop()


def roles(replicas: list[Replica]) -> list[str | None]:
    return [(r.health() or {}).get("role") for r in replicas]


def test_one_replica_leads_both_answer_slack_and_a_killed_leader_is_replaced(replicas, slack, env, postgres_url) -> None:
    engine = make_engine(postgres_url)
    eventually(lambda: sorted(roles(replicas)) == ["follower", "leader"], timeout=10)
    leader, follower = sorted(replicas, key=lambda r: roles([r])[0] != "leader")

    body = payloads.view_submission("hotfix_declare", declaration_state(severity="high"), user_id="UDEV")
    assert follower.post(body, env["SLACK_SIGNING_SECRET"]) == 200  # a follower answers Slack too
    slack.wait_for("chat.postMessage", channel="C0HOTFIX", timeout=10)  # the leader delivers it
    # Killed with a Slack post in flight, the next leader would post it again (at least once, never lost);
    # this test is about the takeover, so the leader dies with its work recorded.
    eventually(lambda: jobs.unfinished(engine, now=datetime.now(UTC)) == 0, timeout=10)

    leader.kill()
    killed_at = time.monotonic()
    eventually(lambda: roles([follower]) == ["leader"], timeout=TAKEOVER_LIMIT)
    assert time.monotonic() - killed_at < TAKEOVER_LIMIT

    second = payloads.view_submission("hotfix_declare", declaration_state(severity="high", issue_id="PROD-502"),
                                      user_id="UDEV")
    assert follower.post(second, env["SLACK_SIGNING_SECRET"]) == 200
    statuses = lambda: [c for c in slack.calls_to("chat.postMessage", channel="C0HOTFIX") if "thread_ts" not in c.args]
    eventually(lambda: len(statuses()) == 2, timeout=10)
    time.sleep(1)
    assert [c["text"].split(" ")[0] for c in statuses()] == ["HF-1", "HF-2"]  # each posted once
