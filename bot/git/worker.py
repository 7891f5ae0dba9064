"""The git worker: runs the git jobs the procedure queues and reports each result to the service.

Every operation is idempotent (GitOps checks the remote first), so a job re-run after a crash
finds its work done and reports the same result: the procedure carries on exactly once.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable

from bot.domain.hotfix import EventKind, Hotfix
from bot.domain.repo import RepoSpec
from bot.git.errors import BranchMoved, GitOpError, MergeConflict, RefNotFound, RemoteUnavailable
from bot.git.ops import GitOps
from bot.metrics import Metrics
from bot.service.hotfixes import HotfixService
from bot.service.runner import Handler, RetryLater
from bot.store.jobs import Job

log = logging.getLogger(__name__)


class GitWorker:
    def __init__(self, service: HotfixService, ops: GitOps, metrics: Metrics | None = None) -> None:
        self.service = service
        self.ops = ops
        self.metrics = metrics or Metrics()

    @property
    def handlers(self) -> dict[str, Handler]:
        steps: dict[str, Callable[[Hotfix, Job], None]] = {
            "cut_branch": self.cut_branch, "summarize_diff": self.summarize_diff, "tag_release": self.tag_release,
            "merge_back": self.merge_back, "verify_merged": self.verify_merged, "delete_branch": self.delete_branch,
        }
        return {kind: self._reporting(step) for kind, step in steps.items()}

    def cut_branch(self, hotfix: Hotfix, job: Job) -> None:
        cut = self.ops.cut_branch(self._spec(hotfix), hotfix.branch)
        self.service.record_branch_cut(hotfix.key, base_ref=cut.base_ref, base_commit=cut.base_commit)

    def summarize_diff(self, hotfix: Hotfix, job: Job) -> None:
        change = self.ops.review_change(self._spec(hotfix), hotfix.base_commit or hotfix.base_ref or "", hotfix.branch,
                                        approved=hotfix.approved_commit)
        self.service.record_review_request(hotfix.key, change=change)

    def tag_release(self, hotfix: Hotfix, job: Job) -> None:
        # One marker per deploy attempt: a re-run of this job finds its tag, a deploy after a rollback makes a new one.
        _, events = self.service.timeline(hotfix.key)
        attempt = sum(1 for e in events if e.kind is EventKind.DEPLOY_STARTED)
        marker = f"{hotfix.key}/deploy-{attempt}"
        spec = self._spec(hotfix)
        try:
            tagged = self.ops.tag_release(spec, hotfix.branch, self._shipped(spec, hotfix), marker=marker,
                                          message=release_message(hotfix))
        except BranchMoved as moved:
            self.service.record_branch_moved(hotfix.key, head=moved.head, commits=moved.commits)
            return
        self.service.record_tag(hotfix.key, tag=tagged.tag, commit=tagged.commit, previous_tag=tagged.previous_tag)

    def merge_back(self, hotfix: Hotfix, job: Job) -> None:
        spec = self._spec(hotfix)
        shipped = self._shipped(spec, hotfix)
        for target in hotfix.targets_left:
            try:
                merged = self.ops.merge_back(spec, shipped, target, message=merge_message(hotfix, target))
            except MergeConflict as conflict:
                self.service.record_conflict(hotfix.key, target=target, files=conflict.files)
                continue
            self.service.record_merged(hotfix.key, target=target, commit=merged.commit)

    def verify_merged(self, hotfix: Hotfix, job: Job) -> None:
        spec = self._spec(hotfix)
        shipped = self._shipped(spec, hotfix)
        contains = self.ops.merged_targets(spec, shipped, hotfix.targets_left)
        for target, merged in contains.items():
            if merged:
                self.service.record_merged(hotfix.key, target=target, commit=shipped, by_hand=True)
        missing = tuple(t for t, merged in contains.items() if not merged)
        if missing and job.payload.get("remind"):
            self.service.remind_merge_back(hotfix.key, missing=missing)

    def delete_branch(self, hotfix: Hotfix, job: Job) -> None:
        spec = self._spec(hotfix)
        try:
            self.ops.delete_branch(spec, hotfix.branch, self._shipped(spec, hotfix))
        except BranchMoved as moved:
            self.service.record_branch_kept(hotfix.key, head=moved.head, commits=moved.commits)
            return
        self.service.record_branch_deleted(hotfix.key)

    def _shipped(self, spec: RepoSpec, hotfix: Hotfix) -> str:
        """The approved commit: what is tagged, merged back and checked for. A hotfix approved before the bot
        recorded approved commits ships its branch head, as it did then."""
        if hotfix.approved_commit:
            return hotfix.approved_commit
        head = self.ops.branch_head(spec, hotfix.branch)
        if head is None:
            raise RefNotFound(hotfix.branch)
        return head

    def _spec(self, hotfix: Hotfix) -> RepoSpec:
        spec = self.service.repos.get(hotfix.repo)
        if spec is None:
            raise RepoNotConfigured(hotfix.repo)
        return spec

    def _reporting(self, step: Callable[[Hotfix, Job], None]) -> Handler:
        """Remote down: tell the thread once, then retry with back-off. A remote that refuses (no such repository,
        credentials) and other git refusals: tell the thread once, plainly, with the fix; a person presses Retry.
        Each run's duration and failure go to the metrics."""
        def run(job: Job) -> None:
            hotfix = self.service.get(f"HF-{job.hotfix_id}")
            started, failure = time.perf_counter(), "error"  # until the step says otherwise
            try:
                step(hotfix, job)
                failure = None
            except RemoteUnavailable as down:
                failure = "remote_unavailable"
                if job.attempts == 1:
                    self.service.report_failure(hotfix.key, f"{down} Retrying until it is back.")
                raise RetryLater(str(down)) from down
            except GitOpError as refused:
                failure = "refused"
                log.warning("%s: %s failed: %s", hotfix.key, job.kind, refused)
                retry = " Fix that, then press *Retry*." if job.kind in ("cut_branch", "tag_release", "merge_back") else ""
                self.service.report_failure(hotfix.key, f"{_STEP_NAMES[job.kind]} failed: {refused}{retry}")
            finally:
                self.metrics.git_step(job.kind, time.perf_counter() - started, failure)
        return run


class RepoNotConfigured(GitOpError):
    def __init__(self, repo: str) -> None:
        super().__init__(f"the repository {repo} is no longer in hotfix.toml; add it back under [[repos]].")


_STEP_NAMES = {
    "cut_branch": "Cutting the branch", "summarize_diff": "Measuring the change", "tag_release": "Tagging",
    "merge_back": "Merging back", "verify_merged": "Checking the merge-back", "delete_branch": "Deleting the branch",
}


def release_message(hotfix: Hotfix) -> str:
    """The procedure: a security hotfix's tag says nothing about the vulnerability."""
    what = "Security fix" if hotfix.security else f"{hotfix.title} ({hotfix.issue_id})"
    return f"Hotfix {hotfix.key}: {what}"


def merge_message(hotfix: Hotfix, target: str) -> str:
    what = "security fix" if hotfix.security else hotfix.issue_id
    return f"Merge hotfix {hotfix.key} ({what}) into {target}"
