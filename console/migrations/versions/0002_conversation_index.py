"""Conversation index: one row per conversation, kept in step with Rasa's tracker store, so the
list can filter and page through tens of thousands of conversations quickly.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "console_conversations",
        sa.Column("sender_id", sa.String(255), primary_key=True),
        sa.Column("channel", sa.String(32), nullable=False, index=True),
        sa.Column("started_at", TZ, nullable=False),
        sa.Column("last_at", TZ, nullable=False, index=True),
        sa.Column("last_user_at", TZ, nullable=True),
        sa.Column("user_messages", sa.Integer, nullable=False, server_default="0"),
        sa.Column("kinds", sa.String(255), nullable=False, server_default=","),
        sa.Column("handoff", sa.Boolean, nullable=False, server_default=sa.false(), index=True),
        sa.Column("emergency", sa.Boolean, nullable=False, server_default=sa.false(), index=True),
        sa.Column("low_confidence", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("preview", sa.String(200), nullable=False, server_default=""),
        sa.Column("search_text", sa.Text, nullable=False, server_default=""),
    )
    op.create_table(
        "console_sync_state",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("value", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("console_sync_state")
    op.drop_table("console_conversations")
