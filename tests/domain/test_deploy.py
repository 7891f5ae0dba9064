"""Deploy verification at the domain level: which probe results are news. Plain objects, no I/O."""
from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.deploy import record_probe, reports_version
from bot.domain.hotfix import BOT, Event, EventKind, Hotfix, Stage
from bot.domain.policy import Severity

TAGGED_AT = datetime(2026, 11, 20, 17, 0, tzinfo=UTC)
LATER = TAGGED_AT + timedelta(minutes=3)
TAGGED = Event(EventKind.TAGGED, BOT, TAGGED_AT, {"tag": "v1.10.1"})
MONITORED = Hotfix(title="Checkout returns 500", issue_id="PROD-501", severity=Severity.HIGH, impact="", risk="",
                   repo="payments", branch="hotfix/PROD-501-x", declared_by="UDEV", declared_at=TAGGED_AT,
                   stage=Stage.MONITORING, number=1, tag="v1.10.1")


def news(events: list[Event], *, healthy: bool | None = True, live: bool | None = None,
         hotfix: Hotfix = MONITORED) -> list[EventKind]:
    outcome = record_probe(hotfix, healthy=healthy, detail="HTTP 503", live=live, events=events, now=LATER)
    return [e.kind for e in outcome.events]


def test_only_a_change_of_health_is_news() -> None:
    failed = Event(EventKind.HEALTH_FAILED, BOT, TAGGED_AT, {"detail": "HTTP 503"})
    assert news([TAGGED], healthy=False) == [EventKind.HEALTH_FAILED]
    assert news([TAGGED, failed], healthy=False) == []
    assert news([TAGGED, failed], healthy=True) == [EventKind.HEALTH_RECOVERED]
    assert news([TAGGED], healthy=True) == news([TAGGED], healthy=None) == []
    assert news([failed, TAGGED], healthy=False) == [EventKind.HEALTH_FAILED]  # a new tag is judged afresh


def test_the_tag_goes_live_once_and_says_how_long_after_the_tag() -> None:
    outcome = record_probe(MONITORED, healthy=None, detail="", live=True, events=[TAGGED], now=LATER)
    assert [(e.kind, e.detail["tag"], e.detail["after_tag"]) for e in outcome.events] == [
        (EventKind.WENT_LIVE, "v1.10.1", "3m")]
    assert news([TAGGED, *outcome.events], live=True) == []


def test_results_after_monitoring_are_ignored() -> None:
    assert news([TAGGED], healthy=False, live=True, hotfix=replace(MONITORED, stage=Stage.MERGING_BACK)) == []


@pytest.mark.parametrize(("body", "live"), [
    ('{"version": "v1.10.1"}', True), ("v1.10.1\n", True), ("release v1.10.1, built today", True),
    ('{"version": "v1.10.12"}', False), ('{"version": "v1.10.1-rc1"}', False), ("xv1.10.1", False),
    ('{"version": "v1.10.0"}', False), ("", False),
])
def test_the_version_endpoint_must_name_the_tag_as_a_whole_version(body: str, live: bool) -> None:
    assert reports_version(body, "v1.10.1") is live
