"""Tagging the release: next free patch, annotated with the incident marker, pushed once."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from bot.domain.repo import RepoSpec
from bot.git.errors import BranchMoved, PushRejected
from bot.git.ops import GitOps, TagResult
from tests.git.racing import RacingGitOps
from tests.support.gitrepos import Clone, Remote, git

FIRST = "hotfix/PROD-501-checkout-500s"
SECOND = "hotfix/SEC-123-login"


def head_of(engineer: Clone, branch: str) -> str:
    """The branch head on the remote, as the approved commit the bot would tag."""
    return git(engineer.path, "ls-remote", "origin", f"refs/heads/{branch}").split()[0]


def cut_and_fix(ops: GitOps, spec: RepoSpec, engineer: Clone, branch: str, filename: str = "checkout.py",
                ) -> str:
    ops.cut_branch(spec, branch)
    return engineer.push_fix(branch, filename=filename, content=f"# fixed by {branch}\n")


def test_tags_branch_head_as_next_patch_with_marker(
    ops: GitOps, spec: RepoSpec, remote: Remote, engineer: Clone
) -> None:
    head = cut_and_fix(ops, spec, engineer, FIRST)

    result = ops.tag_release(spec, FIRST, head_of(engineer, FIRST), marker="HF-7", message="Hotfix release 1.10.1")

    assert result == TagResult("v1.10.1", head, "v1.10.0")
    assert remote.object_type("refs/tags/v1.10.1") == "tag"
    assert remote.rev("v1.10.1") == head
    assert "Hotfix: HF-7" in remote.tag_message("v1.10.1").splitlines()
    assert remote.tag_message("v1.10.1").startswith("Hotfix release 1.10.1")


def test_second_hotfix_gets_the_following_patch(ops: GitOps, spec: RepoSpec, engineer: Clone) -> None:
    cut_and_fix(ops, spec, engineer, FIRST)
    cut_and_fix(ops, spec, engineer, SECOND, filename="login.py")

    first = ops.tag_release(spec, FIRST, head_of(engineer, FIRST), marker="HF-7", message="Hotfix")
    second = ops.tag_release(spec, SECOND, head_of(engineer, SECOND), marker="HF-8", message="Hotfix")

    assert (first.tag, second.tag) == ("v1.10.1", "v1.10.2")
    assert second.previous_tag == "v1.10.1"
    assert ops.production_tag(spec).name == "v1.10.2"


def test_rerun_returns_the_tag_already_pushed(
    ops: GitOps, spec: RepoSpec, remote: Remote, engineer: Clone, tmp_path: Path
) -> None:
    cut_and_fix(ops, spec, engineer, FIRST)
    first = ops.tag_release(spec, FIRST, head_of(engineer, FIRST), marker="HF-7", message="Hotfix")
    tags_after_first = remote.tags()

    again = ops.tag_release(spec, FIRST, head_of(engineer, FIRST), marker="HF-7", message="Hotfix")
    after_restart = GitOps(tmp_path / "fresh-work").tag_release(spec, FIRST, head_of(engineer, FIRST), marker="HF-7", message="Hotfix")

    assert again == first == after_restart
    assert remote.tags() == tags_after_first


def test_trunk_flow_merges_into_main_then_tags_the_merge(
    ops: GitOps, trunk_spec: RepoSpec, remote: Remote, engineer: Clone
) -> None:
    main_before = remote.rev("main")
    head = cut_and_fix(ops, trunk_spec, engineer, FIRST)

    result = ops.tag_release(trunk_spec, FIRST, head_of(engineer, FIRST), marker="HF-7", message="Hotfix")
    again = ops.tag_release(trunk_spec, FIRST, head_of(engineer, FIRST), marker="HF-7", message="Hotfix")

    assert result == again == TagResult("v1.10.1", remote.rev("main"), "v1.10.0")
    assert remote.parents("main") == [main_before, head]
    assert remote.rev("v1.10.1") == remote.rev("main")


class TagTakenJustBeforePush(RacingGitOps):
    """Another engineer pushes v1.10.1 by hand between our fetch and our push."""

    def __init__(self, workdir: Path, rival: Clone) -> None:
        super().__init__(workdir)
        self.rival = rival

    def before_push(self, refs: list[str]) -> None:
        if "refs/tags/v1.10.1" in refs:
            git(self.rival.path, "tag", "-a", "v1.10.1", "-m", "Hand-made release", "origin/main")
            self.rival.push("refs/tags/v1.10.1")


def test_tag_taken_meanwhile_moves_to_next_free(
    spec: RepoSpec, remote: Remote, engineer: Clone, tmp_path: Path
) -> None:
    ops = TagTakenJustBeforePush(tmp_path / "work", engineer)
    head = cut_and_fix(ops, spec, engineer, FIRST)

    result = ops.tag_release(spec, FIRST, head_of(engineer, FIRST), marker="HF-7", message="Hotfix")

    assert result == TagResult("v1.10.2", head, previous_tag="v1.10.1")
    assert remote.rev("v1.10.1") == remote.rev("main")  # the rival's tag is untouched


class PushAtTheSameMoment(RacingGitOps):
    def __init__(self, workdir: Path, barrier: threading.Barrier) -> None:
        super().__init__(workdir)
        self.barrier = barrier

    def before_push(self, refs: list[str]) -> None:
        if refs == ["refs/tags/v1.10.1"]:
            self.barrier.wait(timeout=10)


def test_concurrent_hotfixes_get_distinct_tags(
    spec: RepoSpec, remote: Remote, engineer: Clone, tmp_path: Path
) -> None:
    barrier = threading.Barrier(2)
    jobs = {FIRST: PushAtTheSameMoment(tmp_path / "worker-1", barrier),
            SECOND: PushAtTheSameMoment(tmp_path / "worker-2", barrier)}
    heads = {FIRST: cut_and_fix(jobs[FIRST], spec, engineer, FIRST, "checkout.py"),
             SECOND: cut_and_fix(jobs[SECOND], spec, engineer, SECOND, "login.py")}
    results: dict[str, TagResult] = {}

    def tag(branch: str) -> None:
        results[branch] = jobs[branch].tag_release(spec, branch, head_of(engineer, branch), marker=branch, message="Hotfix")

    threads = [threading.Thread(target=tag, args=(branch,)) for branch in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(result.tag for result in results.values()) == ["v1.10.1", "v1.10.2"]
    for branch, result in results.items():
        assert remote.rev(result.tag) == heads[branch]


def test_marker_must_be_one_line(ops: GitOps, spec: RepoSpec, engineer: Clone) -> None:
    cut_and_fix(ops, spec, engineer, FIRST)

    with pytest.raises(ValueError, match="one non-empty line"):
        ops.tag_release(spec, FIRST, head_of(engineer, FIRST), marker="HF-7\nHotfix: HF-8", message="Hotfix")


def test_tag_push_refused_by_server_is_reported(
    ops: GitOps, spec: RepoSpec, remote: Remote, engineer: Clone
) -> None:
    cut_and_fix(ops, spec, engineer, FIRST)
    remote.install_hook("pre-receive", 'echo "tags are frozen" >&2\nexit 1\n')

    with pytest.raises(PushRejected, match="refs/tags/v1.10.1: pre-receive hook declined") as rejected:
        ops.tag_release(spec, FIRST, head_of(engineer, FIRST), marker="HF-7", message="Hotfix")

    assert rejected.value.reason == "pre-receive hook declined (tags are frozen)"  # the server's own words
    assert "v1.10.1" not in remote.tags()


def test_a_branch_past_the_approved_commit_is_not_tagged(
    ops: GitOps, spec: RepoSpec, remote: Remote, engineer: Clone
) -> None:
    approved = cut_and_fix(ops, spec, engineer, FIRST)
    later = engineer.commit("checkout.py", "# unreviewed\n", "Sneak it in")
    engineer.push(f"HEAD:refs/heads/{FIRST}")

    with pytest.raises(BranchMoved) as moved:
        ops.tag_release(spec, FIRST, approved, marker="HF-7", message="Hotfix")

    assert moved.value.head == later
    assert [(c.sha, c.subject, c.author) for c in moved.value.commits] == [(later, "Sneak it in", "Test Engineer")]
    assert "v1.10.1" not in remote.tags()


class PushJustBeforeTheTag(RacingGitOps):
    """An engineer pushes to the hotfix branch between the bot's fetch and its tag push."""

    def __init__(self, workdir: Path, engineer: Clone) -> None:
        super().__init__(workdir)
        self.engineer = engineer
        self.pushed: str | None = None

    def before_push(self, refs: list[str]) -> None:
        if self.pushed is None and "refs/tags/v1.10.1" in refs:
            self.pushed = self.engineer.commit("checkout.py", "# unreviewed\n", "Last-moment push")
            self.engineer.push(f"HEAD:refs/heads/{FIRST}")


@pytest.mark.parametrize("flow", ["production-tag", "trunk"])
def test_a_push_at_the_moment_of_the_tag_stays_out_of_the_release(
    flow: str, spec: RepoSpec, trunk_spec: RepoSpec, remote: Remote, engineer: Clone, tmp_path: Path
) -> None:
    spec = trunk_spec if flow == "trunk" else spec
    ops = PushJustBeforeTheTag(tmp_path / "work", engineer)
    approved = cut_and_fix(ops, spec, engineer, FIRST)

    result = ops.tag_release(spec, FIRST, approved, marker="HF-7", message="Hotfix")

    assert remote.rev(f"refs/heads/{FIRST}") == ops.pushed
    released = remote.rev(result.tag)
    assert released == approved or remote.parents(released)[1] == approved  # trunk: main's merge of the approved
    assert "# unreviewed" not in remote.file_at(result.tag, "checkout.py")
