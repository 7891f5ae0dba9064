"""Database rows. SQLModel stays inside bot/store; the rest of the bot sees domain objects."""
from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, Index, Text, TypeDecorator, UniqueConstraint
from sqlmodel import Field, SQLModel


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC on the way in and out, also on SQLite (which keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime reached the database; pass UTC-aware times")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _at(**kwargs) -> Field:
    return Field(sa_type=UTCDateTime, **kwargs)


class HotfixRow(SQLModel, table=True):
    __tablename__ = "hotfixes"

    id: int | None = Field(default=None, primary_key=True)
    title: str
    issue_id: str
    severity: str
    impact: str = Field(sa_type=Text)
    risk: str = Field(sa_type=Text)
    repo: str
    branch: str
    declared_by: str
    declared_at: datetime = _at()
    security: bool = False
    override: bool = False
    stage: str = Field(index=True)
    base_ref: str | None = None
    base_commit: str | None = None
    review_commit: str | None = None
    approved_commit: str | None = None
    tag: str | None = None
    tag_commit: str | None = None
    previous_tag: str | None = None
    merge_targets: str = ""  # comma-separated branch names
    merged_into: str = ""
    closed_at: datetime | None = _at(default=None, nullable=True)
    # Bumped on every save: two writers that read the same version cannot both win.
    version: int = 1
    # The Slack request that declared it (the modal's view ID), so a resent request declares nothing new.
    request_key: str | None = Field(default=None, unique=True)
    status_channel: str | None = None
    status_ts: str | None = None


class DecisionRow(SQLModel, table=True):
    __tablename__ = "decisions"
    __table_args__ = (UniqueConstraint("hotfix_id", "role"), UniqueConstraint("hotfix_id", "user_id"))

    id: int | None = Field(default=None, primary_key=True)
    hotfix_id: int = Field(foreign_key="hotfixes.id", index=True)
    role: str
    user_id: str
    approved: bool
    reason: str = ""
    at: datetime = _at()


class EventRow(SQLModel, table=True):
    """The append-only audit trail: who did what, when."""

    __tablename__ = "events"

    id: int | None = Field(default=None, primary_key=True)
    hotfix_id: int = Field(foreign_key="hotfixes.id", index=True)
    kind: str
    actor: str
    at: datetime = _at()
    detail: str = Field(default="{}", sa_type=Text)  # JSON object


class JobRow(SQLModel, table=True):
    """A durable piece of work: a Slack post for the outbox, or a git step for the worker.

    Jobs in one lane run one at a time, in id order (a lane is a repo for git, a hotfix for Slack).
    """

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_claim", "queue", "state", "not_before"), Index("ix_jobs_lane", "lane", "state"))

    id: int | None = Field(default=None, primary_key=True)
    queue: str
    lane: str
    kind: str
    hotfix_id: int | None = Field(default=None, foreign_key="hotfixes.id")
    payload: str = Field(default="{}", sa_type=Text)  # JSON object
    state: str = "pending"  # pending -> running -> done | failed
    attempts: int = 0
    not_before: datetime = _at()
    claimed_by: str | None = None
    lease_until: datetime | None = _at(default=None, nullable=True)
    last_error: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = _at()
    finished_at: datetime | None = _at(default=None, nullable=True)


class TimerRow(SQLModel, table=True):
    """A due time of the procedure (reminder, escalation, end of monitoring). The only source of truth for timers."""

    __tablename__ = "timers"
    __table_args__ = (Index("ix_timers_due", "state", "due_at"),)

    id: int | None = Field(default=None, primary_key=True)
    hotfix_id: int = Field(foreign_key="hotfixes.id", index=True)
    kind: str
    due_at: datetime = _at()
    state: str = "pending"  # pending -> fired | cancelled
    round: int = 1  # how many times this reminder has come due, for escalation
    created_at: datetime = _at()
    fired_at: datetime | None = _at(default=None, nullable=True)
