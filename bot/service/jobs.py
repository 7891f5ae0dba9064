"""The outbox jobs the use cases queue themselves: git steps, deploy probes and code-host steps. Slack's are
bot.slack.notifier's."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from bot.domain.hotfix import (
    CodeHostEffect, CutBranch, DeleteBranch, GitEffect, MergeBack, MergePullRequest, OpenMergeBackPullRequest,
    OpenPullRequest, PollCodeHost, PushMergeBranch, SummarizeDiff, TagRelease, VerifyMerged,
)

GIT, PROBE, TIMERS = "git", "probe", "timers"

GIT_STEPS: dict[type, str] = {CutBranch: "cut_branch", SummarizeDiff: "summarize_diff", TagRelease: "tag_release",
                              MergeBack: "merge_back", VerifyMerged: "verify_merged", DeleteBranch: "delete_branch",
                              PushMergeBranch: "push_merge_branch"}


@dataclass(frozen=True)
class GitJob:
    hotfix: int
    repo: str
    step: str  # one of GIT_STEPS' values
    remind: bool = False  # verify_merged: name the targets still missing the fix
    attempt: int = 0  # tag_release: which deploy attempt of the hotfix this tag is for
    target: str = ""  # push_merge_branch: the branch the merge-back pull request goes into
    queue: ClassVar[str] = GIT

    @property
    def kind(self) -> str:
        return self.step

    @property
    def lane(self) -> str:
        return f"git:{self.repo}"  # one repository's git steps run one after another

    @classmethod
    def of(cls, hotfix: int, repo: str, effect: GitEffect, *, attempt: int = 0) -> GitJob:
        remind = isinstance(effect, VerifyMerged) and effect.remind
        target = effect.target if isinstance(effect, PushMergeBranch) else ""
        return cls(hotfix, repo, GIT_STEPS[type(effect)], remind=remind, attempt=attempt, target=target)


@dataclass(frozen=True)
class ProbeJob:
    hotfix: int
    repo: str
    queue: ClassVar[str] = PROBE
    kind: ClassVar[str] = "probe_deploy"

    @property
    def lane(self) -> str:
        return f"probe:{self.repo}"


CODE_HOST = "codehost"
OPEN_PULL_REQUEST, POLL, MERGE_PULL_REQUEST, OPEN_MERGE_BACK = (
    "open_pull_request", "poll", "merge_pull_request", "open_merge_back_pull_request")


@dataclass(frozen=True)
class CodeHostJob:
    """A step on the repo's code host (GitHub): open a pull request, read what changed, merge one."""

    hotfix: int
    repo: str
    step: str  # OPEN_PULL_REQUEST, POLL, MERGE_PULL_REQUEST or OPEN_MERGE_BACK
    target: str = ""  # the base branch: merge and merge-back steps
    number: int = 0  # the pull request to merge
    sha: str = ""  # merged only while the pull request's head is still this commit
    queue: ClassVar[str] = CODE_HOST

    @property
    def kind(self) -> str:
        return self.step

    @property
    def lane(self) -> str:
        return f"codehost:HF-{self.hotfix}"  # one hotfix's steps in order; hotfixes side by side

    @classmethod
    def of(cls, hotfix: int, repo: str, effect: CodeHostEffect) -> CodeHostJob:
        match effect:
            case OpenPullRequest():
                return cls(hotfix, repo, OPEN_PULL_REQUEST)
            case PollCodeHost():
                return cls(hotfix, repo, POLL)
            case MergePullRequest(target=target, number=number, sha=sha):
                return cls(hotfix, repo, MERGE_PULL_REQUEST, target=target, number=number, sha=sha)
            case OpenMergeBackPullRequest(target=target):
                return cls(hotfix, repo, OPEN_MERGE_BACK, target=target)
        raise TypeError(effect)
