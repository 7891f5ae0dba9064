"""Hotfixes remember the commit their review request showed and the commit the review approved.

A hotfix in review when this runs has a review request that named no commit, so nothing could be approved: it
goes back to fixing, and `/hotfix review HF-n` posts a request that names one.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("hotfixes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("review_commit", sa.String(), nullable=True))
        batch_op.add_column(sa.Column("approved_commit", sa.String(), nullable=True))
    op.execute("UPDATE hotfixes SET stage = 'fixing' WHERE stage = 'in_review'")


def downgrade() -> None:
    with op.batch_alter_table("hotfixes", schema=None) as batch_op:
        batch_op.drop_column("approved_commit")
        batch_op.drop_column("review_commit")
