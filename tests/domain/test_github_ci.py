"""The CI gate and the deploy checks on a GitHub repo, at the domain level."""
from __future__ import annotations

from datetime import timedelta

import pytest

from bot.domain import github_ci
from bot.domain.codehost import CheckState
from bot.domain.github_ci import ci_allows_tag, override_ci, record_ci, record_deploy_checks
from bot.domain.hotfix import BOT, Event, EventKind, Stage, TagRelease
from bot.domain.transitions import Refused, Remedy
from tests.domain.github_builders import AT, CI_WAIT, HEAD, NEW, POLICY, check, hotfix, later

OK, RUNNING, FAILED = CheckState.SUCCESS, CheckState.IN_PROGRESS, CheckState.FAILURE


def ci(events, checks, minute=1, commit=HEAD, required=(), fix=None):
    return record_ci(fix or hotfix(), events, commit=commit, checks=checks, required_checks=required,
                     ci_wait=CI_WAIT, now=later(minute))


def run(*polls, commit=HEAD, required=()):
    """Each poll's checks in turn; every event recorded."""
    events: list[Event] = []
    for minute, checks in polls:
        events += ci(events, checks, minute, commit, required).events
    return events


def approved(**changes):
    return hotfix(Stage.REVIEWED, approved_commit=HEAD, **changes)


# 3. The CI gate
def test_ci_events_come_only_when_the_verdict_changes() -> None:
    events = run((1, []), (2, [check("tests", RUNNING)]), (3, [check("tests", RUNNING), check("lint", RUNNING)]),
                 (4, [check("tests", OK), check("lint", OK)]), (5, [check("tests", OK), check("lint", OK)]))

    assert [e.kind for e in events] == [EventKind.CI_WAITING, EventKind.CI_PENDING, EventKind.CI_PASSED]
    pending, passed = events[1], events[2]
    assert pending.detail["running"] == (("tests", "in_progress", "https://ci.example.com/tests"),)
    assert passed.detail["checks"] == (("tests", "success", "https://ci.example.com/tests"),
                                       ("lint", "success", "https://ci.example.com/lint"))


def test_a_failure_names_the_failing_checks_with_their_links() -> None:
    events = run((1, [check("tests", FAILED), check("lint", OK), check("build", RUNNING)]))

    [failed] = events
    assert failed.kind is EventKind.CI_FAILED
    assert failed.detail["failing"] == (("tests", "failure", "https://ci.example.com/tests"),)


def test_a_rerun_that_passes_after_a_failure_is_news() -> None:
    events = run((1, [check("tests", FAILED)]), (2, [check("tests", RUNNING)]), (3, [check("tests", OK)]))
    assert [e.kind for e in events] == [EventKind.CI_FAILED, EventKind.CI_PENDING, EventKind.CI_PASSED]


def test_no_check_at_all_after_ci_wait_is_said_once() -> None:
    events = run((0, []), (9, []), (10, []), (12, []))

    assert [e.kind for e in events] == [EventKind.CI_WAITING, EventKind.CI_MISSING]
    assert events[1].detail["waited"] == "10m"


def test_with_required_checks_only_they_count_and_each_must_report() -> None:
    events = run((1, [check("tests", OK), check("flaky", FAILED)]), required=("tests", "build"))

    [pending] = events
    assert pending.kind is EventKind.CI_PENDING and pending.names("missing") == ("build",)


def test_ci_is_read_only_while_the_hotfix_is_reviewed() -> None:
    assert ci([], [check("tests", OK)], fix=hotfix(Stage.FIXING)).events == ()


def test_tag_and_deploy_waits_for_the_approved_commits_ci() -> None:
    fix = approved()
    cases = [
        ([], "No check has reported on `bbbbbbbbbb` yet"),
        (run((1, [check("tests", RUNNING)])), r"CI is still running on `bbbbbbbbbb` \(tests\)"),
        (run((1, [check("tests", FAILED), check("lint", OK)])), "CI failed on `bbbbbbbbbb`: tests. Push a fix"),
        (run((1, [check("tests", OK)]), commit=NEW), "No check has reported on `bbbbbbbbbb` yet"),
    ]
    for events, message in cases:
        with pytest.raises(Refused, match=message):
            github_ci.tag_and_deploy(fix, events, user_id="UDEV", policy=POLICY, now=later(20))


def test_tag_and_deploy_runs_once_the_approved_commit_passed() -> None:
    outcome = github_ci.tag_and_deploy(approved(), run((1, [check("tests", OK)])), user_id="UDEV", policy=POLICY,
                                       now=later(20))

    assert outcome.hotfix.stage is Stage.DEPLOYING and outcome.effects == (TagRelease(),)
    assert [e.kind for e in outcome.events] == [EventKind.DEPLOY_STARTED]


def test_the_plain_refusals_come_first() -> None:
    with pytest.raises(Refused, match="Only HF-7's declarer or an on-call lead can tag and deploy"):
        github_ci.tag_and_deploy(approved(), [], user_id="UREV1", policy=POLICY, now=later(20))


def test_no_check_after_ci_wait_offers_the_on_call_leads_override() -> None:
    refusal = ci_allows_tag(approved(), run((0, []), (11, [])))

    assert refusal is not None and refusal.remedy is Remedy.OVERRIDE_CI and refusal.key == "HF-7"
    assert str(refusal) == "No check and no status reported on `bbbbbbbbbb` after 11m."


def test_an_on_call_lead_overrides_a_silent_ci_with_a_reason_recorded() -> None:
    events = run((0, []), (11, []))

    outcome = override_ci(approved(), events, user_id="ULEAD", reason=" CI is down org-wide ", policy=POLICY,
                          now=later(12))

    [event] = outcome.events
    assert (event.kind, event.actor, dict(event.detail)) == (
        EventKind.CI_OVERRIDDEN, "ULEAD", {"commit": HEAD, "reason": "CI is down org-wide"})
    assert ci_allows_tag(approved(), [*events, event]) is None
    again = override_ci(approved(), [*events, event], user_id="ULEAD", reason="x", policy=POLICY, now=later(13))
    assert again.events == ()


def test_the_override_refusals() -> None:
    silent = run((0, []), (11, []))
    cases = [
        (approved(), silent, "UDEV", "why", "Only an on-call lead can tag HF-7 without CI"),
        (approved(), silent, "ULEAD", "  ", "Say why it ships without CI"),
        (approved(), run((0, [])), "ULEAD", "why", "it has not waited that long yet"),
        (approved(), run((0, [check("tests", RUNNING)])), "ULEAD", "why", "its checks are running"),
        (approved(), run((0, [check("tests", FAILED)])), "ULEAD", "why", "it failed"),
        (hotfix(Stage.IN_REVIEW), silent, "ULEAD", "why", "HF-7 is in review: CI can be overridden only once"),
    ]
    for fix, events, user, reason, message in cases:
        with pytest.raises(Refused, match=message):
            override_ci(fix, events, user_id=user, reason=reason, policy=POLICY, now=later(12))


def test_tag_anyway_overrides_and_tags_in_one_move() -> None:
    outcome = github_ci.tag_anyway(approved(), run((0, []), (11, [])), user_id="ULEAD", reason="CI is down",
                                   policy=POLICY, now=later(12))

    assert [e.kind for e in outcome.events] == [EventKind.CI_OVERRIDDEN, EventKind.DEPLOY_STARTED]
    assert outcome.hotfix.stage is Stage.DEPLOYING and outcome.effects == (TagRelease(),)


# 4. After the tag: the checks the tag's push started
def monitoring():
    return hotfix(Stage.MONITORING, approved_commit=HEAD, tag="v1.4.1", tag_commit=HEAD)


def tagged(*before: Event) -> list[Event]:
    detail = {"tag": "v1.4.1", "commit": HEAD, "previous_tag": "v1.4.0"}
    return [*before, Event(EventKind.TAGGED, BOT, later(20), detail)]


def deploy_run(events, *polls):
    for minute, checks in polls:
        events = [*events, *record_deploy_checks(monitoring(), events, checks=checks, now=later(minute)).events]
    return events


def test_the_deploy_pipeline_is_reported_as_it_starts_and_finishes_without_the_reviewed_ci() -> None:
    events = tagged(*run((1, [check("tests", OK)])))
    reviewed_ci = check("tests", OK)

    after = deploy_run(events, (21, [reviewed_ci]), (22, [reviewed_ci, check("deploy", RUNNING)]),
                       (23, [reviewed_ci, check("deploy", RUNNING)]), (24, [reviewed_ci, check("deploy", OK)]),
                       (25, [reviewed_ci, check("deploy", OK)]))

    news = after[len(events):]
    assert [e.kind for e in news] == [EventKind.DEPLOY_CHECKS_STARTED, EventKind.DEPLOY_CHECKS_PASSED]
    assert news[0].detail["checks"] == (("deploy", "in_progress", "https://ci.example.com/deploy"),)
    assert news[1].detail["tag"] == "v1.4.1"


def test_a_failed_deploy_pipeline_is_posted_at_once_with_the_failing_checks() -> None:
    events = tagged(*run((1, [check("tests", OK)])))

    after = deploy_run(events, (21, [check("deploy", FAILED)]), (22, [check("deploy", FAILED)]))

    news = after[len(events):]
    assert [e.kind for e in news] == [EventKind.DEPLOY_CHECKS_STARTED, EventKind.DEPLOY_CHECKS_FAILED]
    assert news[1].detail["failing"] == (("deploy", "failure", "https://ci.example.com/deploy"),)


def test_after_a_rollback_and_a_new_tag_the_deploy_checks_start_afresh() -> None:
    first = deploy_run(tagged(), (21, [check("deploy", OK)]))
    second = deploy_run(tagged(*first), (41, [check("deploy", OK)]))

    assert [e.kind for e in second[len(first) + 1:]] == [EventKind.DEPLOY_CHECKS_STARTED,
                                                         EventKind.DEPLOY_CHECKS_PASSED]


def test_deploy_checks_are_read_only_while_monitoring() -> None:
    fix = hotfix(Stage.MERGING_BACK, tag="v1.4.1", tag_commit=HEAD)
    outcome = record_deploy_checks(fix, tagged(), checks=[check("deploy", FAILED)], now=AT + timedelta(hours=1))
    assert outcome.events == ()


def test_a_tag_run_that_reuses_a_reviewed_checks_name_and_fails_is_reported() -> None:
    events = tagged(*run((1, [check("build", OK)])))

    after = deploy_run(events, (21, [check("build", OK)]), (22, [check("build", RUNNING)]),
                       (23, [check("build", FAILED)]))

    news = after[len(events):]
    assert [e.kind for e in news] == [EventKind.DEPLOY_CHECKS_STARTED, EventKind.DEPLOY_CHECKS_FAILED]


def test_once_the_tags_checks_finished_monitoring_reads_github_less_often() -> None:
    from bot.domain.github_poll import SETTLED_DEPLOY_SLOWDOWN, GitHubReading, GitHubRules, record_poll
    from bot.domain.timers import StartTimer, TimerKind
    from tests.domain.github_builders import PEOPLE, POLL

    rules = GitHubRules(people=PEOPLE, poll=POLL)
    events = tagged(*run((1, [check("tests", OK)])))
    running = record_poll(monitoring(), events, reading=GitHubReading(tag_checks=(check("deploy", RUNNING),)),
                          rules=rules, now=later(21))
    events = [*events, *running.events]
    done = record_poll(monitoring(), events, reading=GitHubReading(tag_checks=(check("deploy", OK),)), rules=rules,
                       now=later(22))

    assert running.effects[-1] == StartTimer(TimerKind.CODE_HOST_POLL, POLL)
    assert done.effects[-1] == StartTimer(TimerKind.CODE_HOST_POLL, POLL * SETTLED_DEPLOY_SLOWDOWN)
