"""The GitHub path up to the approval, at the domain level: the pull request, the review read from it, polling."""
from __future__ import annotations

from dataclasses import replace

import pytest

from bot.domain import github_flow, reminders
from bot.domain.codehost import CheckState, ReviewState
from bot.domain.github_flow import NO_COMMENT, hotfix_pull_request, keep_polling, record_code_review
from bot.domain.github_poll import GitHubReading, GitHubRules, ToRead, record_poll, to_read
from bot.domain.hotfix import BOT, Event, EventKind, OpenPullRequest, PollCodeHost, Stage, SummarizeDiff
from bot.domain.review import FileChange, ReviewChange
from bot.domain.procedure import REVIEW_TIMERS
from bot.domain.timers import CancelTimers, StartTimer, Timer, TimerKind
from bot.domain.transitions import REASON_MAX, Refused
from tests.domain.github_builders import (
    AT, CI_WAIT, HEAD, NEW, OLD, PEOPLE, POLICY, POLL, PR_URL, check, hotfix, later, pr_opened, review, verdict,
)


CHANGE = ReviewChange(base=OLD, commit=HEAD, files=(FileChange("checkout.py", 1, 1),),
                      shown_files=(FileChange("checkout.py", 1, 1),), patch="")


def polled(fix, events, v, head=HEAD, minute=10):
    return record_code_review(fix, events, verdict=v, head=head, people=PEOPLE, now=later(minute))


# 1. Ready for review opens or adopts the pull request
def test_the_pull_request_opens_once_the_diff_is_known_so_its_body_lists_the_files() -> None:
    requested = hotfix(review_commit=None)

    outcome = github_flow.record_review_request(requested, change=CHANGE, policy=POLICY, now=AT)

    assert [e.kind for e in outcome.events] == [EventKind.REVIEW_REQUESTED]
    assert outcome.effects[-1] == OpenPullRequest()


def test_no_pull_request_for_a_branch_without_changes_nor_for_a_rerun() -> None:
    empty = replace(CHANGE, files=(), shown_files=())
    nothing = github_flow.record_review_request(hotfix(review_commit=None), change=empty, policy=POLICY, now=AT)
    rerun = github_flow.record_review_request(hotfix(review_commit=HEAD), change=CHANGE, policy=POLICY, now=AT)

    assert nothing.hotfix.stage is Stage.FIXING and OpenPullRequest() not in nothing.effects
    assert rerun.events == () and rerun.effects == ()


def test_the_pull_request_is_linked_once_and_github_is_read_while_it_waits() -> None:
    fix = hotfix()
    first = github_flow.record_pull_request(fix, [], number=12, url=PR_URL, head=HEAD, base="main",
                                            adopted=True, poll=POLL, now=AT)

    assert [(e.kind, dict(e.detail)) for e in first.events] == [(EventKind.PULL_REQUEST_OPENED, {
        "number": 12, "url": PR_URL, "head": HEAD, "target": "main", "how": "adopted"})]
    assert first.effects == (StartTimer(TimerKind.CODE_HOST_POLL, POLL),)
    again = github_flow.record_pull_request(fix, first.events, number=12, url=PR_URL, head=NEW, base="main",
                                            adopted=True, poll=POLL, now=later(30))
    assert again.events == () and again.effects == first.effects  # a later round adopts it: polling resumes
    assert hotfix_pull_request(first.events) == github_flow.PullRequestRef(12, PR_URL, "main", HEAD)


def test_a_late_pull_request_answer_changes_nothing_once_the_hotfix_moved_on() -> None:
    outcome = github_flow.record_pull_request(hotfix(Stage.FIXING), [], number=12, url=PR_URL, head=HEAD,
                                              base="main", adopted=False, poll=POLL, now=AT)
    assert outcome.events == () and outcome.effects == ()


# 2. The review, read from GitHub
def test_an_approving_review_on_the_head_by_a_mapped_reviewer_approves_the_hotfix_pinned_to_that_commit() -> None:
    outcome = polled(hotfix(review_commit=None), [pr_opened()], verdict(review("Rita-GH", ReviewState.APPROVED)))

    assert outcome.hotfix.stage is Stage.REVIEWED
    assert outcome.hotfix.approved_commit == HEAD and outcome.hotfix.review_commit == HEAD
    [event] = outcome.events
    assert (event.kind, event.actor) == (EventKind.REVIEW_APPROVED, "UREV1")
    assert event.detail["commit"] == HEAD and event.detail["login"] == "Rita-GH" and event.detail["role"] == "reviewer"
    assert outcome.effects == (CancelTimers(REVIEW_TIMERS),)


def test_the_same_verdict_polled_twice_records_nothing_new() -> None:
    v = verdict(review("rita-gh", ReviewState.APPROVED))
    first = polled(hotfix(), [pr_opened()], v)

    second = polled(first.hotfix, [pr_opened(), *first.events], v, minute=11)

    assert second.events == () and second.effects == () and second.hotfix == first.hotfix


def test_the_declarer_an_author_or_an_unmapped_login_does_not_approve() -> None:
    reviews = (review("dev-gh", ReviewState.APPROVED), review("sam-gh", ReviewState.APPROVED),
               review("stranger", ReviewState.APPROVED))

    outcome = polled(hotfix(), [pr_opened()], verdict(*reviews, authors=("sam-gh",)))

    assert outcome.events == () and outcome.hotfix.stage is Stage.IN_REVIEW


def test_an_approval_of_an_older_head_does_not_approve_the_current_one() -> None:
    outcome = polled(hotfix(), [pr_opened()], verdict(review("rita-gh", ReviewState.APPROVED, commit=OLD)))
    assert outcome.events == () and outcome.hotfix.stage is Stage.IN_REVIEW


def test_changes_requested_send_it_back_to_fixing_with_the_reviewers_words_neutralised() -> None:
    words = "Please  handle @acme/everyone and <!channel>\nthe zero total"
    outcome = polled(hotfix(), [pr_opened()], verdict(review("sam-gh", ReviewState.CHANGES_REQUESTED, body=words)))

    assert outcome.hotfix.stage is Stage.FIXING
    [event] = outcome.events
    assert (event.kind, event.actor) == (EventKind.CHANGES_REQUESTED, "UREV2")
    assert event.detail["reason"] == "Please handle ＠acme/everyone and ‹!channel› the zero total"
    assert outcome.effects == (CancelTimers(REVIEW_TIMERS),)


def test_a_change_request_said_once_does_not_bounce_the_next_round_back() -> None:
    v = verdict(review("sam-gh", ReviewState.CHANGES_REQUESTED, body="No"))
    first = polled(hotfix(), [pr_opened()], v)
    again = replace(first.hotfix, stage=Stage.IN_REVIEW)  # Ready for review again, nothing pushed

    second = polled(again, [pr_opened(), *first.events], v, minute=20)

    assert second.events == () and second.hotfix.stage is Stage.IN_REVIEW


def test_a_change_request_after_the_approval_on_the_same_head_also_sends_it_back() -> None:
    approved = hotfix(Stage.REVIEWED, approved_commit=HEAD)
    v = verdict(review("rita-gh", ReviewState.APPROVED), review("sam-gh", ReviewState.CHANGES_REQUESTED, body="x"))

    outcome = polled(approved, [pr_opened()], v)

    assert outcome.hotfix.stage is Stage.FIXING and [e.kind for e in outcome.events] == [EventKind.CHANGES_REQUESTED]


def test_reviewer_words_empty_or_too_long() -> None:
    assert github_flow.reviewer_words("  \n ") == NO_COMMENT
    long = github_flow.reviewer_words("x" * (REASON_MAX + 50))
    assert len(long) == REASON_MAX and long.endswith("…")


def test_a_push_after_the_approval_needs_a_new_approval_of_the_new_head() -> None:
    first = polled(hotfix(), [pr_opened()], verdict(review("rita-gh", ReviewState.APPROVED)))
    events = [pr_opened(), *first.events]

    pushed = polled(first.hotfix, events, verdict(review("rita-gh", ReviewState.APPROVED), head=NEW), head=NEW)

    assert pushed.hotfix.stage is Stage.IN_REVIEW and pushed.hotfix.review_commit is None
    assert [(e.kind, dict(e.detail)) for e in pushed.events] == [
        (EventKind.APPROVAL_OUTDATED, {"approved": HEAD, "head": NEW})]
    assert pushed.effects == (SummarizeDiff(),)  # the thread shows what came after the approval
    events += pushed.events
    new_approval = verdict(review("rita-gh", ReviewState.APPROVED, commit=NEW, minute=30), head=NEW)
    approved = polled(replace(pushed.hotfix, review_commit=NEW), events, new_approval, head=NEW, minute=31)
    assert approved.hotfix.stage is Stage.REVIEWED and approved.hotfix.approved_commit == NEW


def test_an_approval_used_before_a_rollback_does_not_approve_the_next_round() -> None:
    ready = Event(EventKind.READY_FOR_REVIEW, "UDEV", AT)
    first = polled(hotfix(), [ready, pr_opened()], verdict(review("rita-gh", ReviewState.APPROVED)))
    next_round = replace(first.hotfix, stage=Stage.IN_REVIEW)  # rolled back, Ready for review again, no push
    events = [ready, pr_opened(), *first.events, Event(EventKind.READY_FOR_REVIEW, "UDEV", later(50))]

    stale = polled(next_round, events, verdict(review("rita-gh", ReviewState.APPROVED)), minute=60)
    fresh = polled(next_round, events, verdict(review("rita-gh", ReviewState.APPROVED),
                                               review("sam-gh", ReviewState.APPROVED, minute=55)), minute=61)

    assert stale.events == () and stale.hotfix.stage is Stage.IN_REVIEW
    assert [e.actor for e in fresh.events] == ["UREV2"] and fresh.hotfix.stage is Stage.REVIEWED


def test_a_security_hotfix_needs_a_security_reviewers_approval_too() -> None:
    fix = hotfix(security=True)
    rita = review("rita-gh", ReviewState.APPROVED)

    first = record_code_review(fix, [pr_opened()], verdict=verdict(rita), head=HEAD, people=PEOPLE,
                               now=later(10), security_reviewers=("UREV2",))
    events = [pr_opened(), *first.events]
    both = verdict(rita, review("sam-gh", ReviewState.APPROVED, minute=12))
    second = record_code_review(first.hotfix, events, verdict=both, head=HEAD, people=PEOPLE, now=later(13),
                                security_reviewers=("UREV2",))

    assert [e.actor for e in first.events] == ["UREV1"] and first.hotfix.stage is Stage.IN_REVIEW
    assert [e.actor for e in second.events] == ["UREV2"] and second.hotfix.stage is Stage.REVIEWED


def test_reviews_change_nothing_outside_review() -> None:
    v = verdict(review("rita-gh", ReviewState.APPROVED))
    for stage in (Stage.FIXING, Stage.DEPLOYING, Stage.MONITORING):
        assert polled(hotfix(stage), [pr_opened()], v).events == ()


# Polling while the hotfix waits on GitHub
def test_polling_goes_on_while_the_hotfix_waits_on_github_and_stops_after() -> None:
    for stage in (Stage.IN_REVIEW, Stage.REVIEWED, Stage.DEPLOYING, Stage.MONITORING, Stage.MERGING_BACK):
        assert keep_polling(hotfix(stage), poll=POLL) == (StartTimer(TimerKind.CODE_HOST_POLL, POLL),)
    for stage in (Stage.FIXING, Stage.MERGED, Stage.CLOSED):
        assert keep_polling(hotfix(stage), poll=POLL) == (CancelTimers((TimerKind.CODE_HOST_POLL,)),)


def test_the_poll_timer_asks_for_a_poll_not_a_reminder_and_is_silent_when_moot() -> None:
    timer = Timer(1, TimerKind.CODE_HOST_POLL, AT)

    live = reminders.remind(hotfix(Stage.REVIEWED), timer, policy=POLICY, now=AT)
    moot = reminders.remind(hotfix(Stage.FIXING), timer, policy=POLICY, now=AT)

    assert live.events == () and live.effects == (PollCodeHost(),)
    assert moot.events == () and moot.effects == ()


# One poll, every reading in turn
def rules() -> GitHubRules:
    return GitHubRules(PEOPLE, ci_wait=CI_WAIT, poll=POLL)


def test_what_a_poll_reads_follows_the_stage() -> None:
    events = [pr_opened(), Event(EventKind.MERGE_BACK_PR_OPENED, BOT, AT, {
        "target": "develop", "number": 13, "url": PR_URL, "head": HEAD})]
    merging = hotfix(Stage.MERGING_BACK, merge_targets=("main", "develop"), merged_into=("main",))

    assert to_read(hotfix(), events) == ToRead(pull_request=12)
    assert to_read(hotfix(Stage.MONITORING, tag_commit=HEAD), events) == ToRead(tag_commit=HEAD)
    assert to_read(merging, events) == ToRead(merge_backs=(13,))
    assert to_read(hotfix(Stage.FIXING), events) == ToRead()


def test_one_poll_records_ci_then_the_review_then_polls_again() -> None:
    reading = GitHubReading(head=HEAD, verdict=verdict(review("rita-gh", ReviewState.APPROVED)),
                            head_checks=(check("tests", CheckState.SUCCESS),))

    outcome = record_poll(hotfix(), [pr_opened()], reading=reading, rules=rules(), now=later(10))

    assert [e.kind for e in outcome.events] == [EventKind.CI_PASSED, EventKind.REVIEW_APPROVED]
    assert outcome.hotfix.stage is Stage.REVIEWED
    assert outcome.effects == (CancelTimers(REVIEW_TIMERS), StartTimer(TimerKind.CODE_HOST_POLL, POLL))
    again = record_poll(outcome.hotfix, [pr_opened(), *outcome.events], reading=reading, rules=rules(), now=later(11))
    assert again.events == () and again.effects == (StartTimer(TimerKind.CODE_HOST_POLL, POLL),)


def test_a_change_request_stops_the_polling_until_the_next_ready_for_review() -> None:
    reading = GitHubReading(head=HEAD, verdict=verdict(review("sam-gh", ReviewState.CHANGES_REQUESTED)),
                            head_checks=(check("tests", CheckState.IN_PROGRESS),))

    outcome = record_poll(hotfix(), [pr_opened()], reading=reading, rules=rules(), now=later(10))

    assert [e.kind for e in outcome.events] == [EventKind.CI_PENDING, EventKind.CHANGES_REQUESTED]
    assert outcome.effects[-1] == CancelTimers((TimerKind.CODE_HOST_POLL,))


def test_github_polls_run_through_quiet_hours_they_wake_nobody() -> None:
    from bot.domain.policy import Severity

    quiet = replace(POLICY, times=replace(POLICY.times, quiet_hours=(0, 24)))
    low = hotfix(severity=Severity.LOW)

    assert not reminders.quiet_for(low, AT, quiet, TimerKind.CODE_HOST_POLL)
    assert reminders.quiet_for(low, AT, quiet, TimerKind.REVIEW_OVERDUE)


def test_an_approval_dismissed_after_the_hotfix_was_approved_sends_it_back_to_review() -> None:
    approved = hotfix(Stage.REVIEWED, approved_commit=HEAD)

    outcome = polled(approved, [pr_opened()], verdict(review("rita-gh", ReviewState.DISMISSED)))

    assert outcome.hotfix.stage is Stage.IN_REVIEW
    assert [(e.kind, e.detail.get("why")) for e in outcome.events] == [(EventKind.APPROVAL_OUTDATED, "withdrawn")]
