"""Shared mode's privacy held by PostgreSQL (SPEC §1): row-level security on current_user,
narrower grants, and SECURITY DEFINER functions giving counts without rows.

Policies are keyed on ``current_user`` joined to ``users.db_role`` (each person logs in as
their own role), never on a session setting. The table owner is not subject to them (RLS is
enabled, not forced). The SQL lives in ``app/db/security.py``; see docs/security.md.
SQLite has no roles: nothing to do there (the services apply the same rules).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from app.db import security

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in security.upgrade_statements():
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in security.downgrade_statements():
        op.execute(statement)
