"""Staff login security: failed-login counters per username, address and trusted browser (one
atomic UPDATE each, console/login_limits.py), trusted browsers, and the TOTP second factor. The
users' own counter columns go: a counter per username, known or not, replaces them.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "console_login_limits",
        sa.Column("key", sa.String(160), primary_key=True),
        sa.Column("failures", sa.Integer, nullable=False, server_default="0"),
        sa.Column("window_ends", TZ, nullable=True, index=True),
        sa.Column("locked_until", TZ, nullable=True),
    )
    op.create_table(
        "console_devices",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column(
            "user_id",
            sa.Integer,
            sa.ForeignKey("console_users.id", ondelete="CASCADE"),
            primary_key=True,
            index=True,
        ),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("last_used_at", TZ, nullable=False, index=True),
    )
    with op.batch_alter_table("console_users") as table:
        table.add_column(sa.Column("totp_secret", sa.String(64), nullable=True))
        table.add_column(sa.Column("totp_pending", sa.String(64), nullable=True))
        table.add_column(sa.Column("totp_last_step", sa.BigInteger, nullable=True))
        table.drop_column("failed_logins")
        table.drop_column("locked_until")


def downgrade() -> None:
    with op.batch_alter_table("console_users") as table:
        table.add_column(sa.Column("locked_until", TZ, nullable=True))
        table.add_column(sa.Column("failed_logins", sa.Integer, nullable=False, server_default="0"))
        table.drop_column("totp_last_step")
        table.drop_column("totp_pending")
        table.drop_column("totp_secret")
    op.drop_table("console_devices")
    op.drop_table("console_login_limits")
