"""The schema as it was when migrations began: hotfixes, decisions, events, jobs, timers.

Exactly what SQLModel.metadata.create_all made before Alembic, so a database created that way is stamped 0001
(see bot.store.migrations) and carries on from here. Revisions never import app code: the app's UTCDateTime is
a DateTime(timezone=True) in the database, and SQLModel's AutoString a plain String.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hotfixes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("issue_id", sa.String(), nullable=False),
        sa.Column("severity", sa.String(), nullable=False),
        sa.Column("impact", sa.Text(), nullable=False),
        sa.Column("risk", sa.Text(), nullable=False),
        sa.Column("repo", sa.String(), nullable=False),
        sa.Column("branch", sa.String(), nullable=False),
        sa.Column("declared_by", sa.String(), nullable=False),
        sa.Column("declared_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("security", sa.Boolean(), nullable=False),
        sa.Column("override", sa.Boolean(), nullable=False),
        sa.Column("stage", sa.String(), nullable=False),
        sa.Column("base_ref", sa.String(), nullable=True),
        sa.Column("base_commit", sa.String(), nullable=True),
        sa.Column("tag", sa.String(), nullable=True),
        sa.Column("tag_commit", sa.String(), nullable=True),
        sa.Column("previous_tag", sa.String(), nullable=True),
        sa.Column("merge_targets", sa.String(), nullable=False),
        sa.Column("merged_into", sa.String(), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("request_key", sa.String(), nullable=True),
        sa.Column("status_channel", sa.String(), nullable=True),
        sa.Column("status_ts", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("request_key"),
    )
    op.create_index("ix_hotfixes_stage", "hotfixes", ["stage"], unique=False)

    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hotfix_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(), nullable=False),
        sa.Column("user_id", sa.String(), nullable=False),
        sa.Column("approved", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["hotfix_id"], ["hotfixes.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("hotfix_id", "role"),
        sa.UniqueConstraint("hotfix_id", "user_id"),
    )
    op.create_index("ix_decisions_hotfix_id", "decisions", ["hotfix_id"], unique=False)

    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hotfix_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("actor", sa.String(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["hotfix_id"], ["hotfixes.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_events_hotfix_id", "events", ["hotfix_id"], unique=False)

    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("queue", sa.String(), nullable=False),
        sa.Column("lane", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("hotfix_id", sa.Integer(), nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sa.String(), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["hotfix_id"], ["hotfixes.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_jobs_claim", "jobs", ["queue", "state", "not_before"], unique=False)
    op.create_index("ix_jobs_lane", "jobs", ["lane", "state"], unique=False)

    op.create_table(
        "timers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hotfix_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fired_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["hotfix_id"], ["hotfixes.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_timers_due", "timers", ["state", "due_at"], unique=False)
    op.create_index("ix_timers_hotfix_id", "timers", ["hotfix_id"], unique=False)


def downgrade() -> None:
    for table in ("timers", "jobs", "events", "decisions", "hotfixes"):
        op.drop_table(table)
