"""Reading the commission ledger: pages of rows, totals by status, one record, its
adjustments, and the choices the filters and the New commission form offer.

A page is picked by the commission table alone (the filters are conditions on it) and only
its rows are joined to their deal and agent, so the first page of 200,000 records is quick;
the totals are summed by the database over the whole filtered set, per deal currency.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from app.db.models import CommissionAdjustment, CommissionRecord, Deal, User
from app.db.types import Money
from app.domain.enums import AdjustmentType, CommissionStatus
from app.domain.errors import ConflictError
from app.services.commissions.query import (
    conditions,
    ordered,
    readable,
    reading,
    row_select,
    sort_keys,
    to_row,
)
from app.services.commissions.rows import (
    STATUS_ORDER,
    ZERO,
    AdjustmentRow,
    AgentChoice,
    CommissionRow,
    DealChoice,
    LedgerChoices,
    LedgerFilters,
    LedgerPage,
    LedgerSort,
    LedgerTotals,
    StatusTotal,
)
from app.services.database import Database
from app.services.office import get_currency
from app.services.pipeline.common import deal_scope, visible_deals
from app.services.records import Acting, Actor, resolve_actor

C = CommissionRecord
A = CommissionAdjustment

#: Rows per page of the ledger.
PAGE_SIZE = 200


def read_page(
    s: Session,
    actor: Actor | None,
    filters: LedgerFilters,
    sort: LedgerSort,
    descending: bool,
    offset: int,
    limit: int,
) -> LedgerPage:
    conds = conditions(filters, actor)
    _keys, needs_joins = sort_keys(sort)
    ids = sa.select(C.id).select_from(C)
    if needs_joins:
        ids = ids.join(User, User.id == C.agent_id).outerjoin(Deal, Deal.id == C.deal_id)
    ids = ordered(ids.where(*conds), sort, descending).offset(offset).limit(limit + 1)
    page_ids = [int(i) for i in s.scalars(ids)]
    has_more = len(page_ids) > limit
    page_ids = page_ids[:limit]
    if not page_ids:
        return LedgerPage((), offset, False)
    found = {r.id: to_row(r) for r in s.execute(row_select(actor, page_ids))}
    return LedgerPage(tuple(found[i] for i in page_ids if i in found), offset, has_more)


def list_page(
    db: Database,
    filters: LedgerFilters = LedgerFilters(),  # noqa: B008 (frozen)
    *,
    sort: LedgerSort = LedgerSort.CREATED,
    descending: bool = True,
    offset: int = 0,
    limit: int = PAGE_SIZE,
    acting: Acting = None,
) -> LedgerPage:
    """``limit`` rows of the filtered ledger from ``offset``, in the order asked for (ties on
    the record's id); ``has_more`` says whether rows follow."""
    with reading(db) as s:
        actor = resolve_actor(s, db, acting)
        return read_page(s, actor, filters, sort, descending, max(offset, 0), max(limit, 1))


def _money_sum(column: Any) -> sa.ColumnElement[Decimal]:
    return sa.type_coerce(sa.func.coalesce(sa.func.sum(column), 0), Money())


def _sums(
    s: Session, conds: list[Any], foreign_to: str | None
) -> dict[tuple[CommissionStatus, str], StatusTotal]:
    """Count and Σ amount (a scan of the records) and Σ adjustments (the adjustments joined to
    their records), by status; with ``foreign_to``, only records on deals in another currency
    than that one, by status and currency (else the currency key is '')."""
    group: list[Any] = [C.status]
    extra: list[Any] = []
    records: sa.Select[Any] = sa.select(C.status).select_from(C)
    adjusted: sa.Select[Any] = sa.select(C.status).select_from(A).join(C, C.id == A.commission_id)
    if foreign_to is not None:
        # Driven by the few deals in other currencies (IN), then joined for their code.
        group.append(Deal.estimated_value_currency)
        foreign = sa.select(Deal.id).where(Deal.estimated_value_currency != foreign_to)
        extra.append(C.deal_id.in_(foreign))
        records = records.join(Deal, Deal.id == C.deal_id)
        adjusted = adjusted.join(Deal, Deal.id == C.deal_id)
    records = records.add_columns(*group[1:], sa.func.count(), _money_sum(C.commission_amount))
    adjusted = adjusted.add_columns(*group[1:], _money_sum(A.amount))
    out: dict[tuple[CommissionStatus, str], StatusTotal] = {}
    for row in s.execute(records.where(*conds, *extra).group_by(*group)):
        key = (CommissionStatus(row[0]), row[1] if foreign_to is not None else "")
        out[key] = StatusTotal(int(row[-2]), row[-1], ZERO)
    for row in s.execute(adjusted.where(*conds, *extra).group_by(*group)):
        key = (CommissionStatus(row[0]), row[1] if foreign_to is not None else "")
        found = out.get(key, StatusTotal())
        out[key] = StatusTotal(found.count, found.amount, row[-1])
    return out


def read_totals(
    s: Session, actor: Actor | None, filters: LedgerFilters, currency: str
) -> LedgerTotals:
    """Count, Σ amount and Σ adjustments by status and deal currency: amounts in different
    currencies are never added (the office's is the headline, the others apart)."""
    conds = conditions(filters, actor)
    if s.get_bind().dialect.name == "postgresql":
        found = _totals_in_one_scan(s, conds, currency)
    else:
        found = _totals_by_parts(s, conds, currency)
    by_status = {st: found.get(("", st), StatusTotal()) for st in STATUS_ORDER}
    other = {
        code: {st: found.get((code, st), StatusTotal()) for st in STATUS_ORDER}
        for code in sorted({code for code, _st in found if code})
    }
    return LedgerTotals(currency, by_status, other)


Found = dict[tuple[str, CommissionStatus], StatusTotal]


def _totals_by_parts(s: Session, conds: list[Any], currency: str) -> Found:
    """SQLite: the records by status (one scan), their adjustments (the adjustments joined to
    their records), then the same over the few records on deals in other currencies, which
    are taken out of the first."""
    everything = _sums(s, conds, None)
    foreign = _sums(s, conds, currency)
    found: Found = {}
    for (st, code), part in foreign.items():
        found[(code, st)] = part
    for (st, _), total in everything.items():
        for (fst, _code), part in foreign.items():
            if fst is st:
                total = total - part
        found[("", st)] = total
    return found


def _totals_in_one_scan(s: Session, conds: list[Any], currency: str) -> Found:
    """PostgreSQL: one scan of the records, joined to their deal (for its currency) and to
    their adjustments summed per record. Under row-level security each table's policy is then
    checked once per scan (hashed), not once per record looked up by its id."""
    adjusted = (
        sa.select(A.commission_id, sa.func.sum(A.amount).label("total"))
        .group_by(A.commission_id)
        .subquery("adjusted")
    )
    code = Deal.estimated_value_currency
    stmt = (
        sa.select(
            C.status,
            code,
            sa.func.count(),
            _money_sum(C.commission_amount),
            _money_sum(adjusted.c.total),
        )
        .select_from(C)
        .outerjoin(Deal, Deal.id == C.deal_id)
        .outerjoin(adjusted, adjusted.c.commission_id == C.id)
        .where(*conds)
        .group_by(C.status, code)
    )
    found: Found = {}
    for status, cur, n, amount, adjustments in s.execute(stmt):
        # A deal hidden from the reader (they see the record as its agent): the office's.
        key = ("" if cur in (None, currency) else cur, CommissionStatus(status))
        found[key] = found.get(key, StatusTotal()) + StatusTotal(int(n), amount, adjustments)
    return found


def ledger_totals(
    db: Database,
    filters: LedgerFilters = LedgerFilters(),  # noqa: B008 (frozen)
    *,
    currency: str | None = None,
    acting: Acting = None,
) -> LedgerTotals:
    """Count, Σ amount, Σ adjustments and net by status over every record of the filtered set."""
    office = currency or get_currency(db)
    with reading(db) as s:
        actor = resolve_actor(s, db, acting)
        return read_totals(s, actor, filters, office)


@dataclass(frozen=True)
class Ledger:
    """What the ledger page shows when it opens: the first page and the totals."""

    page: LedgerPage
    totals: LedgerTotals
    currency: str


def open_ledger(
    db: Database,
    filters: LedgerFilters = LedgerFilters(),  # noqa: B008 (frozen)
    *,
    sort: LedgerSort = LedgerSort.CREATED,
    descending: bool = True,
    limit: int = PAGE_SIZE,
    acting: Acting = None,
) -> Ledger:
    currency = get_currency(db)
    with reading(db) as s:
        actor = resolve_actor(s, db, acting)
        page = read_page(s, actor, filters, sort, descending, 0, max(limit, 1))
        totals = read_totals(s, actor, filters, currency)
    return Ledger(page, totals, currency)


def fetch_row(s: Session, actor: Actor | None, commission_id: int) -> CommissionRow | None:
    stmt = row_select(actor, [commission_id])
    scope = readable(actor)
    if scope is not None:
        stmt = stmt.where(scope)
    found = s.execute(stmt).first()
    return to_row(found) if found is not None else None


def gone(commission_id: int) -> ConflictError:
    return ConflictError(
        f"Commission {commission_id} no longer exists or is no longer yours to see; "
        "the ledger has been read again. Nothing was changed."
    )


def get_commission(db: Database, commission_id: int, acting: Acting = None) -> CommissionRow:
    """One record as stored now; ConflictError when it is gone or no longer visible."""
    with reading(db) as s:
        actor = resolve_actor(s, db, acting)
        row = fetch_row(s, actor, commission_id)
    if row is None:
        raise gone(commission_id)
    return row


def list_adjustments(
    db: Database, commission_id: int, acting: Acting = None
) -> list[AdjustmentRow]:
    """The record's adjustments, oldest first."""
    with reading(db) as s:
        actor = resolve_actor(s, db, acting)
        if fetch_row(s, actor, commission_id) is None:
            raise gone(commission_id)
        rows = s.execute(
            sa.select(A, User.first_name, User.last_name)
            .join(User, User.id == A.created_by_id)
            .where(A.commission_id == commission_id)
            .order_by(A.created_at, A.id)
        ).all()
    return [
        AdjustmentRow(
            a.id,
            a.commission_id,
            AdjustmentType(a.adjustment_type),
            a.amount,
            a.note,
            a.created_by_id,
            f"{first} {last}".strip(),
            a.created_at,
        )
        for a, first, last in rows
    ]


def ledger_choices(db: Database, acting: Acting = None) -> LedgerChoices:
    """The agents whose commissions the acting person sees, by name."""
    with reading(db) as s:
        actor = resolve_actor(s, db, acting)
        agent_ids = sa.select(C.agent_id).distinct()
        scope = readable(actor)
        if scope is not None:
            agent_ids = agent_ids.where(scope)
        rows = s.execute(
            sa.select(User.id, User.email, User.first_name, User.last_name, User.role)
            .where(User.id.in_(agent_ids))
            .order_by(sa.func.lower(User.first_name), sa.func.lower(User.last_name), User.email)
        ).all()
    return LedgerChoices(
        tuple(AgentChoice(r.id, r.email, f"{r.first_name} {r.last_name}".strip(), r.role)
              for r in rows)
    )  # fmt: skip


def agent_choices(db: Database, acting: Acting = None) -> tuple[AgentChoice, ...]:
    """Who a new commission may be for: every active person of the office (a co-broke or a
    referral may go to someone outside the deal's team), by name."""
    with reading(db) as s:
        resolve_actor(s, db, acting)
        rows = s.execute(
            sa.select(User.id, User.email, User.first_name, User.last_name, User.role)
            .where(User.is_active.is_(True))
            .order_by(sa.func.lower(User.first_name), sa.func.lower(User.last_name), User.email)
        ).all()
    return tuple(
        AgentChoice(r.id, r.email, f"{r.first_name} {r.last_name}".strip(), r.role) for r in rows
    )


def find_deals(
    db: Database, text: str = "", *, limit: int = 50, acting: Acting = None
) -> list[DealChoice]:
    """Deals the acting person sees (and so may book a commission on) whose title or ref
    holds ``text``, newest first."""
    owner = aliased(User)
    with reading(db) as s:
        actor = resolve_actor(s, db, acting)
        stmt = sa.select(Deal, owner.first_name, owner.last_name).join(
            owner, owner.id == Deal.agent_id
        )
        if deal_scope(actor) is not None:
            stmt = stmt.where(Deal.id.in_(visible_deals(actor)))
        cleaned = text.strip().lower()
        if cleaned:
            like = f"%{cleaned}%"
            stmt = stmt.where(
                sa.or_(sa.func.lower(Deal.title).like(like), sa.func.lower(Deal.ref).like(like))
            )
        rows = s.execute(stmt.order_by(Deal.created_at.desc(), Deal.id.desc()).limit(limit)).all()
    return [
        DealChoice(d.id, d.ref, d.title, f"{first} {last}".strip(), d.estimated_value_currency,
                   d.estimated_value_amount)
        for d, first, last in rows
    ]  # fmt: skip
