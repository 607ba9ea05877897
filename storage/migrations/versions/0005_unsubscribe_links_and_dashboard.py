"""unsubscribe links, link-page choices, staff accounts and false-positive marks

Revision ID: 0005
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "unsubscribe_links",
        sa.Column("token", sa.String(length=16), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("sender_scope", sa.String(length=64), nullable=False),
        sa.Column("topic", sa.String(length=64), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=True),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("token"),
    )
    op.create_index("ix_unsubscribe_links_subject", "unsubscribe_links", ["number", "sender_scope", "topic"])
    op.create_table(
        "link_choices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=16), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("sender_scope", sa.String(length=64), nullable=False),
        sa.Column("choice", sa.String(length=16), nullable=False),
        sa.Column("topics_dropped", sa.JSON(), nullable=False),
        sa.Column("topics_restored", sa.JSON(), nullable=False),
        sa.Column("pause_days", sa.Integer(), nullable=True),
        sa.Column("frequency", sa.String(length=16), nullable=True),
        sa.Column("reason", sa.String(length=64), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("language", sa.String(length=16), nullable=True),
        sa.Column("event_ids", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["token"], ["unsubscribe_links.token"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_link_choices_token", "link_choices", ["token"])
    op.create_index("ix_link_choices_subject", "link_choices", ["number", "sender_scope", "id"])
    op.create_table(
        "staff_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_table(
        "false_positive_marks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("inbound_message_id", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("accepted", sa.Boolean(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("rules_version", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["inbound_message_id"], ["inbound_messages.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_false_positive_marks_inbound_message_id", "false_positive_marks", ["inbound_message_id"])


def downgrade() -> None:
    op.drop_index("ix_false_positive_marks_inbound_message_id", table_name="false_positive_marks")
    op.drop_table("false_positive_marks")
    op.drop_table("staff_accounts")
    op.drop_index("ix_link_choices_subject", table_name="link_choices")
    op.drop_index("ix_link_choices_token", table_name="link_choices")
    op.drop_table("link_choices")
    op.drop_index("ix_unsubscribe_links_subject", table_name="unsubscribe_links")
    op.drop_table("unsubscribe_links")
