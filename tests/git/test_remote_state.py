"""Reading the remote: production tag, merged-ness, branch heads, diffs, deletion, unreachable remotes."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.domain.repo import RepoSpec
from bot.domain.review import Commit, FileChange
from bot.git.errors import BranchMoved, RefNotFound, RemoteUnavailable
from bot.git.ops import GitOps, TagInfo
from tests.git.racing import RacingGitOps
from tests.support.gitrepos import Clone, Remote, git

BRANCH = "hotfix/PROD-501-checkout-500s"


def test_production_is_newest_release_by_semver(ops: GitOps, spec: RepoSpec, remote: Remote) -> None:
    assert ops.production_tag(spec) == TagInfo("v1.10.0", remote.rev("v1.10.0"))


def test_tag_deleted_upstream_stops_being_production(ops: GitOps, spec: RepoSpec, remote: Remote) -> None:
    git(remote.path, "tag", "v1.11.0", "main")
    assert ops.production_tag(spec).name == "v1.11.0"

    git(remote.path, "tag", "-d", "v1.11.0")

    assert ops.production_tag(spec).name == "v1.10.0"


def test_unreachable_remote_is_retryable_then_recovers(ops: GitOps, spec: RepoSpec, remote: Remote) -> None:
    ops.production_tag(spec)
    moved = remote.path.rename(remote.path.with_name("moved.git"))

    with pytest.raises(RemoteUnavailable, match="Can't reach the git remote of payments"):
        ops.cut_branch(spec, BRANCH)

    moved.rename(remote.path)
    assert ops.cut_branch(spec, BRANCH).base_ref == "v1.10.0"
    assert remote.has_ref(f"refs/heads/{BRANCH}")


def test_unreachable_on_first_use_leaves_no_half_made_mirror(remote: Remote, tmp_path: Path) -> None:
    ops = GitOps(tmp_path / "work")
    spec = RepoSpec(name="payments", url=str(tmp_path / "nowhere.git"))

    with pytest.raises(RemoteUnavailable):
        ops.production_tag(spec)

    assert list((tmp_path / "work").iterdir()) == []
    assert ops.production_tag(RepoSpec(name="payments", url=remote.url)).name == "v1.10.0"


def test_credentials_in_the_url_never_reach_the_message(ops: GitOps) -> None:
    spec = RepoSpec(name="payments", url="http://bot:s3cret-token@127.0.0.1:9/payments.git")

    with pytest.raises(RemoteUnavailable) as down:
        ops.production_tag(spec)

    assert "s3cret-token" not in str(down.value)


def test_hand_merge_counts_as_merged(ops: GitOps, spec: RepoSpec, remote: Remote, engineer: Clone) -> None:
    ops.cut_branch(spec, BRANCH)
    head = engineer.push_fix(BRANCH)
    engineer.switch("main")
    git(engineer.path, "merge", "--quiet", "--no-ff", "-m", "Merge hotfix by hand", f"origin/{BRANCH}")
    engineer.push("HEAD:refs/heads/main")

    assert ops.merged_targets(spec, head, ["main", "develop"]) == {"main": True, "develop": False}
    with pytest.raises(RefNotFound, match="release/9 does not exist"):
        ops.merged_targets(spec, head, ["release/9"])


def test_branch_head_and_diff_for_review(ops: GitOps, spec: RepoSpec, engineer: Clone) -> None:
    cut = ops.cut_branch(spec, BRANCH)
    head = engineer.push_fix(BRANCH)

    assert ops.branch_head(spec, BRANCH) == head
    assert ops.branch_head(spec, "hotfix/never-made") is None
    change = ops.review_change(spec, cut.base_commit, BRANCH)
    assert (change.base, change.commit, change.files) == (cut.base_commit, head, (FileChange("checkout.py", 1, 1),))
    assert change.patch.startswith("diff --git a/checkout.py b/checkout.py") and "+    return sum(0, " in change.patch
    assert ops.review_change(spec, "v1.10.0", BRANCH).files == change.files


def test_the_review_after_an_approval_shows_what_came_since(ops: GitOps, spec: RepoSpec, engineer: Clone) -> None:
    cut = ops.cut_branch(spec, BRANCH)
    approved = engineer.push_fix(BRANCH)
    later = engineer.commit("checkout.py", "def total(cart):\n    return 0\n", "Simpler `total` <b>")
    engineer.push(f"HEAD:refs/heads/{BRANCH}")

    change = ops.review_change(spec, cut.base_commit, BRANCH, approved=approved)

    assert change.commit == later and change.approved == approved
    assert change.new_commits == (Commit(later, "Simpler `total` <b>", "Test Engineer"),)
    assert change.files == (FileChange("checkout.py", 1, 1),)  # the whole change still
    assert change.shown_files == (FileChange("checkout.py", 1, 1),)  # since the approved commit
    assert "-    return sum(0, item.price for item in cart)\n+    return 0" in change.patch


def test_hostile_diff_base_is_not_an_option(ops: GitOps, spec: RepoSpec, monkeypatch: pytest.MonkeyPatch,
                                            tmp_path: Path) -> None:
    ops.cut_branch(spec, BRANCH)
    monkeypatch.chdir(tmp_path)

    with pytest.raises(RefNotFound):
        ops.review_change(spec, "--output=x", BRANCH)
    assert not (tmp_path / "x").exists()


def test_delete_branch_removes_it_and_is_idempotent(ops: GitOps, spec: RepoSpec, remote: Remote) -> None:
    cut = ops.cut_branch(spec, BRANCH)

    ops.delete_branch(spec, BRANCH, cut.base_commit)
    ops.delete_branch(spec, BRANCH, cut.base_commit)

    assert not remote.has_ref(f"refs/heads/{BRANCH}")
    assert ops.branch_head(spec, BRANCH) is None


def test_a_branch_past_the_merged_commit_is_kept(ops: GitOps, spec: RepoSpec, remote: Remote, engineer: Clone) -> None:
    ops.cut_branch(spec, BRANCH)
    merged = engineer.push_fix(BRANCH)
    later = engineer.push_fix(BRANCH, content="# one more thing\n")

    with pytest.raises(BranchMoved) as moved:
        ops.delete_branch(spec, BRANCH, merged)

    assert moved.value.head == later and [c.sha for c in moved.value.commits] == [later]
    assert remote.rev(f"refs/heads/{BRANCH}") == later


class PushJustBeforeTheDelete(RacingGitOps):
    """An engineer pushes to the branch between the bot's fetch and its delete."""

    def __init__(self, workdir: Path, engineer: Clone) -> None:
        super().__init__(workdir)
        self.engineer = engineer
        self.armed = False  # not while the branch is cut
        self.pushed: str | None = None

    def before_push(self, refs: list[str]) -> None:
        if self.armed and self.pushed is None:
            self.pushed = self.engineer.push_fix(BRANCH, content="# pushed at the last moment\n")


def test_a_push_at_the_moment_of_the_delete_keeps_the_branch(
    spec: RepoSpec, remote: Remote, engineer: Clone, tmp_path: Path
) -> None:
    ops = PushJustBeforeTheDelete(tmp_path / "work", engineer)
    ops.cut_branch(spec, BRANCH)
    merged = engineer.push_fix(BRANCH)
    ops.armed = True

    with pytest.raises(BranchMoved) as moved:
        ops.delete_branch(spec, BRANCH, merged)

    assert moved.value.head == ops.pushed
    assert remote.rev(f"refs/heads/{BRANCH}") == ops.pushed  # the lease refused the delete


def test_merge_commits_carry_the_bot_identity_unless_env_overrides(
    ops: GitOps, spec: RepoSpec, remote: Remote, engineer: Clone, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ops.cut_branch(spec, BRANCH)
    head = engineer.push_fix(BRANCH)
    for name in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"):
        monkeypatch.delenv(name)
    bot = GitOps(tmp_path / "bot")
    monkeypatch.setenv("GIT_COMMITTER_NAME", "Release Robot")
    overridden = GitOps(tmp_path / "robot")

    main = bot.merge_back(spec, head, "main", message="Merge")
    develop = overridden.merge_back(spec, head, "develop", message="Merge")

    assert git(remote.path, "log", "-1", "--format=%an <%ae> / %cn", main.commit) == (
        "hotfix-bot <hotfix-bot@localhost> / hotfix-bot"
    )
    assert git(remote.path, "log", "-1", "--format=%an / %cn", develop.commit) == "hotfix-bot / Release Robot"


def test_a_fix_squashed_or_cherry_picked_by_hand_counts_and_an_unrelated_target_does_not(
        ops: GitOps, spec: RepoSpec, engineer: Clone) -> None:
    ops.cut_branch(spec, BRANCH)
    head = engineer.push_fix(BRANCH)
    engineer.switch("develop")
    git(engineer.path, "cherry-pick", head)  # a new commit with the same change: not an ancestor
    engineer.push("HEAD:refs/heads/develop")

    assert ops.merged_targets(spec, head, ["main", "develop"]) == {"main": False, "develop": True}
