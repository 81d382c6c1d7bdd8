"""``report pipeline``: the board's column figures and the pipeline's rates (SPEC §4, §12)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from app.db.models import Deal, User
from app.domain.enums import DealStatus
from app.domain.pipeline import average_cycle_days, conversion_rate
from app.services.database import Database
from app.services.office import get_currency
from app.services.pipeline.board import BoardFilters, ColumnFigures, load_figures
from app.services.pipeline.common import deal_scope
from app.services.records import Acting, resolve_actor


@dataclass(frozen=True)
class PipelineReport:
    currency: str
    columns: list[ColumnFigures]
    avg_cycle_days: Decimal | None
    conversion_rate: Decimal | None


def pipeline_report(db: Database, acting: Acting = None) -> PipelineReport:
    currency = get_currency(db)
    columns = load_figures(db, BoardFilters(), currency, acting)
    with db.read() as s:
        actor = resolve_actor(s, db, acting)
        scope = deal_scope(actor)
        base = sa.select(Deal.created_at, Deal.actual_close_date, Deal.status).join(
            User, User.id == Deal.agent_id
        )
        if scope is not None:
            base = base.where(scope)
        won_rows = s.execute(
            base.where(Deal.status == DealStatus.CLOSED_WON, Deal.actual_close_date.is_not(None))
        ).all()
        counts = dict(
            s.execute(
                sa.select(Deal.status, sa.func.count())
                .join(User, User.id == Deal.agent_id)
                .where(*(() if scope is None else (scope,)))
                .group_by(Deal.status)
            ).all()
        )
    pairs: list[tuple[dt.datetime, dt.date]] = [
        (r.created_at, r.actual_close_date) for r in won_rows
    ]
    won = int(counts.get(DealStatus.CLOSED_WON, 0))
    lost = int(counts.get(DealStatus.CLOSED_LOST, 0))
    return PipelineReport(currency, columns, average_cycle_days(pairs), conversion_rate(won, lost))


def _number(value: Decimal | None, places: int) -> float | None:
    return None if value is None else float(round(value, places))


def pipeline_json(report: PipelineReport) -> dict[str, Any]:
    return {
        "currency": report.currency,
        "stages": [
            {
                "stage": c.stage.value,
                "count": c.count,
                "total_value": f"{c.total:.2f}",
                "weighted_value": f"{c.weighted:.2f}",
            }
            for c in report.columns
        ],
        "avg_cycle_days": _number(report.avg_cycle_days, 1),
        "conversion_rate": _number(report.conversion_rate, 1),
    }
