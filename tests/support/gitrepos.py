"""Real git repositories for tests: a bare "remote" with releases, and clones acting as engineers."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

# Keeps a developer's own git config and identity out of every git call the tests make.
GIT_TEST_ENV = {
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "Test Engineer",
    "GIT_AUTHOR_EMAIL": "engineer@example.com",
    "GIT_COMMITTER_NAME": "Test Engineer",
    "GIT_COMMITTER_EMAIL": "engineer@example.com",
    "GIT_TERMINAL_PROMPT": "0",
}

CHECKOUT_BUG = "def total(cart):\n    return sum(item.price for item in cart)\n"
CHECKOUT_FIX = CHECKOUT_BUG.replace("sum(", "sum(0, ")
PAYMENTS_V1 = "def charge(card):\n    return gateway.charge(card)\n"
PAYMENTS_ON_DEVELOP = "def charge(card, retries=3):\n    return gateway.charge(card, retries)\n"


def git(cwd: Path, *args: str) -> str:
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed in {cwd}: {result.stderr.strip()}")
    return result.stdout.strip()


@dataclass
class Clone:
    """A working copy, used the way an engineer would use one."""

    path: Path

    def switch(self, branch: str) -> None:
        git(self.path, "fetch", "--quiet", "origin")
        git(self.path, "checkout", "--quiet", "-B", branch, f"origin/{branch}")

    def commit(self, filename: str, content: str, message: str) -> str:
        (self.path / filename).write_text(content)
        git(self.path, "add", filename)
        git(self.path, "commit", "--quiet", "-m", message)
        return git(self.path, "rev-parse", "HEAD")

    def push(self, *refspecs: str) -> None:
        git(self.path, "push", "--quiet", "origin", *refspecs)

    def push_fix(self, branch: str, filename: str = "checkout.py", content: str = CHECKOUT_FIX) -> str:
        """Commit a fix on the hotfix branch and push it; returns the new branch head."""
        self.switch(branch)
        head = self.commit(filename, content, f"Fix {filename}")
        self.push(f"HEAD:refs/heads/{branch}")
        return head


@dataclass
class Remote:
    """A bare repository standing in for the team's git server."""

    path: Path

    @property
    def url(self) -> str:
        return str(self.path)

    def rev(self, rev: str) -> str:
        return git(self.path, "rev-parse", "--verify", f"{rev}^{{commit}}")

    def has_ref(self, ref: str) -> bool:
        return subprocess.run(["git", "show-ref", "--verify", "--quiet", ref], cwd=self.path).returncode == 0

    def tags(self) -> set[str]:
        return set(git(self.path, "tag", "--list").split())

    def parents(self, rev: str) -> list[str]:
        return git(self.path, "rev-list", "--parents", "-n", "1", rev).split()[1:]

    def object_type(self, ref: str) -> str:
        return git(self.path, "cat-file", "-t", ref)

    def tag_message(self, tag: str) -> str:
        return git(self.path, "for-each-ref", "--format=%(contents)", f"refs/tags/{tag}")

    def file_at(self, rev: str, filename: str) -> str:
        return git(self.path, "show", f"{rev}:{filename}")

    def install_hook(self, name: str, script: str) -> None:
        hook = self.path / "hooks" / name
        hook.write_text("#!/bin/sh\n" + script)
        hook.chmod(0o755)

    def clone(self, dest: Path) -> Clone:
        git(dest.parent, "clone", "--quiet", self.url, dest.name)
        return Clone(dest)


def push_fix_branch(engineer: Clone, branch: str, content: str = CHECKOUT_FIX) -> str:
    """A hotfix branch cut from v1.10.0 with one fix commit, pushed; returns its head."""
    git(engineer.path, "checkout", "--quiet", "-B", branch, "v1.10.0")
    head = engineer.commit("checkout.py", content, "Fix the checkout total")
    engineer.push(f"HEAD:refs/heads/{branch}")
    return head


def build_release_remote(root: Path) -> Remote:
    """v1.9.0 and v1.10.0 released; main has unreleased work and v2.0.0-rc.1; develop changed payments."""
    seed = Clone(root / "seed")
    git(root, "init", "--quiet", "--initial-branch=main", "seed")
    seed.commit("checkout.py", CHECKOUT_BUG, "Checkout")
    seed.commit("payments.py", PAYMENTS_V1, "Payments")
    git(seed.path, "tag", "-a", "v1.9.0", "-m", "Release 1.9.0")
    seed.commit("README", "Shop\n", "Readme")
    git(seed.path, "tag", "-a", "v1.10.0", "-m", "Release 1.10.0")
    git(seed.path, "checkout", "--quiet", "-b", "develop")
    seed.commit("payments.py", PAYMENTS_ON_DEVELOP, "Payments retry")
    git(seed.path, "checkout", "--quiet", "main")
    seed.commit("feature.py", "NEW_CHECKOUT = True\n", "Unreleased feature")
    git(seed.path, "tag", "-a", "v2.0.0-rc.1", "-m", "Release candidate")
    remote = Remote(root / "payments.git")
    git(root, "init", "--quiet", "--bare", "--initial-branch=main", remote.path.name)
    git(seed.path, "push", "--quiet", "--tags", remote.url, "main", "develop")
    return remote


def copy_remote(template: Remote, dest: Path) -> Remote:
    shutil.copytree(template.path, dest, symlinks=True)
    return Remote(dest)
