"""What people do: declare, approve, review, deploy... Buttons, modals and slash commands land here, by key."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from bot.domain import github_ci, github_flow, github_merge, procedure, reminders, transitions
from bot.domain.declaration import Declaration, Field
from bot.domain.hotfix import Event, EventKind, Hotfix, VerifyMerged
from bot.domain.repo import Flow
from bot.domain.timers import TimerKind
from bot.domain.transitions import Outcome, Refused
from bot.service.moves import Move, Moves, Turn
from bot.service.ports import Clock, Rules, StageChange, UnitsOfWork
from bot.service.queries import Queries, parse_key


class InvalidDeclaration(Exception):
    def __init__(self, problems: dict[Field, str]) -> None:
        super().__init__("; ".join(problems.values()))
        self.problems = problems


class PeopleSteps:
    def __init__(self, moves: Moves, queries: Queries, units: UnitsOfWork, clock: Clock,
                 rules: Callable[[], Rules]) -> None:
        self.moves, self.queries, self.units, self.clock, self.rules = moves, queries, units, clock, rules

    def declare(self, form: Declaration, *, declared_by: str, request_key: str | None = None) -> Hotfix:
        rules = self.rules()
        if problems := form.problems(rules.repos):
            raise InvalidDeclaration(problems)
        with self.units.writing() as unit:
            if request_key and (earlier := unit.hotfixes.by_request_key(request_key)):
                return earlier  # Slack resent the submission
            outcome = transitions.declare(form, declared_by=declared_by, now=self.clock.now(),
                                          times=rules.policy.times)
            hotfix = unit.hotfixes.add(outcome.hotfix, request_key=request_key)
            if (named := transitions.name_branch(hotfix)) != hotfix:
                unit.hotfixes.save(hotfix, named)
                hotfix = named
            self.moves.record(unit, replace(outcome, hotfix=hotfix), StageChange(None, hotfix.stage))
        return hotfix

    # --- approval -------------------------------------------------------------------------------------------------
    def approve(self, key: str, *, user_id: str) -> Hotfix:
        return self._run(key, lambda h, turn: transitions.approve(h, user_id=user_id,
                                                                  policy=turn.rules.policy.approvals, now=turn.now))

    def check_may_reject(self, key: str, *, user_id: str) -> Hotfix:
        hotfix = self.queries.get(key)
        transitions.check_may_reject(hotfix, user_id=user_id, policy=self.rules().policy.approvals)
        return hotfix

    def reject(self, key: str, *, user_id: str, reason: str) -> Hotfix:
        return self._run(key, lambda h, turn: transitions.reject(h, user_id=user_id, reason=reason,
                                                                 policy=turn.rules.policy.approvals, now=turn.now))

    # --- review ---------------------------------------------------------------------------------------------------
    def ready_for_review(self, key: str, *, user_id: str) -> Hotfix:
        return self._run(key, lambda h, turn: procedure.ready_for_review(h, user_id=user_id, policy=turn.rules.policy,
                                                                         now=turn.now))

    def check_may_review(self, key: str, *, user_id: str) -> Hotfix:
        hotfix, events = self.queries.timeline(key)
        self._check_reviewed_in_slack(hotfix, events, self.rules())
        procedure.check_reviewer(hotfix, user_id, self.rules().policy)
        return hotfix

    def approve_review(self, key: str, *, user_id: str, commit: str) -> Hotfix:
        def move(hotfix: Hotfix, turn: Turn) -> Outcome:
            self._check_reviewed_in_slack(hotfix, turn.events(hotfix), turn.rules)
            return procedure.approve_review(hotfix, user_id=user_id, commit=commit, policy=turn.rules.policy,
                                            now=turn.now, reviewed_by=reviewers_so_far(hotfix, turn.events(hotfix)))
        return self._run(key, move)

    def request_changes(self, key: str, *, user_id: str, reason: str) -> Hotfix:
        def move(hotfix: Hotfix, turn: Turn) -> Outcome:
            self._check_reviewed_in_slack(hotfix, turn.events(hotfix), turn.rules)
            return procedure.request_changes(hotfix, user_id=user_id, reason=reason, policy=turn.rules.policy,
                                             now=turn.now)
        return self._run(key, move)

    @staticmethod
    def _check_reviewed_in_slack(hotfix: Hotfix, events: list[Event], rules: Rules) -> None:
        if rules.on_github(hotfix.repo):
            github_flow.check_reviewed_in_slack(hotfix, events)

    # --- deploy and monitoring ------------------------------------------------------------------------------------
    def tag_and_deploy(self, key: str, *, user_id: str) -> Hotfix:
        def move(hotfix: Hotfix, turn: Turn) -> Outcome:
            # The CI gate holds once the hotfix is on a pull request (one reviewed in Slack before its repo moved
            # to GitHub ships as it was reviewed).
            if turn.rules.on_github(hotfix.repo) and github_flow.hotfix_pull_request(turn.events(hotfix)):
                return github_ci.tag_and_deploy(hotfix, turn.events(hotfix), user_id=user_id,
                                                policy=turn.rules.policy, now=turn.now)
            return procedure.tag_and_deploy(hotfix, user_id=user_id, policy=turn.rules.policy, now=turn.now)
        return self._run(key, tagging(move))

    def check_may_tag_anyway(self, key: str, *, user_id: str) -> Hotfix:
        """Before the reason is asked: only an on-call lead, only when no check reported for the whole CI wait."""
        hotfix, events = self.queries.timeline(key)
        github_ci.override_ci(hotfix, events, user_id=user_id, reason="(asked next)", policy=self.rules().policy,
                              now=self.clock.now())
        return hotfix

    def tag_anyway(self, key: str, *, user_id: str, reason: str) -> Hotfix:
        """An on-call lead tags the approved commit although no CI ever reported on it; the reason is recorded."""
        return self._run(key, tagging(lambda h, turn: github_ci.tag_anyway(
            h, turn.events(h), user_id=user_id, reason=reason, policy=turn.rules.policy, now=turn.now)))

    def check_stable(self, key: str, *, user_id: str) -> Hotfix | None:
        """The hotfix when this Stable must first ask why monitoring ends early; None when it may merge back now."""
        hotfix, events = self.queries.timeline(key)
        early = procedure.check_stable(hotfix, user_id=user_id, policy=self.rules().policy, now=self.clock.now(),
                                       monitored_since=monitored_since(hotfix, events))
        return hotfix if early else None

    def mark_stable(self, key: str, *, user_id: str) -> Hotfix:
        return self._run(key, merging_back(lambda h, turn: procedure.mark_stable(
            h, user_id=user_id, targets=merge_targets(h, turn.rules), policy=turn.rules.policy, now=turn.now,
            monitored_since=monitored_since(h, turn.events(h)))))

    def end_monitoring_early(self, key: str, *, user_id: str, reason: str) -> Hotfix:
        return self._run(key, merging_back(lambda h, turn: procedure.end_monitoring_early(
            h, user_id=user_id, reason=reason, targets=merge_targets(h, turn.rules), policy=turn.rules.policy,
            now=turn.now, monitored_since=monitored_since(h, turn.events(h)))))

    def roll_back(self, key: str, *, user_id: str) -> Hotfix:
        return self._run(key, lambda h, turn: procedure.roll_back(h, user_id=user_id, policy=turn.rules.policy,
                                                                  now=turn.now))

    def snooze(self, key: str, kind: str, *, user_id: str, by: timedelta) -> Hotfix:
        if kind not in TimerKind._value2member_map_:
            raise Refused("That reminder no longer exists; nothing to snooze.")
        return self._run(key, lambda h, turn: reminders.snooze(h, TimerKind(kind), user_id=user_id, by=by,
                                                               policy=turn.rules.policy, now=turn.now))

    def looks_fine(self, key: str, *, user_id: str) -> Hotfix:
        return self._run(key, lambda h, turn: reminders.looks_fine(h, user_id=user_id, policy=turn.rules.policy,
                                                                   now=turn.now))

    # --- merge-back and the end -----------------------------------------------------------------------------------
    def merged_by_hand(self, key: str, *, user_id: str) -> Hotfix:
        return self._run(key, lambda h, turn: procedure.merged_by_hand(
            h, user_id=user_id, policy=turn.rules.policy, now=turn.now,
            verifying=turn.git_step_waiting(h, VerifyMerged)))

    def retry(self, key: str, *, user_id: str) -> Hotfix:
        def move(hotfix: Hotfix, turn: Turn) -> Outcome:
            if turn.rules.on_github(hotfix.repo):
                return github_flow.retry(hotfix, turn.events(hotfix), user_id=user_id, policy=turn.rules.policy,
                                         now=turn.now)
            return procedure.retry(hotfix, user_id=user_id, policy=turn.rules.policy, now=turn.now)
        return self._run(key, tagging(merging_back(move)))

    def close(self, key: str, *, user_id: str, reason: str = "") -> Hotfix:
        return self._run(key, lambda h, turn: procedure.close(h, user_id=user_id, reason=reason,
                                                              policy=turn.rules.policy, now=turn.now))

    def _run(self, key: str, move: Move) -> Hotfix:
        return self.moves.run(parse_key(key), move)


def merging_back(move: Move) -> Move:
    """On a GitHub repo, the merge-back a move starts goes through pull requests."""
    def on_the_code_host(hotfix: Hotfix, turn: Turn) -> Outcome:
        outcome = move(hotfix, turn)
        if not turn.rules.on_github(hotfix.repo):
            return outcome
        return github_merge.through_pull_requests(outcome, turn.events(hotfix))
    return on_the_code_host


def tagging(move: Move) -> Move:
    """Trunk flow on a GitHub repo: the tag waits for the hotfix's pull request to merge into main."""
    def on_the_code_host(hotfix: Hotfix, turn: Turn) -> Outcome:
        outcome = move(hotfix, turn)
        spec = turn.rules.repos.get(hotfix.repo)
        if spec is None or not spec.on_github or spec.flow is not Flow.TRUNK:
            return outcome
        return github_merge.merge_before_tag(outcome, turn.events(hotfix))
    return on_the_code_host


def merge_targets(hotfix: Hotfix, rules: Rules) -> tuple[str, ...]:
    if hotfix.repo not in rules.repos:
        raise Refused(f"The repository {hotfix.repo} is no longer in hotfix.toml; add it back to merge back.")
    return rules.repos[hotfix.repo].merge_back


def monitored_since(hotfix: Hotfix, events: list[Event]) -> datetime:
    """When the latest tag was pushed: the monitoring window runs from there."""
    return next((e.at for e in reversed(events) if e.kind is EventKind.TAGGED), hotfix.declared_at)


def reviewers_so_far(hotfix: Hotfix, events: list[Event]) -> set[str]:
    """Who approved the commit under review since the latest review request."""
    since = max((i for i, e in enumerate(events) if e.kind in _REVIEW_REQUESTS), default=0)
    return {e.actor for e in events[since:]
            if e.kind is EventKind.REVIEW_APPROVED and e.detail.get("commit") == hotfix.review_commit}


_REVIEW_REQUESTS = (EventKind.READY_FOR_REVIEW, EventKind.BRANCH_MOVED, EventKind.REVIEW_REQUESTED)
