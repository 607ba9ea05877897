"""auto-reply limits: one row per automatic reply given to a number

Revision ID: 0004
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "auto_replies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_auto_replies_number_sent", "auto_replies", ["number", "sent_at"])


def downgrade() -> None:
    op.drop_index("ix_auto_replies_number_sent", table_name="auto_replies")
    op.drop_table("auto_replies")
