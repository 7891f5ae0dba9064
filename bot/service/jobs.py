"""The outbox jobs the use cases queue themselves: git steps and deploy probes. Slack's are bot.slack.notifier's."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from bot.domain.hotfix import CutBranch, DeleteBranch, GitEffect, MergeBack, SummarizeDiff, TagRelease, VerifyMerged

GIT, PROBE, TIMERS = "git", "probe", "timers"

GIT_STEPS: dict[type, str] = {CutBranch: "cut_branch", SummarizeDiff: "summarize_diff", TagRelease: "tag_release",
                              MergeBack: "merge_back", VerifyMerged: "verify_merged", DeleteBranch: "delete_branch"}


@dataclass(frozen=True)
class GitJob:
    hotfix: int
    repo: str
    step: str  # one of GIT_STEPS' values
    remind: bool = False  # verify_merged: name the targets still missing the fix
    attempt: int = 0  # tag_release: which deploy attempt of the hotfix this tag is for
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
        return cls(hotfix, repo, GIT_STEPS[type(effect)], remind=remind, attempt=attempt)


@dataclass(frozen=True)
class ProbeJob:
    hotfix: int
    repo: str
    queue: ClassVar[str] = PROBE
    kind: ClassVar[str] = "probe_deploy"

    @property
    def lane(self) -> str:
        return f"probe:{self.repo}"
