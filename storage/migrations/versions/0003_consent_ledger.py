"""consent ledger hash chain, encrypted bodies and explanations, double opt-in subscriptions

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

GENESIS = "0" * 64


def upgrade() -> None:
    with op.batch_alter_table("consent_events") as batch:
        batch.add_column(sa.Column("subject", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("content_digest", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("hash", sa.String(length=64), nullable=True))
        # Encrypted text from now on; the JSON written before reads back as it is until re-encrypted.
        batch.alter_column("explanation", type_=sa.Text(), existing_nullable=False, postgresql_using="explanation::text")
    with op.batch_alter_table("inbound_messages") as batch:
        batch.alter_column("decision", type_=sa.Text(), existing_nullable=False, postgresql_using="decision::text")
    op.create_table(
        "ledger_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_id", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    # Events already written are chained by the first append (or `flask ledger seal`): last_hash NULL.
    last = op.get_bind().execute(sa.text("SELECT max(id) FROM consent_events")).scalar()
    head = sa.table("ledger_head", sa.column("id"), sa.column("last_id"), sa.column("last_hash"))
    op.bulk_insert(head, [{"id": 1, "last_id": last or 0, "last_hash": None if last else GENESIS}])
    op.create_table(
        "subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("sender_scope", sa.String(length=64), nullable=False),
        sa.Column("topic", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["event_id"], ["consent_events.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("number", "sender_scope", "topic", name="uq_subscription_number_scope_topic"),
    )


def downgrade() -> None:
    # Encrypted values do not fit the old JSON columns: they are emptied (bodies stay as they are).
    op.drop_table("subscriptions")
    op.drop_table("ledger_head")
    op.execute("UPDATE inbound_messages SET decision = '{}' WHERE decision NOT LIKE '{%'")
    op.execute("UPDATE consent_events SET explanation = '{}' WHERE explanation NOT LIKE '{%'")
    with op.batch_alter_table("inbound_messages") as batch:
        batch.alter_column("decision", type_=sa.JSON(), existing_nullable=False, postgresql_using="decision::json")
    with op.batch_alter_table("consent_events") as batch:
        batch.alter_column("explanation", type_=sa.JSON(), existing_nullable=False, postgresql_using="explanation::json")
        batch.drop_column("hash")
        batch.drop_column("prev_hash")
        batch.drop_column("content_digest")
        batch.drop_column("subject")
