"""Deploy verification: what the health and version endpoints said while a hotfix was monitored."""
from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from bot.domain.durations import format_duration
from bot.domain.hotfix import BOT, Event, EventKind, Hotfix, Stage
from bot.domain.transitions import Outcome

_HEALTH = (EventKind.HEALTH_FAILED, EventKind.HEALTH_RECOVERED)


def record_probe(hotfix: Hotfix, *, healthy: bool | None, detail: str, live: bool | None,
                 events: Sequence[Event], now: datetime) -> Outcome:
    """Only changes are news: a service that stays down is posted once, not at every probe.

    `healthy` / `live` are None when that endpoint is not configured or gave no usable answer.
    """
    if hotfix.stage is not Stage.MONITORING or not hotfix.tag:
        return Outcome(hotfix)
    deploy = _this_deploy(events)
    news: list[Event] = []
    failing = health_failing(deploy)
    if healthy is False and not failing:
        news.append(Event(EventKind.HEALTH_FAILED, BOT, now, {"detail": detail}))
    elif healthy and failing:
        news.append(Event(EventKind.HEALTH_RECOVERED, BOT, now))
    if live and live_at(events, hotfix.tag) is None:
        tagged_at = deploy[0].at if deploy and deploy[0].kind is EventKind.TAGGED else now
        news.append(Event(EventKind.WENT_LIVE, BOT, now, {
            "tag": hotfix.tag, "at": now.isoformat(), "after_tag": format_duration(now - tagged_at)}))
    return Outcome(hotfix, tuple(news))


def health_failing(events: Sequence[Event]) -> bool:
    last = next((e for e in reversed(events) if e.kind in _HEALTH), None)
    return last is not None and last.kind is EventKind.HEALTH_FAILED


def live_at(events: Sequence[Event], tag: str) -> datetime | None:
    """When the version endpoint first reported `tag`, if it ever did."""
    return next((e.at for e in events if e.kind is EventKind.WENT_LIVE and e.detail.get("tag") == tag), None)


def reports_version(body: str, tag: str) -> bool:
    """The endpoint's answer names `tag` as a whole version: v1.10.1 is not v1.10.12 nor v1.10.1-rc1."""
    return re.search(rf"(?<![\w.]){re.escape(tag)}(?![-.+]?\w)", body) is not None


def _this_deploy(events: Sequence[Event]) -> Sequence[Event]:
    """From the latest tag on: after a rollback and a new tag, health is judged afresh."""
    start = max((i for i, e in enumerate(events) if e.kind is EventKind.TAGGED), default=0)
    return events[start:]
