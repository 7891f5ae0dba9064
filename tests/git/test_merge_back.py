"""Merging the hotfix back: real --no-ff merge commits, conflicts left untouched, races merged again."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.domain.repo import RepoSpec
from bot.git.errors import MergeConflict, PushRejected, RefNotFound
from bot.git.ops import GitOps, MergeResult
from tests.git.racing import RacingGitOps
from tests.support.gitrepos import PAYMENTS_V1, Clone, Remote

BRANCH = "hotfix/PROD-501-checkout-500s"
PROTECT_MAIN = """\
while read old new ref; do
  if [ "$ref" = refs/heads/main ]; then echo "main is protected" >&2; exit 1; fi
done
"""


@pytest.fixture
def hotfix_head(ops: GitOps, spec: RepoSpec, engineer: Clone) -> str:
    ops.cut_branch(spec, BRANCH)
    return engineer.push_fix(BRANCH)


@pytest.mark.parametrize("target", ["main", "develop"])
def test_merge_commit_joins_target_tip_and_hotfix_head(
    target: str, ops: GitOps, spec: RepoSpec, remote: Remote, hotfix_head: str
) -> None:
    tip_before = remote.rev(target)

    result = ops.merge_back(spec, hotfix_head, target, message=f"Merge {BRANCH} into {target}")

    assert result == MergeResult(target, remote.rev(target), already_merged=False)
    assert remote.parents(target) == [tip_before, hotfix_head]
    assert "sum(0, " in remote.file_at(target, "checkout.py")
    assert remote.file_at(target, "feature.py" if target == "main" else "payments.py")  # their work kept


def test_rerun_changes_nothing_and_names_the_same_merge(
    ops: GitOps, spec: RepoSpec, remote: Remote, hotfix_head: str, tmp_path: Path
) -> None:
    first = ops.merge_back(spec, hotfix_head, "main", message="Merge")

    again = ops.merge_back(spec, hotfix_head, "main", message="Merge")
    after_restart = GitOps(tmp_path / "fresh").merge_back(spec, hotfix_head, "main", message="Merge")

    assert again == after_restart == MergeResult("main", first.commit, already_merged=True)
    assert remote.rev("main") == first.commit


def test_conflict_in_develop_leaves_develop_alone(
    ops: GitOps, spec: RepoSpec, remote: Remote, engineer: Clone
) -> None:
    ops.cut_branch(spec, BRANCH)
    payments_fix = PAYMENTS_V1.replace("card)", "card, timeout=5)")
    hotfix_head = engineer.push_fix(BRANCH, filename="payments.py", content=payments_fix)
    develop_before = remote.rev("develop")

    main = ops.merge_back(spec, hotfix_head, "main", message="Merge")
    with pytest.raises(MergeConflict, match="Merging into develop conflicts in payments.py") as conflict:
        ops.merge_back(spec, hotfix_head, "develop", message="Merge")

    assert not main.already_merged and remote.rev("main") == main.commit
    assert conflict.value.files == ["payments.py"]
    assert remote.rev("develop") == develop_before


def test_protected_branch_rejection_is_reported(
    ops: GitOps, spec: RepoSpec, remote: Remote, hotfix_head: str
) -> None:
    remote.install_hook("pre-receive", PROTECT_MAIN)
    main_before = remote.rev("main")

    with pytest.raises(PushRejected, match="refs/heads/main: pre-receive hook declined") as rejected:
        ops.merge_back(spec, hotfix_head, "main", message="Merge")
    develop = ops.merge_back(spec, hotfix_head, "develop", message="Merge")

    assert rejected.value.reason == "pre-receive hook declined (main is protected)"  # the server's own words
    assert remote.rev("main") == main_before
    assert remote.rev("develop") == develop.commit


class MainMovesJustBeforePush(RacingGitOps):
    """A teammate lands a commit on main between our fetch and our push, once."""

    def __init__(self, workdir: Path, teammate: Clone) -> None:
        super().__init__(workdir)
        self.teammate = teammate
        self.moved: str | None = None

    def before_push(self, refs: list[str]) -> None:
        if refs == ["refs/heads/main"] and self.moved is None:
            self.teammate.switch("main")
            self.moved = self.teammate.commit("search.py", "INDEX = {}\n", "Teammate's work")
            self.teammate.push("HEAD:refs/heads/main")


def test_target_that_moved_is_merged_again(
    spec: RepoSpec, remote: Remote, engineer: Clone, tmp_path: Path
) -> None:
    ops = MainMovesJustBeforePush(tmp_path / "work", remote.clone(tmp_path / "teammate"))
    ops.cut_branch(spec, BRANCH)
    hotfix_head = engineer.push_fix(BRANCH)

    result = ops.merge_back(spec, hotfix_head, "main", message="Merge")

    assert result == MergeResult("main", remote.rev("main"), already_merged=False)
    assert remote.parents("main") == [ops.moved, hotfix_head]
    assert remote.file_at("main", "search.py") == "INDEX = {}"


def test_missing_target_is_reported(ops: GitOps, spec: RepoSpec, hotfix_head: str) -> None:
    with pytest.raises(RefNotFound, match="release/2.x does not exist on the remote"):
        ops.merge_back(spec, hotfix_head, "release/2.x", message="Merge")
