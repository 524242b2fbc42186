"""runtime: schedules, fired triggers, worker heartbeats, healing locks

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["workflow_id"],
        ["workflows.id"],
        name=op.f(f"fk_{table}_workflow_id_workflows"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "schedules",
        sa.Column("workflow_id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("definition_version", sa.Integer(), nullable=False),
        sa.Column("trigger", sa.String(length=300), nullable=False),
        sa.Column("next_fire_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        _fk("schedules"),
        sa.PrimaryKeyConstraint("workflow_id", name=op.f("pk_schedules")),
    )
    op.create_index("ix_schedules_next_fire_at", "schedules", ["next_fire_at"])
    op.create_table(
        "fired_triggers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("workflow_id", sa.String(length=36), nullable=False),
        sa.Column("scheduled_for", sa.DateTime(timezone=True), nullable=False),
        sa.Column("execution_id", sa.String(length=36), nullable=False),
        sa.Column("fired_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fired_by", sa.String(length=150), nullable=False),
        _fk("fired_triggers"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fired_triggers")),
        sa.UniqueConstraint(
            "workflow_id", "scheduled_for", name=op.f("uq_fired_triggers_workflow_id")
        ),
    )
    op.create_table(
        "worker_heartbeats",
        sa.Column("id", sa.String(length=150), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("hostname", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("concurrency", sa.Integer(), nullable=False),
        sa.Column("running", sa.Integer(), nullable=False),
        sa.Column("processed", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_worker_heartbeats")),
    )
    op.create_table(
        "healing_locks",
        sa.Column("workflow_id", sa.String(length=36), nullable=False),
        sa.Column("owner", sa.String(length=150), nullable=False),
        sa.Column("execution_id", sa.String(length=36), nullable=True),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=False),
        _fk("healing_locks"),
        sa.PrimaryKeyConstraint("workflow_id", name=op.f("pk_healing_locks")),
    )


def downgrade() -> None:
    op.drop_table("healing_locks")
    op.drop_table("worker_heartbeats")
    op.drop_table("fired_triggers")
    op.drop_index("ix_schedules_next_fire_at", table_name="schedules")
    op.drop_table("schedules")
