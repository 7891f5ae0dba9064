"""Typed outbox jobs <-> the JSON of a job row. Fields may be str, int, bool, None, tuples of those, or an Event."""
from __future__ import annotations

import dataclasses
import json
import typing
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from bot.domain.hotfix import Event, EventKind

_TYPE = "type"


def encode(job: Any) -> str:
    values = {f.name: _plain(getattr(job, f.name)) for f in dataclasses.fields(job) if f.init}
    return json.dumps({_TYPE: type(job).__name__} | values)


class Decoder:
    """Knows the job types one runner handles."""

    def __init__(self, types: Iterable[type]) -> None:
        self._types = {t.__name__: t for t in types}

    def decode(self, payload: str | dict) -> Any:
        data = json.loads(payload) if isinstance(payload, str) else dict(payload)
        cls = self._types[data.pop(_TYPE)]
        hints = typing.get_type_hints(cls)
        return cls(**{name: _typed(value, hints[name]) for name, value in data.items()})


def _plain(value: Any) -> Any:
    if isinstance(value, Event):
        return {"kind": value.kind.value, "actor": value.actor, "at": value.at.isoformat(), "detail": dict(value.detail)}
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


def _typed(value: Any, hint: Any) -> Any:
    if value is None:
        return None
    if Event in (hint, *typing.get_args(hint)):
        return Event(EventKind(value["kind"]), value["actor"], datetime.fromisoformat(value["at"]), value["detail"])
    if isinstance(value, list):
        return tuple(value)
    return value
