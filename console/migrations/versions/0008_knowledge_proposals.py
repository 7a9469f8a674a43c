"""The knowledge loop: reviewers' proposals (a new question variant for a passage, or a flag on a
passage with a note), each with where it came from (a knowledge gap or a patient's thumbs-down) and
an admin's decision.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)
TABLE = "console_knowledge_proposals"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("passage_id", sa.String(64), nullable=False),
        sa.Column("text", sa.String(300), nullable=False, server_default=""),
        sa.Column("note", sa.String(1000), nullable=False, server_default=""),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("origin_ref", sa.String(16), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("proposed_by", sa.String(64), nullable=False),
        sa.Column("proposed_at", TZ, nullable=False),
        sa.Column("decided_by", sa.String(64), nullable=True),
        sa.Column("decided_at", TZ, nullable=True),
        sa.Column("decision_note", sa.String(1000), nullable=False, server_default=""),
    )
    op.create_index(f"ix_{TABLE}_status", TABLE, ["status"])
    op.create_index(f"ix_{TABLE}_passage_id", TABLE, ["passage_id"])


def downgrade() -> None:
    op.drop_index(f"ix_{TABLE}_passage_id", table_name=TABLE)
    op.drop_index(f"ix_{TABLE}_status", table_name=TABLE)
    op.drop_table(TABLE)
