"""A remote that allows filters (uploadpack.allowFilter) gets a mirror without blobs, and every step still works on it:
git fetches the few blobs a merge or a diff reads on demand."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.domain.repo import RepoSpec
from bot.git.errors import BranchMoved, MergeConflict
from bot.git.ops import GitOps
from tests.support.gitrepos import PAYMENTS_V1, Clone, Remote, git

BRANCH = "hotfix/PROD-501-checkout-500s"


@pytest.fixture
def remote(remote: Remote) -> Remote:
    git(remote.path, "config", "uploadpack.allowFilter", "true")
    return remote


def mirror_of(ops: GitOps, spec: RepoSpec) -> Path:
    return ops.workdir / f"{spec.name}.git"


def blobs_in(repo: Path) -> int:
    """Blobs stored in the repository itself (listing them fetches nothing)."""
    listing = git(repo, "cat-file", "--batch-all-objects", "--batch-check=%(objecttype)")
    return listing.split().count("blob")


def test_the_mirror_is_made_without_blobs(ops: GitOps, spec: RepoSpec, remote: Remote) -> None:
    assert ops.production_tag(spec).name == "v1.10.0"

    mirror = mirror_of(ops, spec)
    assert git(mirror, "config", "remote.origin.partialclonefilter") == "blob:none"
    assert blobs_in(mirror) == 0 < blobs_in(remote.path)


def test_a_remote_without_filters_gets_a_complete_mirror(ops: GitOps, spec: RepoSpec, remote: Remote) -> None:
    git(remote.path, "config", "uploadpack.allowFilter", "false")

    ops.production_tag(spec)

    mirror = mirror_of(ops, spec)
    assert git(mirror, "config", "--default", "", "remote.origin.partialclonefilter") == ""
    assert blobs_in(mirror) == blobs_in(remote.path)
    assert not list((mirror / "objects" / "pack").glob("*.promisor"))


def test_every_step_of_a_hotfix_works_on_a_mirror_without_blobs(
    ops: GitOps, spec: RepoSpec, remote: Remote, engineer: Clone
) -> None:
    cut = ops.cut_branch(spec, BRANCH)
    assert remote.rev(f"refs/heads/{BRANCH}") == remote.rev("v1.10.0")
    fix = engineer.push_fix(BRANCH)

    change = ops.review_change(spec, cut.base_commit, BRANCH)
    assert [f.path for f in change.files] == ["checkout.py"]
    assert "+    return sum(0, item.price for item in cart)" in change.patch

    tagged = ops.tag_release(spec, BRANCH, fix, marker="HF-1", message="Hotfix HF-1")
    assert remote.rev(tagged.tag) == fix

    for target in ("main", "develop"):
        merged = ops.merge_back(spec, fix, target, message=f"Merge hotfix HF-1 into {target}")
        assert remote.parents(target)[1] == fix == remote.parents(merged.commit)[1]
        assert "sum(0, " in remote.file_at(target, "checkout.py")
    assert remote.file_at("develop", "payments.py").startswith("def charge(card, retries=3)")  # their work kept

    ops.delete_branch(spec, BRANCH, fix)
    assert not remote.has_ref(f"refs/heads/{BRANCH}")
    assert git(mirror_of(ops, spec), "config", "remote.origin.partialclonefilter") == "blob:none"


def test_a_conflict_and_a_moved_branch_are_found_on_a_mirror_without_blobs(
    ops: GitOps, spec: RepoSpec, remote: Remote, engineer: Clone
) -> None:
    ops.cut_branch(spec, BRANCH)
    fix = engineer.push_fix(BRANCH, filename="payments.py", content=PAYMENTS_V1.replace("card)", "card, timeout=5)"))
    develop_before = remote.rev("develop")

    with pytest.raises(MergeConflict) as conflict:
        ops.merge_back(spec, fix, "develop", message="Merge")

    assert conflict.value.files == ["payments.py"]
    assert remote.rev("develop") == develop_before
    later = engineer.commit("payments.py", "# later\n", "Later")
    engineer.push(f"HEAD:refs/heads/{BRANCH}")
    with pytest.raises(BranchMoved) as moved:
        ops.delete_branch(spec, BRANCH, fix)
    assert moved.value.head == later
    assert remote.rev(f"refs/heads/{BRANCH}") == later
    assert 0 < blobs_in(mirror_of(ops, spec)) < blobs_in(remote.path)  # only the blobs the merge read


def test_trunk_flow_tags_a_merge_into_main_on_a_mirror_without_blobs(
    ops: GitOps, trunk_spec: RepoSpec, remote: Remote, engineer: Clone
) -> None:
    ops.cut_branch(trunk_spec, BRANCH)
    fix = engineer.push_fix(BRANCH)
    main_before = remote.rev("main")

    tagged = ops.tag_release(trunk_spec, BRANCH, fix, marker="HF-2", message="Hotfix HF-2")

    assert remote.rev(tagged.tag) == remote.rev("main") == tagged.commit
    assert remote.parents(tagged.commit) == [main_before, fix]
    assert "sum(0, " in remote.file_at(tagged.tag, "checkout.py")
    assert git(mirror_of(ops, trunk_spec), "config", "remote.origin.partialclonefilter") == "blob:none"


def test_after_the_bot_pushed_a_fetch_skips_the_walk_over_the_whole_history(
    ops: GitOps, spec: RepoSpec, remote: Remote, engineer: Clone, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the bot made and pushed (tag, merge) is packed as the remote's, so a fetch only checks what it received:
    no `rev-list --exclude-promisor-objects` over every commit and tree, a second per fetch on a long history."""
    ops.cut_branch(spec, BRANCH)
    fix = engineer.push_fix(BRANCH)
    ops.tag_release(spec, BRANCH, fix, marker="HF-1", message="Hotfix HF-1")
    ops.merge_back(spec, fix, "main", message="Merge hotfix HF-1 into main")
    engineer.switch("develop")
    pushed = engineer.commit("payments.py", "# meanwhile\n", "Meanwhile")
    engineer.push("HEAD:refs/heads/develop")
    trace = tmp_path / "trace2.json"
    monkeypatch.setenv("GIT_TRACE2_EVENT", str(trace))

    assert ops.merged_targets(spec, pushed, ["develop"]) == {"develop": True}  # fetched what the engineer pushed

    children = [json.loads(line).get("argv", []) for line in trace.read_text().splitlines()]
    assert any(argv[:2] == ["git", "index-pack"] for argv in children)  # the fetch did receive a pack
    assert not [argv for argv in children if "--exclude-promisor-objects" in argv]
