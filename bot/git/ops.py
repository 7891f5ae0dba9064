"""The git operations of the hotfix procedure, each idempotent so a crashed job can simply re-run."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from bot.domain.repo import Flow, RepoSpec
from bot.domain.review import PATCH_KEPT, Commit, FileChange, ReviewChange
from bot.domain.versions import next_free_patch
from bot.git.errors import BranchMoved, MergeConflict, NoProductionTag, PushRejected, RefNotFound
from bot.git.mirror import Mirror
from bot.git.porcelain import Rejection, Snapshot, first_culprit, lost_race
from bot.git.refs import branch_ref, check_commit, check_ref
from bot.git.results import CutResult, MergeResult, TagInfo, TagResult
from bot.git import tagging

PUSH_ATTEMPTS = 5
COMMITS_LISTED = 100

__all__ = ["CutResult", "GitOps", "MergeResult", "TagInfo", "TagResult", "branch_ref"]


class GitOps:
    """Branch, tag, merge back and clean up, working only in bare mirrors under workdir."""

    def __init__(self, workdir: Path, author_name: str = "hotfix-bot",
                 author_email: str = "hotfix-bot@localhost", network_timeout: float = 300.0) -> None:
        self.workdir = Path(workdir)
        self._env = _git_env(author_name, author_email)
        self._timeout = network_timeout
        self._mirrors: dict[str, Mirror] = {}
        self._mirrors_guard = threading.Lock()

    def prepare(self, spec: RepoSpec) -> None:
        """Make the repository's mirror if it has none yet, so the first hotfix does not wait for a clone."""
        with self._locked(spec) as mirror:
            mirror.prepare()

    def refresh(self, spec: RepoSpec) -> None:
        """Fetch now, so the next step's own fetch has little left to bring."""
        with self._locked(spec) as mirror:
            mirror.sync()

    def production_tag(self, spec: RepoSpec) -> TagInfo | None:
        with self._synced(spec) as mirror:
            return tagging.production(mirror.snapshot((), spec.production_tag).tags, spec.production_tag)

    def cut_branch(self, spec: RepoSpec, branch: str) -> CutResult:
        ref = branch_ref(branch)
        with self._synced(spec) as mirror:
            snapshot = mirror.snapshot((branch, spec.main), spec.production_tag)
            if branch in snapshot.heads:
                return self._existing_cut(mirror, spec, branch, snapshot.heads[branch])
            base_ref, base_commit = _cut_point(spec, snapshot)
            rejections = self._push(mirror, f"{base_commit}:{ref}")
            if not rejections:
                return CutResult(branch, base_ref, base_commit)
            mirror.fetch()
            if existing := mirror.resolve(ref):  # someone created it a moment ago
                return self._existing_cut(mirror, spec, branch, existing)
            raise PushRejected(ref, first_culprit(rejections).reason)

    def tag_release(self, spec: RepoSpec, branch: str, commit: str, *, marker: str, message: str) -> TagResult:
        """Tag exactly `commit`, the approved one; raises BranchMoved if the branch has commits past it."""
        branch_ref(branch)  # refuses a name git would not accept before any git call
        check_commit(commit)
        tagging.check_marker(marker)
        with self._synced(spec) as mirror:
            for _ in range(PUSH_ATTEMPTS):
                snapshot = mirror.snapshot((branch, spec.main), spec.production_tag)
                if done := tagging.tagged_with(snapshot.tags, marker):
                    return done
                production = tagging.production(snapshot.tags, spec.production_tag)
                if production is None:
                    raise NoProductionTag(spec.production_tag)
                head = _head(snapshot, branch)
                if head != commit:
                    raise BranchMoved(branch, head, _commits(mirror, commit, head))
                name = next_free_patch(production.name, (tag.name for tag in snapshot.tags))
                annotation = tagging.annotation(message, marker, production.name)
                tagged, rejections = self._tag(mirror, spec, snapshot, commit, name, annotation)
                if not rejections:
                    return TagResult(name, tagged, production.name)
                if not lost_race(rejections):
                    culprit = first_culprit(rejections)
                    raise PushRejected(culprit.ref, culprit.reason)
                mirror.fetch()
            raise PushRejected(f"refs/tags/{name}", _gave_up(rejections))

    def merge_back(self, spec: RepoSpec, commit: str, target: str, *, message: str) -> MergeResult:
        """Merge exactly `commit` (the tagged fix), whatever its branch points at by now."""
        check_commit(commit)
        target_ref = branch_ref(target)
        with self._locked(spec) as mirror:
            for _ in range(PUSH_ATTEMPTS):
                mirror.sync()
                if mirror.resolve(commit) is None:
                    raise RefNotFound(commit)
                tip = _head(mirror.snapshot((target,), spec.production_tag), target)
                if mirror.is_ancestor(commit, tip):
                    return MergeResult(target, mirror.merged_by(commit, tip), already_merged=True)
                merge = _merge_commit(mirror, target, tip, commit, message)
                rejections = self._push(mirror, f"{merge}:{target_ref}")
                if not rejections:
                    return MergeResult(target, merge, already_merged=False)
                if not lost_race(rejections):
                    raise PushRejected(target_ref, first_culprit(rejections).reason)
            raise PushRejected(target_ref, _gave_up(rejections))

    def merged_targets(self, spec: RepoSpec, branch_head: str, targets: Iterable[str]) -> dict[str, bool]:
        targets = list(targets)
        for target in targets:
            branch_ref(target)
        with self._synced(spec) as mirror:
            head = mirror.resolve(branch_head)
            if head is None:
                raise RefNotFound(branch_head)
            snapshot = mirror.snapshot(targets, spec.production_tag)
            return {target: mirror.has_change(head, _head(snapshot, target)) for target in targets}

    def delete_branch(self, spec: RepoSpec, branch: str, commit: str) -> None:
        """Delete the branch only while it points at `commit`; raises BranchMoved (and keeps it) otherwise."""
        ref = branch_ref(branch)
        check_commit(commit)
        with self._synced(spec) as mirror:
            for _ in range(PUSH_ATTEMPTS):
                head = mirror.resolve(ref)
                if head is None:
                    return  # already gone on the remote; the fetch pruned our copy
                if head != commit:
                    raise BranchMoved(branch, head, _commits(mirror, commit, head))
                # The lease makes the remote check the branch is still at `commit` as it deletes it.
                rejections = self._push(mirror, f":{ref}", lease=(ref, commit))
                if not rejections:
                    mirror.delete_local_ref(ref)
                    return
                if not lost_race(rejections):
                    raise PushRejected(ref, first_culprit(rejections).reason)
                mirror.fetch()
            raise PushRejected(ref, _gave_up(rejections))

    def push_branch(self, spec: RepoSpec, branch: str, commit: str) -> str:
        """Create `branch` at `commit` on the remote; one that exists already is kept as it is (people may have
        pushed to it). Returns its head."""
        ref = branch_ref(branch)
        check_commit(commit)
        with self._synced(spec) as mirror:
            if existing := mirror.resolve(ref):
                return existing
            rejections = self._push(mirror, f"{commit}:{ref}")
            if not rejections:
                return commit
            mirror.fetch()
            if existing := mirror.resolve(ref):  # someone created it a moment ago
                return existing
            raise PushRejected(ref, first_culprit(rejections).reason)

    def branch_head(self, spec: RepoSpec, branch: str) -> str | None:
        ref = branch_ref(branch)
        with self._synced(spec) as mirror:
            return mirror.resolve(ref)

    def review_change(self, spec: RepoSpec, base: str, branch: str, *, approved: str | None = None) -> ReviewChange:
        """The branch's change since `base`, measured at one head; the diff shown starts at `approved` if given."""
        ref = branch_ref(branch)
        if approved:
            check_commit(approved)
        with self._synced(spec) as mirror:
            base_commit, head = mirror.resolve(base), mirror.resolve(ref)
            if base_commit is None or head is None:
                raise RefNotFound(base if base_commit is None else branch)
            files = _parse_numstat(mirror.diff_numstat(base_commit, head))
            if not approved:
                return ReviewChange(base_commit, head, files, files, mirror.diff_patch(base_commit, head)[:PATCH_KEPT])
            return ReviewChange(base_commit, head, files, _parse_numstat(mirror.diff_numstat(approved, head)),
                                mirror.diff_patch(approved, head)[:PATCH_KEPT], approved,
                                _commits(mirror, approved, head))

    def _push(self, mirror: Mirror, *refspecs: str, atomic: bool = False,
              lease: tuple[str, str] | None = None) -> list[Rejection]:
        """Every push goes out here, after the checks made on the fetched state; returns what the remote refused."""
        return mirror.push(*refspecs, atomic=atomic, lease=lease)

    def _tag(self, mirror: Mirror, spec: RepoSpec, snapshot: Snapshot, head: str, name: str,
             annotation: str) -> tuple[str, list[Rejection]]:
        tag_ref = f"refs/tags/{name}"
        check_ref(tag_ref)
        if spec.flow is Flow.PRODUCTION_TAG:
            mirror.create_tag(name, head, annotation)
            return head, self._push(mirror, f"{tag_ref}:{tag_ref}")
        main_tip = _head(snapshot, spec.main)
        if mirror.is_ancestor(head, main_tip):
            commit = mirror.merged_by(head, main_tip)
            mirror.create_tag(name, commit, annotation)
            return commit, self._push(mirror, f"{tag_ref}:{tag_ref}")
        commit = _merge_commit(mirror, spec.main, main_tip, head, _first_line(annotation))
        mirror.create_tag(name, commit, annotation)
        main_ref = f"refs/heads/{spec.main}"
        # Atomic: main never gets the merge without its tag, so a re-run finds both or neither.
        return commit, self._push(mirror, f"{commit}:{main_ref}", f"{tag_ref}:{tag_ref}", atomic=True)

    def _existing_cut(self, mirror: Mirror, spec: RepoSpec, branch: str, head: str) -> CutResult:
        if spec.flow is Flow.TRUNK:
            main_tip = mirror.resolve(f"refs/heads/{spec.main}") or head
            return CutResult(branch, spec.main, mirror.run("merge_base", main_tip, head).strip())
        reachable = mirror.snapshot((), spec.production_tag, merged_into=head).tags
        base = tagging.production(reachable, spec.production_tag)
        if base is None:
            raise NoProductionTag(spec.production_tag)
        return CutResult(branch, base.name, base.commit)

    @contextmanager
    def _synced(self, spec: RepoSpec) -> Iterator[Mirror]:
        with self._locked(spec) as mirror:
            mirror.sync()
            yield mirror

    @contextmanager
    def _locked(self, spec: RepoSpec) -> Iterator[Mirror]:
        mirror = self._mirror(spec)
        with mirror.lock:
            yield mirror

    def _mirror(self, spec: RepoSpec) -> Mirror:
        with self._mirrors_guard:
            known = self._mirrors.get(spec.name)
            if known is not None and known.url == spec.url:
                return known
            path = self.workdir / f"{spec.name}.git"
            lock = known.lock if known is not None else threading.RLock()  # one git at a time in path
            mirror = Mirror(spec.name, spec.url, path, self._env, self._timeout, lock)
            self._mirrors[spec.name] = mirror
            return mirror


def _git_env(author_name: str, author_email: str) -> dict[str, str]:
    env = os.environ
    return {
        "GIT_AUTHOR_NAME": env.get("GIT_AUTHOR_NAME") or author_name,
        "GIT_AUTHOR_EMAIL": env.get("GIT_AUTHOR_EMAIL") or author_email,
        "GIT_COMMITTER_NAME": env.get("GIT_COMMITTER_NAME") or author_name,
        "GIT_COMMITTER_EMAIL": env.get("GIT_COMMITTER_EMAIL") or author_email,
        "GIT_TERMINAL_PROMPT": "0",  # a bot has no one to type a password; fail instead of hanging
    }


def _cut_point(spec: RepoSpec, snapshot: Snapshot) -> tuple[str, str]:
    if spec.flow is Flow.TRUNK:
        return spec.main, _head(snapshot, spec.main)
    production = tagging.production(snapshot.tags, spec.production_tag)
    if production is None:
        raise NoProductionTag(spec.production_tag)
    return production.name, production.commit


def _head(snapshot: Snapshot, branch: str) -> str:
    if branch not in snapshot.heads:
        raise RefNotFound(branch)
    return snapshot.heads[branch]


def _merge_commit(mirror: Mirror, target: str, tip: str, head: str, message: str) -> str:
    tree, conflicts = mirror.merge_tree(tip, head)
    if conflicts:
        raise MergeConflict(target, conflicts)
    return mirror.commit_tree(tree, (tip, head), message)


def _gave_up(rejections: list[Rejection]) -> str:
    return f"{first_culprit(rejections).reason}, still after {PUSH_ATTEMPTS} attempts"


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "Merge hotfix"


def _parse_numstat(numstat: str) -> tuple[FileChange, ...]:
    files = []
    for entry in filter(None, numstat.split("\0")):
        added, removed, path = entry.split("\t", 2)
        # "-" for binary files
        files.append(FileChange(path, int(added) if added.isdigit() else 0, int(removed) if removed.isdigit() else 0))
    return tuple(files)


def _commits(mirror: Mirror, old: str, new: str) -> tuple[Commit, ...]:
    return tuple(Commit(*fields) for fields in mirror.commits(old, new, COMMITS_LISTED))


