"""The release tag's annotation: the hotfix marker that makes tagging idempotent, and the tag it follows."""

from __future__ import annotations

from bot.domain.versions import newest_production
from bot.git.porcelain import TagRecord
from bot.git.results import TagInfo, TagResult

MARKER_TRAILER = "Hotfix"
PREVIOUS_TAG_TRAILER = "Previous-Tag"


def production(tags: list[TagRecord], glob: str) -> TagInfo | None:
    name = newest_production((tag.name for tag in tags), glob)
    return next(TagInfo(tag.name, tag.commit) for tag in tags if tag.name == name) if name else None


def check_marker(marker: str) -> None:
    if not marker.strip() or any(ch in marker for ch in "\r\n\0"):
        raise ValueError(f"Hotfix marker must be one non-empty line, got {marker!r}.")


def annotation(message: str, marker: str, previous_tag: str) -> str:
    return f"{message.rstrip()}\n\n{MARKER_TRAILER}: {marker}\n{PREVIOUS_TAG_TRAILER}: {previous_tag}\n"


def tagged_with(tags: list[TagRecord], marker: str) -> TagResult | None:
    for tag in tags:
        if tag.trailers.get(MARKER_TRAILER) == marker.strip():
            return TagResult(tag.name, tag.commit, tag.trailers.get(PREVIOUS_TAG_TRAILER, ""))
    return None
