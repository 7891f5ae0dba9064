"""Use cases for the procedure after approval; each one move through HotfixService._move."""
from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from bot.domain import deploy, procedure, reminders
from bot.domain.hotfix import EventKind, Hotfix, VerifyMerged
from bot.domain.review import Commit, ReviewChange
from bot.domain.transitions import Refused


class Steps:
    """Mixed into HotfixService: people's steps (buttons) and the git worker's reports."""

    # --- people -------------------------------------------------------------------------------------------------
    def ready_for_review(self, key: str, *, user_id: str) -> Hotfix:
        return self._move(key, lambda h, now: procedure.ready_for_review(h, user_id=user_id, policy=self.policy, now=now))

    def approve_review(self, key: str, *, user_id: str, commit: str) -> Hotfix:
        def move(hotfix, now):
            reviewed = self._reviewers_so_far(hotfix)
            return procedure.approve_review(hotfix, user_id=user_id, commit=commit, policy=self.policy, now=now,
                                            reviewed_by=reviewed)
        return self._move(key, move)

    def request_changes(self, key: str, *, user_id: str, reason: str) -> Hotfix:
        return self._move(key, lambda h, now: procedure.request_changes(h, user_id=user_id, reason=reason,
                                                                         policy=self.policy, now=now))

    def tag_and_deploy(self, key: str, *, user_id: str) -> Hotfix:
        return self._move(key, lambda h, now: procedure.tag_and_deploy(h, user_id=user_id, policy=self.policy, now=now))

    def mark_stable(self, key: str, *, user_id: str) -> Hotfix:
        def move(hotfix, now):
            return procedure.mark_stable(hotfix, user_id=user_id, targets=self._merge_targets(hotfix),
                                         policy=self.policy, now=now, monitored_since=self._monitored_since(hotfix))
        return self._move(key, move)

    def check_stable(self, key: str, *, user_id: str) -> Hotfix | None:
        """The hotfix when this Stable must first ask why monitoring ends early; None when it may merge back now."""
        hotfix = self.get(key)
        early = procedure.check_stable(hotfix, user_id=user_id, policy=self.policy, now=self.clock.now(),
                                       monitored_since=self._monitored_since(hotfix))
        return hotfix if early else None

    def end_monitoring_early(self, key: str, *, user_id: str, reason: str) -> Hotfix:
        def move(hotfix, now):
            return procedure.end_monitoring_early(hotfix, user_id=user_id, reason=reason,
                                                  targets=self._merge_targets(hotfix), policy=self.policy, now=now,
                                                  monitored_since=self._monitored_since(hotfix))
        return self._move(key, move)

    def roll_back(self, key: str, *, user_id: str) -> Hotfix:
        return self._move(key, lambda h, now: procedure.roll_back(h, user_id=user_id, policy=self.policy, now=now))

    def merged_by_hand(self, key: str, *, user_id: str) -> Hotfix:
        def move(hotfix, now):
            return procedure.merged_by_hand(hotfix, user_id=user_id, policy=self.policy, now=now,
                                            verifying=self.git_job_waiting(hotfix, VerifyMerged))
        return self._move(key, move)

    def retry(self, key: str, *, user_id: str) -> Hotfix:
        return self._move(key, lambda h, now: procedure.retry(h, user_id=user_id, policy=self.policy, now=now))

    def close(self, key: str, *, user_id: str, reason: str = "") -> Hotfix:
        return self._move(key, lambda h, now: procedure.close(h, user_id=user_id, reason=reason, policy=self.policy,
                                                               now=now))

    # --- the git worker's reports ---------------------------------------------------------------------------------
    def record_review_request(self, key: str, *, change: ReviewChange) -> Hotfix:
        return self._move(key, lambda h, now: procedure.record_review_request(h, change=change, policy=self.policy,
                                                                               now=now))

    def record_branch_moved(self, key: str, *, head: str, commits: tuple[Commit, ...]) -> Hotfix:
        return self._move(key, lambda h, now: procedure.record_branch_moved(h, head=head, commits=commits, now=now))

    def record_tag(self, key: str, *, tag: str, commit: str, previous_tag: str) -> Hotfix:
        def move(hotfix, now):
            spec = self.repos.get(hotfix.repo)
            return procedure.record_tag(hotfix, tag=tag, commit=commit, previous_tag=previous_tag, policy=self.policy,
                                        now=now, probe=spec is not None and spec.watches_deploys)
        return self._move(key, move)

    def record_merged(self, key: str, *, target: str, commit: str, by_hand: bool = False) -> Hotfix:
        return self._move(key, lambda h, now: procedure.record_merged(h, target=target, commit=commit, by_hand=by_hand,
                                                                       now=now))

    def record_conflict(self, key: str, *, target: str, files: Collection[str]) -> Hotfix:
        return self._move(key, lambda h, now: procedure.record_conflict(h, target=target, files=files, now=now))

    def record_branch_deleted(self, key: str) -> Hotfix:
        return self._move(key, lambda h, now: procedure.record_branch_deleted(h, now=now))

    def record_branch_kept(self, key: str, *, head: str, commits: tuple[Commit, ...]) -> Hotfix:
        return self._move(key, lambda h, now: procedure.record_branch_kept(h, head=head, commits=commits, now=now))

    def remind_merge_back(self, key: str, *, missing: tuple[str, ...]) -> Hotfix:
        return self._move(key, lambda h, now: reminders.remind_merge_back(h, missing=missing, now=now))

    def report_failure(self, key: str, message: str) -> Hotfix:
        return self._move(key, lambda h, now: procedure.step_failed(h, message=message, now=now))

    # --- the deploy probe's reports -------------------------------------------------------------------------------
    def record_probe(self, key: str, *, healthy: bool | None, detail: str, live: bool | None) -> Hotfix:
        def move(hotfix, now):
            _, events = self.timeline(hotfix.key)
            return deploy.record_probe(hotfix, healthy=healthy, detail=detail, live=live, events=events, now=now)
        return self._move(key, move)

    def _merge_targets(self, hotfix: Hotfix) -> tuple[str, ...]:
        if hotfix.repo not in self.repos:
            raise Refused(f"The repository {hotfix.repo} is no longer in hotfix.toml; add it back to merge back.")
        return self.repos[hotfix.repo].merge_back

    def _monitored_since(self, hotfix: Hotfix) -> datetime:
        """When the latest tag was pushed: the monitoring window runs from there."""
        _, events = self.timeline(hotfix.key)
        return next((e.at for e in reversed(events) if e.kind is EventKind.TAGGED), hotfix.declared_at)

    def _reviewers_so_far(self, hotfix: Hotfix) -> set[str]:
        """Who approved the commit under review since the latest review request."""
        _, events = self.timeline(hotfix.key)
        since = max((i for i, e in enumerate(events) if e.kind in _REVIEW_REQUESTS), default=0)
        return {e.actor for e in events[since:]
                if e.kind is EventKind.REVIEW_APPROVED and e.detail.get("commit") == hotfix.review_commit}


_REVIEW_REQUESTS = (EventKind.READY_FOR_REVIEW, EventKind.BRANCH_MOVED, EventKind.REVIEW_REQUESTED)
