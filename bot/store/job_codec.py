"""Typed outbox jobs <-> the JSON of a job row. Fields may be str, int, bool, None, tuples of those, or an Event."""
from __future__ import annotations

import dataclasses
import json
import typing
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from bot.domain.hotfix import Event, EventKind
from bot.store.event_detail import detail_from_stored

_TYPE = "type"


def encode(job: Any) -> str:
    values = {f.name: _plain(getattr(job, f.name)) for f in dataclasses.fields(job) if f.init}
    return json.dumps({_TYPE: type(job).__name__} | values)


class Decoder:
    """Knows the job types one runner handles."""

    def __init__(self, types: Iterable[type]) -> None:
        self._types = {t.__name__: t for t in types}

    def decode(self, payload: str | dict, *, kind: str = "", hotfix: int | None = None, lane: str = "") -> Any:
        data = json.loads(payload) if isinstance(payload, str) else dict(payload)
        if _TYPE not in data:
            data = _legacy(data, kind=kind, hotfix=hotfix, lane=lane)
        cls = self._types[data.pop(_TYPE)]
        hints = typing.get_type_hints(cls)
        return cls(**{name: _typed(value, hints[name]) for name, value in data.items()})


def _legacy(payload: dict, *, kind: str, hotfix: int | None, lane: str) -> dict:
    """A job queued by a version before jobs were typed, run by this one after an upgrade."""
    repo = lane.partition(":")[2]
    match kind:
        case "status":
            return {_TYPE: "StatusRefresh", "hotfix": hotfix}
        case "announce" | "dm":
            user = {"user": payload["user"]} if kind == "dm" else {}
            return {_TYPE: "ThreadReply" if kind == "announce" else "DirectMessage", "hotfix": hotfix,
                    "event": payload["event"], **user}
        case "stakeholders":
            return {_TYPE: "StakeholderLine", "hotfix": hotfix, "before": payload["from"], "after": payload["to"]}
        case "probe_deploy":
            return {_TYPE: "ProbeJob", "hotfix": hotfix, "repo": repo}
    # A git step. That version counted deploy attempts when the job ran: attempt 0 (unknown) makes the git worker
    # count them the same way, so a re-run finds the tag the old process may already have pushed.
    return {_TYPE: "GitJob", "hotfix": hotfix, "repo": repo, "step": kind, "remind": bool(payload.get("remind")),
            "attempt": 0}


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
        return Event(EventKind(value["kind"]), value["actor"], datetime.fromisoformat(value["at"]),
                     detail_from_stored(value["detail"]))
    if isinstance(value, list):
        return tuple(value)
    return value
