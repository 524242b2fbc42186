"""fleet scopes: pacing and circuits per (tenant, host, scope) instead of per host;
executions remember the attempt a parked step resumes at

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "fleet_scopes",
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("scope", sa.String(length=255), nullable=False),
        sa.Column("rate", sa.Float(), nullable=True),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("blocked_until", sa.Float(), nullable=False),
        sa.Column("block_reason", sa.String(length=300), nullable=False),
        sa.Column("rate_limited", sa.Integer(), nullable=False),
        sa.Column("circuit", sa.String(length=10), nullable=False),
        sa.Column("circuit_retry_at", sa.Float(), nullable=False),
        sa.Column("circuit_reason", sa.String(length=300), nullable=False),
        sa.Column("openings", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "host", "scope", name=op.f("pk_fleet_scopes")),
    )
    op.drop_table("host_limits")
    op.drop_table("host_circuits")
    with op.batch_alter_table("executions") as batch:
        batch.add_column(
            sa.Column("resume_attempt", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("wait_reason", sa.String(length=300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("executions") as batch:
        batch.drop_column("wait_reason")
        batch.drop_column("resume_attempt")
    op.drop_table("fleet_scopes")
    op.create_table(
        "host_limits",
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("pace_seconds", sa.Float(), nullable=False),
        sa.Column("next_allowed_at", sa.Float(), nullable=False),
        sa.Column("rate_limited", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "host", name=op.f("pk_host_limits")),
    )
    op.create_table(
        "host_circuits",
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_start", sa.Float(), nullable=False),
        sa.Column("opened_at", sa.Float(), nullable=False),
        sa.Column("retry_at", sa.Float(), nullable=False),
        sa.Column("probe_until", sa.Float(), nullable=False),
        sa.Column("openings", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "host", name=op.f("pk_host_circuits")),
    )
