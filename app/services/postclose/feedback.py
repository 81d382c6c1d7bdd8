"""What follows a period (SPEC §9): the record's current grade and flags, its buy box's
performance rate and warning level, its buyer's engagement score.

These are derived figures: writing them does not bump a row's ``version`` (which guards what
a person edits), so a month entered elsewhere never makes an open buy-box form stale.

Every function here works inside the caller's transaction, so a period and everything it
changes are written together or not at all. ``refresh_after_periods`` returns the alerts the
change raised: a buy box that enters WARNING or CRITICAL (or goes from WARNING to CRITICAL),
a buyer whose engagement score drops by 10 points or more.

Rules where SPEC.md is silent:
- a buyer's "records" are their records that have at least one period (a record with no
  month entered has no grade yet); the mean cash-flow variance is over those records'
  latest periods, as the portfolio's means are.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.db.models import BuyBox, Buyer, DealPerformance, PerformancePeriod
from app.domain.enums import Grade
from app.domain.postclose import (
    DEFAULT_REQUIRED_DSCR,
    box_warning,
    engagement_score,
    performance_rate,
)

CHUNK = 500
SCORE_DROP = Decimal(10)
_LEVELS = {None: 0, "WARNING": 1, "CRITICAL": 2}

R = DealPerformance
P = PerformancePeriod


@dataclass(frozen=True)
class Alert:
    kind: str  # "buy_box.warning" or "buyer.score_drop"
    subject_id: int
    title: str
    body: str


@dataclass
class Feedback:
    alerts: list[Alert] = field(default_factory=list)
    periods: int = 0
    records: int = 0
    boxes: int = 0
    buyers: int = 0


def _table(model: type[Any]) -> sa.Table:
    table: sa.Table = model.__table__
    return table


def chunks(ids: Iterable[int]) -> Iterable[list[int]]:
    items = sorted(set(ids))
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def required_dscr(s: Session, record_ids: Iterable[int]) -> dict[int, Decimal]:
    """Each record's required DSCR: its buy box's minimum, 1.25 where there is none."""
    out: dict[int, Decimal] = {}
    for part in chunks(record_ids):
        rows = s.execute(
            sa.select(R.id, BuyBox.min_dscr)
            .outerjoin(BuyBox, BuyBox.id == R.buy_box_id)
            .where(R.id.in_(part))
        )
        for rid, min_dscr in rows:
            out[rid] = DEFAULT_REQUIRED_DSCR if min_dscr is None else min_dscr
    return out


def _latest(ids: Sequence[int] | sa.Select[Any] | None) -> Any:
    """The latest period of each record (of ``ids``; None: all): a subquery of
    (performance_id, id)."""
    inner = sa.select(
        P.performance_id,
        P.id,
        sa.func.row_number()
        .over(partition_by=P.performance_id, order_by=(P.year.desc(), P.month.desc()))
        .label("rn"),
    )
    if ids is not None:
        inner = inner.where(P.performance_id.in_(ids))
    ranked = inner.subquery()
    return (
        sa.select(ranked.c.performance_id, ranked.c.id).where(ranked.c.rn == 1).subquery("latest")
    )


def _parts(ids: Sequence[int] | None) -> Iterable[list[int] | None]:
    return [None] if ids is None else chunks(ids)


def _refresh_records(s: Session, record_ids: Sequence[int] | None) -> int:
    """Current grade and flags = the latest period's; returns how many records changed.
    ``record_ids`` None: every record, in one pass."""
    changes: list[dict[str, Any]] = []
    for part in _parts(record_ids):
        latest = _latest(part)
        stmt = (
            sa.select(R.id, R.current_grade, R.current_flags, P.grade, P.flags)
            .outerjoin(latest, latest.c.performance_id == R.id)
            .outerjoin(P, P.id == latest.c.id)
        )
        if part is not None:
            stmt = stmt.where(R.id.in_(part))
        for rid, old_grade, old_flags, grade, flags in s.execute(stmt):
            if old_grade != grade or list(old_flags or []) != list(flags or []):
                changes.append({"rid": rid, "g": grade, "f": list(flags or [])})
    if changes:
        t = _table(R)
        s.execute(
            t.update()
            .where(t.c.id == sa.bindparam("rid"))
            .values(
                current_grade=sa.bindparam("g"),
                current_flags=sa.bindparam("f"),
            ),
            changes,
        )
    return len(changes)


def _grades_by(s: Session, column: Any, ids: Sequence[int] | None) -> dict[int, list[Grade]]:
    out: dict[int, list[Grade]] = defaultdict(list)
    for part in _parts(ids):
        stmt = sa.select(column, R.current_grade).where(R.current_grade.is_not(None))
        if part is not None:
            stmt = stmt.where(column.in_(part))
        for key, grade in s.execute(stmt):
            out[key].append(Grade(grade))
    return out


def _refresh_boxes(s: Session, box_ids: Sequence[int] | None) -> list[Alert]:
    grades = _grades_by(s, R.buy_box_id, box_ids)
    alerts: list[Alert] = []
    changes: list[dict[str, Any]] = []
    for part in _parts(box_ids):
        stmt = sa.select(BuyBox.id, BuyBox.name, BuyBox.performance_rate, BuyBox.warning_level)
        if part is not None:
            stmt = stmt.where(BuyBox.id.in_(part))
        for bid, name, old_rate, old_level in s.execute(stmt):
            rate = performance_rate(grades.get(bid, []))
            level = box_warning(grades.get(bid, []))
            if rate == old_rate and level == old_level:
                continue
            changes.append({"bid": bid, "r": rate, "w": level})
            if _LEVELS[level] > _LEVELS[old_level]:
                alerts.append(
                    Alert(
                        "buy_box.warning",
                        bid,
                        f"Buy box {name} is {level}",
                        f"Only {rate}% of its properties are graded A or B "
                        f"({'below 40%' if level == 'CRITICAL' else 'below 60%'}).",
                    )
                )
    if changes:
        t = _table(BuyBox)
        s.execute(
            t.update()
            .where(t.c.id == sa.bindparam("bid"))
            .values(
                performance_rate=sa.bindparam("r"),
                warning_level=sa.bindparam("w"),
            ),
            changes,
        )
    return alerts


def _buyer_variances(s: Session, buyer_ids: Sequence[int] | None) -> dict[int, list[Decimal]]:
    out: dict[int, list[Decimal]] = defaultdict(list)
    for part in _parts(buyer_ids):
        if part is None:
            latest = _latest(None)
            stmt = sa.select(R.buyer_id, P.cash_flow_variance).join(
                latest, latest.c.performance_id == R.id
            )
        else:
            mine = sa.select(R.id).where(R.buyer_id.in_(part))
            latest = _latest(mine)
            stmt = sa.select(R.buyer_id, P.cash_flow_variance).join(
                latest, latest.c.performance_id == R.id
            )
        stmt = stmt.join(P, P.id == latest.c.id)
        for bid, variance in s.execute(stmt):
            out[bid].append(variance)
    return out


def _refresh_buyers(s: Session, buyer_ids: Sequence[int] | None) -> list[Alert]:
    grades = _grades_by(s, R.buyer_id, buyer_ids)
    variances = _buyer_variances(s, buyer_ids)
    alerts: list[Alert] = []
    changes: list[dict[str, Any]] = []
    for part in _parts(buyer_ids):
        stmt = sa.select(Buyer.id, Buyer.name, Buyer.engagement_score)
        if part is not None:
            stmt = stmt.where(Buyer.id.in_(part))
        for bid, name, old in s.execute(stmt):
            cfs = variances.get(bid, [])
            mean = sum(cfs, Decimal(0)) / len(cfs) if cfs else None
            g = grades.get(bid, [])
            score = engagement_score(performance_rate(g), len(g), mean)
            if score == old:
                continue
            changes.append({"bid": bid, "e": score})
            if old is not None and score is not None and old - score >= SCORE_DROP:
                alerts.append(
                    Alert(
                        "buyer.score_drop",
                        bid,
                        f"{name}'s engagement score fell to {score}",
                        f"It was {old}; their properties are performing below their pro formas.",
                    )
                )
    if changes:
        t = _table(Buyer)
        s.execute(
            t.update()
            .where(t.c.id == sa.bindparam("bid"))
            .values(engagement_score=sa.bindparam("e")),
            changes,
        )
    return alerts


def refresh_after_periods(s: Session, record_ids: Iterable[int]) -> Feedback:
    """Everything that follows a change to these records' periods, in the caller's
    transaction."""
    ids = sorted(set(record_ids))
    out = Feedback()
    if not ids:
        return out
    out.records = _refresh_records(s, ids)
    boxes: set[int] = set()
    buyers: set[int] = set()
    for part in chunks(ids):
        for box, buyer in s.execute(sa.select(R.buy_box_id, R.buyer_id).where(R.id.in_(part))):
            if box is not None:
                boxes.add(box)
            buyers.add(buyer)
    out.alerts.extend(_refresh_boxes(s, sorted(boxes)))
    out.alerts.extend(_refresh_buyers(s, sorted(buyers)))
    out.boxes, out.buyers = len(boxes), len(buyers)
    return out


def refresh_everything(s: Session) -> Feedback:
    """Every record, buy box and buyer (after a recalculation or an import)."""
    out = Feedback()
    out.records = _refresh_records(s, None)
    out.alerts.extend(_refresh_boxes(s, None))
    out.alerts.extend(_refresh_buyers(s, None))
    out.boxes = s.scalar(sa.select(sa.func.count()).select_from(BuyBox)) or 0
    out.buyers = s.scalar(sa.select(sa.func.count()).select_from(Buyer)) or 0
    return out
