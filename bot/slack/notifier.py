"""The ONE place that decides what Slack hears of a move: a thread reply per event, the direct messages a reminder
also sends, the status message refreshed, and a stakeholder line per phase change. Written to the outbox in the
move's own transaction; bot.slack.delivery sends them."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from bot.domain import reminders
from bot.domain.hotfix import Effect, Event, PollCodeHost, ProbeDeploy
from bot.domain.timers import CancelTimers, StartTimer, TimerKind
from bot.service.ports import News, OutboxJob

SLACK = "slack"


@dataclass(frozen=True)
class _SlackJob:
    hotfix: int
    queue: ClassVar[str] = SLACK

    @property
    def lane(self) -> str:
        return f"slack:HF-{self.hotfix}"  # one hotfix's messages go out in order (the lane jobs queued before had)


@dataclass(frozen=True)
class StatusRefresh(_SlackJob):
    kind: ClassVar[str] = "status"


@dataclass(frozen=True)
class ThreadReply(_SlackJob):
    event_id: int = 0
    event: Event | None = None  # carried, so sending needs no round trip
    kind: ClassVar[str] = "announce"


@dataclass(frozen=True)
class DirectMessage(_SlackJob):
    event_id: int = 0
    event: Event | None = None
    user: str = ""
    kind: ClassVar[str] = "dm"


@dataclass(frozen=True)
class StakeholderLine(_SlackJob):
    before: str = ""  # the stage as it was ("" when just declared) and as it became
    after: str = ""
    kind: ClassVar[str] = "stakeholders"


SLACK_JOBS = (StatusRefresh, ThreadReply, DirectMessage, StakeholderLine)


def slack_jobs(news: News) -> list[OutboxJob]:
    number = news.hotfix.number
    assert number is not None
    jobs: list[OutboxJob] = []
    declared = news.change is not None and news.change.before is None
    if declared:
        jobs.append(StatusRefresh(number))  # posted first: the thread hangs under it
    for event_id, event in news.events:
        jobs.append(ThreadReply(number, event_id, event))
        jobs.extend(DirectMessage(number, event_id, event, user) for user in reminders.also_by_direct_message(event))
    if news.events or not all(map(_unseen, news.effects)):
        jobs.append(StatusRefresh(number))
    if news.change is not None:
        before = news.change.before.value if news.change.before else ""
        jobs.append(StakeholderLine(number, before, news.change.after.value))
    return jobs


def _unseen(effect: Effect) -> bool:
    """The probe's and the GitHub poll's loops change nothing the status message shows: no chat.update every 30 s
    or 15 s (what a poll learns arrives as events, and those refresh it)."""
    match effect:
        case ProbeDeploy() | StartTimer(kind=TimerKind.DEPLOY_PROBE):
            return True
        case PollCodeHost() | StartTimer(kind=TimerKind.CODE_HOST_POLL):
            return True
        case CancelTimers(kinds=(TimerKind.CODE_HOST_POLL,)):
            return True
    return False
