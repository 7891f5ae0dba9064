"""Times GitOps against plain git doing the same steps, on a big synthetic repository and on one with large files.

Run: .venv/bin/python bench/git_ops.py [--runs 7] [--large-mb 300]
Two remotes, built once with git fast-import and cached under bench/.cache/; each run works on a hard-linked copy:
  history  50,000 commits, 10,000 small files, release tags, main and develop
  large    --large-mb MB of incompressible history blobs (1 MB files rewritten commit after commit); 0 skips it
Both copies allow partial clones (uploadpack.allowFilter), as GitHub and GitLab do, so the bot's mirror has no blobs;
--full-mirror refuses filters, for the figures of a complete mirror.

Per remote, in the same run:
  cold mirror    GitOps making its mirror (blob:none) against `git clone --mirror --no-local` (target <= 0.5x)
  restart        the first cut by a fresh GitOps on the mirror a previous process left (what a restarted `serve`
                 does) against a cut by one that has already cut several (target <= 1.3x); medians, interleaved
  cut/tag/merge  GitOps (warm) against the plain-git floor below (target <= 1.3x)
The plain-git floor works in an ordinary clone and, like GitOps, fetches first (seed doc step 1 is
`git fetch --tags`) so it sees what others pushed:
  cut    fetch --prune --prune-tags; tag --list v*; push <tag>^{commit}:refs/heads/<branch>
  tag    fetch --prune --prune-tags; tag --list v*; tag -a; push refs/tags/<tag>
  merge  fetch --prune --prune-tags; merge-tree --write-tree; commit-tree -p main -p hotfix; push <merge>:main
The merge floor is plumbing, the cheapest honest way: `git merge --no-ff` needs a checkout, slower still.
The floor clone gets a commit-graph and fetch.writeCommitGraph too, so it is not slowed by lacking one.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bot.domain.repo import RepoSpec
from bot.domain.versions import newest_production, next_free_patch
from bot.git.ops import GitOps
from bot.git.refs import check_ref

COMMITS = 50_000
FILES = 10_000
RELEASE_EVERY = 1_000
DEVELOP_COMMITS = 1_000
UNRELEASED_ON_MAIN = 500
START = 1_600_000_000  # commit timestamps: START + mark
CACHE = Path(__file__).resolve().parent / ".cache" / f"remote-{COMMITS}c-{FILES}f.git"
ENV = {
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "Bench",
    "GIT_AUTHOR_EMAIL": "bench@localhost",
    "GIT_COMMITTER_NAME": "Bench",
    "GIT_COMMITTER_EMAIL": "bench@localhost",
}


def git(cwd: Path, *args: str, stdin: bytes | None = None) -> str:
    result = subprocess.run(["git", *args], cwd=cwd, input=stdin, capture_output=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"git {' '.join(args)} failed: {result.stderr.decode().strip()}")
    return result.stdout.decode().strip()


def _data(text: str) -> bytes:
    raw = text.encode()
    return b"data %d\n%s\n" % (len(raw), raw)


def _path(n: int) -> str:
    return f"src/d{n // 100:03d}/f{n % 100:02d}.py"


def _commit(ref: str, mark: int, message: str, changes: list[tuple[str, str]], parent: int | None) -> bytes:
    header = f"commit {ref}\nmark :{mark}\ncommitter Bench <bench@localhost> {START + mark} +0000\n"
    parts = [header.encode(), _data(message)]
    if parent is not None:
        parts.append(f"from :{parent}\n".encode())
    for path, content in changes:
        parts.append(f"M 100644 inline {path}\n".encode() + _data(content))
    return b"".join(parts) + b"\n"


def _tag(name: str, mark: int) -> bytes:
    header = f"tag {name}\nfrom :{mark}\ntagger Bench <bench@localhost> {START + mark} +0000\n".encode()
    return header + _data(f"Release {name}")


def fast_import_stream() -> bytes:
    """main: COMMITS - DEVELOP_COMMITS commits, a release tag every RELEASE_EVERY, then unreleased work;
    develop forks from main and adds DEVELOP_COMMITS commits."""
    everything = [(_path(n), f"# file {n}\n") for n in range(FILES)]
    chunks = [_commit("refs/heads/main", 1, "Initial import", everything, None)]
    main_commits = COMMITS - DEVELOP_COMMITS
    last_release = (main_commits - UNRELEASED_ON_MAIN) // RELEASE_EVERY * RELEASE_EVERY
    for mark in range(2, main_commits + 1):
        chunks.append(_commit("refs/heads/main", mark, f"Change {mark}",
                              [(_path(mark * 7 % FILES), f"# file edited in {mark}\n")], mark - 1))
        if mark % RELEASE_EVERY == 0 and mark <= last_release:
            chunks.append(_tag(f"v1.{mark // RELEASE_EVERY}.0", mark))
    fork = last_release + UNRELEASED_ON_MAIN // 2
    for offset in range(1, DEVELOP_COMMITS + 1):
        mark = main_commits + offset
        parent = fork if offset == 1 else mark - 1
        chunks.append(_commit("refs/heads/develop", mark, f"Develop {offset}",
                              [(_path(offset * 13 % FILES), f"# develop edit {offset}\n")], parent))
    chunks.append(_tag("v2.0.0-rc.1", main_commits))
    return b"".join(chunks)


def build_remote(cache: Path, write_stream: Callable[[subprocess.Popen], None]) -> None:
    if cache.exists():
        return
    staging = cache.with_name(cache.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    git(staging, "init", "--quiet", "--bare", "--initial-branch=main")
    importer = subprocess.Popen(["git", "fast-import", "--quiet"], cwd=staging, stdin=subprocess.PIPE)
    write_stream(importer)
    importer.stdin.close()
    if importer.wait() != 0:
        raise SystemExit("git fast-import failed")
    git(staging, "repack", "-adq")
    git(staging, "commit-graph", "write", "--reachable")
    git(staging, "pack-refs", "--all")
    staging.rename(cache)


def history_stream(importer: subprocess.Popen) -> None:
    importer.stdin.write(fast_import_stream())


LARGE_FILE = 1 << 20  # 1 MB, random, so neither git nor the pack can compress it
LARGE_FILES = 50  # rewritten in turn: the checkout is 50 MB, the history --large-mb
LARGE_RELEASE_EVERY = 20


def large_stream(megabytes: int) -> Callable[[subprocess.Popen], None]:
    """main: a small source tree, then one commit per megabyte, each rewriting one of LARGE_FILES binary files;
    a release tag every LARGE_RELEASE_EVERY commits, the last few commits unreleased."""
    def write(importer: subprocess.Popen) -> None:
        sources = [(f"src/f{n:03d}.py", f"# file {n}\n") for n in range(100)]
        importer.stdin.write(_commit("refs/heads/main", 1, "Initial import", sources, None))
        last = megabytes + 1
        for mark in range(2, last + 1):
            blob = os.urandom(LARGE_FILE)
            header = (f"commit refs/heads/main\nmark :{mark}\ncommitter Bench <bench@localhost> {START + mark} +0000\n"
                      ).encode() + _data(f"Asset {mark}") + f"from :{mark - 1}\n".encode()
            importer.stdin.write(header + f"M 100644 inline assets/a{mark % LARGE_FILES:02d}.bin\n".encode()
                                 + b"data %d\n" % len(blob) + blob + b"\n\n")
            if mark % LARGE_RELEASE_EVERY == 0 and mark <= last - 5:
                importer.stdin.write(_tag(f"v1.{mark // LARGE_RELEASE_EVERY}.0", mark))
    return write


def add_fix(remote: Path, branch: str, name: str) -> str:
    """An engineer's fix commit on the hotfix branch, made directly in the remote (not timed); its SHA."""
    head = git(remote, "rev-parse", f"refs/heads/{branch}")
    blob = git(remote, "hash-object", "-w", "--stdin", stdin=f"fix {name}\n".encode())
    listing = git(remote, "ls-tree", head) + f"\n100644 blob {blob}\tfix-{name}.txt\n"
    tree = git(remote, "mktree", stdin=listing.encode())
    commit = git(remote, "commit-tree", tree, "-p", head, "-m", f"Fix {name}")
    git(remote, "update-ref", f"refs/heads/{branch}", commit)
    return commit


def newest_tag(clone: Path) -> str:
    return newest_production(git(clone, "tag", "--list", "v*").split(), "v*")


def floor_cut(clone: Path, branch: str) -> None:
    git(clone, "fetch", "--quiet", "--prune", "--prune-tags", "origin")
    git(clone, "push", "--quiet", "origin", f"{newest_tag(clone)}^{{commit}}:refs/heads/{branch}")


def floor_tag(clone: Path, branch: str) -> None:
    git(clone, "fetch", "--quiet", "--prune", "--prune-tags", "origin")
    tags = git(clone, "tag", "--list", "v*").split()
    name = next_free_patch(newest_production(tags, "v*"), tags)
    git(clone, "tag", "-a", "-m", f"Hotfix {branch}", name, f"origin/{branch}")
    git(clone, "push", "--quiet", "origin", f"refs/tags/{name}")


def floor_merge(clone: Path, branch: str) -> None:
    git(clone, "fetch", "--quiet", "--prune", "--prune-tags", "origin")
    tree = git(clone, "merge-tree", "--write-tree", "origin/main", f"origin/{branch}")
    tip, head = git(clone, "rev-parse", "origin/main", f"origin/{branch}").split()
    merge = git(clone, "commit-tree", tree, "-p", tip, "-p", head, "-m", f"Merge {branch}")
    git(clone, "push", "--quiet", "origin", f"{merge}:refs/heads/main")


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


STEPS = {"cut": "cut branch", "tag": "tag release", "merge": "merge back"}


def gitops_steps(ops: GitOps, spec: RepoSpec) -> dict[str, Callable[[str], object]]:
    return {
        "cut": lambda branch: ops.cut_branch(spec, branch),
        # The bot knows the reviewed commit when it tags and merges (it was recorded at review): no lookup here.
        "tag": lambda branch, fix: ops.tag_release(spec, branch, fix, marker=branch, message="Hotfix"),
        "merge": lambda branch, fix: ops.merge_back(spec, fix, "main", message=f"Merge {branch}"),
    }


def plain_git_steps(clone: Path) -> dict[str, Callable[[str], object]]:
    return {
        "cut": lambda branch: floor_cut(clone, branch),
        "tag": lambda branch, fix: floor_tag(clone, branch),
        "merge": lambda branch, fix: floor_merge(clone, branch),
    }


def run_hotfix(steps: dict[str, Callable[[str], object]], remote: Path, branch: str) -> dict[str, float]:
    """Cut, let an engineer push a fix (not timed), tag, merge back: milliseconds per step."""
    times = {"cut": timed(lambda: steps["cut"](branch))}
    fix = add_fix(remote, branch, branch.replace("/", "-"))
    times["tag"] = timed(lambda: steps["tag"](branch, fix))
    times["merge"] = timed(lambda: steps["merge"](branch, fix))
    return times


def bench(runs: int, large_mb: int, allow_filter: bool) -> None:
    os.environ.update(ENV)
    remotes = {f"{COMMITS:,} commits, {FILES:,} files": (CACHE, history_stream)}
    if large_mb:
        large = CACHE.with_name(f"remote-large-{large_mb}mb.git")
        remotes[f"{large_mb} MB of history blobs"] = (large, large_stream(large_mb))
    for label, (cache, stream) in remotes.items():
        started = time.perf_counter()
        build_remote(cache, stream)
        print(f"\nremote: {label} (build or cache check {time.perf_counter() - started:.1f}s, "
              f"{_size_mb(cache):.0f} MB packed)")
        bench_remote(cache, runs, allow_filter)


def bench_remote(cache: Path, runs: int, allow_filter: bool) -> None:
    with tempfile.TemporaryDirectory(prefix="gitops-bench-") as tmp:
        root = Path(tmp)
        remote = root / "remote.git"
        git(root, "clone", "--quiet", "--mirror", str(cache), str(remote))  # hard links: instant, isolated
        git(remote, "config", "uploadpack.allowFilter", str(allow_filter).lower())
        spec = RepoSpec(name="shop", url=str(remote))
        ops = GitOps(root / "bot-work")
        cold = timed(lambda: ops.production_tag(spec))
        plain_clone = ("clone", "--quiet", "--no-local", "--mirror", str(remote), "plain.git")
        plain_cold = timed(lambda: git(root, *plain_clone))
        mirror_mb = _size_mb(root / "bot-work" / "shop.git")
        clone = root / "clone"
        git(root, "clone", "--quiet", "--no-local", "--no-checkout", str(remote), str(clone))
        git(clone, "commit-graph", "write", "--reachable")  # give the floor the same head start as the mirror
        git(clone, "config", "fetch.writeCommitGraph", "true")
        sides = {"ops": gitops_steps(ops, spec), "git": plain_git_steps(clone)}
        samples: dict[tuple[str, str], list[float]] = {(side, step): [] for side in sides for step in STEPS}
        for run in range(runs + 1):  # run 0 warms caches on both sides and is not counted
            for side, steps in sides.items():  # interleaved, so drift on the machine hits both alike
                for step, ms in run_hotfix(steps, remote, f"hotfix/BENCH-{run}-{side}").items():
                    if run:
                        samples[side, step].append(ms)
        restarted, warm = restart_samples(root / "bot-work", ops, spec, runs)
        report(samples, runs)
        print(f"{'cold mirror':<14}{cold:>11.1f}{plain_cold:>14.1f}{cold / plain_cold:>7.2f}x"
              f"   (plain: git clone --mirror --no-local, {_size_mb(root / 'plain.git'):.0f} MB; "
              f"the bot's mirror: {mirror_mb:.0f} MB; target <= 0.5x)")
        first, tenth = statistics.median(restarted), statistics.median(warm)
        print(f"{'restart cut':<14}{first:>11.1f}{tenth:>14.1f}{first / tenth:>7.2f}x"
              "   (first cut after a restart against a warm one; target <= 1.3x)")


def restart_samples(workdir: Path, warm: GitOps, spec: RepoSpec, runs: int) -> tuple[list[float], list[float]]:
    """A restart keeps the mirror on disk and loses the process: a fresh GitOps, no cached ref-name checks."""
    restarted, warmed = [], []
    for run in range(runs + 1):
        check_ref.cache_clear()
        fresh = GitOps(workdir)
        first = timed(lambda: fresh.cut_branch(spec, f"hotfix/RESTART-{run}"))
        again = timed(lambda: warm.cut_branch(spec, f"hotfix/WARM-{run}"))
        if run:
            restarted.append(first)
            warmed.append(again)
    return restarted, warmed


def _size_mb(repo: Path) -> float:
    return sum(f.stat().st_size for f in repo.rglob("*") if f.is_file()) / 1e6


def report(samples: dict[tuple[str, str], list[float]], runs: int) -> None:
    print(f"median of {runs} warm runs; plain git floor described in this script's docstring")
    print(f"{'step':<14}{'GitOps ms':>11}{'plain git ms':>14}{'ratio':>8}")
    for step, label in STEPS.items():
        ours, floor = statistics.median(samples["ops", step]), statistics.median(samples["git", step])
        print(f"{label:<14}{ours:>11.1f}{floor:>14.1f}{ours / floor:>7.2f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--large-mb", type=int, default=300,
                        help="history blobs of the large-file remote, in MB (0 skips it)")
    parser.add_argument("--full-mirror", action="store_true",
                        help="the remotes refuse filters, so the bot makes complete mirrors (the figures before blob:none)")
    arguments = parser.parse_args()
    bench(arguments.runs, arguments.large_mb, not arguments.full_mirror)
