"""One poll of GitHub for one hotfix: what to read for the stage it is in, and what the answers mean, in order.

The service reads what `to_read` names, hands the answers to `record_poll` as one `GitHubReading`, and stores
the outcome; a webhook only makes the poll come sooner. The steps run on the hotfix as each one leaves it: CI
before the review (a change request sends it back to fixing, where CI is no longer read), the deploy checks,
then the merge-back pull requests, then whether to read again.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.codehost import Check, People, PullRequest, ReviewVerdict
from bot.domain.github_ci import deploy_checks_settled, record_ci, record_deploy_checks
from bot.domain.github_flow import hotfix_pull_request, keep_polling, record_code_review
from bot.domain.github_merge import pull_requests_by_target, record_pull_request_state
from bot.domain.hotfix import Event, Hotfix, Stage
from bot.domain.transitions import Outcome


@dataclass(frozen=True)
class ToRead:
    """What one poll reads on GitHub."""

    pull_request: int | None = None  # the hotfix's own: its head, its reviews and the head's checks
    tag_commit: str | None = None  # the checks the tag's push started
    merge_backs: tuple[int, ...] = ()  # the pull requests of the targets still missing the fix


@dataclass(frozen=True)
class GitHubReading:
    """What one poll read; None where it read nothing."""

    head: str | None = None  # the hotfix pull request's head
    verdict: ReviewVerdict | None = None  # its reviews, judged at `head` (codehost.review_verdict)
    head_checks: tuple[Check, ...] | None = None
    tag_checks: tuple[Check, ...] | None = None
    pulls: tuple[PullRequest, ...] = ()  # the merge-back pull requests as they are now


@dataclass(frozen=True)
class GitHubRules:
    """The repo's and the team's settings the GitHub path runs on."""

    people: People
    required_checks: tuple[str, ...] = ()
    ci_wait: timedelta = timedelta(minutes=10)
    poll: timedelta = timedelta(seconds=15)
    security_reviewers: tuple[str, ...] = ()  # Slack IDs holding the security role


def to_read(hotfix: Hotfix, events: Sequence[Event]) -> ToRead:
    own = hotfix_pull_request(events)
    if hotfix.stage in (Stage.IN_REVIEW, Stage.REVIEWED):
        return ToRead(pull_request=own.number if own else None)
    if hotfix.stage is Stage.MONITORING:
        return ToRead(tag_commit=hotfix.tag_commit)
    if hotfix.stage is Stage.MERGING_BACK:
        pulls = pull_requests_by_target(events)
        return ToRead(merge_backs=tuple(pulls[t].number for t in hotfix.targets_left if t in pulls))
    return ToRead()


def record_poll(hotfix: Hotfix, events: Sequence[Event], *, reading: GitHubReading, rules: GitHubRules,
                now: datetime) -> Outcome:
    steps: list[Callable[[Hotfix, Sequence[Event]], Outcome]] = []
    head = reading.head
    if head is not None and reading.head_checks is not None:
        checks = reading.head_checks
        steps.append(lambda h, e: record_ci(h, e, commit=head, checks=checks, required_checks=rules.required_checks,
                                            ci_wait=rules.ci_wait, now=now))
    if head is not None and reading.verdict is not None:
        verdict = reading.verdict
        steps.append(lambda h, e: record_code_review(h, e, verdict=verdict, head=head, people=rules.people, now=now,
                                                     security_reviewers=rules.security_reviewers))
    if reading.tag_checks is not None:
        tag_checks = reading.tag_checks
        steps.append(lambda h, e: record_deploy_checks(h, e, checks=tag_checks, now=now))
    for pull in reading.pulls:
        steps.append(lambda h, e, pull=pull: record_pull_request_state(h, e, pull=pull, now=now))
    steps.append(lambda h, e: Outcome(h, effects=keep_polling(h, poll=_interval(h, e, rules.poll))))
    return run_in_turn(hotfix, events, steps)


# Once the tag's checks have finished, monitoring only waits for a re-run: reading them this much less often saves
# most of a hotfix's requests, and polling goes on so that Stable's merge-back finds it running.
SETTLED_DEPLOY_SLOWDOWN = 4


def _interval(hotfix: Hotfix, events: Sequence[Event], poll: timedelta) -> timedelta:
    if hotfix.stage is Stage.MONITORING and deploy_checks_settled(events):
        return poll * SETTLED_DEPLOY_SLOWDOWN
    return poll


def run_in_turn(hotfix: Hotfix, events: Sequence[Event],
                steps: Sequence[Callable[[Hotfix, Sequence[Event]], Outcome]]) -> Outcome:
    """Each step on the hotfix and the events the steps before it left; one outcome with everything."""
    outcome = Outcome(hotfix)
    for step in steps:
        after = step(outcome.hotfix, (*events, *outcome.events))
        outcome = Outcome(after.hotfix, (*outcome.events, *after.events), (*outcome.effects, *after.effects))
    return outcome
