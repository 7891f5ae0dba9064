"""What the workers (git, deploy probe) found out, each recorded as one move. Hotfixes by number."""
from __future__ import annotations

from collections.abc import Collection

from bot.domain import deploy, github_flow, github_merge, procedure, reminders, transitions
from bot.domain.hotfix import Hotfix
from bot.domain.review import Commit, ReviewChange
from bot.domain.transitions import Outcome
from bot.service.moves import Moves, Turn


class WorkerReports:
    def __init__(self, moves: Moves) -> None:
        self.moves = moves

    def record_branch_cut(self, number: int, *, base_ref: str, base_commit: str) -> Hotfix:
        return self.moves.run(number, lambda h, turn: transitions.record_branch_cut(
            h, base_ref=base_ref, base_commit=base_commit, now=turn.now))

    def record_review_request(self, number: int, *, change: ReviewChange) -> Hotfix:
        def move(hotfix: Hotfix, turn: Turn) -> Outcome:
            record = github_flow.record_review_request if turn.rules.on_github(hotfix.repo) else \
                procedure.record_review_request
            return record(hotfix, change=change, policy=turn.rules.policy, now=turn.now)
        return self.moves.run(number, move)

    def record_branch_moved(self, number: int, *, head: str, commits: tuple[Commit, ...]) -> Hotfix:
        return self.moves.run(number, lambda h, turn: procedure.record_branch_moved(
            h, head=head, commits=commits, now=turn.now))

    def record_tag(self, number: int, *, tag: str, commit: str, previous_tag: str) -> Hotfix:
        def move(hotfix, turn):
            spec = turn.rules.repos.get(hotfix.repo)
            return procedure.record_tag(hotfix, tag=tag, commit=commit, previous_tag=previous_tag,
                                        policy=turn.rules.policy, now=turn.now,
                                        probe=spec is not None and spec.watches_deploys)
        return self.moves.run(number, move)

    def record_merged(self, number: int, *, target: str, commit: str, by_hand: bool = False) -> Hotfix:
        return self.moves.run(number, lambda h, turn: procedure.record_merged(
            h, target=target, commit=commit, by_hand=by_hand, now=turn.now))

    def record_merge_branch(self, number: int, *, target: str) -> Hotfix:
        return self.moves.run(number, lambda h, turn: github_merge.record_merge_branch(h, target=target))

    def record_conflict(self, number: int, *, target: str, files: Collection[str]) -> Hotfix:
        return self.moves.run(number, lambda h, turn: procedure.record_conflict(
            h, target=target, files=files, now=turn.now))

    def record_branch_deleted(self, number: int) -> Hotfix:
        return self.moves.run(number, lambda h, turn: procedure.record_branch_deleted(h, now=turn.now))

    def record_branch_kept(self, number: int, *, head: str, commits: tuple[Commit, ...]) -> Hotfix:
        return self.moves.run(number, lambda h, turn: procedure.record_branch_kept(
            h, head=head, commits=commits, now=turn.now))

    def remind_merge_back(self, number: int, *, missing: tuple[str, ...]) -> Hotfix:
        return self.moves.run(number, lambda h, turn: reminders.remind_merge_back(h, missing=missing, now=turn.now))

    def report_failure(self, number: int, *, step: str, reason: str, then: str = "") -> Hotfix:
        """`then`: bot.domain.failures.RETRYING or PRESS_RETRY, or "" when neither applies."""
        return self.moves.run(number, lambda h, turn: procedure.step_failed(h, step=step, reason=reason, then=then,
                                                                            now=turn.now))

    def record_probe(self, number: int, *, healthy: bool | None, detail: str, live: bool | None) -> Hotfix:
        return self.moves.run(number, lambda h, turn: deploy.record_probe(
            h, healthy=healthy, detail=detail, live=live, events=turn.events(h), now=turn.now))
