"""Portfolio analytics (SPEC §9) and ``report portfolio`` (SPEC §12).

Rules where SPEC.md is silent:
- a record's grade and flags are its stored current ones (those of its latest period); its
  variances are those of its latest period (latest by year, then month);
- a record without a period counts in ``total_deals`` but is ungraded: it is in no grade of
  the distribution, not in the performance rate, and not in the means;
- the means are exact over the latest periods, rounded half-up to cents (DSCR to 2 decimals)
  only in the result; they and the performance rate are null with nothing to average;
- buy boxes and buyers are listed with their stored rate, warning and score; with a filter,
  only those of the filtered records (and the buy box or buyer filtered on); without, all;
- JSON: money as strings with 2 decimals, DSCR variances, rates and scores as numbers.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import InstrumentedAttribute, Session

from app.db.models import BuyBox, Buyer, DealPerformance, PerformancePeriod
from app.db.types import Money
from app.domain.enums import Grade, Strategy
from app.domain.errors import ValidationError
from app.domain.money import format_money, quantize
from app.domain.postclose import performance_rate
from app.services.database import Database

D = DealPerformance
P = PerformancePeriod
#: Stored value → grade, in grade order (a dict lookup is cheaper than ``Grade(value)``).
GRADE_OF: dict[str, Grade] = {g.value: g for g in Grade}


# ---------------------------------------------------------------------------- results


@dataclass(frozen=True)
class PortfolioFilters:
    market: str | None = None
    strategy: str | None = None
    buyer_id: int | None = None
    buy_box_id: int | None = None
    closed_from: dt.date | None = None
    closed_to: dt.date | None = None

    @property
    def is_empty(self) -> bool:
        return all(getattr(self, f.name) is None for f in fields(self))


@dataclass(frozen=True)
class PortfolioSummary:
    total_deals: int
    #: "A".."D" → count, every grade present (zero included).
    grade_distribution: dict[str, int]
    average_cash_flow_variance: Decimal | None
    average_dscr_variance: Decimal | None
    performance_rate: Decimal | None

    @property
    def ungraded(self) -> int:
        """Records without a period yet."""
        return self.total_deals - sum(self.grade_distribution.values())


@dataclass(frozen=True)
class PortfolioRecord:
    id: int
    ref: str | None
    market: str
    strategy: str
    buyer_id: int
    buyer: str
    buy_box_id: int | None
    buy_box_ref: str | None
    closed_date: dt.date
    grade: str | None
    flags: tuple[str, ...]
    #: Those of the latest period; None without a period.
    cash_flow_variance: Decimal | None
    dscr_variance: Decimal | None
    actual_dscr: Decimal | None


@dataclass(frozen=True)
class BuyBoxFigures:
    id: int
    ref: str | None
    name: str
    performance_rate: Decimal | None
    warning: str | None


@dataclass(frozen=True)
class BuyerFigures:
    id: int
    name: str
    engagement_score: Decimal | None


@dataclass(frozen=True)
class PortfolioReport:
    filters: PortfolioFilters
    summary: PortfolioSummary
    by_market: dict[str, PortfolioSummary]
    by_strategy: dict[str, PortfolioSummary]
    by_buyer: dict[str, PortfolioSummary]
    records: list[PortfolioRecord]
    buy_boxes: list[BuyBoxFigures] = field(default_factory=list)
    buyers: list[BuyerFigures] = field(default_factory=list)


@dataclass(frozen=True)
class MonthlyCashFlow:
    year: int
    month: int
    projected_total: Decimal
    actual_total: Decimal


@dataclass(frozen=True)
class HistoryPoint:
    year: int
    month: int
    actual_cash_flow: Decimal
    projected_cash_flow: Decimal
    actual_dscr: Decimal
    projected_dscr: Decimal
    grade: str
    flags: tuple[str, ...]


# ---------------------------------------------------------------------------- queries


def _conditions(filters: PortfolioFilters) -> list[sa.ColumnElement[bool]]:
    conds: list[sa.ColumnElement[bool]] = []
    if filters.market is not None:
        conds.append(D.market_key == filters.market)
    if filters.strategy is not None:
        conds.append(D.strategy == Strategy(filters.strategy))
    if filters.buyer_id is not None:
        conds.append(D.buyer_id == filters.buyer_id)
    if filters.buy_box_id is not None:
        conds.append(D.buy_box_id == filters.buy_box_id)
    if filters.closed_from is not None:
        conds.append(D.closed_date >= filters.closed_from)
    if filters.closed_to is not None:
        conds.append(D.closed_date <= filters.closed_to)
    return conds


def _latest(column: InstrumentedAttribute[Any]) -> sa.ScalarSelect[Any]:
    """``column`` of the record's latest period (correlated to ``D``; null without a period).

    One index seek per record on the (performance_id, year, month) unique index. A scalar
    subquery per column rather than a join to the latest period: PostgreSQL plans such a join
    as a hash join over every period (300,000 on the large demo), SQLite does not care.
    """
    return (
        sa.select(column)
        .where(P.performance_id == D.id)
        .order_by(P.year.desc(), P.month.desc())
        .limit(1)
        .correlate(D)
        .scalar_subquery()
    )


def _text(value: object) -> str:
    """A StrEnum member or its stored value, as the value (``str()`` of a StrEnum member is
    its value; reading ``.value`` costs more than the query for 5,000 records)."""
    return str(value)


@functools.lru_cache(maxsize=1024)
def _flags(text: str | None) -> tuple[str, ...]:
    """Flags read as JSON text: a portfolio has few distinct flag sets, so each is decoded
    once (decoding 5,000 documents one by one costs more than the query)."""
    return () if text is None else tuple(json.loads(text) or ())


def _load_records(s: Session, filters: PortfolioFilters) -> list[PortfolioRecord]:
    rows = s.execute(
        sa.select(
            D.id,
            D.ref,
            D.market_key,
            D.strategy,
            D.buyer_id,
            Buyer.name,
            D.buy_box_id,
            BuyBox.ref,
            D.closed_date,
            D.current_grade,
            sa.cast(D.current_flags, sa.Text),
            _latest(P.cash_flow_variance),
            _latest(P.dscr_variance),
            _latest(P.actual_dscr),
        )
        .select_from(D)
        .join(Buyer, Buyer.id == D.buyer_id)
        .outerjoin(BuyBox, BuyBox.id == D.buy_box_id)
        .where(*_conditions(filters))
    ).all()
    records = [
        PortfolioRecord(
            id=rid,
            ref=ref,
            market=market,
            strategy=_text(strategy),
            buyer_id=buyer_id,
            buyer=buyer,
            buy_box_id=box_id,
            buy_box_ref=box_ref,
            closed_date=closed,
            grade=None if grade is None else _text(grade),
            flags=_flags(flags),
            cash_flow_variance=cf_var,
            dscr_variance=dscr_var,
            actual_dscr=dscr,
        )
        for (rid, ref, market, strategy, buyer_id, buyer, box_id, box_ref, closed, grade, flags,
             cf_var, dscr_var, dscr) in rows
    ]  # fmt: skip
    records.sort(key=lambda r: (r.ref is None, r.ref or "", r.id))
    return records


def _load_buy_boxes(
    s: Session, filters: PortfolioFilters, records: list[PortfolioRecord]
) -> list[BuyBoxFigures]:
    stmt = sa.select(BuyBox.id, BuyBox.ref, BuyBox.name, BuyBox.performance_rate,
                     BuyBox.warning_level)  # fmt: skip
    if not filters.is_empty:
        ids = {r.buy_box_id for r in records if r.buy_box_id is not None}
        if filters.buy_box_id is not None:
            ids.add(filters.buy_box_id)
        if not ids:
            return []
        stmt = stmt.where(BuyBox.id.in_(sorted(ids)))
    boxes = [
        BuyBoxFigures(bid, ref, name, rate, None if warn is None else _text(warn))
        for bid, ref, name, rate, warn in s.execute(stmt).all()
    ]
    boxes.sort(key=lambda b: (b.ref is None, b.ref or "", b.id))
    return boxes


def _load_buyers(
    s: Session, filters: PortfolioFilters, records: list[PortfolioRecord]
) -> list[BuyerFigures]:
    stmt = sa.select(Buyer.id, Buyer.name, Buyer.engagement_score)
    if not filters.is_empty:
        ids = {r.buyer_id for r in records}
        if filters.buyer_id is not None:
            ids.add(filters.buyer_id)
        if not ids:
            return []
        stmt = stmt.where(Buyer.id.in_(sorted(ids)))
    buyers = [BuyerFigures(bid, name, score) for bid, name, score in s.execute(stmt).all()]
    buyers.sort(key=lambda b: (b.name, b.id))
    return buyers


# ---------------------------------------------------------------------------- figures


def _mean(values: list[Decimal]) -> Decimal | None:
    return quantize(sum(values, Decimal(0)) / len(values)) if values else None


def summarize(records: Iterable[PortfolioRecord]) -> PortfolioSummary:
    """Total, grade distribution, mean variances over latest periods, performance rate."""
    total = 0
    grades: list[Grade] = []
    cf: list[Decimal] = []
    dscr: list[Decimal] = []
    for r in records:
        total += 1
        if r.grade is not None:
            grades.append(GRADE_OF[r.grade])
        if r.cash_flow_variance is not None:
            cf.append(r.cash_flow_variance)
        if r.dscr_variance is not None:
            dscr.append(r.dscr_variance)
    counts = Counter(grades)
    return PortfolioSummary(
        total_deals=total,
        grade_distribution={value: counts.get(g, 0) for value, g in GRADE_OF.items()},
        average_cash_flow_variance=_mean(cf),
        average_dscr_variance=_mean(dscr),
        performance_rate=performance_rate(grades),
    )


def _breakdown(
    records: list[PortfolioRecord], key: Callable[[PortfolioRecord], str]
) -> dict[str, PortfolioSummary]:
    groups: dict[str, list[PortfolioRecord]] = defaultdict(list)
    for r in records:
        groups[key(r)].append(r)
    return {k: summarize(groups[k]) for k in sorted(groups)}


def portfolio_report(
    db: Database,
    filters: PortfolioFilters = PortfolioFilters(),
) -> PortfolioReport:
    with db.read() as s:
        records = _load_records(s, filters)
        boxes = _load_buy_boxes(s, filters, records)
        buyers = _load_buyers(s, filters, records)
    return PortfolioReport(
        filters=filters,
        summary=summarize(records),
        by_market=_breakdown(records, lambda r: r.market),
        by_strategy=_breakdown(records, lambda r: r.strategy),
        by_buyer=_breakdown(records, lambda r: r.buyer),
        records=records,
        buy_boxes=boxes,
        buyers=buyers,
    )


def monthly_cash_flow(
    db: Database,
    filters: PortfolioFilters = PortfolioFilters(),
) -> list[MonthlyCashFlow]:
    """Per month, Σ projected and Σ actual monthly cash flow over the filtered records' periods
    (a period's projection is its record's locked ``projected_monthly_cash_flow``)."""
    # Summed as scaled integers on SQLite (exact), typed back to money. Grouped by one
    # integer (months since year 0): on SQLite a third quicker than by (year, month).
    month_key = P.year * 12 + P.month - 1
    actual = sa.type_coerce(sa.func.sum(P.actual_monthly_cash_flow), Money())
    projected = sa.type_coerce(sa.func.sum(D.projected_monthly_cash_flow), Money())
    stmt = (
        sa.select(month_key, projected, actual)
        .select_from(P)
        .join(D, D.id == P.performance_id)
        .where(*_conditions(filters))
        .group_by(month_key)
    )
    with db.read() as s:
        rows = s.execute(stmt).all()
    return [
        MonthlyCashFlow(int(key) // 12, int(key) % 12 + 1, proj, act)
        for key, proj, act in sorted(rows)
    ]


def dscr_values(
    db: Database,
    filters: PortfolioFilters = PortfolioFilters(),
) -> list[Decimal]:
    """The latest period's actual DSCR of every filtered record that has a period, ascending
    (the data of the DSCR distribution chart)."""
    stmt = sa.select(_latest(P.actual_dscr)).select_from(D).where(*_conditions(filters))
    with db.read() as s:
        values: list[Decimal | None] = list(s.execute(stmt).scalars())
    return sorted(v for v in values if v is not None)


def report_dscr_values(report: PortfolioReport) -> list[Decimal]:
    """``dscr_values`` of the report's filters without another query (a page that has the
    report already)."""
    return sorted(r.actual_dscr for r in report.records if r.actual_dscr is not None)


def property_history(db: Database, performance_id: int) -> list[HistoryPoint]:
    """One record's periods, oldest first, with its locked projection beside each."""
    with db.read() as s:
        found = s.execute(
            sa.select(D.projected_monthly_cash_flow, D.projected_dscr).where(D.id == performance_id)
        ).first()
        if found is None:
            raise ValidationError(f"there is no performance record with id {performance_id}")
        projected_cf, projected_dscr = found
        rows = s.execute(
            sa.select(P.year, P.month, P.actual_monthly_cash_flow, P.actual_dscr, P.grade, P.flags)
            .where(P.performance_id == performance_id)
            .order_by(P.year, P.month)
        ).all()
    return [
        HistoryPoint(y, m, cf, projected_cf, dscr, projected_dscr, _text(grade), tuple(flags or ()))
        for y, m, cf, dscr, grade, flags in rows
    ]


# ---------------------------------------------------------------------------- filters


def _find_id(s: Session, column: Any, text: str, option: str, what: str) -> int:
    """The id of the row whose ``column`` is ``text``: exactly, else in any case."""
    table_id = column.table.c.id
    found = list(s.execute(sa.select(table_id).where(column == text)).scalars())
    if not found:
        found = list(
            s.execute(sa.select(table_id).where(sa.func.lower(column) == text.lower())).scalars()
        )
    if not found:
        raise ValidationError(f"{option}: there is no {what} {text!r}")
    if len(found) > 1:
        raise ValidationError(f"{option}: {text!r} matches {len(found)}; give it exactly")
    return int(found[0])


def portfolio_filters(
    db: Database,
    *,
    market: str | None = None,
    strategy: str | None = None,
    buyer_name: str | None = None,
    buy_box_ref: str | None = None,
    closed_from: dt.date | None = None,
    closed_to: dt.date | None = None,
) -> PortfolioFilters:
    """The command line's filters: a buyer by name, a buy box by ref and a market by key
    (exactly, else in any case). An unknown buyer or buy box is a ValidationError."""
    if strategy is not None and strategy not in {s.value for s in Strategy}:
        choices = ", ".join(s.value for s in Strategy)
        raise ValidationError(f"--strategy: unknown strategy {strategy!r} (choose from {choices})")
    if closed_from is not None and closed_to is not None and closed_from > closed_to:
        raise ValidationError(
            f"--closed-from {closed_from.isoformat()} is after --closed-to {closed_to.isoformat()}"
        )
    buyer_id: int | None = None
    box_id: int | None = None
    with db.read() as s:
        if buyer_name is not None:
            name = buyer_name.strip()
            buyer_id = _find_id(s, Buyer.__table__.c.name, name, "--buyer", "buyer named")
        if buy_box_ref is not None:
            ref = buy_box_ref.strip()
            box_id = _find_id(s, BuyBox.__table__.c.ref, ref, "--buy-box", "buy box with the ref")
        market_key = _market_key(s, market)
    return PortfolioFilters(market_key, strategy, buyer_id, box_id, closed_from, closed_to)


def _market_key(s: Session, market: str | None) -> str | None:
    """The stored spelling of a market typed in any case ("ca-modesto" → "CA-MODESTO"); a
    market no record has is kept as typed (it matches nothing)."""
    if market is None or not market.strip():
        return None
    text = market.strip()
    keys = set(
        s.execute(
            sa.select(D.market_key).where(sa.func.lower(D.market_key) == text.lower()).distinct()
        ).scalars()
    )
    return text if text in keys or len(keys) != 1 else keys.pop()


# ---------------------------------------------------------------------------- output


def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{quantize(value):.2f}"


def _number(value: Decimal | None) -> float | None:
    # Values with 2 decimals are printed by json exactly as rounded.
    return None if value is None else float(quantize(value))


def summary_json(summary: PortfolioSummary) -> dict[str, Any]:
    return {
        "total_deals": summary.total_deals,
        "grade_distribution": dict(summary.grade_distribution),
        "average_cash_flow_variance": _money(summary.average_cash_flow_variance),
        "average_dscr_variance": _number(summary.average_dscr_variance),
        "performance_rate": _number(summary.performance_rate),
    }


def portfolio_json(report: PortfolioReport) -> dict[str, Any]:
    """SPEC §12 ``report portfolio --json``; the breakdowns are {key: summary}."""
    return {
        "summary": summary_json(report.summary),
        "by_market": {k: summary_json(v) for k, v in report.by_market.items()},
        "by_strategy": {k: summary_json(v) for k, v in report.by_strategy.items()},
        "by_buyer": {k: summary_json(v) for k, v in report.by_buyer.items()},
        "records": [
            {
                "ref": r.ref,
                "grade": r.grade,
                "flags": list(r.flags),
                "cash_flow_variance": _money(r.cash_flow_variance),
                "dscr_variance": _number(r.dscr_variance),
            }
            for r in report.records
        ],
        "buy_boxes": [
            {"ref": b.ref, "performance_rate": _number(b.performance_rate), "warning": b.warning}
            for b in report.buy_boxes
        ],
        "buyers": [
            {"name": b.name, "engagement_score": _number(b.engagement_score)} for b in report.buyers
        ],
    }


def _pct(value: Decimal | None) -> str:
    return "—" if value is None else f"{quantize(value)}%"


def _ratio(value: Decimal | None) -> str:
    return "—" if value is None else f"{quantize(value):+.2f}"


def _table(
    header: Sequence[str], rows: Sequence[Sequence[str]], left: Iterable[int] = (0,)
) -> list[str]:
    """Columns padded to width; the ``left`` ones read left to right, numbers on the right."""
    lefts = set(left)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        padded = [
            cell.ljust(w) if i in lefts else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(padded).rstrip()

    return [line(header), line(tuple("-" * w for w in widths)), *(line(r) for r in rows)]


def _summary_row(name: str, s: PortfolioSummary) -> tuple[str, ...]:
    return (
        name,
        str(s.total_deals),
        *(str(count) for count in s.grade_distribution.values()),
        str(s.ungraded),
        format_money(s.average_cash_flow_variance),
        _ratio(s.average_dscr_variance),
        _pct(s.performance_rate),
    )


SUMMARY_HEADER = ("", "Deals", "A", "B", "C", "D", "Ungraded", "Mean CF var", "Mean DSCR var",
                  "Perf. rate")  # fmt: skip


def portfolio_text(report: PortfolioReport) -> str:
    """The report as plain text: the summary, the breakdowns, buy boxes, buyers, records."""
    f = report.filters
    shown = [
        f"{name} {value}"
        for name, value in (
            ("market", f.market),
            ("strategy", f.strategy),
            ("buyer", next((b.name for b in report.buyers if b.id == f.buyer_id), None)),
            ("buy box", next((b.ref for b in report.buy_boxes if b.id == f.buy_box_id), None)),
            ("closed from", f.closed_from),
            ("closed to", f.closed_to),
        )
        if value is not None
    ]
    out = ["Portfolio" + (f" ({', '.join(shown)})" if shown else " (all records)"), ""]
    out += _table(SUMMARY_HEADER, [_summary_row("All", report.summary)])
    for title, groups in (
        ("By market", report.by_market),
        ("By strategy", report.by_strategy),
        ("By buyer", report.by_buyer),
    ):
        header = (title, *SUMMARY_HEADER[1:])
        out += ["", *_table(header, [_summary_row(k, v) for k, v in groups.items()])]
    out += [""]
    box_rows = [
        (b.ref or "—", b.name, _pct(b.performance_rate), b.warning or "") for b in report.buy_boxes
    ]
    out += _table(("Buy box", "Name", "Perf. rate", "Warning"), box_rows, left=(0, 1, 3))
    if not box_rows:
        out.append("(no buy boxes)")
    out += [""]
    buyer_rows = [
        (b.name, "—" if b.engagement_score is None else str(quantize(b.engagement_score)))
        for b in report.buyers
    ]
    out += _table(("Buyer", "Engagement"), buyer_rows)
    if not buyer_rows:
        out.append("(no buyers)")
    out += [""]
    record_rows = [
        (r.ref or f"#{r.id}", r.market, r.strategy, r.buyer, r.closed_date.isoformat(),
         r.grade or "—", format_money(r.cash_flow_variance), _ratio(r.dscr_variance),
         ", ".join(r.flags))
        for r in report.records
    ]  # fmt: skip
    record_header = ("Record", "Market", "Strategy", "Buyer", "Closed", "Grade", "CF var",
                     "DSCR var", "Flags")  # fmt: skip
    out += _table(record_header, record_rows, left=(0, 1, 2, 3, 4, 5, 8))
    if not record_rows:
        out.append("(no records)")
    return "\n".join(out)
