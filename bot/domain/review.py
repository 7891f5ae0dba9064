"""What a reviewer is shown: the change up to one commit, and the commits added since the last approved one."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.domain.hotfix import DetailValue, Row

PATCH_KEPT = 8000  # characters of the diff kept with the review request; the thread shows at most this


@dataclass(frozen=True)
class FileChange:
    path: str
    insertions: int
    deletions: int


@dataclass(frozen=True)
class Commit:
    sha: str
    subject: str
    author: str


@dataclass(frozen=True)
class ReviewChange:
    """The change `base..commit`, and the diff the reviewer reads: from `approved` when an earlier commit of this
    hotfix was approved (a rolled-back fix, a branch that moved before the tag), else from `base`."""

    base: str
    commit: str
    files: tuple[FileChange, ...]  # base..commit: what ships
    shown_files: tuple[FileChange, ...]  # the range of `patch`
    patch: str  # the unified diff of that range, cut at PATCH_KEPT characters
    approved: str | None = None
    new_commits: tuple[Commit, ...] = ()  # approved..commit

    @property
    def insertions(self) -> int:
        return sum(f.insertions for f in self.files)

    @property
    def deletions(self) -> int:
        return sum(f.deletions for f in self.files)

    @property
    def shown_from(self) -> str:
        return self.approved or self.base

    def to_detail(self) -> dict[str, DetailValue]:
        return {
            "base": self.base, "commit": self.commit, "approved": self.approved or "",
            "files": tuple(f.path for f in self.files), "insertions": self.insertions, "deletions": self.deletions,
            "changes": _file_rows(self.files), "shown_changes": _file_rows(self.shown_files),
            "patch": self.patch[:PATCH_KEPT],
            "new_commits": commits_to_detail(self.new_commits),
        }

    @classmethod
    def from_detail(cls, detail: Mapping[str, DetailValue]) -> ReviewChange:
        return cls(
            base=detail["base"], commit=detail["commit"], approved=detail["approved"] or None,
            files=_file_changes(detail["changes"]), shown_files=_file_changes(detail["shown_changes"]),
            patch=detail["patch"], new_commits=commits_from_detail(detail["new_commits"]),
        )


def commits_to_detail(commits: tuple[Commit, ...]) -> tuple[Row, ...]:
    return tuple((c.sha, c.subject, c.author) for c in commits)


def commits_from_detail(rows: DetailValue) -> tuple[Commit, ...]:
    return tuple(Commit(*row) for row in rows)


def _file_rows(files: tuple[FileChange, ...]) -> tuple[Row, ...]:
    return tuple((f.path, f.insertions, f.deletions) for f in files)


def _file_changes(rows: DetailValue) -> tuple[FileChange, ...]:
    return tuple(FileChange(*row) for row in rows)
