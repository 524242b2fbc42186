"""metric_counts: monotonic counters for /metrics, kept on write; fixes by status

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "metric_counts",
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("labels", sa.String(length=500), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "name", "labels", name=op.f("pk_metric_counts")),
    )
    op.create_index("ix_fixes_status", "fixes", ["status"])
    # Start from what history holds, so counters do not restart at zero on upgrade.
    op.execute(
        "INSERT INTO metric_counts (tenant_id, name, labels, value) "
        "SELECT tenant_id, 'kyra_executions_total', "
        "'{\"status\": \"' || status || '\"}', COUNT(*) FROM executions "
        "WHERE status IN ('succeeded', 'failed', 'cancelled') GROUP BY tenant_id, status"
    )


def downgrade() -> None:
    op.drop_index("ix_fixes_status", table_name="fixes")
    op.drop_table("metric_counts")
