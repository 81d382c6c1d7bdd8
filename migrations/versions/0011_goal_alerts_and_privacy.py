"""Goals, entered activities and badges kept private on a server, and the notification types
of the KPI and goal alerts (issue "KPI management and sales goals", items 4–6).

Both backends:
- ``notifications.type`` takes three more values: ``kpi.target_missed`` (a member missed a
  KPI's target three periods running: their team's manager hears of it), ``goal.achieved``
  (the person and their manager) and ``achievement.earned`` (the person). The column grows
  to VARCHAR(18). SQLite cannot alter a CHECK: the table is copied (batch mode) with the
  deliveries kept aside and put back, as 0009 does.

PostgreSQL only:
- row-level security on ``goals``, ``activity_entries``, ``user_achievements`` (a person's
  own; their broker reads; the manager of their team reads and writes; admins all, as KPI
  assignments) and ``achievement_definitions`` (every login reads, admins write); INSERT,
  UPDATE and DELETE on the badge rules granted to admins only.

The alerts are raised by the scheduled jobs (the office's login, or local mode), which insert
the notifications and queue their deliveries themselves.

Downgrade deletes the new alerts and undoes the rest.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.db import security

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_TYPES = (
    "escrow.created", "escrow.closed", "client.created", "listing.created",
    "buy_box.warning", "buyer.score_drop",
)  # fmt: skip
GOAL_TYPES = ("kpi.target_missed", "goal.achieved", "achievement.earned")
NEW_TYPES = (*OLD_TYPES, *GOAL_TYPES)
KEPT = "perfdesk_kept_deliveries"


def _type(values: tuple[str, ...]) -> sa.Enum:
    return sa.Enum(
        *values,
        name="notification_type",
        native_enum=False,
        create_constraint=True,
        length=max(len(v) for v in values),
    )


def _retype(old: tuple[str, ...], new: tuple[str, ...]) -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        # Copying the table drops the old one, whose implicit DELETE cascades to the
        # deliveries (foreign keys are on, and cannot be switched off inside the transaction).
        op.execute(f"CREATE TEMP TABLE {KEPT} AS SELECT * FROM notification_deliveries")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.alter_column(
            "type", existing_type=_type(old), type_=_type(new), existing_nullable=False
        )
    if sqlite:
        op.execute(
            f"INSERT INTO notification_deliveries SELECT k.* FROM temp.{KEPT} k "
            "WHERE k.id NOT IN (SELECT d.id FROM notification_deliveries d)"
        )
        op.execute(f"DROP TABLE temp.{KEPT}")


def upgrade() -> None:
    _retype(OLD_TYPES, NEW_TYPES)
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in security.GOAL_RLS_TABLES:
        op.execute(f"ALTER TABLE public.{table} ENABLE ROW LEVEL SECURITY")
    for policy in security.GOAL_POLICIES:
        op.execute(policy.create_sql())
    for statement in security.grant_sql(security.GOAL_GRANTS):
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in security.ungrant_sql(security.GOAL_GRANTS):
            op.execute(statement)
        for policy in security.GOAL_POLICIES:
            op.execute(policy.drop_sql())
        for table in security.GOAL_RLS_TABLES:
            op.execute(f"ALTER TABLE public.{table} DISABLE ROW LEVEL SECURITY")
    types = ", ".join(f"'{t}'" for t in GOAL_TYPES)
    op.execute(f"DELETE FROM notifications WHERE type IN ({types})")
    _retype(NEW_TYPES, OLD_TYPES)
