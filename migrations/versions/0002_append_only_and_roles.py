"""Append-only tables enforced by triggers; PostgreSQL group roles and grants.

Stage events and audit entries can never be updated or deleted; a performance record's
locked pro forma can never change and the record can never be deleted. On PostgreSQL each
SPEC role is a group role (perfdesk_<role>) that every person's own login joins.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPEND_ONLY = ("deal_stage_events", "audit_entries")
PRO_FORMA = (
    "projected_rent",
    "projected_noi",
    "projected_monthly_cash_flow",
    "projected_dscr",
    "assumptions",
    "locked_at",
    "locked_by",
)
ROLES = ("broker", "manager", "admin", "agent", "closer", "dialer")


def _sqlite_upgrade() -> None:
    for table in APPEND_ONLY:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER trg_{table}_no_{action.lower()} BEFORE {action} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {action} refused'); END"
            )
    changed = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in PRO_FORMA)
    op.execute(
        "CREATE TRIGGER trg_deal_performances_pro_forma_locked BEFORE UPDATE ON deal_performances "
        f"WHEN {changed} "
        "BEGIN SELECT RAISE(ABORT, 'the pro forma is locked at close and cannot change'); END"
    )
    op.execute(
        "CREATE TRIGGER trg_deal_performances_no_delete BEFORE DELETE ON deal_performances "
        "BEGIN SELECT RAISE(ABORT, 'a performance record with a locked pro forma "
        "cannot be deleted'); END"
    )


def _pg_upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION perfdesk_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
            USING ERRCODE = 'insufficient_privilege';
        END $$
        """
    )
    for table in APPEND_ONLY:
        op.execute(
            f"CREATE TRIGGER trg_{table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION perfdesk_append_only()"
        )
        op.execute(
            f"CREATE TRIGGER trg_{table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION perfdesk_append_only()"
        )
    changed = " OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in PRO_FORMA)
    op.execute(
        f"""
        CREATE FUNCTION perfdesk_pro_forma_locked() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP = 'DELETE' THEN
            RAISE EXCEPTION 'a performance record with a locked pro forma cannot be deleted'
              USING ERRCODE = 'insufficient_privilege';
          END IF;
          IF {changed} THEN
            RAISE EXCEPTION 'the pro forma is locked at close and cannot change'
              USING ERRCODE = 'insufficient_privilege';
          END IF;
          RETURN NEW;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER trg_deal_performances_pro_forma_locked "
        "BEFORE UPDATE OR DELETE ON deal_performances "
        "FOR EACH ROW EXECUTE FUNCTION perfdesk_pro_forma_locked()"
    )
    # Group roles are cluster-wide: create each only once.
    for group in ("perfdesk_user", *(f"perfdesk_{r}" for r in ROLES)):
        op.execute(
            f"DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{group}') "
            f"THEN CREATE ROLE {group} NOLOGIN; END IF; END $$"
        )
    op.execute("GRANT USAGE ON SCHEMA public TO perfdesk_user")
    op.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO perfdesk_user")
    op.execute("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO perfdesk_user")
    for table in APPEND_ONLY:
        op.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON {table} FROM perfdesk_user")
    op.execute("REVOKE DELETE, TRUNCATE ON deal_performances FROM perfdesk_user")
    op.execute("REVOKE INSERT, UPDATE, DELETE ON alembic_version FROM perfdesk_user")


def _pg_downgrade() -> None:
    op.execute("REVOKE ALL ON ALL TABLES IN SCHEMA public FROM perfdesk_user")
    op.execute("REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM perfdesk_user")
    op.execute("REVOKE USAGE ON SCHEMA public FROM perfdesk_user")
    op.execute("DROP TRIGGER trg_deal_performances_pro_forma_locked ON deal_performances")
    op.execute("DROP FUNCTION perfdesk_pro_forma_locked()")
    for table in APPEND_ONLY:
        op.execute(f"DROP TRIGGER trg_{table}_append_only ON {table}")
        op.execute(f"DROP TRIGGER trg_{table}_no_truncate ON {table}")
    op.execute("DROP FUNCTION perfdesk_append_only()")


def _sqlite_downgrade() -> None:
    op.execute("DROP TRIGGER trg_deal_performances_pro_forma_locked")
    op.execute("DROP TRIGGER trg_deal_performances_no_delete")
    for table in APPEND_ONLY:
        for action in ("update", "delete"):
            op.execute(f"DROP TRIGGER trg_{table}_no_{action}")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _pg_upgrade()
    else:
        _sqlite_upgrade()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _pg_downgrade()
    else:
        _sqlite_downgrade()
