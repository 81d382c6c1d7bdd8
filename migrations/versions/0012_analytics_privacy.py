"""Lead-source spend and benchmarks kept as SPEC §1 would on a server; ROI's lead counts
(issue "Analytics: daily performance snapshots, ROI by lead source, industry benchmarks").

Both backends: ``agent_performance_snapshots`` gains ``deals_closed_lost``,
``closed_won_volume`` and ``cycle_days_total`` (zero for rows already there), so that a team's
or the office's daily trend sums in SQL (conversion and mean cycle days of several agents are
ratios of sums, not means of means).

PostgreSQL only (SQLite has one person, who holds every role):
- row-level security on ``lead_source_costs``: office-wide spend (no agent) is read by every
  login and entered by brokers and admins; spend bought for one agent is read by whoever sees
  that agent's records and entered by their broker, their team's manager or an admin;
- INSERT, UPDATE and DELETE on ``lead_source_costs`` granted to brokers, managers and admins,
  on ``benchmarks`` (no row-level security: reference figures every login reads) to the same;
- ``perfdesk_lead_source_counts(start, end)``: leads created in the period per owner and
  source, for the owners the login may count (as the agent report), never other people's
  private leads: the ROI report's leads under a person's login, where row-level security
  hides every lead but one's own;
- the read policies of ``commission_records`` and ``commission_adjustments`` test the
  commission's agent before its deal (same rows): the agent's list is computed once per
  statement, the deal's test probes per row, so a person's own login read each commission in
  ~1 ms (a month's ROI took 15 s for a broker's login on the large demo, 0.24 s after);
  downgrading keeps the new form, as 0008 does;
- NOTIFY (0006's ``notify_change``): ``benchmarks``, ``lead_source_costs`` and
  ``agent_performance_snapshots`` send their kinds ("benchmarks", "lead_source_costs",
  "snapshots"), so the analytics pages of other workstations follow.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.db import security
from app.db.types import Money

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


#: Table -> the data_changed kind its NOTIFY carries (app/gui/events.py).
NOTIFY_KINDS: dict[str, str] = {
    "benchmarks": "benchmarks",
    "lead_source_costs": "lead_source_costs",
    "agent_performance_snapshots": "snapshots",
}
NEW_COLUMNS = ("deals_closed_lost", "closed_won_volume", "cycle_days_total")


def upgrade() -> None:
    with op.batch_alter_table("agent_performance_snapshots", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("deals_closed_lost", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("closed_won_volume", Money(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("cycle_days_total", sa.Integer(), nullable=False, server_default="0")
        )
    if op.get_bind().dialect.name != "postgresql":
        return
    for fn in security.ANALYTICS_FUNCTIONS:
        op.execute(fn.create_sql())
        for statement in fn.privilege_sql():
            op.execute(statement)
    for table in security.ANALYTICS_RLS_TABLES:
        op.execute(f"ALTER TABLE public.{table} ENABLE ROW LEVEL SECURITY")
    for policy in security.ANALYTICS_POLICIES:
        op.execute(policy.create_sql())
    for statement in security.grant_sql(security.ANALYTICS_GRANTS):
        op.execute(statement)
    for policy in security.POLICIES:
        if policy.name in security.REORDERED_POLICIES:
            op.execute(policy.drop_sql())
            op.execute(policy.create_sql())
    for table, kind in NOTIFY_KINDS.items():
        op.execute(
            f"CREATE TRIGGER notify_change AFTER INSERT OR UPDATE OR DELETE ON public.{table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION public.notify_change('{kind}')"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _downgrade_security()
    with op.batch_alter_table("agent_performance_snapshots", schema=None) as batch_op:
        for column in reversed(NEW_COLUMNS):
            batch_op.drop_column(column)


def _downgrade_security() -> None:
    for table in NOTIFY_KINDS:
        op.execute(f"DROP TRIGGER IF EXISTS notify_change ON public.{table}")
    for statement in security.ungrant_sql(security.ANALYTICS_GRANTS):
        op.execute(statement)
    for policy in security.ANALYTICS_POLICIES:
        op.execute(policy.drop_sql())
    for table in security.ANALYTICS_RLS_TABLES:
        op.execute(f"ALTER TABLE public.{table} DISABLE ROW LEVEL SECURITY")
    for fn in reversed(security.ANALYTICS_FUNCTIONS):
        op.execute(fn.drop_sql())
