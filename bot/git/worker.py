"""The git worker: runs the git jobs the procedure queues and reports each result to the service.

Every operation is idempotent (GitOps checks the remote first), so a job re-run after a crash
finds its work done and reports the same result: the procedure carries on exactly once.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping

from bot.domain.failures import PRESS_RETRY, RETRYING
from bot.domain.github_merge import merge_branch
from bot.domain.hotfix import Hotfix
from bot.domain.trail import deploy_attempts
from bot.domain.repo import RepoSpec
from bot.git.errors import BranchMoved, GitOpError, MergeConflict, RefNotFound, RemoteUnavailable
from bot.git.ops import GitOps
from bot.metrics import Metrics
from bot.runtime.errors import RetryLater
from bot.service.jobs import GitJob
from bot.service.queries import Queries
from bot.service.reports import WorkerReports

log = logging.getLogger(__name__)


class GitWorker:
    def __init__(self, reports: WorkerReports, read: Queries, ops: GitOps, repos: Callable[[], Mapping[str, RepoSpec]],
                 metrics: Metrics | None = None) -> None:
        self.reports, self.read, self.ops, self.repos = reports, read, ops, repos
        self.metrics = metrics or Metrics()
        self._steps: dict[str, Callable[[Hotfix, GitJob], None]] = {
            "cut_branch": self.cut_branch, "summarize_diff": self.summarize_diff, "tag_release": self.tag_release,
            "merge_back": self.merge_back, "verify_merged": self.verify_merged, "delete_branch": self.delete_branch,
            "push_merge_branch": self.push_merge_branch,
        }

    @property
    def handlers(self) -> dict[type, Callable[[GitJob, int], None]]:
        return {GitJob: self.run}

    def cut_branch(self, hotfix: Hotfix, job: GitJob) -> None:
        cut = self.ops.cut_branch(self._spec(hotfix), hotfix.branch)
        self.reports.record_branch_cut(job.hotfix, base_ref=cut.base_ref, base_commit=cut.base_commit)

    def summarize_diff(self, hotfix: Hotfix, job: GitJob) -> None:
        change = self.ops.review_change(self._spec(hotfix), hotfix.base_commit or hotfix.base_ref or "", hotfix.branch,
                                        approved=hotfix.approved_commit)
        self.reports.record_review_request(job.hotfix, change=change)

    def tag_release(self, hotfix: Hotfix, job: GitJob) -> None:
        # One marker per deploy attempt: a re-run of this job finds its tag, a deploy after a rollback makes a new one.
        marker = f"{hotfix.key}/deploy-{job.attempt or self._attempts_so_far(job.hotfix)}"
        spec = self._spec(hotfix)
        try:
            tagged = self.ops.tag_release(spec, hotfix.branch, self._shipped(spec, hotfix), marker=marker,
                                          message=release_message(hotfix))
        except BranchMoved as moved:
            self.reports.record_branch_moved(job.hotfix, head=moved.head, commits=moved.commits)
            return
        self.reports.record_tag(job.hotfix, tag=tagged.tag, commit=tagged.commit, previous_tag=tagged.previous_tag)

    def _attempts_so_far(self, number: int) -> int:
        """A job queued before jobs carried their attempt (an upgrade mid-deploy): count as that version did, so a
        re-run finds the tag it may already have pushed instead of pushing the next one."""
        return deploy_attempts(self.read.history(number)[1])

    def merge_back(self, hotfix: Hotfix, job: GitJob) -> None:
        spec = self._spec(hotfix)
        shipped = self._shipped(spec, hotfix)
        for target in hotfix.targets_left:
            try:
                merged = self.ops.merge_back(spec, shipped, target, message=merge_message(hotfix, target))
            except MergeConflict as conflict:
                self.reports.record_conflict(job.hotfix, target=target, files=conflict.files)
                continue
            self.reports.record_merged(job.hotfix, target=target, commit=merged.commit)

    def verify_merged(self, hotfix: Hotfix, job: GitJob) -> None:
        spec = self._spec(hotfix)
        shipped = self._shipped(spec, hotfix)
        contains = self.ops.merged_targets(spec, shipped, hotfix.targets_left)
        for target, merged in contains.items():
            if merged:
                self.reports.record_merged(job.hotfix, target=target, commit=shipped, by_hand=True)
        missing = tuple(t for t, merged in contains.items() if not merged)
        if missing and job.remind:
            self.reports.remind_merge_back(job.hotfix, missing=missing)

    def push_merge_branch(self, hotfix: Hotfix, job: GitJob) -> None:
        spec = self._spec(hotfix)
        self.ops.push_branch(spec, merge_branch(hotfix, job.target), self._shipped(spec, hotfix))
        self.reports.record_merge_branch(job.hotfix, target=job.target)

    def delete_branch(self, hotfix: Hotfix, job: GitJob) -> None:
        spec = self._spec(hotfix)
        shipped = self._shipped(spec, hotfix)
        if spec.on_github:
            self._delete_merge_branches(spec, hotfix, shipped)
        try:
            self.ops.delete_branch(spec, hotfix.branch, shipped)
        except BranchMoved as moved:
            self.reports.record_branch_kept(job.hotfix, head=moved.head, commits=moved.commits)
            return
        self.reports.record_branch_deleted(job.hotfix)

    def _delete_merge_branches(self, spec: RepoSpec, hotfix: Hotfix, shipped: str) -> None:
        """Those still at the fix; one carrying a conflict's resolution is merged, and GitHub may delete it."""
        for target in hotfix.merge_targets:
            try:
                self.ops.delete_branch(spec, merge_branch(hotfix, target), shipped)
            except BranchMoved:
                log.info("%s: keeping %s, which has commits of its own", hotfix.key, merge_branch(hotfix, target))

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
        spec = self.repos().get(hotfix.repo)
        if spec is None:
            raise RepoNotConfigured(hotfix.repo)
        return spec

    def run(self, job: GitJob, attempt: int) -> None:
        """Remote down: tell the thread once, then retry with back-off. A remote that refuses (no such repository,
        credentials) and other git refusals: tell the thread once, plainly, with the fix; a person presses Retry.
        Each run's duration and failure go to the metrics."""
        hotfix = self.read.load(job.hotfix)
        started, failure = time.perf_counter(), "error"  # until the step says otherwise
        try:
            self._steps[job.step](hotfix, job)
            failure = None
        except RemoteUnavailable as down:
            failure = "remote_unavailable"
            if attempt == 1:
                self.reports.report_failure(job.hotfix, step=job.step, reason=str(down), then=RETRYING)
            raise RetryLater(str(down)) from down
        except GitOpError as refused:
            failure = "refused"
            log.warning("%s: %s failed: %s", hotfix.key, job.step, refused)
            then = PRESS_RETRY if job.step in _RETRIED_BY_A_PERSON else ""
            self.reports.report_failure(job.hotfix, step=job.step, reason=str(refused), then=then)
        finally:
            self.metrics.git_step(job.step, time.perf_counter() - started, failure)


class RepoNotConfigured(GitOpError):
    def __init__(self, repo: str) -> None:
        super().__init__(f"the repository {repo} is no longer in hotfix.toml; add it back under [[repos]].")


_RETRIED_BY_A_PERSON = ("cut_branch", "tag_release", "merge_back", "push_merge_branch")  # the steps Retry runs again (procedure.retry)


def release_message(hotfix: Hotfix) -> str:
    """The procedure: a security hotfix's tag says nothing about the vulnerability."""
    what = "Security fix" if hotfix.security else f"{hotfix.title} ({hotfix.issue_id})"
    return f"Hotfix {hotfix.key}: {what}"


def merge_message(hotfix: Hotfix, target: str) -> str:
    what = "security fix" if hotfix.security else hotfix.issue_id
    return f"Merge hotfix {hotfix.key} ({what}) into {target}"
