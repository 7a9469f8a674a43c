"""Handoff queue: when a conversation was handed over and why, the last staff reply and the last
patient message, so the queue can show waiting times without reading the tracker store.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("console_conversations") as table:
        table.add_column(sa.Column("handoff_since", TZ, nullable=True))
        table.add_column(sa.Column("handoff_reason", sa.String(64), nullable=True))
        table.add_column(sa.Column("last_staff_at", TZ, nullable=True))
        table.add_column(sa.Column("last_user_text", sa.String(500), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("console_conversations") as table:
        for column in ("last_user_text", "last_staff_at", "handoff_reason", "handoff_since"):
            table.drop_column(column)
