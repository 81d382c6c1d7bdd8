"""The built-in KPI library, and indexes for set-based KPI and sales-performance runs
(issue "KPI management and sales goals", items 1 and 3).

Both backends:
- eight ``kpi_definitions`` rows marked ``is_builtin``, computed by PerfDesk from its own
  records (``data_source = {"type": "builtin", "metric": …}``, calculation type ``query``), so
  every database has the library from its first start. A name already taken (a definition of
  an older database) is left as it is and that built-in is not added. Ids continue after the
  largest; on PostgreSQL the id sequence is moved past them.
- indexes that let the monthly calculation read a period of everyone's records at once:
  leads and appointments by time, deals by close date, escrows by open and close time.

Downgrade removes the built-in rows nobody has assigned (an assigned one stays, as an
ordinary definition) and the indexes.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.db.types import UTCDateTime, json_document

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (name, description, category, metric, unit, period, target type): a copy of
# app.domain.kpi_sources.BUILTIN_KPIS as it was when written (tests keep them the same).
BUILTINS: tuple[tuple[str, str, str, str, str, str, str], ...] = (
    ("Deals Closed", "Deals moved to closed won in the period.", "production",
     "deals_won", "count", "monthly", "higher_better"),
    ("Revenue", "Commission on escrows closed and on deals won (confirmed, invoiced or paid).",
     "production", "revenue", "$", "monthly", "higher_better"),
    ("Lead Conversion Rate", "Leads created in the period and converted, as a share of those "
     "leads.", "sales", "lead_conversion", "%", "monthly", "higher_better"),
    ("Show Rate", "Completed appointments over completed plus no-shows.", "sales",
     "show_rate", "%", "monthly", "higher_better"),
    ("Escrows Opened", "Escrows opened in the period and not cancelled.", "production",
     "escrows_opened", "count", "monthly", "higher_better"),
    ("Average Cycle Days", "Average days from a deal's creation to closed won, over the deals "
     "won in the period.", "production", "avg_cycle_days", "days", "monthly", "lower_better"),
    ("Leads Generated", "New leads added to the pipeline.", "sales", "leads", "count",
     "monthly", "higher_better"),
    ("Appointments Completed", "Appointments that took place.", "sales",
     "appointments_completed", "count", "monthly", "higher_better"),
)  # fmt: skip

INDEXES: tuple[tuple[str, str, list[str]], ...] = (
    ("ix_leads_created_owner", "leads", ["created_at", "owner_id", "status"]),
    ("ix_appointments_start_agent", "appointments", ["start_time", "agent_id", "status"]),
    ("ix_deals_close_date", "deals", ["actual_close_date", "pipeline_stage", "agent_id"]),
    ("ix_escrows_created_agent", "escrows", ["created_at", "agent_id"]),
    ("ix_escrows_closed_agent", "escrows", ["closed_at", "agent_id"]),
)

definitions = sa.table(
    "kpi_definitions",
    sa.column("id", sa.Integer),
    sa.column("name", sa.String),
    sa.column("description", sa.Text),
    sa.column("category", sa.String),
    sa.column("calculation_type", sa.String),
    sa.column("data_source", json_document()),
    sa.column("unit", sa.String),
    sa.column("aggregation_period", sa.String),
    sa.column("target_type", sa.String),
    sa.column("is_active", sa.Boolean),
    sa.column("is_builtin", sa.Boolean),
    sa.column("created_at", UTCDateTime()),
    sa.column("version", sa.Integer),
)


def upgrade() -> None:
    bind = op.get_bind()
    taken = {str(n).casefold() for (n,) in bind.execute(sa.select(definitions.c.name)).fetchall()}
    next_id = (
        int(
            bind.execute(sa.select(sa.func.coalesce(sa.func.max(definitions.c.id), 0))).scalar_one()
        )
        + 1
    )
    now = dt.datetime.now(dt.UTC)
    rows = []
    for name, description, category, metric, unit, period, target in BUILTINS:
        if name.casefold() in taken:
            continue
        rows.append(
            {
                "id": next_id,
                "name": name,
                "description": description,
                "category": category,
                "calculation_type": "query",
                "data_source": {"type": "builtin", "metric": metric},
                "unit": unit,
                "aggregation_period": period,
                "target_type": target,
                "is_active": True,
                "is_builtin": True,
                "created_at": now,
                "version": 1,
            }
        )
        next_id += 1
    if rows:
        bind.execute(definitions.insert(), rows)
    if bind.dialect.name == "postgresql":
        op.execute(
            "SELECT setval(pg_get_serial_sequence('public.kpi_definitions', 'id'), "
            "(SELECT COALESCE(MAX(id), 1) FROM public.kpi_definitions))"
        )
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _columns in INDEXES:
        op.drop_index(name, table_name=table)
    op.execute(
        "DELETE FROM kpi_definitions WHERE is_builtin AND id NOT IN "
        "(SELECT kpi_definition_id FROM kpi_assignments)"
    )
