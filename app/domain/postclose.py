"""Post-close performance rules of SPEC §9: variances, flags, grade, buy-box rate, buyer score.

Pure functions over Decimals. A variance is actual − projected; a ``…_pct`` is variance /
|projected| × 100 and is undefined (None) when the projection is zero. Projected expenses are
projected rent − projected NOI. Values are rounded half-up only in the returned assessment.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from app.domain.enums import Grade
from app.domain.money import quantize

DEFAULT_REQUIRED_DSCR = Decimal("1.25")
HUNDRED = Decimal(100)


@dataclass(frozen=True)
class Projection:
    rent: Decimal
    noi: Decimal
    cash_flow: Decimal
    dscr: Decimal

    @property
    def expenses(self) -> Decimal:
        return self.rent - self.noi


@dataclass(frozen=True)
class Actuals:
    rent: Decimal
    vacancy: Decimal
    expenses: Decimal
    cash_flow: Decimal
    dscr: Decimal


@dataclass(frozen=True)
class Assessment:
    cash_flow_variance: Decimal
    cash_flow_variance_pct: Decimal | None
    rent_variance: Decimal
    rent_variance_pct: Decimal | None
    expense_variance: Decimal
    expense_variance_pct: Decimal | None
    dscr_variance: Decimal
    flags: list[str]
    grade: Grade


def _pct(variance: Decimal, projected: Decimal) -> Decimal | None:
    return None if projected == 0 else variance / abs(projected) * HUNDRED


def assess(p: Projection, a: Actuals, required_dscr: Decimal | None) -> Assessment:
    req = DEFAULT_REQUIRED_DSCR if required_dscr is None else required_dscr
    cf_var = a.cash_flow - p.cash_flow
    rent_var = a.rent - p.rent
    exp_var = a.expenses - p.expenses
    dscr_var = a.dscr - p.dscr
    cf_pct, rent_pct, exp_pct = (
        _pct(cf_var, p.cash_flow),
        _pct(rent_var, p.rent),
        _pct(exp_var, p.expenses),
    )
    flags: list[str] = []
    if cf_pct is not None and cf_pct < -20:
        flags.append("significant_cash_flow_shortfall")
    elif cf_pct is not None and -20 <= cf_pct < -10:
        flags.append("moderate_cash_flow_shortfall")
    if dscr_var < Decimal("-0.2"):
        flags.append("dscr_below_projection")
    if a.dscr < req:
        flags.append("dscr_below_minimum")
    if rent_pct is not None and rent_pct < -15:
        flags.append("rent_collection_shortfall")
    if a.vacancy > Decimal("0.10"):
        flags.append("high_vacancy_rate")
    elif a.vacancy > Decimal("0.05"):
        flags.append("elevated_vacancy_rate")
    if exp_pct is not None and exp_pct > 20:
        flags.append("expense_overrun")
    if a.cash_flow < 0 or a.dscr < 1:
        grade = Grade.D
    elif a.cash_flow >= p.cash_flow and a.dscr >= req:
        grade = Grade.A
    elif (
        cf_pct is not None
        and cf_pct >= -10
        and a.dscr >= Decimal("0.9") * req
        and "expense_overrun" not in flags
        and "high_vacancy_rate" not in flags
    ):
        grade = Grade.B
    else:
        grade = Grade.C

    def q2(x: Decimal | None) -> Decimal | None:
        return None if x is None else quantize(x, 2)

    return Assessment(
        quantize(cf_var), q2(cf_pct), quantize(rent_var), q2(rent_pct), quantize(exp_var),
        q2(exp_pct), quantize(dscr_var), flags, grade,
    )  # fmt: skip


def performance_rate(grades: list[Grade]) -> Decimal | None:
    """Share of records graded A or B, × 100 (None with no records)."""
    if not grades:
        return None
    good = sum(1 for g in grades if g in (Grade.A, Grade.B))
    return quantize(Decimal(good * 100) / len(grades), 2)


def warning_level(rate: Decimal | None) -> str | None:
    if rate is None:
        return None
    if rate < 40:
        return "CRITICAL"
    if rate < 60:
        return "WARNING"
    return None


def engagement_score(
    rate: Decimal | None, records: int, mean_cf_variance: Decimal | None
) -> Decimal | None:
    """SPEC §9 buyer engagement: performance rate with bonuses and penalties, 0–100."""
    if rate is None:
        return None
    score = rate
    if records >= 10:
        score += 5
    elif records >= 5:
        score += 2
    if mean_cf_variance is not None:
        if mean_cf_variance > 100:
            score += 5
        if mean_cf_variance < -300:
            score -= 10
        elif mean_cf_variance < -100:
            score -= 5
    return quantize(min(HUNDRED, max(Decimal(0), score)), 2)
