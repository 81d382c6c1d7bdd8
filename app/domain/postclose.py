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
        # With a projection of zero the pct is undefined: within 10 % then means not below it.
        (cf_pct >= -10 if cf_pct is not None else cf_var >= 0)
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


def _share(grades: list[Grade]) -> Decimal | None:
    if not grades:
        return None
    good = sum(1 for g in grades if g in (Grade.A, Grade.B))
    return Decimal(good * 100) / len(grades)


def performance_rate(grades: list[Grade]) -> Decimal | None:
    """Share of records graded A or B, × 100 (None with no records), to 2 decimals."""
    share = _share(grades)
    return None if share is None else quantize(share, 2)


def box_warning(grades: list[Grade]) -> str | None:
    """The buy box's level, from the exact share: 2,401 of 4,002 (59.995 %, shown 60.00 %)
    is still below 60."""
    return warning_level(_share(grades))


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


# -- the same rules on scaled integers, for grading hundreds of thousands of stored periods ---

PCT_LIMIT_SCALED = 999_999_999  # NUMERIC(9,2): ±9,999,999.99


def _pct_scaled(variance: int, projected_abs: int) -> int | None:
    """variance / |projected| × 100 in hundredths, rounded half-up (away from zero on a tie)
    as ``quantize`` rounds it, clamped to what NUMERIC(9,2) holds; None when projected is 0."""
    if projected_abs == 0:
        return None
    q, r = divmod(abs(variance) * 10_000, projected_abs)
    if 2 * r >= projected_abs:
        q += 1
    return min(q, PCT_LIMIT_SCALED) * (-1 if variance < 0 else 1)


def assess_scaled(
    rent: int, vacancy: int, expenses: int, cash_flow: int, dscr: int,
    p_rent: int, p_noi: int, p_cash_flow: int, p_dscr: int, req: int,
) -> tuple[str, list[str], int, int | None, int, int | None, int, int | None, int]:  # fmt: skip
    """``assess`` on integers: money in cents, vacancy in 1/10,000, DSCR (and ``req``) in 1/100.

    Returns what is stored — grade, flags, cash-flow variance and pct, rent variance and pct,
    expense variance and pct, DSCR variance — money in cents and pcts in hundredths of a
    percent. Each threshold on a pct is compared exactly, cross-multiplied (pct < −20 ⇔
    100·variance < −20·|projected|). Tested equal to ``assess`` by property tests.
    """
    cf_var = cash_flow - p_cash_flow
    rent_var = rent - p_rent
    p_expenses = p_rent - p_noi
    exp_var = expenses - p_expenses
    dscr_var = dscr - p_dscr
    a_cf, a_rent, a_exp = abs(p_cash_flow), abs(p_rent), abs(p_expenses)
    flags: list[str] = []
    if a_cf and cf_var * 5 < -a_cf:
        flags.append("significant_cash_flow_shortfall")
    elif a_cf and cf_var * 10 < -a_cf:
        flags.append("moderate_cash_flow_shortfall")
    if dscr_var < -20:
        flags.append("dscr_below_projection")
    if dscr < req:
        flags.append("dscr_below_minimum")
    if a_rent and rent_var * 20 < -3 * a_rent:
        flags.append("rent_collection_shortfall")
    if vacancy > 1000:
        flags.append("high_vacancy_rate")
    elif vacancy > 500:
        flags.append("elevated_vacancy_rate")
    overrun = bool(a_exp) and exp_var * 5 > a_exp
    if overrun:
        flags.append("expense_overrun")
    if cash_flow < 0 or dscr < 100:
        grade = "D"
    elif cash_flow >= p_cash_flow and dscr >= req:
        grade = "A"
    # ``cf_var * 10 >= -a_cf`` is pct ≥ −10, and with a zero projection cf_var ≥ 0 (``assess``)
    elif cf_var * 10 >= -a_cf and dscr * 10 >= 9 * req and not overrun and vacancy <= 1000:
        grade = "B"
    else:
        grade = "C"
    return (
        grade, flags, cf_var, _pct_scaled(cf_var, a_cf), rent_var, _pct_scaled(rent_var, a_rent),
        exp_var, _pct_scaled(exp_var, a_exp), dscr_var,
    )  # fmt: skip
