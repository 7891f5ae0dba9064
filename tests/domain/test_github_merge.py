"""Merge-back through pull requests on a GitHub repo, and the post-mortem's GitHub facts, at the domain level."""
from __future__ import annotations

from datetime import timedelta

from bot.domain import procedure
from bot.domain.codehost import MergeRefusal, PullRequest, PullRequestState
from bot.domain.github_facts import CiOverride, PullRequestFact, Span, github_facts
from bot.domain.github_merge import (
    merge_before_tag, merge_branch, record_merge_back_pull_request, record_merge_branch, record_merge_refused, record_pull_request_merged,
    record_pull_request_state, retry_refused_merges, through_pull_requests,
)
from bot.domain.github_poll import GitHubReading, GitHubRules, record_poll
from bot.domain.hotfix import (
    BOT, DeleteBranch, Event, EventKind, MergeBack, MergePullRequest, OpenMergeBackPullRequest, PushMergeBranch, Stage,
    TagRelease,
)
from bot.domain.transitions import Outcome
from bot.domain.timers import CancelTimers, StartTimer, TimerKind
from tests.domain.github_builders import AT, HEAD, NEW, OLD, PEOPLE, POLICY, PR_URL, hotfix, later, pr_opened

DEV_URL = "https://github.example.com/acme/payments/pull/13"
MERGE_SHA = "d" * 40


def merging(**changes):
    fields = dict(approved_commit=HEAD, tag="v1.4.1", tag_commit=HEAD, merge_targets=("main", "develop"))
    return hotfix(Stage.MERGING_BACK, **{**fields, **changes})


def dev_opened(head: str = HEAD) -> Event:
    detail = {"target": "develop", "number": 13, "url": DEV_URL, "head": head}
    return Event(EventKind.MERGE_BACK_PR_OPENED, BOT, later(40), detail)


def pull(number: int, state: PullRequestState, head: str = HEAD, mergeable: bool | None = None) -> PullRequest:
    base = "main" if number == 12 else "develop"
    merged = MERGE_SHA if state is PullRequestState.MERGED else None
    return PullRequest(number, PR_URL, "hotfix/PROD-501-checkout-total", head, base, state, merged, mergeable)


def refused(reason: MergeRefusal, target: str = "develop", number: int = 13, sha: str = HEAD, events=()):
    return record_merge_refused(merging(), list(events), target=target, number=number, sha=sha, reason=reason,
                                message="GitHub said no", policy=POLICY, now=later(41))


# 5. Merge-back through pull requests
def test_stable_on_github_merges_the_hotfix_pull_request_and_opens_one_for_every_other_target() -> None:
    fix = hotfix(Stage.MONITORING, approved_commit=HEAD, tag="v1.4.1", tag_commit=HEAD)
    stable = procedure.mark_stable(fix, user_id="UDEV", targets=("main", "develop"), policy=POLICY,
                                   now=later(60), monitored_since=later(20))

    outcome = through_pull_requests(stable, [pr_opened()])

    assert outcome.events == stable.events and outcome.hotfix == stable.hotfix
    assert outcome.effects[:2] == (MergePullRequest("main", 12, HEAD), PushMergeBranch("develop"))
    assert MergeBack() not in outcome.effects
    assert CancelTimers(procedure.MONITORING_TIMERS) in outcome.effects
    assert StartTimer(TimerKind.MERGE_BACK_DUE, timedelta(minutes=30)) in outcome.effects


def test_a_retry_merges_only_the_targets_left_and_never_what_was_pushed_after_the_approval() -> None:
    fix = merging(merged_into=("develop",))
    retried = procedure.retry(fix, user_id="UDEV", policy=POLICY, now=later(50))

    outcome = through_pull_requests(retried, [pr_opened(head=OLD), dev_opened()])

    assert outcome.effects == (MergePullRequest("main", 12, HEAD),)


def test_moves_that_do_not_merge_back_are_left_alone() -> None:
    outcome = procedure.record_branch_deleted(merging(), now=AT)
    assert through_pull_requests(outcome, [pr_opened()]) is outcome


def test_a_merge_back_pull_request_is_linked_once_and_merged() -> None:
    branch = merge_branch(merging(), "develop")
    outcome = record_merge_back_pull_request(merging(), [pr_opened()], target="develop", number=13, url=DEV_URL,
                                             head=HEAD, branch=branch, now=later(40))

    [event] = outcome.events
    assert (event.kind, dict(event.detail)) == (EventKind.MERGE_BACK_PR_OPENED, {
        "target": "develop", "number": 13, "url": DEV_URL, "head": HEAD, "branch": branch})
    assert outcome.effects == (MergePullRequest("develop", 13, HEAD),)
    again = record_merge_back_pull_request(merging(), [pr_opened(), event], target="develop", number=13,
                                           url=DEV_URL, head=HEAD, now=later(41))
    assert again.events == () and again.effects == ()


def test_the_merge_branch_is_pushed_then_its_pull_request_opened_and_a_resolution_pushed_to_it_merged() -> None:
    branch = merge_branch(merging(), "develop")
    assert branch == "hotfix/PROD-501-checkout-total-into-develop"
    assert record_merge_branch(merging(), target="develop").effects == (OpenMergeBackPullRequest("develop"),)

    opened = record_merge_back_pull_request(merging(), [pr_opened()], target="develop", number=13, url=DEV_URL,
                                            head=NEW, branch=branch, now=later(40))

    assert opened.effects == (MergePullRequest("develop", 13, NEW),)  # a merge branch: its head, resolution and all


def test_a_refused_merge_is_said_once_with_the_reason_and_who_can_act() -> None:
    first = refused(MergeRefusal.REQUIRED_REVIEW, events=[pr_opened(), dev_opened()])

    [event] = first.events
    assert event.kind is EventKind.MERGE_REFUSED
    assert (event.detail["target"], event.detail["reason"], event.detail["sha"]) == ("develop", "required_review", HEAD)
    assert event.names("users") == ("UREV1", "UREV2")  # the reviewers but the declarer
    assert refused(MergeRefusal.REQUIRED_REVIEW, events=[pr_opened(), dev_opened(), event]).events == ()
    assert refused(MergeRefusal.FAILING_CHECKS, events=[pr_opened(), dev_opened(), event]).events != ()


def test_who_can_act_on_each_refusal() -> None:
    users = {reason: refused(reason, events=[pr_opened(), dev_opened()]).events[0].names("users")
             for reason in MergeRefusal}
    assert users[MergeRefusal.NOT_ALLOWED] == ("UDEV", "ULEAD")
    assert users[MergeRefusal.CONFLICT] == users[MergeRefusal.FAILING_CHECKS] == ("UDEV",)


def test_a_pull_request_merged_by_the_bot_counts_and_the_last_target_finishes_the_merge_back() -> None:
    fix = merging(merged_into=("develop",))

    outcome = record_pull_request_state(fix, [pr_opened(), dev_opened()], pull=pull(12, PullRequestState.MERGED),
                                        now=later(45))

    assert [e.kind for e in outcome.events] == [EventKind.MERGED_BACK, EventKind.ALL_MERGED]
    assert outcome.events[0].detail == {"target": "main", "commit": MERGE_SHA, "how": "by the bot"}
    assert outcome.hotfix.stage is Stage.MERGED and DeleteBranch() in outcome.effects


def test_a_pull_request_merged_by_someone_after_a_refusal_counts_as_by_hand() -> None:
    events = [pr_opened(), dev_opened(), *refused(MergeRefusal.REQUIRED_REVIEW, events=[dev_opened()]).events]

    outcome = record_pull_request_state(merging(), events, pull=pull(13, PullRequestState.MERGED), now=later(50))

    assert outcome.events[0].detail["how"] == "by hand" and outcome.hotfix.merged_into == ("develop",)


def test_a_pull_request_closed_without_merging_is_said_once() -> None:
    events = [pr_opened(), dev_opened()]
    first = record_pull_request_state(merging(), events, pull=pull(13, PullRequestState.CLOSED), now=later(50))

    assert [(e.kind, e.detail["target"]) for e in first.events] == [(EventKind.PULL_REQUEST_CLOSED, "develop")]
    again = record_pull_request_state(merging(), [*events, *first.events], pull=pull(13, PullRequestState.CLOSED),
                                      now=later(51))
    assert again.events == ()


def test_a_refused_merge_is_tried_again_when_the_conflict_is_gone_or_a_merge_branch_moved() -> None:
    conflict = [pr_opened(), dev_opened(), *refused(MergeRefusal.CONFLICT, events=[dev_opened()]).events]
    still = record_pull_request_state(merging(), conflict, pull=pull(13, PullRequestState.OPEN, mergeable=False),
                                      now=later(50))
    gone = record_pull_request_state(merging(), conflict, pull=pull(13, PullRequestState.OPEN, mergeable=True),
                                     now=later(51))
    assert still.effects == () and gone.effects == (MergePullRequest("develop", 13, HEAD),)

    merge_branch = [pr_opened(), dev_opened(head=NEW)]
    merge_branch += refused(MergeRefusal.CONFLICT, sha=NEW, events=merge_branch).events
    pushed = record_pull_request_state(merging(), merge_branch, pull=pull(13, PullRequestState.OPEN, head=MERGE_SHA),
                                       now=later(52))
    assert pushed.effects == (MergePullRequest("develop", 13, MERGE_SHA),)


def test_commits_pushed_to_the_hotfix_branch_after_the_approval_are_never_merged() -> None:
    events = [pr_opened(), *refused(MergeRefusal.HEAD_MOVED, target="main", number=12, events=[pr_opened()]).events]

    outcome = record_pull_request_state(merging(), events, pull=pull(12, PullRequestState.OPEN, head=NEW),
                                        now=later(50))

    assert outcome.effects == ()


def test_the_merge_back_reminder_tries_every_refused_merge_again() -> None:
    events = [pr_opened(), dev_opened(), *refused(MergeRefusal.REQUIRED_REVIEW, events=[dev_opened()]).events]

    outcome = retry_refused_merges(merging(), events)

    assert outcome.effects == (MergePullRequest("develop", 13, HEAD),)
    assert retry_refused_merges(merging(merged_into=("develop",)), events).effects == ()


def test_a_poll_that_finds_the_last_pull_request_merged_finishes_and_stops_polling() -> None:
    reading = GitHubReading(pulls=(pull(12, PullRequestState.MERGED),))

    outcome = record_poll(merging(merged_into=("develop",)), [pr_opened(), dev_opened()], reading=reading,
                          rules=GitHubRules(PEOPLE), now=later(50))

    assert [e.kind for e in outcome.events] == [EventKind.MERGED_BACK, EventKind.ALL_MERGED]
    assert outcome.effects[-1] == CancelTimers((TimerKind.CODE_HOST_POLL,))


# 6. The post-mortem's facts
def test_the_post_mortem_facts_list_the_pull_requests_the_review_and_ci_spans_and_the_override() -> None:
    def at(kind: EventKind, minute: float, actor: str = BOT, **detail) -> Event:
        return Event(kind, actor, later(minute), detail)

    events = [
        at(EventKind.READY_FOR_REVIEW, 0, "UDEV"), pr_opened(),
        at(EventKind.CI_WAITING, 1, commit=HEAD), at(EventKind.REVIEW_APPROVED, 8, "UREV1", commit=HEAD),
        at(EventKind.CI_MISSING, 11, commit=HEAD, waited="10m"),
        at(EventKind.CI_OVERRIDDEN, 12, "ULEAD", commit=HEAD, reason="CI is down"),
        at(EventKind.TAGGED, 13, tag="v1.4.1"), at(EventKind.DEPLOY_CHECKS_STARTED, 14),
        at(EventKind.DEPLOY_CHECKS_PASSED, 18), dev_opened(),
        at(EventKind.MERGED_BACK, 45, target="develop", commit=MERGE_SHA, how="by the bot"),
    ]

    facts = github_facts(events)

    assert facts is not None
    assert facts.pull_requests == (PullRequestFact(12, PR_URL, "main", AT, None),
                                   PullRequestFact(13, DEV_URL, "develop", later(40), later(45)))
    assert facts.review == Span(AT, later(8))
    assert facts.ci == Span(later(1), later(12))
    assert facts.deploy_checks == Span(later(14), later(18))
    assert facts.overrides == (CiOverride("ULEAD", HEAD, "CI is down", later(12)),)


def test_a_hotfix_that_never_went_through_github_has_no_github_facts() -> None:
    assert github_facts([Event(EventKind.READY_FOR_REVIEW, "UDEV", AT)]) is None


def test_trunk_flow_merges_the_approved_pull_request_before_the_tag() -> None:
    deploying = hotfix(Stage.DEPLOYING, approved_commit=HEAD)
    outcome = merge_before_tag(Outcome(deploying, effects=(TagRelease(),)), [pr_opened()])

    assert outcome.effects == (MergePullRequest("main", 12, HEAD),)
    merged = record_pull_request_merged(outcome.hotfix, target="main", commit=MERGE_SHA, now=later(20))
    assert merged.effects == (TagRelease(),) and merged.events == ()


def test_a_refused_merge_before_the_tag_is_said_at_every_retry() -> None:
    deploying = hotfix(Stage.DEPLOYING, approved_commit=HEAD)
    first = record_merge_refused(deploying, [pr_opened()], target="main", number=12, sha=HEAD,
                                 reason=MergeRefusal.FAILING_CHECKS, message="checks", policy=POLICY, now=later(20))
    again = record_merge_refused(deploying, [pr_opened(), *first.events], target="main", number=12, sha=HEAD,
                                 reason=MergeRefusal.FAILING_CHECKS, message="checks", policy=POLICY, now=later(21))

    assert [e.kind for e in (*first.events, *again.events)] == [EventKind.MERGE_REFUSED] * 2
