"""What the stand-in GitHub reads from and writes to its bare remote: git plumbing only, no working tree."""

from __future__ import annotations

import os
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

GITHUB_COMMITTER = ("GitHub", "noreply@github.com")
# Keeps the machine's own git config out of every call; identities are always given explicitly.
ISOLATED_GIT_ENV = {"GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0"}
DIFF_STATUS = {"A": "added", "D": "removed", "M": "modified", "T": "changed"}


@dataclass(frozen=True)
class Person:
    name: str
    email: str
    date: datetime


@dataclass(frozen=True)
class CommitInfo:
    sha: str
    tree: str
    parents: tuple[str, ...]
    author: Person
    committer: Person
    message: str


@dataclass(frozen=True)
class FileChange:
    filename: str
    status: str  # GitHub's word: added, removed, modified, changed
    blob: str
    additions: int
    deletions: int


class Conflict(Exception):
    """The change does not apply cleanly."""


class RemoteGit:
    def __init__(self, path: Path) -> None:
        self.path = path

    def _git(
        self,
        *args: str,
        stdin: str | None = None,
        env: dict[str, str] | None = None,
        ok: tuple[int, ...] = (0,),
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            ["git", *args],
            cwd=self.path,
            capture_output=True,
            text=True,
            input=stdin,
            env={**os.environ, **ISOLATED_GIT_ENV, **(env or {})},
        )
        if result.returncode not in ok:
            raise RuntimeError(f"git {' '.join(args)} failed: {result.stderr.strip()}")
        return result

    # Reading
    def rev(self, rev: str) -> str | None:
        """The commit `rev` names (a sha, a branch, a tag), or None."""
        result = self._git("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}", ok=(0, 1, 128))
        return result.stdout.strip() or None if result.returncode == 0 else None

    def branch(self, name: str) -> str | None:
        return self.rev(f"refs/heads/{name}")

    def commit(self, sha: str) -> CommitInfo:
        headers, _, message = self._git("cat-file", "commit", sha).stdout.partition("\n\n")
        fields: dict[str, list[str]] = {}
        for line in headers.splitlines():
            key, _, value = line.partition(" ")
            fields.setdefault(key, []).append(value)
        return CommitInfo(
            sha,
            fields["tree"][0],
            tuple(fields.get("parent", [])),
            _person(fields["author"][0]),
            _person(fields["committer"][0]),
            message.rstrip("\n"),
        )

    def commits_between(self, base: str, head: str) -> list[str]:
        """Commits in `head` and not in `base`, oldest first."""
        return self._git("rev-list", "--reverse", f"{base}..{head}").stdout.split()

    def merge_base(self, a: str, b: str) -> str | None:
        return self._git("merge-base", a, b, ok=(0, 1)).stdout.strip() or None

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        return self._git("merge-base", "--is-ancestor", ancestor, descendant, ok=(0, 1)).returncode == 0

    def changes(self, old: str, new: str) -> list[FileChange]:
        raw = self._git("diff", "--raw", "--no-abbrev", "--no-renames", "-z", old, new).stdout.split("\0")
        counts = self._git("diff", "--numstat", "--no-renames", "-z", old, new).stdout.split("\0")
        numbers = {}
        for entry in filter(None, counts):
            added, deleted, filename = entry.split("\t", 2)
            numbers[filename] = (int(added) if added != "-" else 0, int(deleted) if deleted != "-" else 0)
        changes = []
        for meta, filename in zip(raw[0::2], raw[1::2]):
            if not meta:
                continue
            _, _, old_blob, new_blob, status = meta.lstrip(":").split(" ")
            blob = old_blob if status == "D" else new_blob
            changes.append(FileChange(filename, DIFF_STATUS.get(status, "changed"), blob, *numbers[filename]))
        return changes

    # Writing: merges made the way GitHub makes them, then the branch moved only if nobody moved it meanwhile
    def merge(self, ours: str, theirs: str, message: str, author: tuple[str, str]) -> str:
        """A merge commit of `theirs` into `ours`; Conflict when the trees do not merge cleanly."""
        return self._commit(self._merged_tree(ours, theirs), (ours, theirs), message, author)

    def squash(self, ours: str, theirs: str, message: str, author: tuple[str, str]) -> str:
        """One commit on `ours` with the changes of `theirs`."""
        return self._commit(self._merged_tree(ours, theirs), (ours,), message, author)

    def rebase(self, onto: str, commits: list[str]) -> str:
        """Each commit replayed on `onto` with its own author and message, committed by GitHub."""
        tip = onto
        with tempfile.TemporaryDirectory() as scratch:
            index = {"GIT_INDEX_FILE": str(Path(scratch) / "index")}
            for sha in commits:
                original = self.commit(sha)
                if len(original.parents) != 1:
                    raise Conflict(f"{sha} is a merge commit; GitHub cannot rebase it")
                self._git("read-tree", tip, env=index)
                patch = self._git("diff", "--binary", "--full-index", original.parents[0], sha).stdout
                if patch and self._git("apply", "--cached", stdin=patch, env=index, ok=(0, 1)).returncode:
                    raise Conflict(f"{sha} does not apply on {tip}")
                tree = self._git("write-tree", env=index).stdout.strip()
                author = original.author
                tip = self._commit(
                    tree,
                    (tip,),
                    original.message,
                    (author.name, author.email),
                    {"GIT_AUTHOR_DATE": author.date.isoformat()},
                )
        return tip

    def move_branch(self, name: str, new: str, old: str) -> None:
        self._git("update-ref", f"refs/heads/{name}", new, old)

    def _merged_tree(self, ours: str, theirs: str) -> str:
        result = self._git("merge-tree", "--write-tree", "--no-messages", ours, theirs, ok=(0, 1))
        if result.returncode == 1:
            raise Conflict(f"{theirs} conflicts with {ours}")
        return result.stdout.split()[0]

    def mergeable(self, ours: str, theirs: str) -> bool:
        try:
            self._merged_tree(ours, theirs)
        except Conflict:
            return False
        return True

    def _commit(
        self,
        tree: str,
        parents: tuple[str, ...],
        message: str,
        author: tuple[str, str],
        extra_env: dict[str, str] | None = None,
    ) -> str:
        identity = {
            "GIT_AUTHOR_NAME": author[0],
            "GIT_AUTHOR_EMAIL": author[1],
            "GIT_COMMITTER_NAME": GITHUB_COMMITTER[0],
            "GIT_COMMITTER_EMAIL": GITHUB_COMMITTER[1],
        }
        parent_args = [arg for parent in parents for arg in ("-p", parent)]
        return self._git(
            "commit-tree", tree, *parent_args, "-m", message, env={**identity, **(extra_env or {})}
        ).stdout.strip()


def _person(line: str) -> Person:
    """'Name <email> 1700000000 +0000' -> Person."""
    name_email, _, when = line.rpartition("> ")
    name, _, email = name_email.partition(" <")
    seconds = int(when.split()[0])
    return Person(name, email, datetime.fromtimestamp(seconds, UTC))
