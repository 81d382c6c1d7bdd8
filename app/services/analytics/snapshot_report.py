"""``report snapshots`` (SPEC §12): the stored snapshots per agent and day, as the acting
person may see them (SPEC §1, deals and commissions: own; broker: their agents; manager:
their team; admin: all). On a server row-level security says the same."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from app.db.models import AgentPerformanceSnapshot, User
from app.domain.errors import ValidationError
from app.services.database import Database
from app.services.pipeline.common import deal_scope
from app.services.records import Acting, resolve_viewer

S = AgentPerformanceSnapshot
MONEY_FIELDS = (
    "gross_pipeline_value",
    "weighted_pipeline_value",
    "closed_won_volume",
    "confirmed_commission_amount",
    "disputed_commission_amount",
)
COUNT_FIELDS = ("deals_open", "deals_closed_won", "deals_closed_lost", "cycle_days_total")
RATE_FIELDS = ("avg_cycle_days", "conversion_rate")


@dataclass(frozen=True)
class SnapshotLine:
    email: str
    name: str
    as_of_date: dt.date
    values: dict[str, Any]
    ratios: dict[str, Any]
    computed_at: dt.datetime


def snapshot_lines(
    db: Database,
    first: dt.date,
    last: dt.date,
    agent_email: str | None = None,
    acting: Acting = None,
) -> list[SnapshotLine]:
    """Stored snapshots from ``first`` to ``last`` (inclusive), by agent then day."""
    if last < first:
        raise ValidationError(f"the range ends ({last}) before it starts ({first})")
    columns = [getattr(S, name) for name in (*COUNT_FIELDS, *MONEY_FIELDS, *RATE_FIELDS)]
    with db.read() as s:
        actor = resolve_viewer(s, db, acting)
        stmt = (
            sa.select(
                User.email,
                User.first_name,
                User.last_name,
                S.as_of_date,
                S.ratios,
                S.computed_at,
                *columns,
            )
            .join(User, User.id == S.agent_id)
            .where(S.as_of_date.between(first, last))
            .order_by(User.email, S.as_of_date)
        )
        scope = deal_scope(actor)
        if scope is not None:
            stmt = stmt.where(scope)
        if agent_email is not None:
            email = agent_email.strip().lower()
            if s.scalar(sa.select(User.id).where(User.email == email)) is None:
                raise ValidationError(f"there is nobody with the email {email}")
            stmt = stmt.where(User.email == email)
        rows = s.execute(stmt).all()
    names = (*COUNT_FIELDS, *MONEY_FIELDS, *RATE_FIELDS)
    return [
        SnapshotLine(
            email,
            f"{first_name} {last_name}".strip(),
            day,
            dict(zip(names, values, strict=True)),
            dict(ratios or {}),
            computed,
        )
        for email, first_name, last_name, day, ratios, computed, *values in rows
    ]


def _number(value: Decimal | None) -> float | None:
    return None if value is None else float(round(value, 2))


def snapshots_json(lines: list[SnapshotLine]) -> dict[str, Any]:
    """SPEC §12 ``snapshots``: money as strings with 2 decimals, rates as numbers."""
    out = []
    for line in lines:
        item: dict[str, Any] = {"email": line.email, "as_of_date": line.as_of_date.isoformat()}
        for name in COUNT_FIELDS:
            item[name] = int(line.values[name])
        for name in MONEY_FIELDS:
            item[name] = f"{Decimal(line.values[name]):.2f}"
        for name in RATE_FIELDS:
            item[name] = _number(line.values[name])
        item["ratios"] = line.ratios
        out.append(item)
    return {"snapshots": out}
