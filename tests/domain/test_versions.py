"""Semver release tags: ordering, production tag, next free patch."""

from __future__ import annotations

import pytest

from bot.domain.versions import Version, newest_production, next_free_patch, parse_version


@pytest.mark.parametrize(
    ("older", "newer"),
    [
        ("v1.9.3", "v1.10.0"),
        ("v1.10.0", "v1.10.1"),
        ("v1.99.99", "v2.0.0"),
        ("v2.0.0-rc.1", "v2.0.0"),
        ("v2.0.0-rc2", "v2.0.0"),
        ("v2.0.0-rc.2", "v2.0.0-rc.10"),
        ("v2.0.0-alpha", "v2.0.0-alpha.1"),
        ("v2.0.0-1", "v2.0.0-alpha"),
    ],
)
def test_semver_order(older: str, newer: str) -> None:
    assert parse_version(older) < parse_version(newer)
    assert parse_version(newer) > parse_version(older)


def test_prefix_is_kept_but_not_compared() -> None:
    assert parse_version("release-v1.2.3", "release-*") == Version(1, 2, 3, prefix="release-v")
    assert parse_version("release-v1.2.3", "release-*").render() == "release-v1.2.3"
    assert parse_version("1.2.3", "*") == parse_version("v1.2.3")


NOT_VERSIONS = ["v1.2", "v1.2.3.4", "vfoo", "latest", "x1.2.3", "v01.2.3", "v1.2.3+build", ""]


@pytest.mark.parametrize("tag", NOT_VERSIONS)
def test_tags_that_are_not_versions(tag: str) -> None:
    assert parse_version(tag) is None


def test_tag_must_match_the_glob() -> None:
    assert parse_version("v1.2.3", "release-*") is None
    assert parse_version("release-1.2.3", "release-*") == Version(1, 2, 3, prefix="release-")


def test_newest_production_is_by_semver_and_skips_prereleases() -> None:
    tags = ["v1.9.0", "v1.10.0", "v2.0.0-rc.1", "v1.9.3", "nightly", "x9.9.9"]

    assert newest_production(tags, "v*") == "v1.10.0"


def test_no_production_tag() -> None:
    assert newest_production(["v2.0.0-rc.1", "nightly"], "v*") is None
    assert newest_production([], "v*") is None


def test_next_free_patch_skips_taken_versions_and_keeps_the_prefix() -> None:
    assert next_free_patch("v1.2.3", []) == "v1.2.4"
    assert next_free_patch("v1.2.3", ["v1.2.4", "v1.2.5"]) == "v1.2.6"
    assert next_free_patch("v1.2.3", ["v1.2.4-rc.1"]) == "v1.2.4"
    assert next_free_patch("release-v1.9.9", ["release-v1.9.10"]) == "release-v1.9.11"


def test_next_free_patch_needs_a_version() -> None:
    with pytest.raises(ValueError, match="not a MAJOR.MINOR.PATCH"):
        next_free_patch("latest", [])
