"""The procedure's side of a code host (GitHub): what its worker read or did, each recorded as one move, and a
webhook's hint that something changed. Hotfixes by number."""
from __future__ import annotations

from bot.domain import github_flow, github_merge, github_poll
from bot.domain.codehost import MergeRefusal
from bot.domain.github_poll import GitHubReading, GitHubRules, ToRead
from bot.domain.hotfix import Hotfix
from bot.domain.procedure import SECURITY
from bot.service.moves import Moves
from bot.service.ports import Rules, UnitsOfWork


def github_rules(rules: Rules, repo: str) -> GitHubRules:
    spec = rules.repos.get(repo)
    return GitHubRules(people=rules.people, required_checks=spec.required_checks if spec else (),
                       ci_wait=rules.ci_wait, poll=rules.code_host_poll,
                       security_reviewers=tuple(sorted(rules.policy.approvals.holders(SECURITY))))


class CodeHostReports:
    def __init__(self, moves: Moves, units: UnitsOfWork) -> None:
        self.moves, self.units = moves, units

    def to_read(self, number: int) -> ToRead:
        with self.units.reading() as unit:
            hotfix = unit.hotfixes.get(number)
            return github_poll.to_read(hotfix, unit.hotfixes.events(number)) if hotfix else ToRead()

    def record_pull_request(self, number: int, *, pull_request: int, url: str, head: str, base: str,
                            adopted: bool) -> Hotfix:
        return self.moves.run(number, lambda h, turn: github_flow.record_pull_request(
            h, turn.events(h), number=pull_request, url=url, head=head, base=base, adopted=adopted,
            poll=turn.rules.code_host_poll, now=turn.now))

    def record_poll(self, number: int, reading: GitHubReading) -> Hotfix:
        return self.moves.run(number, lambda h, turn: github_poll.record_poll(
            h, turn.events(h), reading=reading, rules=github_rules(turn.rules, h.repo), now=turn.now))

    def record_merge_back_pull_request(self, number: int, *, target: str, pull_request: int, url: str,
                                       head: str, branch: str) -> Hotfix:
        return self.moves.run(number, lambda h, turn: github_merge.record_merge_back_pull_request(
            h, turn.events(h), target=target, number=pull_request, url=url, head=head, branch=branch, now=turn.now))

    def record_pull_request_merged(self, number: int, *, target: str, commit: str) -> Hotfix:
        return self.moves.run(number, lambda h, turn: github_merge.record_pull_request_merged(
            h, target=target, commit=commit, now=turn.now))

    def record_merge_refused(self, number: int, *, target: str, pull_request: int, sha: str,
                             reason: MergeRefusal, message: str) -> Hotfix:
        return self.moves.run(number, lambda h, turn: github_merge.record_merge_refused(
            h, turn.events(h), target=target, number=pull_request, sha=sha, reason=reason, message=message,
            policy=turn.rules.policy, now=turn.now))
