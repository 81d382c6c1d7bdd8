"""The SQL the ledger is read with: who sees which records, the filters, the row, the order.

Visibility (SPEC §1, as the server's row-level security has it, app/db/security.py): a
commission is read by whoever sees its deal (the deal's agent, their broker, their team's
manager, admins) and by whoever sees the commission's own agent (so an agent sees the
referral they earn on a colleague's deal); it is changed only by whoever sees the deal.
Local mode with nobody named sees and changes everything.

Every filter is a condition on ``commission_records`` alone (deals and people are reached by
``IN`` subqueries), so a page can be picked by the commission table and its index before
the deal and the agent of its ~200 rows are joined.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.db.models import CommissionAdjustment, CommissionRecord, Deal, User
from app.db.types import Money
from app.domain.enums import CommissionStatus, CommissionType
from app.services.commissions.rows import STATUS_ORDER, CommissionRow, LedgerFilters, LedgerSort
from app.services.database import Database
from app.services.pipeline.common import deal_scope, visible_deals
from app.services.records import Actor

C = CommissionRecord
A = CommissionAdjustment


@contextmanager
def reading(db: Database) -> Iterator[Session]:
    """A read session for the ledger. On PostgreSQL, JIT compilation is switched off for its
    transaction: under row-level security the policies' subplans inflate the plans' costs past
    the JIT threshold, and compiling them took longer (~1 s) than the queries themselves."""
    with db.read() as s:
        if s.get_bind().dialect.name == "postgresql":
            s.execute(sa.text("SET LOCAL jit = off"))
        yield s


def people_seen(actor: Actor | None) -> sa.Select[Any] | None:
    """The ids of the people whose deal-like records ``actor`` sees; None = everyone."""
    scope = deal_scope(actor)
    return None if scope is None else sa.select(User.id).where(scope)


def readable(actor: Actor | None) -> sa.ColumnElement[bool] | None:
    """The commissions ``actor`` may read; None = all of them."""
    people = people_seen(actor)
    if people is None:
        return None
    return sa.or_(C.deal_id.in_(visible_deals(actor)), C.agent_id.in_(people))


def writable(actor: Actor | None) -> sa.ColumnElement[bool] | None:
    """The commissions ``actor`` may change (those on a deal they see); None = all."""
    if deal_scope(actor) is None:
        return None
    return C.deal_id.in_(visible_deals(actor))


def conditions(filters: LedgerFilters, actor: Actor | None) -> list[sa.ColumnElement[bool]]:
    conds: list[sa.ColumnElement[bool]] = []
    scope = readable(actor)
    if scope is not None:
        conds.append(scope)
    if filters.agent_id is not None:
        conds.append(C.agent_id == filters.agent_id)
    if filters.status is not None:
        conds.append(C.status == filters.status)
    if filters.deal_id is not None:
        conds.append(C.deal_id == filters.deal_id)
    text = filters.deal_text.strip().lower()
    if text:
        like = f"%{_escape_like(text)}%"
        matching = sa.select(Deal.id).where(
            sa.or_(
                sa.func.lower(Deal.title).like(like, escape="\\"),
                sa.func.lower(Deal.ref).like(like, escape="\\"),
            )
        )
        conds.append(C.deal_id.in_(matching))
    if filters.created_from is not None:
        conds.append(C.created_at >= filters.created_from)
    if filters.created_before is not None:
        conds.append(C.created_at < filters.created_before)
    return conds


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def adjustments_sum() -> sa.ColumnElement[Decimal]:
    """Σ of the record's adjustments, in SQL (exact: scaled integers on SQLite)."""
    total = (
        sa.select(sa.func.coalesce(sa.func.sum(A.amount), 0))
        .where(A.commission_id == C.id)
        .scalar_subquery()
    )
    return sa.type_coerce(total, Money())


def net_amount() -> sa.ColumnElement[Decimal]:
    """amount + Σ adjustments (SPEC §6), in SQL."""
    return sa.type_coerce(C.commission_amount + adjustments_sum(), Money())


def status_rank() -> sa.ColumnElement[int]:
    """The status in the ledger's order (the forward path first), for sorting."""
    return sa.case({s.value: i for i, s in enumerate(STATUS_ORDER)}, value=C.status, else_=99)


def changed_at() -> sa.ColumnElement[Any]:
    """When the record last changed status: the latest stamp, else its creation."""
    return sa.func.coalesce(
        C.written_off_at, C.paid_at, C.resolved_at, C.disputed_at, C.invoiced_at,
        C.confirmed_at, C.created_at,
    )  # fmt: skip


def sort_keys(sort: LedgerSort) -> tuple[list[Any], bool]:
    """The ORDER BY expressions of ``sort`` and whether they need deals/users joined."""
    if sort is LedgerSort.DEAL:
        return [sa.func.lower(Deal.title)], True
    if sort is LedgerSort.AGENT:
        return [sa.func.lower(User.first_name), sa.func.lower(User.last_name)], True
    keys: dict[LedgerSort, list[Any]] = {
        LedgerSort.CREATED: [C.created_at],
        LedgerSort.TYPE: [C.commission_type],
        LedgerSort.BASIS: [C.basis_amount],
        LedgerSort.RATE: [C.commission_rate],
        LedgerSort.AMOUNT: [C.commission_amount],
        LedgerSort.ADJUSTMENTS: [adjustments_sum()],
        LedgerSort.NET: [net_amount()],
        LedgerSort.STATUS: [status_rank(), changed_at()],
        LedgerSort.CHANGED: [changed_at()],
    }
    return keys[sort], False


def ordered(stmt: sa.Select[Any], sort: LedgerSort, descending: bool) -> sa.Select[Any]:
    keys, _ = sort_keys(sort)
    direction = [k.desc() if descending else k.asc() for k in keys]
    return stmt.order_by(*direction, C.id.desc() if descending else C.id.asc())


def row_select(actor: Actor | None, ids: Sequence[int]) -> sa.Select[Any]:
    """Every column of the ledger rows ``ids``: their adjustments summed once (grouped over
    those ids only), the deal outer-joined (a server may hide it from the commission's agent)."""
    write_scope = writable(actor)
    can_write: Any = sa.true() if write_scope is None else write_scope
    adjusted = (
        sa.select(A.commission_id, sa.func.sum(A.amount).label("total"))
        .where(A.commission_id.in_(ids))
        .group_by(A.commission_id)
        .subquery("adjusted")
    )
    total = sa.func.coalesce(adjusted.c.total, 0)
    columns: list[Any] = [
        C.id, C.version, C.deal_id, Deal.ref, Deal.title, Deal.estimated_value_currency,
        C.agent_id, User.email, User.first_name, User.last_name, C.commission_type,
        C.basis_amount, C.commission_rate, C.commission_amount,
        sa.type_coerce(total, Money()).label("adjustments_total"),
        sa.type_coerce(C.commission_amount + total, Money()).label("net_amount"),
        C.status, C.disputed_from_status, C.dispute_reason, C.dispute_document_uri,
        C.introduced_at, C.confirmed_at, C.invoiced_at, C.paid_at, C.disputed_at,
        C.resolved_at, C.written_off_at, C.created_at, C.updated_at,
        can_write.label("writable"),
    ]  # fmt: skip
    return (
        sa.select(*columns)
        .select_from(C)
        .join(User, User.id == C.agent_id)
        .outerjoin(Deal, Deal.id == C.deal_id)
        .outerjoin(adjusted, adjusted.c.commission_id == C.id)
        .where(C.id.in_(ids))
    )


def to_row(r: Any) -> CommissionRow:
    return CommissionRow(
        id=int(r.id),
        version=int(r.version),
        deal_id=int(r.deal_id),
        deal_ref=r.ref,
        deal_title=r.title,
        currency=r.estimated_value_currency,
        agent_id=int(r.agent_id),
        agent_email=r.email,
        agent_name=f"{r.first_name} {r.last_name}".strip(),
        commission_type=CommissionType(r.commission_type),
        basis_amount=r.basis_amount,
        commission_rate=r.commission_rate,
        commission_amount=r.commission_amount,
        adjustments_total=r.adjustments_total,
        net_amount=r.net_amount,
        status=CommissionStatus(r.status),
        disputed_from=(
            CommissionStatus(r.disputed_from_status) if r.disputed_from_status else None
        ),
        dispute_reason=r.dispute_reason,
        dispute_document_uri=r.dispute_document_uri,
        introduced_at=r.introduced_at,
        confirmed_at=r.confirmed_at,
        invoiced_at=r.invoiced_at,
        paid_at=r.paid_at,
        disputed_at=r.disputed_at,
        resolved_at=r.resolved_at,
        written_off_at=r.written_off_at,
        created_at=r.created_at,
        updated_at=r.updated_at,
        writable=bool(r.writable),
    )
