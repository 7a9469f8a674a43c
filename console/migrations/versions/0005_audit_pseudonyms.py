"""Audit pseudonyms: once a patient's conversation is erased or purged, the sender ids in the audit
log's `target` column are replaced by a pseudonym (`erased-` and 12 hex digits, console/audit.py).
The log stays append-only for everything else: the database accepts an UPDATE only when it changes
nothing but `target`, to a pseudonym; DELETE and TRUNCATE are still refused.

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

REFUSE = "SELECT RAISE(ABORT, 'console_audit is append-only')"
SQLITE_PSEUDONYM = "erased-" + "[0-9a-f]" * 12
SAME_ROW_SQLITE = (
    "NEW.id IS OLD.id AND NEW.at IS OLD.at AND NEW.actor IS OLD.actor AND NEW.action IS OLD.action "
    "AND NEW.detail IS OLD.detail AND NEW.ip IS OLD.ip"
)
SAME_ROW_POSTGRES = (
    "NEW.id = OLD.id AND NEW.at IS NOT DISTINCT FROM OLD.at AND NEW.actor IS NOT DISTINCT FROM OLD.actor "
    "AND NEW.action IS NOT DISTINCT FROM OLD.action AND NEW.detail IS NOT DISTINCT FROM OLD.detail "
    "AND NEW.ip IS NOT DISTINCT FROM OLD.ip"
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"""
            CREATE OR REPLACE FUNCTION console_audit_append_only() RETURNS trigger AS $$
            BEGIN
              IF TG_OP = 'UPDATE' THEN
                IF {SAME_ROW_POSTGRES} AND OLD.target IS NOT NULL
                   AND NEW.target ~ '^erased-[0-9a-f]{{12}}$' THEN
                  RETURN NEW;
                END IF;
              END IF;
              RAISE EXCEPTION 'console_audit is append-only';
            END; $$ LANGUAGE plpgsql;
            """
        )
    else:
        op.execute("DROP TRIGGER IF EXISTS console_audit_no_update")
        op.execute(
            "CREATE TRIGGER console_audit_no_update BEFORE UPDATE ON console_audit "
            f"WHEN NOT ({SAME_ROW_SQLITE} AND OLD.target IS NOT NULL AND NEW.target GLOB '{SQLITE_PSEUDONYM}') "
            f"BEGIN {REFUSE}; END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE OR REPLACE FUNCTION console_audit_append_only() RETURNS trigger AS $$
            BEGIN RAISE EXCEPTION 'console_audit is append-only'; END; $$ LANGUAGE plpgsql;
            """
        )
    else:
        op.execute("DROP TRIGGER IF EXISTS console_audit_no_update")
        op.execute(f"CREATE TRIGGER console_audit_no_update BEFORE UPDATE ON console_audit BEGIN {REFUSE}; END")
