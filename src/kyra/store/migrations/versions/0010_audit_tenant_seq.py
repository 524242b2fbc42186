"""audit_records.seq: a per-tenant sequence as the id tenants see, instead of the global
row id (which told a tenant how much every other tenant did)

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("audit_records", sa.Column("seq", sa.Integer(), nullable=True))
    # Number what exists, per tenant, in the order it was written.
    op.execute(
        "UPDATE audit_records SET seq = (SELECT n FROM (SELECT id AS rid, ROW_NUMBER() OVER "
        "(PARTITION BY tenant_id ORDER BY id) AS n FROM audit_records) AS numbered "
        "WHERE numbered.rid = audit_records.id)"
    )
    op.create_index("ux_audit_tenant_seq", "audit_records", ["tenant_id", "seq"], unique=True)


def downgrade() -> None:
    op.drop_index("ux_audit_tenant_seq", table_name="audit_records")
    op.drop_column("audit_records", "seq")
