"""What the post-mortem says of a hotfix on GitHub: its pull requests, when the review and CI started and ended,
and any CI override. Facts only, read from the events; each rendering (Markdown, Slack) says them its own way."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.domain.github_ci import CI_KINDS, DEPLOY_CHECK_KINDS
from bot.domain.hotfix import Event, EventKind

_CI_ENDS = (EventKind.CI_PASSED, EventKind.CI_FAILED, EventKind.CI_MISSING, EventKind.CI_OVERRIDDEN)
_DEPLOY_CHECK_ENDS = (EventKind.DEPLOY_CHECKS_PASSED, EventKind.DEPLOY_CHECKS_FAILED)


@dataclass(frozen=True)
class PullRequestFact:
    number: int
    url: str
    target: str
    opened_at: datetime
    merged_at: datetime | None  # when the target was recorded as having the fix


@dataclass(frozen=True)
class Span:
    started: datetime | None
    ended: datetime | None  # None: it had not ended when the facts were read


@dataclass(frozen=True)
class CiOverride:
    user_id: str
    commit: str
    reason: str
    at: datetime


@dataclass(frozen=True)
class GitHubFacts:
    pull_requests: tuple[PullRequestFact, ...]
    review: Span  # from the pull request to the approval that shipped
    ci: Span  # from the first CI reading to the last verdict (passed, failed, none after the wait, overridden)
    deploy_checks: Span  # the checks the tag's push started
    overrides: tuple[CiOverride, ...]


def github_facts(events: Sequence[Event]) -> GitHubFacts | None:
    """None when the hotfix never went through GitHub."""
    pulls = [e for e in events if e.kind in (EventKind.PULL_REQUEST_OPENED, EventKind.MERGE_BACK_PR_OPENED)]
    if not pulls:
        return None
    return GitHubFacts(
        pull_requests=tuple(_pull_request(e, events) for e in pulls),
        review=_span(events, (EventKind.PULL_REQUEST_OPENED,), (EventKind.REVIEW_APPROVED,)),
        ci=_span(events, CI_KINDS, _CI_ENDS),
        deploy_checks=_span(events, DEPLOY_CHECK_KINDS, _DEPLOY_CHECK_ENDS),
        overrides=tuple(CiOverride(e.actor, str(e.detail["commit"]), str(e.detail["reason"]), e.at)
                        for e in events if e.kind is EventKind.CI_OVERRIDDEN),
    )


def _pull_request(opened: Event, events: Sequence[Event]) -> PullRequestFact:
    target = str(opened.detail["target"])
    merged = next((e.at for e in events if e.kind is EventKind.MERGED_BACK and e.detail["target"] == target
                   and e.at >= opened.at), None)
    return PullRequestFact(int(opened.detail["number"]), str(opened.detail["url"]), target, opened.at, merged)


def _span(events: Sequence[Event], starts: tuple[EventKind, ...], ends: tuple[EventKind, ...]) -> Span:
    started = next((e.at for e in events if e.kind in starts), None)
    ended = next((e.at for e in reversed(events) if e.kind in ends), None)
    return Span(started, ended if started is not None else None)
