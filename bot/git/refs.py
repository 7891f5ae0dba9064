"""Ref names and commit IDs checked before they reach git, so none can be read as an option or a range."""

from __future__ import annotations

import functools
import re

import git

from bot.git.errors import InvalidRefName

_SHA = re.compile(r"[0-9a-f]{40}(?:[0-9a-f]{24})?")


def branch_ref(branch: str) -> str:
    """refs/heads/<branch>, once git agrees it is a valid name that can't be read as an option."""
    if branch.startswith("-"):
        raise InvalidRefName(branch)
    ref = f"refs/heads/{branch}"
    check_ref(ref)
    return ref


@functools.lru_cache(maxsize=1024)
def check_ref(ref: str) -> None:
    status, _, _ = git.Git().check_ref_format(ref, with_extended_output=True, with_exceptions=False)
    if status != 0:
        raise InvalidRefName(ref.removeprefix("refs/heads/").removeprefix("refs/tags/"))


def check_commit(commit: str) -> None:
    """A commit the bot recorded: a full SHA, which git cannot read as an option or a range."""
    if not _SHA.fullmatch(commit):
        raise InvalidRefName(commit)
