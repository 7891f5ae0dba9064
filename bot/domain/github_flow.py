"""The procedure on a GitHub repo up to the approval: the hotfix's pull request, the review read from it, and
how long the bot keeps reading GitHub.

GitHub is the one source of truth for such repos: the approval is an approving review on the pull request's
head, pinned to that commit like the Slack review ("What was reviewed is what ships"). What the bot learnt is
kept in the hotfix's events, so polling the same answer twice records nothing new.
"""
from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bot.domain import procedure
from bot.domain.codehost import People, Review, ReviewVerdict
from bot.domain.hotfix import (
    BOT, DetailValue, Event, EventKind, Hotfix, OpenPullRequest, Stage, SummarizeDiff,
)
from bot.domain.policy import REVIEWER, Policy
from bot.domain.review import ReviewChange
from bot.domain.pull_request_text import plain
from bot.domain.timers import CancelTimers, StartTimer, TimerKind
from bot.domain.transitions import REASON_MAX, Outcome, Refused

HOTFIX_LABEL = "hotfix"
NO_COMMENT = "(no comment on GitHub)"
# While the hotfix is in one of these stages, something it waits for happens on GitHub (deploying: so that polling
# runs on into monitoring, where the tag's checks are read).
WAITING_ON_GITHUB = frozenset({Stage.IN_REVIEW, Stage.REVIEWED, Stage.DEPLOYING, Stage.MONITORING,
                               Stage.MERGING_BACK})


@dataclass(frozen=True)
class PullRequestRef:
    """A pull request of the hotfix as its events remember it."""

    number: int
    url: str
    target: str  # the base branch
    head: str  # the head commit when it was recorded
    branch: str = ""  # the head branch; "" when recorded without it (the hotfix's own, or before merge branches)


def record_review_request(hotfix: Hotfix, *, change: ReviewChange, policy: Policy, now: datetime) -> Outcome:
    """As on plain git (the thread gets the diff, the review timers start), and then the pull request is opened,
    or adopted when someone opened one for the branch: after the diff, so that its body lists the files."""
    outcome = procedure.record_review_request(hotfix, change=change, policy=policy, now=now)
    if not any(e.kind is EventKind.REVIEW_REQUESTED for e in outcome.events):
        return outcome  # a re-run, or nothing to review yet
    return replace(outcome, effects=(*outcome.effects, OpenPullRequest()))


def record_pull_request(hotfix: Hotfix, events: Sequence[Event], *, number: int, url: str, head: str, base: str,
                        adopted: bool, poll: timedelta, now: datetime) -> Outcome:
    """The pull request is open: the thread links it once, and GitHub is read every `poll` while it matters."""
    if hotfix.stage is not Stage.IN_REVIEW:
        return Outcome(hotfix)  # a late answer: the hotfix moved on
    keep_reading = (StartTimer(TimerKind.CODE_HOST_POLL, poll),)
    known = hotfix_pull_request(events)
    if known is not None and known.number == number:
        return Outcome(hotfix, effects=keep_reading)  # adopted again on a later Ready for review
    detail = {"number": number, "url": url, "head": head, "target": base, "how": "adopted" if adopted else "opened"}
    return Outcome(hotfix, (Event(EventKind.PULL_REQUEST_OPENED, BOT, now, detail),), keep_reading)


def hotfix_pull_request(events: Sequence[Event]) -> PullRequestRef | None:
    """The hotfix's own pull request (from its branch into main), the latest one recorded."""
    event = next((e for e in reversed(events) if e.kind is EventKind.PULL_REQUEST_OPENED), None)
    return pull_request_ref(event) if event else None


def pull_request_ref(event: Event) -> PullRequestRef:
    detail = event.detail
    return PullRequestRef(int(detail["number"]), str(detail["url"]), str(detail["target"]), str(detail["head"]),
                          str(detail.get("branch", "")))


def record_code_review(hotfix: Hotfix, events: Sequence[Event], *, verdict: ReviewVerdict, head: str,
                       people: People, now: datetime, security_reviewers: Collection[str] = ()) -> Outcome:
    """What the reviews on the pull request (`verdict`, read at `head`) mean for the hotfix.

    A change request not yet in the thread sends it back to fixing, with the reviewer's words; an approval of
    `head` approves it, pinned to that commit (a security hotfix: once one of `security_reviewers`, Slack IDs,
    approved it too, as in Slack); a push after the approval needs a new one. Each review counts once: an
    approval used in an earlier round (before a rollback) does not approve the hotfix again.
    """
    if hotfix.stage not in (Stage.IN_REVIEW, Stage.REVIEWED):
        return Outcome(hotfix)
    fresh = [r for r in verdict.changes_requested if not _recorded(events, EventKind.CHANGES_REQUESTED, r)]
    if fresh:
        return _changes_requested(hotfix, fresh, people, now)
    if hotfix.stage is Stage.REVIEWED:
        if head != hotfix.approved_commit:
            return _approval_outdated(hotfix, head, now)
        # Dismissed on GitHub, or its reviewer may no longer approve: the approval no longer stands.
        return Outcome(hotfix) if verdict.approvals else _approval_outdated(hotfix, head, now, withdrawn=True)
    if not verdict.approved:
        return Outcome(hotfix)
    used = events[: _round_start(events)]
    counting = [r for r in verdict.approvals if r.commit == head and not _recorded(used, EventKind.REVIEW_APPROVED, r)]
    new = [r for r in counting if not _recorded(events, EventKind.REVIEW_APPROVED, r)]
    if not new:
        return Outcome(hotfix)
    reviewers = {people.user_of(r.login) for r in counting}
    return _approved(hotfix, new, people, now, security_missing=_security_missing(hotfix, reviewers,
                                                                                  security_reviewers))


def _round_start(events: Sequence[Event]) -> int:
    """Where the latest Ready for review starts the current round of review."""
    return max((i for i, e in enumerate(events) if e.kind is EventKind.READY_FOR_REVIEW), default=0)


def _security_missing(hotfix: Hotfix, reviewers: Collection[str | None], security: Collection[str]) -> bool:
    return hotfix.security and bool(security) and not set(security) & set(reviewers)


def _approved(hotfix: Hotfix, approvals: Sequence[Review], people: People, now: datetime, *,
              security_missing: bool) -> Outcome:
    events = tuple(
        Event(EventKind.REVIEW_APPROVED, people.user_of(r.login) or r.login, now,  # verdicts count mapped logins
              {"role": REVIEWER, **_review_key(r)})
        for r in approvals
    )
    if security_missing:
        return Outcome(hotfix, events)  # recorded; a security reviewer's approval is still needed
    commit = approvals[0].commit
    approved = replace(hotfix, stage=Stage.REVIEWED, review_commit=commit, approved_commit=commit)
    return Outcome(approved, events, (CancelTimers(procedure.REVIEW_TIMERS),))


def _changes_requested(hotfix: Hotfix, reviews: Collection[Review], people: People, now: datetime) -> Outcome:
    events = tuple(
        Event(EventKind.CHANGES_REQUESTED, people.user_of(r.login) or r.login, now,
              {"role": REVIEWER, "reason": reviewer_words(r.body), **_review_key(r)})
        for r in reviews
    )
    return Outcome(replace(hotfix, stage=Stage.FIXING), events, (CancelTimers(procedure.REVIEW_TIMERS),))


def _approval_outdated(hotfix: Hotfix, head: str, now: datetime, *, withdrawn: bool = False) -> Outcome:
    """As when the branch moves before the tag on plain git: the new commits get a review request of their own.
    `withdrawn`: the head did not move, the approval went (dismissed, or its reviewer lost the role)."""
    detail: dict[str, DetailValue] = {"approved": hotfix.approved_commit or "", "head": head}
    if withdrawn:
        detail["why"] = "withdrawn"
    again = replace(hotfix, stage=Stage.IN_REVIEW, review_commit=None)
    return Outcome(again, (Event(EventKind.APPROVAL_OUTDATED, BOT, now, detail),), (SummarizeDiff(),))


def reviewer_words(body: str) -> str:
    """A review's text as the thread shows it: one line, no mention or link markup, at most REASON_MAX."""
    words = plain(body)
    if not words:
        return NO_COMMENT
    return words if len(words) <= REASON_MAX else words[: REASON_MAX - 1] + "…"


def _review_key(review: Review) -> dict[str, str]:
    """What identifies one review on GitHub: who, on which commit, when."""
    return {"login": review.login, "commit": review.commit, "submitted": review.at.isoformat() if review.at else ""}


def _recorded(events: Sequence[Event], kind: EventKind, review: Review) -> bool:
    key = _review_key(review)
    return any(e.kind is kind and all(e.detail.get(k) == v for k, v in key.items()) for e in events)


def waits_on_github(hotfix: Hotfix) -> bool:
    """Whether the hotfix waits for something on GitHub: a review, CI, the deploy checks, a merge-back."""
    return hotfix.stage in WAITING_ON_GITHUB


def keep_polling(hotfix: Hotfix, *, poll: timedelta) -> tuple[StartTimer | CancelTimers, ...]:
    """After each poll: read GitHub again in `poll` while the hotfix waits on it, else stop."""
    if waits_on_github(hotfix):
        return (StartTimer(TimerKind.CODE_HOST_POLL, poll),)
    return (CancelTimers((TimerKind.CODE_HOST_POLL,)),)


def check_reviewed_in_slack(hotfix: Hotfix, events: Sequence[Event]) -> None:
    """The Slack review buttons of a message posted before the repo moved to GitHub: the review is on GitHub now,
    one source of truth."""
    own = hotfix_pull_request(events)
    if own is None:
        raise Refused(f"{hotfix.key} is reviewed on GitHub, on a pull request that is not open yet; if none appears "
                      f"in a minute, `/hotfix retry {hotfix.key}` opens it.")
    raise Refused(f"{hotfix.key} is reviewed on GitHub: approve or request changes on its pull request {own.url}.")


def retry(hotfix: Hotfix, events: Sequence[Event], *, user_id: str, policy: Policy, now: datetime) -> Outcome:
    """Retry on GitHub: in review without a pull request this round (opening it was refused, e.g. a permission
    the token lacked), open it again; anything else as on plain git."""
    opened = any(e.kind is EventKind.PULL_REQUEST_OPENED for e in events[_round_start(events):])
    if hotfix.stage is Stage.IN_REVIEW and not opened and procedure.may_run(hotfix, user_id, policy):
        event = Event(EventKind.RETRIED, user_id, now, {"stage": hotfix.stage.value})
        return Outcome(hotfix, (event,), (OpenPullRequest(),))
    return procedure.retry(hotfix, user_id=user_id, policy=policy, now=now)
