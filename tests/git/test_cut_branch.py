"""Cutting the hotfix branch: from the production tag (or main in trunk flow), pushed, re-runnable."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.domain.naming import InvalidName, branch_name
from bot.domain.repo import RepoSpec
from bot.git.errors import InvalidRefName, NoProductionTag, RefNotFound
from bot.git.ops import CutResult, GitOps
from tests.support.gitrepos import Clone, Remote

BRANCH = "hotfix/PROD-501-checkout-500s"


def test_branch_starts_at_newest_production_tag_not_main(ops: GitOps, spec: RepoSpec, remote: Remote) -> None:
    result = ops.cut_branch(spec, BRANCH)

    assert result == CutResult(BRANCH, "v1.10.0", remote.rev("v1.10.0"))
    assert remote.rev(f"refs/heads/{BRANCH}") == remote.rev("v1.10.0")
    assert remote.rev(f"refs/heads/{BRANCH}") != remote.rev("main")


def test_trunk_flow_branches_from_main(ops: GitOps, trunk_spec: RepoSpec, remote: Remote) -> None:
    result = ops.cut_branch(trunk_spec, BRANCH)

    assert result == CutResult(BRANCH, "main", remote.rev("main"))
    assert remote.rev(f"refs/heads/{BRANCH}") == remote.rev("main")


def test_rerun_after_engineers_pushed_returns_the_same_cut(
    ops: GitOps, spec: RepoSpec, remote: Remote, engineer: Clone, tmp_path: Path
) -> None:
    first = ops.cut_branch(spec, BRANCH)
    fix = engineer.push_fix(BRANCH)

    again = ops.cut_branch(spec, BRANCH)
    from_a_fresh_workdir = GitOps(tmp_path / "other-work").cut_branch(spec, BRANCH)

    assert again == first == from_a_fresh_workdir
    assert remote.rev(f"refs/heads/{BRANCH}") == fix


def test_trunk_rerun_returns_the_same_cut(ops: GitOps, trunk_spec: RepoSpec, engineer: Clone) -> None:
    first = ops.cut_branch(trunk_spec, BRANCH)
    engineer.push_fix(BRANCH)

    assert ops.cut_branch(trunk_spec, BRANCH) == first


def test_no_release_tag_is_reported(ops: GitOps, remote: Remote) -> None:
    spec = RepoSpec(name="payments", url=remote.url, production_tag="release-*")

    with pytest.raises(NoProductionTag, match=r"No production tag matches release-\*"):
        ops.cut_branch(spec, BRANCH)
    assert not remote.has_ref(f"refs/heads/{BRANCH}")


def test_trunk_without_main_is_reported(ops: GitOps, remote: Remote) -> None:
    spec = RepoSpec(name="payments", url=remote.url, flow="trunk", main="trunk")

    with pytest.raises(RefNotFound, match="trunk does not exist on the remote"):
        ops.cut_branch(spec, BRANCH)


@pytest.mark.parametrize("hostile", ["--upload-pack=touch x", "../../x", "PROD-1; rm -rf /"])
def test_hostile_issue_ids_never_become_branches(hostile: str, monkeypatch: pytest.MonkeyPatch,
                                                 tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)

    with pytest.raises(InvalidName, match="Issue ID must look like PROD-501"):
        branch_name(hostile, "Checkout 500s")
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("hostile", ["--upload-pack=touch x", "-x", "../../x", "a..b", "x; touch x", ""])
def test_hostile_branch_names_never_reach_git(hostile: str, ops: GitOps, spec: RepoSpec, remote: Remote,
                                              monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    branches_before = remote.rev("main"), remote.rev("develop")

    with pytest.raises(InvalidRefName, match="is not a valid git branch or tag name"):
        ops.cut_branch(spec, hostile)
    with pytest.raises(InvalidRefName):
        ops.merge_back(spec, remote.rev("main"), hostile, message="Merge")

    assert not (tmp_path / "x").exists()
    assert (remote.rev("main"), remote.rev("develop")) == branches_before
