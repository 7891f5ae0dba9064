"""The code-host worker: runs the GitHub steps the procedure queues and reports each result to the service.

Every step is safe to run again: a pull request is adopted rather than opened twice, a merge already made is
returned as it is, and a poll only records what changed. So a job re-run after a crash carries the procedure
on exactly once.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from bot.codehost.port import CodeHost, CodeHostRefused, CodeHostUnavailable, MergeRefused
from bot.domain.codehost import PullRequestState, review_verdict
from bot.domain.failures import PRESS_RETRY, RETRYING
from bot.domain.github_flow import HOTFIX_LABEL
from bot.domain.github_merge import merge_branch
from bot.domain.github_poll import GitHubReading
from bot.domain.hotfix import EventKind, Hotfix
from bot.domain.pull_request_text import (
    merge_back_body, merge_back_title, pull_request_body, pull_request_title,
)
from bot.domain.repo import RepoSpec
from bot.domain.review import ReviewChange
from bot.runtime.errors import RetryLater
from bot.service.code_host import CodeHostReports
from bot.service.jobs import MERGE_PULL_REQUEST, OPEN_MERGE_BACK, OPEN_PULL_REQUEST, POLL, CodeHostJob
from bot.service.ports import Rules
from bot.service.queries import Queries
from bot.service.reports import WorkerReports

log = logging.getLogger(__name__)

# A poll that cannot read GitHub (a permission missing) tries again this often, so fixing the token is enough.
REFUSED_POLL_AGAIN = timedelta(minutes=5)
# A poll is told on its second failure: one 502 between two good polls is not worth a message.
_TOLD_AT = {POLL: 2}


class CodeHostWorker:
    def __init__(self, code_host: CodeHostReports, reports: WorkerReports, read: Queries, host: CodeHost,
                 rules: Callable[[], Rules]) -> None:
        self.code_host, self.reports, self.read, self.host, self.rules = code_host, reports, read, host, rules
        self._steps: dict[str, Callable[[Hotfix, str, CodeHostJob], None]] = {
            OPEN_PULL_REQUEST: self.open_pull_request, POLL: self.poll,
            MERGE_PULL_REQUEST: self.merge_pull_request, OPEN_MERGE_BACK: self.open_merge_back_pull_request,
        }

    @property
    def handlers(self) -> dict[type, Callable[[CodeHostJob, int], None]]:
        return {CodeHostJob: self.run}

    def open_pull_request(self, hotfix: Hotfix, repo: str, job: CodeHostJob) -> None:
        spec = self._spec(hotfix)
        change = self._latest_change(job.hotfix)
        authors = self.host.commit_authors(repo, hotfix.base_commit or spec.main, change.commit) if change else ()
        reviewers = self.rules().people.logins_to_request(hotfix.declared_by, authors)
        pull = self.host.open_or_adopt_pull_request(
            repo, hotfix.branch, spec.main, pull_request_title(hotfix),
            pull_request_body(hotfix, change.files if change else ()), labels=[HOTFIX_LABEL], reviewers=reviewers)
        self.code_host.record_pull_request(job.hotfix, pull_request=pull.number, url=pull.url, head=pull.head_sha,
                                           base=pull.base_ref, adopted=False)

    def poll(self, hotfix: Hotfix, repo: str, job: CodeHostJob) -> None:
        wanted = self.code_host.to_read(job.hotfix)
        reading = GitHubReading()
        if wanted.pull_request is not None:
            reading = self._read_review(hotfix, repo, wanted.pull_request)
        if wanted.tag_commit is not None:
            reading = GitHubReading(tag_checks=self.host.checks(repo, wanted.tag_commit))
        if wanted.merge_backs:
            reading = GitHubReading(pulls=tuple(self.host.pull_request(repo, n) for n in wanted.merge_backs))
        self.code_host.record_poll(job.hotfix, reading)

    def _read_review(self, hotfix: Hotfix, repo: str, number: int) -> GitHubReading:
        pull = self.host.pull_request(repo, number)
        head = pull.head_sha
        authors = self.host.commit_authors(repo, hotfix.base_commit or pull.base_ref, head)
        verdict = review_verdict(self.host.reviews(repo, number), head, self.rules().people, hotfix.declared_by,
                                 authors)
        return GitHubReading(head=head, verdict=verdict, head_checks=self.host.checks(repo, head))

    def merge_pull_request(self, hotfix: Hotfix, repo: str, job: CodeHostJob) -> None:
        try:
            pull = self.host.merge(repo, job.number, job.sha, "merge")  # a merge commit: the seeds' --no-ff
        except MergeRefused as refused:
            self.code_host.record_merge_refused(job.hotfix, target=job.target, pull_request=job.number, sha=job.sha,
                                                reason=refused.reason, message=str(refused))
            return
        self.code_host.record_pull_request_merged(job.hotfix, target=job.target, commit=pull.merged_sha or job.sha)

    def open_merge_back_pull_request(self, hotfix: Hotfix, repo: str, job: CodeHostJob) -> None:
        branch = merge_branch(hotfix, job.target)
        pull = self.host.open_or_adopt_pull_request(
            repo, branch, job.target, merge_back_title(hotfix, job.target),
            merge_back_body(hotfix, job.target, branch), labels=[HOTFIX_LABEL])
        if pull.state is PullRequestState.MERGED:  # merged before a restart: nothing left to open or merge
            self.reports.record_merged(job.hotfix, target=job.target, commit=pull.merged_sha or pull.head_sha)
            return
        self.code_host.record_merge_back_pull_request(job.hotfix, target=job.target, pull_request=pull.number,
                                                      url=pull.url, head=pull.head_sha, branch=branch)

    def run(self, job: CodeHostJob, attempt: int) -> None:
        """GitHub down or rate limited: tell the thread once, then retry when GitHub says. A refusal (a
        permission missing): tell the thread once, with what is missing; a poll keeps trying slowly, other
        steps wait for Retry."""
        hotfix = self.read.load(job.hotfix)
        spec = self.rules().repos.get(hotfix.repo)
        if job.step == POLL and (spec is None or spec.github is None):
            return  # the repo left GitHub (hotfix.toml changed): nothing to read; other steps say so below
        try:
            self._steps[job.step](hotfix, self._spec(hotfix).github or "", job)
        except CodeHostUnavailable as down:
            if attempt == _TOLD_AT.get(job.step, 1):
                self.reports.report_failure(job.hotfix, step=job.step, reason=f"GitHub: {down}", then=RETRYING)
            raise RetryLater(str(down), after=down.after) from down
        except CodeHostRefused as refused:
            log.warning("%s: %s refused: %s", hotfix.key, job.step, refused)
            polling = job.step == POLL
            if attempt == 1:
                self.reports.report_failure(job.hotfix, step=job.step, reason=refusal_words(refused, polling),
                                            then="" if polling else PRESS_RETRY)
            if polling:
                raise RetryLater(str(refused), after=REFUSED_POLL_AGAIN) from refused
        except Exception as error:  # an answer the adapter could not read (a proxy's page, a new GitHub field)
            log.exception("%s: %s failed", hotfix.key, job.step)
            if attempt == 1:
                self.reports.report_failure(job.hotfix, step=job.step, reason=f"GitHub's answer could not be read "
                                            f"({type(error).__name__})", then=RETRYING if job.step == POLL else PRESS_RETRY)
            if job.step == POLL:  # the poll chain must not end here: it is what notices everything else
                raise RetryLater(str(error), after=REFUSED_POLL_AGAIN) from error

    def _latest_change(self, number: int) -> ReviewChange | None:
        _, events = self.read.history(number)
        requested = next((e for e in reversed(events) if e.kind is EventKind.REVIEW_REQUESTED), None)
        return ReviewChange.from_detail(requested.detail) if requested else None

    def _spec(self, hotfix: Hotfix) -> RepoSpec:
        spec = self.rules().repos.get(hotfix.repo)
        if spec is None or spec.github is None:
            raise NotOnGitHub(hotfix.repo)
        return spec


class NotOnGitHub(CodeHostRefused):
    def __init__(self, repo: str) -> None:
        super().__init__(f"the repository {repo} no longer names a GitHub repository in hotfix.toml; add its "
                         "github = \"owner/name\" back under [[repos]].", status=0)


def refusal_words(refused: CodeHostRefused, polling: bool) -> str:
    """The adapter's words already say who needs which permission (a token or the App); Slack adds "press Retry"
    to a step that waits for it."""
    said = f"{str(refused).rstrip('.')}."
    return f"{said} Fix that; the bot tries again every few minutes." if polling else said
