"""Fixtures: a bare remote with releases (copied from one built per session) and a GitOps on it."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.domain.repo import Flow, RepoSpec
from bot.git.ops import GitOps
from tests.support.gitrepos import GIT_TEST_ENV, Clone, Remote, build_release_remote, copy_remote


@pytest.fixture(autouse=True)
def git_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in GIT_TEST_ENV.items():
        monkeypatch.setenv(name, value)


@pytest.fixture(scope="session")
def release_template(tmp_path_factory: pytest.TempPathFactory) -> Remote:
    with pytest.MonkeyPatch.context() as patch:
        for name, value in GIT_TEST_ENV.items():
            patch.setenv(name, value)
        return build_release_remote(tmp_path_factory.mktemp("template"))


@pytest.fixture
def remote(tmp_path: Path, release_template: Remote) -> Remote:
    return copy_remote(release_template, tmp_path / "payments.git")


@pytest.fixture
def spec(remote: Remote) -> RepoSpec:
    return RepoSpec(name="payments", url=remote.url)


@pytest.fixture
def trunk_spec(remote: Remote) -> RepoSpec:
    return RepoSpec(name="payments", url=remote.url, flow=Flow.TRUNK)


@pytest.fixture
def ops(tmp_path: Path) -> GitOps:
    return GitOps(tmp_path / "bot-work")


@pytest.fixture
def engineer(remote: Remote, tmp_path: Path) -> Clone:
    return remote.clone(tmp_path / "engineer")
