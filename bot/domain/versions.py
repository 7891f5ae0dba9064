"""Semantic-version release tags: parse, order, find production, pick the next patch."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import total_ordering

_NUMBERS = re.compile(
    r"^(?P<prefix>.*?)(?P<major>0|[1-9]\d*)\.(?P<minor>0|[1-9]\d*)\.(?P<patch>0|[1-9]\d*)"
    r"(?:-(?P<prerelease>[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$"
)


@total_ordering
@dataclass(frozen=True, eq=False)
class Version:
    """A release version; ordered and compared by semver precedence (the prefix is ignored)."""

    major: int
    minor: int
    patch: int
    prerelease: str = ""
    prefix: str = "v"

    @property
    def is_prerelease(self) -> bool:
        return bool(self.prerelease)

    def render(self) -> str:
        suffix = f"-{self.prerelease}" if self.prerelease else ""
        return f"{self.prefix}{self.major}.{self.minor}.{self.patch}{suffix}"

    def next_patch(self) -> Version:
        return Version(self.major, self.minor, self.patch + 1, prefix=self.prefix)

    def _key(self) -> tuple:
        # A release sorts after all of its pre-releases: v2.0.0-rc.1 < v2.0.0.
        return (self.major, self.minor, self.patch, not self.prerelease, _prerelease_key(self.prerelease))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Version) and self._key() == other._key()

    def __lt__(self, other: Version) -> bool:
        return self._key() < other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __str__(self) -> str:
        return self.render()


def _prerelease_key(prerelease: str) -> tuple:
    """Semver rule 11: numeric identifiers compare as numbers and sort before alphanumeric ones."""
    if not prerelease:
        return ()
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in prerelease.split("."))


def _literal_head(glob: str) -> str:
    """The part of a glob before its first wildcard, e.g. "release-" for "release-*"."""
    return re.split(r"[*?\[]", glob, maxsplit=1)[0]


def parse_version(tag: str, glob: str = "v*") -> Version | None:
    if not fnmatch.fnmatchcase(tag, glob):
        return None
    version = _parse_with_any_prefix(tag)
    if version is None or version.prefix not in (_literal_head(glob), _literal_head(glob) + "v"):
        return None
    return version


def _parse_with_any_prefix(tag: str) -> Version | None:
    match = _NUMBERS.match(tag)
    if match is None:
        return None
    numbers = int(match["major"]), int(match["minor"]), int(match["patch"])
    return Version(*numbers, prerelease=match["prerelease"] or "", prefix=match["prefix"])


def newest_production(tags: Iterable[str], glob: str) -> str | None:
    """The newest tag by semver that matches glob; pre-releases are never production."""
    versions = ((parse_version(tag, glob), tag) for tag in tags)
    releases = [(version, tag) for version, tag in versions if version and not version.is_prerelease]
    return max(releases)[1] if releases else None


def next_free_patch(current: str, taken: Iterable[str]) -> str:
    version = _parse_with_any_prefix(current)
    if version is None:
        raise ValueError(f"{current!r} is not a MAJOR.MINOR.PATCH version tag.")
    taken_names = set(taken)
    candidate = version.next_patch()
    while candidate.render() in taken_names:
        candidate = candidate.next_patch()
    return candidate.render()
