"""``report commissions``: the ledger's totals by status and each agent's gross, adjustments
and net (SPEC §6, §12), over the records the acting person sees, with the ledger's filters.

Rules where SPEC.md is silent (docs/rules.md):
- amounts are in the deal's currency: ``by_status`` and ``agents`` cover the office
  currency's records; each other currency is reported apart under ``other_currencies``
  (amounts in different currencies are never added);
- ``gross`` is Σ commission_amount of every record of the agent, whatever its status;
  ``adjustments`` is Σ of their adjustments; ``net`` = gross + adjustments;
- agents are those with at least one record in view, sorted by email;
- with ``--as-of D`` only records and adjustments created up to the end of D (UTC) count;
  statuses are the current ones.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from app.db.models import CommissionAdjustment, CommissionRecord, Deal, User
from app.db.types import Money
from app.domain.commissions import parse_status
from app.domain.enums import CommissionStatus
from app.domain.errors import ValidationError
from app.services.commissions.ledger import read_totals
from app.services.commissions.query import conditions, reading
from app.services.commissions.rows import STATUS_ORDER, ZERO, LedgerFilters, LedgerTotals
from app.services.database import Database
from app.services.office import get_currency
from app.services.pipeline.common import deal_id_for_ref
from app.services.records import Acting, resolve_actor

C = CommissionRecord
A = CommissionAdjustment


@dataclass(frozen=True)
class AgentFigures:
    email: str
    gross: Decimal
    adjustments: Decimal

    @property
    def net(self) -> Decimal:
        return self.gross + self.adjustments


@dataclass(frozen=True)
class CommissionReport:
    currency: str
    totals: LedgerTotals
    agents: list[AgentFigures]
    #: Other currency → its agents' figures.
    other_agents: dict[str, list[AgentFigures]]


def _agent_sums(
    s: Any, conds: list[Any], adjusted_before: dt.datetime | None
) -> dict[tuple[str, str], AgentFigures]:
    """(email, currency) → figures."""
    money = sa.type_coerce(sa.func.coalesce(sa.func.sum(C.commission_amount), 0), Money())
    gross_rows = s.execute(
        sa.select(User.email, Deal.estimated_value_currency, money)
        .select_from(C)
        .join(User, User.id == C.agent_id)
        .join(Deal, Deal.id == C.deal_id)
        .where(*conds)
        .group_by(User.email, Deal.estimated_value_currency)
    ).all()
    adj_conds = list(conds)
    if adjusted_before is not None:
        adj_conds.append(A.created_at < adjusted_before)
    adj_rows = s.execute(
        sa.select(
            User.email,
            Deal.estimated_value_currency,
            sa.type_coerce(sa.func.coalesce(sa.func.sum(A.amount), 0), Money()),
        )
        .select_from(A)
        .join(C, C.id == A.commission_id)
        .join(User, User.id == C.agent_id)
        .join(Deal, Deal.id == C.deal_id)
        .where(*adj_conds)
        .group_by(User.email, Deal.estimated_value_currency)
    ).all()
    out: dict[tuple[str, str], AgentFigures] = {}
    for email, currency, gross in gross_rows:
        out[(email, currency)] = AgentFigures(email, gross, ZERO)
    for email, currency, adjustments in adj_rows:
        found = out.get((email, currency), AgentFigures(email, ZERO, ZERO))
        out[(email, currency)] = replace(found, adjustments=adjustments)
    return out


def _adjustment_totals(
    s: Any, conds: list[Any], adjusted_before: dt.datetime
) -> dict[tuple[CommissionStatus, str], Decimal]:
    rows = s.execute(
        sa.select(
            C.status,
            Deal.estimated_value_currency,
            sa.type_coerce(sa.func.coalesce(sa.func.sum(A.amount), 0), Money()),
        )
        .select_from(A)
        .join(C, C.id == A.commission_id)
        .join(Deal, Deal.id == C.deal_id)
        .where(*conds, A.created_at < adjusted_before)
        .group_by(C.status, Deal.estimated_value_currency)
    ).all()
    return {(CommissionStatus(st), cur): amount for st, cur, amount in rows}


def commission_report(
    db: Database,
    filters: LedgerFilters = LedgerFilters(),  # noqa: B008 (frozen)
    *,
    as_of: dt.date | None = None,
    acting: Acting = None,
) -> CommissionReport:
    currency = get_currency(db)
    cutoff: dt.datetime | None = None
    if as_of is not None:
        cutoff = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time(), dt.UTC)
        if filters.created_before is None or filters.created_before > cutoff:
            filters = replace(filters, created_before=cutoff)
    with reading(db) as s:
        actor = resolve_actor(s, db, acting)
        totals = read_totals(s, actor, filters, currency)
        conds = conditions(filters, actor)
        if cutoff is not None:
            # Adjustments made after the day do not count either.
            adjusted = _adjustment_totals(s, conds, cutoff)
            by_status = {
                st: replace(t, adjustments=adjusted.get((st, currency), ZERO))
                for st, t in totals.by_status.items()
            }
            other = {
                cur: {
                    st: replace(t, adjustments=adjusted.get((st, cur), ZERO))
                    for st, t in per.items()
                }
                for cur, per in totals.other.items()
            }
            totals = LedgerTotals(currency, by_status, other)
        sums = _agent_sums(s, conds, cutoff)
    agents: list[AgentFigures] = []
    other_agents: dict[str, list[AgentFigures]] = defaultdict(list)
    emails = sorted({email for email, _cur in sums})
    for email in emails:
        agents.append(sums.get((email, currency), AgentFigures(email, ZERO, ZERO)))
    for (_email, cur), figures in sorted(sums.items()):
        if cur != currency:
            other_agents[cur].append(figures)
    del emails
    return CommissionReport(currency, totals, agents, dict(sorted(other_agents.items())))


def report_filters(
    db: Database,
    *,
    agent_email: str | None = None,
    status: str | None = None,
    deal_ref: str | None = None,
    created_from: dt.date | None = None,
    created_to: dt.date | None = None,
) -> LedgerFilters:
    """The command line's filters as the ledger's: an agent by email, a deal by ref, days in
    UTC (``created_to`` inclusive)."""
    agent_id: int | None = None
    deal_id: int | None = None
    with reading(db) as s:
        if agent_email:
            wanted = agent_email.strip().lower()
            found = s.scalar(sa.select(User.id).where(sa.func.lower(User.email) == wanted))
            if found is None:
                raise ValidationError(f"--agent: no one with the email {wanted} is in the office")
            agent_id = int(found)
        if deal_ref:
            deal_id = deal_id_for_ref(s, deal_ref)

    def midnight(day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(), dt.UTC)

    return LedgerFilters(
        agent_id=agent_id,
        status=parse_status(status) if status else None,
        deal_id=deal_id,
        created_from=midnight(created_from) if created_from else None,
        created_before=midnight(created_to + dt.timedelta(days=1)) if created_to else None,
    )


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def _section(by_status: dict[CommissionStatus, Any], agents: list[AgentFigures]) -> dict[str, Any]:
    return {
        "by_status": {st.value: _money(by_status[st].amount) for st in STATUS_ORDER},
        "agents": [
            {
                "email": a.email,
                "gross": _money(a.gross),
                "adjustments": _money(a.adjustments),
                "net": _money(a.net),
            }
            for a in agents
        ],
    }


def report_json(report: CommissionReport) -> dict[str, Any]:
    """SPEC §12: ``{"by_status": {STATUS: amount}, "agents": [{"email", "gross",
    "adjustments", "net"}]}`` (money as strings with 2 decimals), plus the currency and the
    other currencies' sections."""
    main = _section(report.totals.by_status, report.agents)
    return {
        "currency": report.currency,
        **main,
        "other_currencies": {
            cur: _section(report.totals.other[cur], report.other_agents.get(cur, []))
            for cur in report.totals.other
        },
    }
