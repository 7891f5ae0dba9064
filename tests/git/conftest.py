"""Fixtures: a GitOps on the release remote (tests/conftest.py), its specs, and an engineer's clone."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.domain.repo import Flow, RepoSpec
from bot.git.ops import GitOps
from tests.support.gitrepos import Remote


@pytest.fixture
def spec(remote: Remote) -> RepoSpec:
    return RepoSpec(name="payments", url=remote.url)


@pytest.fixture
def trunk_spec(remote: Remote) -> RepoSpec:
    return RepoSpec(name="payments", url=remote.url, flow=Flow.TRUNK)


@pytest.fixture
def ops(tmp_path: Path) -> GitOps:
    return GitOps(tmp_path / "bot-work")
