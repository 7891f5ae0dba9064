"""One bare mirror per remote repository, and the git plumbing the bot runs inside it."""

from __future__ import annotations

import re
import shutil
import tempfile
import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import git

from bot.git.errors import GitOpError, remote_failure
from bot.git.porcelain import (
    REF_RECORD_END,
    Rejection,
    Snapshot,
    parse_rejections,
    parse_snapshot,
    with_server_words,
)
from bot.logs import redact

_FETCH_REFSPECS = ("+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*")
_MIRROR_CONFIG = {
    "fetch.writeCommitGraph": "true",  # keeps ancestry checks fast on big histories
    "core.commitGraph": "true",
    "tag.gpgSign": "false",  # a signing default in the host's git config must not break tagging
    "commit.gpgSign": "false",
}
# A mirror without blobs: commits and trees only; git fetches the few blobs a merge or a diff reads on demand.
_PARTIAL_FILTER = "blob:none"
_FILTER_IGNORED = "filtering not recognized by server"
_LOOSE_OBJECT = re.compile(r"[0-9a-f]{38}(?:[0-9a-f]{24})?")


class Mirror:
    """A bare repository under the bot's workdir that follows one remote's branches and tags."""

    def __init__(self, name: str, url: str, path: Path, env: dict[str, str], timeout: float,
                 lock: threading.RLock) -> None:
        self.name = name
        self.url = url
        self.path = path
        self.lock = lock  # shared with the mirror this one replaces, as both work in path
        self._env = env
        self._timeout = timeout
        self._git: git.Git | None = None
        self._partial = False

    def sync(self) -> None:
        """Create the mirror on first use, otherwise fetch; afterwards it matches the remote."""
        if self._git is None and not self.path.exists():
            self._create()
            return
        self._open()
        self.fetch()

    def prepare(self) -> None:
        """Create the mirror if there is none yet; an existing one is left as it is (no fetch)."""
        if self._git is None and not self.path.exists():
            self._create()

    def fetch(self, *options: str) -> str:
        result = self._call("fetch", "--quiet", "--prune", "--prune-tags", *options, "origin", network=True)
        if result.status != 0:
            raise remote_failure(self.name, result.err, self._short_error(result.err))
        return result.err

    def push(self, *refspecs: str, atomic: bool = False, lease: tuple[str, str] | None = None) -> list[Rejection]:
        """Push exactly these refspecs (never forced); returns what the remote refused.

        `lease` (ref, commit): the remote updates the ref only while it still points at that commit.
        """
        options = ["--porcelain", "--atomic"] if atomic else ["--porcelain"]
        if lease:
            options.append(f"--force-with-lease={lease[0]}:{lease[1]}")
        result = self._call("push", *options, "origin", *refspecs, network=True)
        rejections = parse_rejections(result.out)
        if result.status != 0 and not rejections:
            raise remote_failure(self.name, result.err, self._short_error(result.err))
        if self._partial:
            self._promise_made_objects()
        return [with_server_words(r, result.err) for r in rejections]

    def snapshot(self, branches: Iterable[str], tag_glob: str, merged_into: str | None = None) -> Snapshot:
        """Commits of the named branches and all tags matching tag_glob, in one git call."""
        fields = "%(refname)%00%(objecttype)%00%(objectname)%00%(*objectname)%00%(contents:trailers)"
        merged = [f"--merged={merged_into}"] if merged_into else []
        patterns = [f"refs/heads/{branch}" for branch in branches] + [f"refs/tags/{tag_glob}"]
        out = self.run("for_each_ref", f"--format={fields}{REF_RECORD_END}", *merged, *patterns)
        return parse_snapshot(out, set(branches))

    def resolve(self, rev: str) -> str | None:
        result = self._call("rev_parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}")
        return result.out.strip() if result.status == 0 else None

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        result = self._call("merge_base", "--is-ancestor", ancestor, descendant)
        if result.status not in (0, 1):
            raise GitOpError(f"git merge-base failed in {self.name}: {self._short_error(result.err)}")
        return result.status == 0

    def has_change(self, fix: str, tip: str) -> bool:
        """`tip` contains `fix`: merged (an ancestor), or its change applied another way (a squash, a cherry-pick,
        a rebase merge by hand), so that merging it into `tip` would change nothing."""
        if self.is_ancestor(fix, tip):
            return True
        tree, conflicts = self.merge_tree(tip, fix)
        return not conflicts and tree == self.run("rev_parse", f"{tip}^{{tree}}").strip()

    def merge_tree(self, ours: str, theirs: str) -> tuple[str, list[str]]:
        """The merged tree, and the conflicted paths (empty when the merge is clean)."""
        result = self._call("merge_tree", "--write-tree", "--name-only", "--no-messages", "-z", ours, theirs)
        if result.status not in (0, 1):
            raise GitOpError(f"git merge-tree failed in {self.name}: {self._short_error(result.err)}")
        tree, *paths = [part for part in result.out.split("\0") if part]
        return tree, list(dict.fromkeys(paths)) if result.status == 1 else []

    def commit_tree(self, tree: str, parents: Iterable[str], message: str) -> str:
        parent_args = [arg for parent in parents for arg in ("-p", parent)]
        return self.run("commit_tree", tree, *parent_args, "-m", message).strip()

    def create_tag(self, name: str, commit: str, message: str) -> None:
        self.run("tag", "--annotate", "--message", message, "--", name, commit)

    def delete_local_ref(self, ref: str) -> None:
        self.run("update_ref", "-d", ref)

    def merged_by(self, head: str, tip: str) -> str:
        """The commit on tip's first-parent line that brought head in (head itself if fast-forwarded)."""
        descendants = set(self.run("rev_list", "--ancestry-path", f"{head}..{tip}").split())
        first_parent_line = self.run("rev_list", "--first-parent", "--parents", f"{head}..{tip}")
        first_parents = [line.split() for line in first_parent_line.splitlines()]  # [commit, parent, ...]
        on_path = [commit for commit in first_parents if commit[0] in descendants]
        if not on_path or on_path[-1][1] == head:
            return head
        return on_path[-1][0]

    def diff_numstat(self, base: str, head: str) -> str:
        return self.run("diff", "--numstat", "--no-renames", "-z", base, head)

    def diff_patch(self, base: str, head: str) -> str:
        return self.run("diff", "--no-color", "--no-ext-diff", "--no-textconv", "--no-renames", "--unified=3",
                        base, head)

    def commits(self, old: str, new: str, limit: int) -> list[tuple[str, str, str]]:
        """(sha, subject, author) of the commits in new but not in old, newest first."""
        out = self.run("log", f"--max-count={limit}", "--format=%H%x00%s%x00%an%x00", "--end-of-options",
                       f"{old}..{new}")
        fields = out.split("\0")[:-1]  # git allows no NUL in a commit message or a name
        return [(fields[i].strip(), fields[i + 1], fields[i + 2]) for i in range(0, len(fields) - 2, 3)]

    def _promise_made_objects(self) -> None:
        """Pack what the bot made here (tags, merges) as promised by the remote, which has it once pushed.

        In a mirror without blobs, fetch skips its connectivity walk over every commit and tree of the history
        (a second on 50,000 commits) only while each remote ref's object is in a promisor pack; a loose tag or merge
        commit the bot pushed would bring the walk back on every fetch.
        """
        objects = self.path / "objects"
        loose = [file for folder in objects.glob("[0-9a-f][0-9a-f]") for file in folder.iterdir()
                 if _LOOSE_OBJECT.fullmatch(file.name)]
        if not loose:
            return
        with tempfile.TemporaryFile() as listing:
            listing.write("".join(f"{file.parent.name}{file.name}\n" for file in loose).encode())
            listing.seek(0)
            pack = self._open().pack_objects("--quiet", str(objects / "pack" / "pack"), istream=listing).strip()
        (objects / "pack" / f"pack-{pack}.promisor").touch()
        for file in loose:  # packed now; what `git prune-packed` would do, without another process
            file.unlink(missing_ok=True)

    def run(self, cmd: str, *args: str) -> str:
        result = self._call(cmd, *args)
        if result.status != 0:
            name = cmd.replace("_", "-")
            raise GitOpError(f"git {name} failed in {self.name}: {self._short_error(result.err)}")
        return result.out

    def _call(self, cmd: str, *args: str, network: bool = False) -> _Result:
        timeout = self._timeout if network else None
        status, out, err = getattr(self._open(), cmd)(
            *args, with_extended_output=True, with_exceptions=False, kill_after_timeout=timeout
        )
        return _Result(status, out, err)

    def _open(self) -> git.Git:
        if self._git is None:
            self._git = git.Repo(self.path).git
            self._git.update_environment(**self._env)
            if self._git.config("--get", "remote.origin.url", with_exceptions=False) != self.url:
                self._git.config("remote.origin.url", self.url)
            self._partial = self._git.config("--get", "remote.origin.promisor", with_exceptions=False) == "true"
        return self._git

    def _create(self) -> None:
        # Build beside the final path and rename, so a crash never leaves a half-made mirror in place.
        staging = self.path.with_name(f".{self.path.name}.{uuid.uuid4().hex}")
        try:
            repo = git.Repo.init(staging, bare=True)
            self._configure(repo.git)
            self._git = repo.git
            self._git.update_environment(**self._env)
            self._first_fetch(staging)
            staging.rename(self.path)
        finally:
            self._git = None
            shutil.rmtree(staging, ignore_errors=True)
        self._open()

    def _first_fetch(self, staging: Path) -> None:
        """Without blobs where the remote allows it (uploadpack.allowFilter); a full mirror where it does not."""
        said = self.fetch(f"--filter={_PARTIAL_FILTER}")
        if _FILTER_IGNORED in said:  # git marked the mirror partial anyway: make it a plain, complete one
            self._git.config("--unset", "remote.origin.promisor")
            self._git.config("--unset", "remote.origin.partialclonefilter")
            for marker in (staging / "objects" / "pack").glob("*.promisor"):
                marker.unlink()

    def _configure(self, repo_git: git.Git) -> None:
        repo_git.config("remote.origin.url", self.url)
        repo_git.config("remote.origin.fetch", _FETCH_REFSPECS[0])
        repo_git.config("--add", "remote.origin.fetch", _FETCH_REFSPECS[1])
        for key, value in _MIRROR_CONFIG.items():
            repo_git.config(key, value)

    def _short_error(self, stderr: str) -> str:
        lines = [line.strip() for line in stderr.splitlines() if line.strip()]
        fatal = [line for line in lines if line.startswith(("fatal:", "error:"))] or lines or ["no detail"]
        detail = fatal[0].removeprefix("fatal:").removeprefix("error:").strip()
        return redact(detail.replace(self.url, redact(self.url)))


@dataclass(frozen=True)
class _Result:
    status: int
    out: str
    err: str
