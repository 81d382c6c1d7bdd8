"""The pipeline in shared mode (issue 4): live board updates, private audit chains, and audit
payloads kept as the exact text that was hashed.

- NOTIFY: after a statement on ``deals``, ``deal_stage_events``, ``deal_contacts`` or
  ``deal_documents`` the 0006 trigger function sends ``deals``; on ``commission_records`` or
  ``commission_adjustments`` it sends ``commissions``. Another workstation's board and ledger
  then read again (within a second of the commit). The payload names a kind, never a row.
- Row-level security on ``audit_entries``: a deal's chain (``deal:<id>``) is read and appended
  to only by whoever sees the deal (SPEC §1: its owner, their broker, the team's manager,
  admins); any other chain by its actor and admins. Payloads carry notes and amounts, which
  were readable by every login before. The policies are ``app.db.security.LATER_POLICIES``.

- ``audit_entries.payload`` becomes ``json`` (was ``jsonb``): JSON keeps the text as written,
  and PerfDesk writes the canonical JSON that the entry's hash covers, so ``audit verify`` hashes
  each payload as read instead of parsing and re-writing a million of them (JSONB re-orders keys
  and adds spaces). Entries written before keep JSONB's text; verifying parses those.

- The policies that ask "does this person see the deal?" (stage events, contacts, documents,
  commissions, adjustments, audit entries) probe the deal by its key (a correlated EXISTS)
  instead of hashing every deal the person sees for each statement, which cost ~100 ms per
  statement on 50,000 deals: a move (three such statements) took 200 ms under an admin's
  login. Same rows, same rule (``app.db.security.deal_seen``); downgrading keeps the new form.

- ``deals.stage_changed_at`` (both backends): when the deal last changed stage, filled from
  each deal's latest stage event and written by every move, so the board's cards ("time since
  the last move") need not read 500,000 stage events (under row-level security, each one
  checked) for 6,000 cards; with the index ``ix_deals_stage_moved`` a column's most recently
  moved cards are read in order, and ``ix_deals_stage_figures`` answers the column figures from
  the index alone. ``ix_commission_records_created`` serves the commission ledger's pages
  (newest first).

For the rest SQLite has nothing to do (one window, and the services apply the same rules).

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from app.db import security

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATEMENT_FN = "notify_change"
TRIGGER = "notify_change"
KINDS: dict[str, str] = {
    "deals": "deals",
    "deal_stage_events": "deals",
    "deal_contacts": "deals",
    "deal_documents": "deals",
    "commission_records": "commissions",
    "commission_adjustments": "commissions",
}


def upgrade() -> None:
    import sqlalchemy as sa

    from app.db.types import UTCDateTime

    with op.batch_alter_table("deals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("stage_changed_at", UTCDateTime(), nullable=True))
    op.execute(
        "UPDATE deals SET stage_changed_at = coalesce((SELECT max(e.recorded_at) "
        "FROM deal_stage_events e WHERE e.deal_id = deals.id), created_at)"
    )
    with op.batch_alter_table("deals", schema=None) as batch_op:
        batch_op.create_index(
            "ix_deals_stage_moved", ["pipeline_stage", "stage_changed_at", "id"], unique=False
        )
        batch_op.create_index(
            "ix_deals_stage_figures",
            ["pipeline_stage", "estimated_value_currency", "agent_id", "estimated_value_amount",
             "confidence"],
            unique=False,
        )  # fmt: skip
    with op.batch_alter_table("commission_records", schema=None) as batch_op:
        batch_op.create_index("ix_commission_records_created", ["created_at", "id"], unique=False)
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, kind in KINDS.items():
        op.execute(
            f"CREATE TRIGGER {TRIGGER} AFTER INSERT OR UPDATE OR DELETE ON public.{table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION public.{STATEMENT_FN}('{kind}')"
        )
    op.execute("ALTER TABLE public.audit_entries ALTER COLUMN payload TYPE json USING payload::json")
    op.execute(security.SEES_DEAL.create_sql())
    for statement in security.SEES_DEAL.privilege_sql():
        op.execute(statement)
    for table in security.LATER_RLS_TABLES:
        op.execute(f"ALTER TABLE public.{table} ENABLE ROW LEVEL SECURITY")
    for policy in security.LATER_POLICIES:
        op.execute(policy.create_sql())
    for policy in _deal_policies():
        op.execute(policy.drop_sql())
        op.execute(policy.create_sql())


def _deal_policies() -> list[security.Policy]:
    return [
        p for p in security.POLICIES if "public.deals d" in f"{p.using or ''} {p.check or ''}"
    ]


def downgrade() -> None:
    with op.batch_alter_table("commission_records", schema=None) as batch_op:
        batch_op.drop_index("ix_commission_records_created")
    with op.batch_alter_table("deals", schema=None) as batch_op:
        batch_op.drop_index("ix_deals_stage_figures")
        batch_op.drop_index("ix_deals_stage_moved")
        batch_op.drop_column("stage_changed_at")
    if op.get_bind().dialect.name != "postgresql":
        return
    for policy in security.LATER_POLICIES:
        op.execute(policy.drop_sql())
    for table in security.LATER_RLS_TABLES:
        op.execute(f"ALTER TABLE public.{table} DISABLE ROW LEVEL SECURITY")
    op.execute(security.SEES_DEAL.drop_sql())
    for table in KINDS:
        op.execute(f"DROP TRIGGER IF EXISTS {TRIGGER} ON public.{table}")
    op.execute(
        "ALTER TABLE public.audit_entries ALTER COLUMN payload TYPE jsonb USING payload::jsonb"
    )
