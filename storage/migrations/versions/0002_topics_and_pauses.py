"""topics and pauses on suppressions and consent events

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("suppressions") as batch:
        batch.add_column(sa.Column("topic", sa.String(length=64), nullable=False, server_default="*"))
        batch.add_column(sa.Column("until", sa.DateTime(timezone=True), nullable=True))
        batch.drop_constraint("uq_suppression_number_scope", type_="unique")
        batch.create_unique_constraint("uq_suppression_number_scope_topic", ["number", "sender_scope", "topic"])
    with op.batch_alter_table("suppressions") as batch:
        batch.alter_column("topic", server_default=None)
    with op.batch_alter_table("consent_events") as batch:
        batch.add_column(sa.Column("topic", sa.String(length=64), nullable=False, server_default="*"))
        batch.add_column(sa.Column("until", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("consent_events") as batch:
        batch.alter_column("topic", server_default=None)


def downgrade() -> None:
    # Topic-level rows and pauses have no place in the old schema: they are dropped, whole opt-outs kept.
    op.execute("DELETE FROM suppressions WHERE topic <> '*' OR until IS NOT NULL")
    with op.batch_alter_table("consent_events") as batch:
        batch.drop_column("until")
        batch.drop_column("topic")
    with op.batch_alter_table("suppressions") as batch:
        batch.drop_constraint("uq_suppression_number_scope_topic", type_="unique")
        batch.create_unique_constraint("uq_suppression_number_scope", ["number", "sender_scope"])
        batch.drop_column("until")
        batch.drop_column("topic")
