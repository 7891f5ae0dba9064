"""Event details are stored as JSON and read back typed: lists of names and tables as tuples, counts as numbers.

Databases in the field hold rows written before details were typed, with lists joined into one string ("a,b", or
one file per line), tables (commits, file changes) as JSON text and counts as digit strings; they read exactly like
rows written today. So do Slack jobs queued by the older bot, which carry the event they announce.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert

from bot.domain.hotfix import Event, EventKind
from bot.slack.notifier import ThreadReply
from bot.store.db import create_schema, reading, transaction
from bot.store.hotfix_store import HotfixStore
from bot.store.job_codec import Decoder, encode
from bot.store.tables import EventRow
from tests.store.test_migrations import AT, _postgres, _sqlite, the_hotfix

TYPED = [
    Event(EventKind.APPROVED, "UEM", AT, {"role": "engineering_manager", "count": 1, "of": 3,
                                          "missing": ("oncall_lead", "cto")}),
    Event(EventKind.REVIEW_REQUESTED, "bot", AT, {
        "commit": "abc", "files": ("app/pay.py", "app/card.py"), "insertions": 12, "deletions": 3,
        "changes": (("app/pay.py", 10, 2), ("app/card.py", 2, 1)), "shown_changes": (("app/card.py", 2, 1),),
        "new_commits": (("abc", "Fix, then test", "Dev"),)}),
    Event(EventKind.BRANCH_MOVED, "bot", AT, {"approved": "abc", "head": "def", "commits": ()}),
    Event(EventKind.STABLE, "UDEV", AT, {"targets": ("main", "develop")}),
    Event(EventKind.MERGE_CONFLICT, "bot", AT, {"target": "develop", "files": ("a.py", "b, c.py")}),
    Event(EventKind.REMINDED, "bot", AT, {"timer": "approval_escalation", "round": 2, "users": ("UCTO", "ULEAD"),
                                          "missing": ("cto",)}),
    Event(EventKind.REMINDED, "bot", AT, {"timer": "merge_back_due", "users": ("UDEV",), "targets": ()}),
    Event(EventKind.SNOOZED, "ULEAD", AT, {"timer": "review_overdue", "minutes": 30}),
    Event(EventKind.ALL_MERGED, "bot", AT, {"targets": ("main",)}),
]

# The same events as the bot wrote them before details were typed.
JOINED = [
    {"role": "engineering_manager", "count": "1", "of": "3", "missing": "oncall_lead,cto"},
    {"commit": "abc", "files": "app/pay.py\napp/card.py", "insertions": "12", "deletions": "3",
     "changes": '[["app/pay.py", 10, 2], ["app/card.py", 2, 1]]', "shown_changes": '[["app/card.py", 2, 1]]',
     "new_commits": '[["abc", "Fix, then test", "Dev"]]'},
    {"approved": "abc", "head": "def", "commits": "[]"},
    {"targets": "main,develop"},
    {"target": "develop", "files": "a.py\nb, c.py"},
    {"timer": "approval_escalation", "round": "2", "users": "UCTO,ULEAD", "missing": "cto"},
    {"timer": "merge_back_due", "users": "UDEV", "targets": ""},
    {"timer": "review_overdue", "minutes": "30"},
    {"targets": "main"},
]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    for engine in (_sqlite(tmp_path) if request.param == "sqlite" else _postgres()):
        create_schema(engine)
        yield engine


def a_hotfix(engine: Engine) -> int:
    with transaction(engine) as session:
        return HotfixStore(session).add(the_hotfix()[0]).number


def test_typed_details_come_back_as_they_were_recorded(engine: Engine) -> None:
    number = a_hotfix(engine)
    with transaction(engine) as session:
        HotfixStore(session).append_events(number, tuple(TYPED))

    with reading(engine) as session:
        assert HotfixStore(session).events(number) == TYPED
        assert HotfixStore(session).events_of([number]) == {number: TYPED}


def test_rows_written_before_details_were_typed_read_like_new_ones(engine: Engine) -> None:
    number = a_hotfix(engine)
    with transaction(engine) as session:
        session.execute(insert(EventRow.__table__), [
            {"hotfix_id": number, "kind": event.kind.value, "actor": event.actor, "at": event.at,
             "detail": json.dumps(old)} for event, old in zip(TYPED, JOINED, strict=True)
        ])

    with reading(engine) as session:
        assert HotfixStore(session).events(number) == TYPED


def test_slack_jobs_carry_the_typed_event_and_older_ones_read_the_same() -> None:
    decoder = Decoder([ThreadReply])
    for event, old in zip(TYPED, JOINED, strict=True):
        queued = json.loads(encode(ThreadReply(1, 0, event)))  # as the jobs table stores it
        assert decoder.decode(queued).event == event
        queued["event"]["detail"] = old
        assert decoder.decode(queued).event == event


def test_a_list_read_as_text_is_refused_not_spelled_out_letter_by_letter() -> None:
    with pytest.raises(TypeError, match="'targets'"):
        Event(EventKind.STABLE, "UDEV", AT, {"targets": "main,develop"}).names("targets")
