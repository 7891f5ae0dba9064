"""The post-mortem draft: what happened and why, who decided what, each step against the configured targets,
and the sections the team fills in. One document, two renderings: Markdown (`hotfix-bot report`) and Slack."""
from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.domain.deploy import live_at
from bot.domain.durations import format_duration
from bot.domain.failures import describe as describe_failure
from bot.domain.hotfix import Event, EventKind, Hotfix
from bot.domain.policy import TimeTargets, role_label
from bot.domain.postmortem_github import HEADING as GITHUB, github_lines
from bot.domain.step_timing import StepTiming, step_timings
from bot.domain.trail import last_at, last_before, last_event

SECURITY_TITLE = "Security hotfix"
RESTRICTED = "restricted"
# The procedure asks to document the what, why and how, and to learn from why the hotfix was needed.
TO_FILL_IN = (
    ("Summary", "What happened, in two or three sentences."),
    ("Impact", "Who was affected, how, and for how long as customers saw it (customer-facing duration)."),
    ("Root cause", "Why it broke."),
    ("Why it reached production", "What let it through review, tests and the release."),
    ("Follow-ups", "Each with an owner and a due date."),
)


@dataclass(frozen=True)
class Style:
    """How one rendering shows people, user text and git names."""

    person: Callable[[str], str]  # a Slack user ID
    text: Callable[[str], str]  # anything a person typed: shown as text, on one line
    code: Callable[[str], str]  # tags, branches, ranges
    link: Callable[[str, str], str]  # (url, label): a pull request's page


@dataclass(frozen=True)
class Section:
    heading: str
    lines: tuple[str, ...] = ()
    hint: str = ""  # a section the team fills in says what belongs there


@dataclass(frozen=True)
class PostMortem:
    title: str
    sections: tuple[Section, ...]


def one_line(text: str) -> str:
    """A person's text never starts a line of its own: it cannot pass for a heading or a timeline entry."""
    return " ".join(text.split())


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+!|~&])")
_AUTOLINK = re.compile(r"(?i)(://|www\.)")


def markdown_text(text: str) -> str:
    """Markdown that shows exactly what was typed: no emphasis, link, autolink or HTML comes out of it."""
    escaped = _MARKDOWN_SPECIAL.sub(r"\\\1", one_line(text))
    return _AUTOLINK.sub(lambda m: m.group(1).replace(":", "\\:").replace(".", "\\."), escaped)


MARKDOWN = Style(person=lambda user: f"@{user}", text=markdown_text, code=lambda name: f"`{name.replace('`', 'ˋ')}`",
                 link=lambda url, label: f"[{label}]({url})")


def build(hotfix: Hotfix, events: Sequence[Event], times: TimeTargets, style: Style, *,
          reveal: bool = True) -> PostMortem:
    """`reveal`: a security hotfix's issue ID, title and impact may be shown (not in a public channel)."""
    secret = hotfix.security and not reveal
    title = f"Post-mortem draft: {hotfix.key} " + (SECURITY_TITLE if secret else style.text(hotfix.title))
    return PostMortem(title, (
        Section("What happened", tuple(_facts(hotfix, events, style, secret))),
        Section("Who decided", tuple(_decisions(hotfix, events, style))),
        Section("Steps against their targets", tuple(_timing_line(t) for t in step_timings(events, times))),
        *((Section(GITHUB, on_github),) if (on_github := github_lines(events, style)) else ()),
        Section("Timeline", tuple(_timeline(events, style, secret))),
        *(Section(heading, hint=hint) for heading, hint in TO_FILL_IN),
    ))


def to_markdown(hotfix: Hotfix, events: Sequence[Event], times: TimeTargets) -> str:
    """For Confluence, Notion or a GitHub issue: plain headings and lists, people as @U0123 IDs."""
    document = build(hotfix, events, times, MARKDOWN)
    lines = [f"# {document.title}"]
    if hotfix.security:
        lines += ["", "> Security hotfix: keep this post-mortem internal until the fix is disclosed."]
    for section in document.sections:
        lines += ["", f"## {section.heading}", "", *(f"- {line}" for line in section.lines)]
        lines += [f"_{section.hint}_"] if section.hint else []
    return "\n".join(lines) + "\n"


# --- what happened ---------------------------------------------------------------------------------------------
def _facts(hotfix: Hotfix, events: Sequence[Event], style: Style, secret: bool) -> list[str]:
    facts = [
        f"Issue: {RESTRICTED if secret else style.text(hotfix.issue_id)}",
        f"Severity: {hotfix.severity.label}"
        + (" (declared with the override: it could not wait)" if hotfix.override else ""),
        f"Impact as declared: {RESTRICTED if secret else style.text(hotfix.impact)}",
        f"Risk if delayed, as declared: {RESTRICTED if secret else style.text(hotfix.risk)}",
        f"Declared by {style.person(hotfix.declared_by)} at {stamp(hotfix.declared_at)}",
        f"Repository: {hotfix.repo}, branch {style.code(hotfix.branch)}"
        + (f" from {style.code(hotfix.base_ref)}" if hotfix.base_ref else ""),
    ]
    if hotfix.tag:
        facts.append(f"Release: tag {style.code(hotfix.tag)}, previous production "
                     f"{style.code(hotfix.previous_tag or '?')}; the change: "
                     f"{style.code(f'git log {hotfix.previous_tag}..{hotfix.tag}')}")
    facts += [f"Time to mitigate (declared to live): {_time_to_mitigate(hotfix, events)}",
              f"Monitoring outcome: {monitoring_outcome(events, style)}",
              f"Time to close (declared to closed): {_since_declared(hotfix, last_at(events, EventKind.CLOSED))}"]
    closed = last_event(events, EventKind.CLOSED)
    if closed and closed.detail.get("reason"):
        facts.append(f"Closed before every merge-back: {style.text(closed.detail['reason'])}")
    return facts


def _time_to_mitigate(hotfix: Hotfix, events: Sequence[Event]) -> str:
    live = live_at(events, hotfix.tag) if hotfix.tag else None
    if live is not None:
        return f"{format_duration(live - hotfix.declared_at)} (the version endpoint reported {hotfix.tag})"
    tagged = last_at(events, EventKind.TAGGED)
    if tagged is None:
        return "not mitigated: no tag was pushed"
    return (f"unknown (no version endpoint reported the tag live); the tag was pushed "
            f"{format_duration(tagged - hotfix.declared_at)} after the declaration: fill in when the deploy finished")


def _since_declared(hotfix: Hotfix, at: datetime | None) -> str:
    return format_duration(at - hotfix.declared_at) if at else "still open"


_OUTCOMES = (EventKind.STABLE, EventKind.ROLLED_BACK)


def monitoring_outcome(events: Sequence[Event], style: Style) -> str:
    """How the last monitoring ended, and who said so; a rollback before it is mentioned too."""
    ended = [e for e in events if e.kind in _OUTCOMES]
    if not ended:
        return "not reached" if last_at(events, EventKind.TAGGED) is None else "still monitoring"
    last = ended[-1]
    tagged = last_before(events, EventKind.TAGGED, last)
    watched = f" after {format_duration(last.at - tagged.at)} of monitoring" if tagged else ""
    if last.kind is EventKind.ROLLED_BACK:
        outcome = (f"Rolled back {style.code(last.detail['tag'])} to {style.code(last.detail['previous_tag'])} "
                   f"by {style.person(last.actor)}{watched}")
    else:
        outcome = f"Stable, confirmed by {style.person(last.actor)}{watched}"
        early = last_before(events, EventKind.MONITORING_ENDED_EARLY, last)
        if early is not None and early.at >= (tagged.at if tagged else early.at):  # an on-call lead's early end
            outcome += (f"; monitoring ended early, {early.detail['left']} before the window's end: "
                        f"“{style.text(early.detail['reason'])}”")
    rollbacks = sum(1 for e in ended[:-1] if e.kind is EventKind.ROLLED_BACK)
    failures = sum(1 for e in events if e.kind is EventKind.HEALTH_FAILED)
    notes = ([f"{rollbacks} earlier rollback(s)"] if rollbacks else []) + (
        [f"the health check failed {failures} time(s)"] if failures else [])
    return outcome + (f" ({'; '.join(notes)})" if notes else "")


# --- who decided --------------------------------------------------------------------------------------------------
def _decisions(hotfix: Hotfix, events: Sequence[Event], style: Style) -> list[str]:
    lines = [f"{'Approved' if d.approved else 'Rejected'} as {role_label(d.role)}: {style.person(d.user_id)} at "
             f"{stamp(d.at)}" + ("" if d.approved else f", “{style.text(d.reason)}”") for d in hotfix.decisions]
    for event in events:
        match event.kind:
            case EventKind.REVIEW_APPROVED:
                lines.append(f"Review approved by {style.person(event.actor)} ({role_label(event.detail['role'])}) "
                             f"at {stamp(event.at)}")
            case EventKind.CHANGES_REQUESTED:
                lines.append(f"Changes requested by {style.person(event.actor)} at {stamp(event.at)}: "
                             f"“{style.text(event.detail['reason'])}”")
            case EventKind.DEPLOY_STARTED:
                lines.append(f"Tag & deploy by {style.person(event.actor)} at {stamp(event.at)}")
            case EventKind.STABLE:
                lines.append(f"Stable confirmed by {style.person(event.actor)} at {stamp(event.at)}")
            case EventKind.ROLLED_BACK:
                lines.append(f"Rolled back by {style.person(event.actor)} at {stamp(event.at)}")
            case EventKind.CLOSED:
                lines.append(f"Closed by {style.person(event.actor)} at {stamp(event.at)}")
    return lines or ["nobody yet"]


# --- steps against their targets ----------------------------------------------------------------------------------
def _timing_line(timing: StepTiming) -> str:
    if timing.target is None:
        return f"{timing.step}: {timing.missing if timing.took is None else format_duration(timing.took)}"
    target = f"target {format_duration(timing.target)}"
    if timing.took is None:
        return f"{timing.step}: {timing.missing} ({target})"
    mark = "within target" if timing.took <= timing.target else "OVER target"
    return f"{timing.step}: {format_duration(timing.took)} ({target}, {mark})"


# --- timeline -----------------------------------------------------------------------------------------------------
def _timeline(events: Sequence[Event], style: Style, secret: bool) -> list[str]:
    lines, day = [], None
    for event in events:
        said = _said(event, style, secret)
        if said is None:
            continue
        shown = stamp(event.at) if event.at.date() != day else event.at.strftime("%H:%M:%S")
        day = event.at.date()
        lines.append(f"{shown} {said}")
    return lines


def _said(event: Event, style: Style, secret: bool) -> str | None:
    """One event as a person would tell it; None for what the rest of the draft already says (reminders...)."""
    return _what_people_did(event, style, secret) or _what_the_bot_reported(event, style)


def _what_people_did(event: Event, style: Style, secret: bool) -> str | None:
    who, detail = style.person(event.actor), event.detail
    match event.kind:
        case EventKind.DECLARED:
            issue = RESTRICTED if secret else style.text(detail.get("issue_id", ""))
            return f"Declared by {who} ({detail.get('severity', '')}, issue {issue})"
        case EventKind.APPROVED:
            return f"Approved by {who} as {role_label(detail['role'])}"
        case EventKind.REJECTED:
            return f"Rejected by {who} as {role_label(detail['role'])}: “{style.text(detail['reason'])}”"
        case EventKind.REVIEW_APPROVED:
            commit = f" for {style.code(detail['commit'][:10])}" if detail.get("commit") else ""
            return f"Review approved by {who}{commit}"
        case EventKind.CHANGES_REQUESTED:
            return f"Changes requested by {who}: “{style.text(detail['reason'])}”"
        case EventKind.DEPLOY_STARTED:
            return f"Tag & deploy pressed by {who}"
        case EventKind.LOOKED_FINE:
            return f"Monitoring check-in: {who} said it looks fine"
        case EventKind.MONITORING_ENDED_EARLY:
            return f"Monitoring ended early by {who}: “{style.text(detail['reason'])}”"
        case EventKind.STABLE:
            return f"Stable, confirmed by {who}"
        case EventKind.ROLLED_BACK:
            return f"Rolled back {style.code(detail['tag'])} by {who}"
        case EventKind.CLOSED:
            reason = f": “{style.text(detail['reason'])}”" if detail.get("reason") else ""
            return f"Closed by {who}{reason}"
    return None


def _what_the_bot_reported(event: Event, style: Style) -> str | None:
    detail = event.detail
    match event.kind:
        case EventKind.BRANCH_CUT:
            return f"Branch {style.code(detail['branch'])} pushed from {style.code(detail['base_ref'])}"
        case EventKind.REVIEW_REQUESTED:
            files = len(event.names("files"))
            return f"Review requested ({files} file(s), +{detail['insertions']} −{detail['deletions']})"
        case EventKind.BRANCH_MOVED:
            return (f"Not tagged: the branch moved past the approved {style.code(detail['approved'][:10])}; "
                    "the new commits went back to review")
        case EventKind.BRANCH_KEPT:
            return f"Branch {style.code(detail['branch'])} kept: it had commits no target has"
        case EventKind.TAGGED:
            return f"Tag {style.code(detail['tag'])} pushed (the deploy pipeline's trigger)"
        case EventKind.WENT_LIVE:
            return f"{style.code(detail['tag'])} live: the version endpoint reported it"
        case EventKind.HEALTH_FAILED:
            return f"Health check failed: {style.text(detail['detail'])}"
        case EventKind.HEALTH_RECOVERED:
            return "Health check passed again"
        case EventKind.MERGED_BACK:
            return f"{style.code(detail['target'])} has the fix (merged {detail['how']})"
        case EventKind.MERGE_CONFLICT:
            return f"Merge into {style.code(detail['target'])} conflicted"
        case EventKind.STEP_FAILED:
            return f"A step failed: {style.text(describe_failure(detail))}"
    return None


# --- helpers --------------------------------------------------------------------------------------------------
def stamp(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%S UTC")
