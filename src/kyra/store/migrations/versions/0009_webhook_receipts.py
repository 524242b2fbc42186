"""webhook_receipts: the replay cache of signed webhooks; the dashboard's session key is
no longer stored (it is derived from the secret key)

Revision ID: 0009
Revises: 0008
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
        "webhook_receipts",
        sa.Column("hook_id", sa.String(length=64), nullable=False),
        sa.Column("message_id", sa.String(length=200), nullable=False),
        sa.Column("execution_id", sa.String(length=36), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("hook_id", "message_id", name=op.f("pk_webhook_receipts")),
    )
    op.create_index(
        op.f("ix_webhook_receipts_expires_at"), "webhook_receipts", ["expires_at"], unique=False
    )
    # The old per-install session-signing key: useless now, and it must not be left
    # readable in the file.
    op.execute("DELETE FROM install_secrets WHERE name = 'session-signing'")


def downgrade() -> None:
    op.drop_index(op.f("ix_webhook_receipts_expires_at"), table_name="webhook_receipts")
    op.drop_table("webhook_receipts")
