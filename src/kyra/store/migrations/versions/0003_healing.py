"""healing

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 12:59:17.036433
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

JSON_TYPE = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_records",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=True),
        sa.Column("workflow_id", sa.String(length=36), nullable=True),
        sa.Column("fix_id", sa.String(length=36), nullable=True),
        sa.Column("execution_id", sa.String(length=36), nullable=True),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("details", JSON_TYPE, nullable=False),
        sa.Column("cost", sa.Float(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_records")),
    )
    with op.batch_alter_table("audit_records", schema=None) as batch_op:
        batch_op.create_index("ix_audit_tenant_created", ["tenant_id", "created_at"], unique=False)
        batch_op.create_index(
            "ix_audit_workflow_created", ["workflow_id", "created_at"], unique=False
        )

    op.create_table(
        "kill_switches",
        sa.Column("scope", sa.String(length=36), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("changed_by", sa.String(length=100), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("scope", name=op.f("pk_kill_switches")),
    )
    op.create_table(
        "fixes",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("workflow_id", sa.String(length=36), nullable=False),
        sa.Column("execution_id", sa.String(length=36), nullable=True),
        sa.Column("step_name", sa.String(length=64), nullable=True),
        sa.Column("error_class", sa.String(length=40), nullable=False),
        sa.Column("safety", sa.String(length=10), nullable=False),
        sa.Column("confidence", sa.Integer(), nullable=False),
        sa.Column("tier", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("diagnosis", JSON_TYPE, nullable=False),
        sa.Column("patch", JSON_TYPE, nullable=False),
        sa.Column("diff", JSON_TYPE, nullable=False),
        sa.Column("from_version", sa.Integer(), nullable=True),
        sa.Column("to_version", sa.Integer(), nullable=True),
        sa.Column("rerun_execution_id", sa.String(length=36), nullable=True),
        sa.Column("rerun_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("cost", sa.Float(), nullable=False),
        sa.Column("tokens", sa.Integer(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("decided_by", sa.String(length=100), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("settled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_fixes_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workflow_id"],
            ["workflows.id"],
            name=op.f("fk_fixes_workflow_id_workflows"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fixes")),
    )
    with op.batch_alter_table("fixes", schema=None) as batch_op:
        batch_op.create_index("ix_fixes_rerun_execution", ["rerun_execution_id"], unique=False)
        batch_op.create_index("ix_fixes_tenant_created", ["tenant_id", "created_at"], unique=False)
        batch_op.create_index(
            "ix_fixes_workflow_created", ["workflow_id", "created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("fixes", schema=None) as batch_op:
        batch_op.drop_index("ix_fixes_workflow_created")
        batch_op.drop_index("ix_fixes_tenant_created")
        batch_op.drop_index("ix_fixes_rerun_execution")

    op.drop_table("fixes")
    op.drop_table("kill_switches")
    with op.batch_alter_table("audit_records", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_workflow_created")
        batch_op.drop_index("ix_audit_tenant_created")

    op.drop_table("audit_records")
