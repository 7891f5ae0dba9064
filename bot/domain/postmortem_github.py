"""The post-mortem's GitHub part: the pull requests with their links, when review, CI and the deploy checks
started and ended, and every CI override. In full for the Markdown draft, in a line or two for Slack."""
from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Protocol

from bot.domain.durations import format_duration
from bot.domain.github_facts import PullRequestFact, Span, github_facts
from bot.domain.hotfix import Event, EventKind

HEADING = "GitHub"
# A link only to what looks like a pull request's page; anything else is shown as text, never as a link.
LINKABLE = re.compile(r"https?://[A-Za-z0-9.-]+(?::\d{1,5})?/[A-Za-z0-9._~/-]*")
_ENDED = {EventKind.CI_PASSED: "passed", EventKind.CI_FAILED: "failed", EventKind.CI_MISSING: "no check reported",
          EventKind.CI_OVERRIDDEN: "overridden", EventKind.DEPLOY_CHECKS_PASSED: "passed",
          EventKind.DEPLOY_CHECKS_FAILED: "failed"}
_CI_VERDICTS = (EventKind.CI_PASSED, EventKind.CI_FAILED, EventKind.CI_MISSING, EventKind.CI_OVERRIDDEN)
_DEPLOY_VERDICTS = (EventKind.DEPLOY_CHECKS_PASSED, EventKind.DEPLOY_CHECKS_FAILED)


class Style(Protocol):
    person: Callable[[str], str]
    text: Callable[[str], str]
    code: Callable[[str], str]
    link: Callable[[str, str], str]  # (url, label)


def github_lines(events: Sequence[Event], style: Style) -> tuple[str, ...]:
    """The Markdown draft's section; () for a hotfix that never went through GitHub."""
    facts = github_facts(events)
    if facts is None:
        return ()
    return (
        *(_pull_request(pull, style) for pull in facts.pull_requests),
        f"Review: {_span(facts.review, 'approved')}",
        f"CI: {_span(facts.ci, _last_verdict(events, _CI_VERDICTS))}",
        "Deploy checks (started by the tag): " + (_span(facts.deploy_checks, _last_verdict(events, _DEPLOY_VERDICTS))
                                                   if facts.deploy_checks.started else "none reported"),
        *(_override(o.user_id, o.commit, o.reason, o.at, style) for o in facts.overrides),
    )


def github_summary(events: Sequence[Event], style: Style) -> tuple[str, ...]:
    """The same in a line or two, for the thread."""
    facts = github_facts(events)
    if facts is None:
        return ()
    pulls = ", ".join(f"{_link(p, style)} into {style.code(p.target)} ({_merged_or_open(p)})"
                      for p in facts.pull_requests)
    summary = [f"Pull requests: {pulls}. Review {_took(facts.review)}; CI {_took(facts.ci, events, _CI_VERDICTS)}"
               + (f"; deploy checks {_took(facts.deploy_checks, events, _DEPLOY_VERDICTS)}"
                  if facts.deploy_checks.started else "") + "."]
    summary += [_override(o.user_id, o.commit, o.reason, o.at, style) for o in facts.overrides]
    return tuple(summary)


def _pull_request(pull: PullRequestFact, style: Style) -> str:
    merged = (f"merged at {_stamp(pull.merged_at)}, {format_duration(pull.merged_at - pull.opened_at)} after it opened"
              if pull.merged_at else "not merged")
    opened = _stamp(pull.opened_at)
    return f"Pull request {_link(pull, style)} into {style.code(pull.target)}: opened {opened}, {merged}"


def _link(pull: PullRequestFact, style: Style) -> str:
    label = f"#{pull.number}"
    return style.link(pull.url, label) if LINKABLE.fullmatch(pull.url) else label


def _merged_or_open(pull: PullRequestFact) -> str:
    return "merged" if pull.merged_at else "not merged"


def _span(span: Span, verdict: str) -> str:
    if span.started is None:
        return "not started"
    if span.ended is None:
        return f"started {_stamp(span.started)}, not ended"
    return (f"started {_stamp(span.started)}, ended {_stamp(span.ended)} ({verdict}): "
            f"{format_duration(span.ended - span.started)}")


def _took(span: Span, events: Sequence[Event] = (), verdicts: tuple[EventKind, ...] = ()) -> str:
    if span.started is None:
        return "not started"
    if span.ended is None:
        return "not ended"
    verdict = f" ({_last_verdict(events, verdicts)})" if verdicts else ""
    return format_duration(span.ended - span.started) + verdict


def _last_verdict(events: Sequence[Event], kinds: tuple[EventKind, ...]) -> str:
    last = next((e for e in reversed(events) if e.kind in kinds), None)
    return _ENDED[last.kind] if last else "no verdict"


def _override(user_id: str, commit: str, reason: str, at: datetime, style: Style) -> str:
    return (f"CI overridden by {style.person(user_id)} on {style.code(commit[:10])} at {_stamp(at)}: "
            f"“{style.text(reason)}”")


def _stamp(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%S UTC")
