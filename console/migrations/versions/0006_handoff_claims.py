"""Handoff queue that scales: the patient's name where the channel gives one, the message that caused
the handoff or emergency, the alert kind and cursor (the tracker event id of the latest alert), who is
replying (claimed or assigned) and who acknowledged an emergency.

Conversations already waiting get their kind from the `emergency` flag and their latest message as the
triggering one; their emergencies start unacknowledged, so the console alerts until someone looks.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)
INDEX = "ix_console_conversations_claimed_by"


def upgrade() -> None:
    with op.batch_alter_table("console_conversations") as table:
        table.add_column(sa.Column("display_name", sa.String(64), nullable=True))
        table.add_column(sa.Column("trigger_text", sa.String(500), nullable=False, server_default=""))
        table.add_column(sa.Column("alert_kind", sa.String(16), nullable=True))
        table.add_column(sa.Column("alert_seq", sa.BigInteger, nullable=True))
        table.add_column(sa.Column("claimed_by", sa.String(64), nullable=True))
        table.add_column(sa.Column("claimed_at", TZ, nullable=True))
        table.add_column(sa.Column("acknowledged_by", sa.String(64), nullable=True))
        table.add_column(sa.Column("acknowledged_at", TZ, nullable=True))
        table.create_index(INDEX, ["claimed_by"])
    conversations = sa.table(
        "console_conversations",
        sa.column("handoff", sa.Boolean),
        sa.column("emergency", sa.Boolean),
        sa.column("last_user_text", sa.String),
        sa.column("trigger_text", sa.String),
        sa.column("alert_kind", sa.String),
    )
    op.execute(
        conversations.update()
        .where(conversations.c.handoff.is_(True))
        .values(
            trigger_text=conversations.c.last_user_text,
            alert_kind=sa.case((conversations.c.emergency.is_(True), "emergency"), else_="handoff"),
        )
    )


def downgrade() -> None:
    with op.batch_alter_table("console_conversations") as table:
        table.drop_index(INDEX)
        for column in (
            "acknowledged_at",
            "acknowledged_by",
            "claimed_at",
            "claimed_by",
            "alert_seq",
            "alert_kind",
            "trigger_text",
            "display_name",
        ):
            table.drop_column(column)
