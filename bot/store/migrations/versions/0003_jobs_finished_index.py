"""Finished jobs are found by age: retention deletes those older than `[retention] keep`.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""
from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_jobs_finished", "jobs", ["finished_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_jobs_finished", table_name="jobs")
