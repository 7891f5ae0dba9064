"""What the git operations return: plain values the worker stores and reports."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TagInfo:
    name: str
    commit: str


@dataclass(frozen=True)
class CutResult:
    branch: str
    base_ref: str
    base_commit: str


@dataclass(frozen=True)
class TagResult:
    tag: str
    commit: str
    previous_tag: str


@dataclass(frozen=True)
class MergeResult:
    target: str
    commit: str
    already_merged: bool
