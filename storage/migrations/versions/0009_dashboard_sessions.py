"""dashboard sessions kept on the server, and failed sign-ins for throttling

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01

Logout used to clear only the browser's cookie, so a copied cookie kept working for its 12 hours.
A session is now a row (the hash of its id) that logout deletes; failed sign-ins are rows too, so
every worker and machine counts them alike. Cookies signed before this revision hold no session
id: their holders sign in again.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dashboard_sessions",
        sa.Column("session_hash", sa.String(length=64), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("session_hash"),
    )
    op.create_index("ix_dashboard_sessions_token_hash", "dashboard_sessions", ["token_hash"])
    op.create_index("ix_dashboard_sessions_expires_at", "dashboard_sessions", ["expires_at"])
    op.create_table(
        "dashboard_login_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_dashboard_login_failures_client", "dashboard_login_failures", ["client", "failed_at"])
    op.create_index("ix_dashboard_login_failures_failed_at", "dashboard_login_failures", ["failed_at"])


def downgrade() -> None:
    op.drop_index("ix_dashboard_login_failures_failed_at", table_name="dashboard_login_failures")
    op.drop_index("ix_dashboard_login_failures_client", table_name="dashboard_login_failures")
    op.drop_table("dashboard_login_failures")
    op.drop_index("ix_dashboard_sessions_expires_at", table_name="dashboard_sessions")
    op.drop_index("ix_dashboard_sessions_token_hash", table_name="dashboard_sessions")
    op.drop_table("dashboard_sessions")
