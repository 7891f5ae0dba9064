"""An event's detail as stored JSON, and back: lists and tables come back as tuples.

Rows written before details were typed hold those lists joined into one string, tables as JSON text and counts
as digit strings; they are read as if they had been written today.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from bot.domain.hotfix import DetailValue

_JOINED_BY = {"missing": ",", "users": ",", "targets": ",", "files": "\n"}
_COUNTS = ("count", "of", "round", "minutes", "insertions", "deletions")
_JSON_ENCODED = ("changes", "shown_changes", "commits", "new_commits")  # tables, once stored as JSON text


def detail_to_json(detail: Mapping[str, DetailValue]) -> str:
    return json.dumps(dict(detail))


def detail_from_json(text: str) -> dict[str, DetailValue]:
    return detail_from_stored(json.loads(text))


def detail_from_stored(stored: Mapping[str, Any]) -> dict[str, DetailValue]:
    """JSON's lists as tuples; an older row's joined lists, JSON text and digit strings as lists, tables and counts."""
    return {key: _typed(key, value) for key, value in stored.items()}


def _typed(key: str, value: Any) -> DetailValue:
    if isinstance(value, list):
        return _frozen(value)
    if isinstance(value, str) and key in _JSON_ENCODED:
        return _frozen(json.loads(value or "[]"))
    if isinstance(value, str) and key in _JOINED_BY:
        return tuple(filter(None, value.split(_JOINED_BY[key])))
    if isinstance(value, str) and key in _COUNTS and value.isdigit():
        return int(value)
    return value


def _frozen(value: Any) -> Any:
    return tuple(_frozen(item) for item in value) if isinstance(value, list) else value
