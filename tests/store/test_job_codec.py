"""Outbox jobs are typed: what a use case queues is what its worker gets back, and jobs queued by the version
before jobs were typed still run after an upgrade."""
from __future__ import annotations

import json
from datetime import UTC, datetime

from bot.domain.hotfix import Event, EventKind
from bot.service.jobs import GitJob, ProbeJob
from bot.slack.notifier import SLACK_JOBS, DirectMessage, StakeholderLine, StatusRefresh, ThreadReply
from bot.store.job_codec import Decoder, encode

AT = datetime(2026, 11, 20, 17, 0, tzinfo=UTC)
EVENT = Event(EventKind.APPROVED, "UEM", AT, {"role": "engineering_manager"})
DECODER = Decoder((*SLACK_JOBS, GitJob, ProbeJob))


def test_every_job_comes_back_as_it_was_queued() -> None:
    queued = [StatusRefresh(7), ThreadReply(7, 41, EVENT), DirectMessage(7, 41, EVENT, "UREV"),
              StakeholderLine(7, "", "awaiting_approval"), GitJob(7, "payments", "tag_release", attempt=2),
              GitJob(7, "payments", "verify_merged", remind=True), ProbeJob(7, "payments")]
    assert [DECODER.decode(encode(job)) for job in queued] == queued


def test_jobs_queued_before_they_were_typed_still_run() -> None:
    event = {"kind": "approved", "actor": "UEM", "at": AT.isoformat(), "detail": {"role": "engineering_manager"}}
    rows = [("status", "slack:HF-7", {}), ("announce", "slack:HF-7", {"event": event}),
            ("dm", "slack:HF-7", {"event": event, "user": "UREV"}),
            ("stakeholders", "slack:HF-7", {"from": "", "to": "awaiting_approval"}),
            ("verify_merged", "git:payments", {"remind": True}), ("tag_release", "git:payments", {}),
            ("probe_deploy", "probe:payments", {})]
    decoded = [DECODER.decode(json.dumps(payload), kind=kind, hotfix=7, lane=lane) for kind, lane, payload in rows]
    assert decoded == [StatusRefresh(7), ThreadReply(7, 0, EVENT), DirectMessage(7, 0, EVENT, "UREV"),
                       StakeholderLine(7, "", "awaiting_approval"), GitJob(7, "payments", "verify_merged", remind=True),
                       GitJob(7, "payments", "tag_release", attempt=0), ProbeJob(7, "payments")]


def test_slack_jobs_queued_before_an_upgrade_share_the_hotfixs_lane_with_new_ones() -> None:
    """Jobs of one lane go out one at a time in order: an old status post still waiting (say, after a 429) must go
    out before a new reply, or the reply would post a second status message and the thread would be out of order."""
    new_jobs = [StatusRefresh(7), ThreadReply(7, 0, EVENT), DirectMessage(7, 0, EVENT, "UREV"),
                StakeholderLine(7, "", "awaiting_approval")]
    assert {job.lane for job in new_jobs} == {"slack:HF-7"}  # the lane the version before typed jobs wrote
