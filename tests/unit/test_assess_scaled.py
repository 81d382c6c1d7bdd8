"""The integer grading used by "Recalculate all" agrees with ``assess`` (SPEC §9) on every
input: grade, flags, variances and the stored (rounded, clamped) percentages."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import example, given, settings
from hypothesis import strategies as st

from app.domain.postclose import Actuals, Projection, assess, assess_scaled
from app.services.postclose.regrade import period_assessment_columns

cents = st.integers(min_value=-5_000_000, max_value=5_000_000)
small = st.integers(min_value=-3, max_value=3)  # projections of a few cents: huge ratios
money = st.one_of(cents, small)
vacancy = st.integers(min_value=0, max_value=10_000)
dscr = st.integers(min_value=0, max_value=500)
req = st.one_of(st.none(), st.integers(min_value=50, max_value=200))


def _d(value: int, scale: int) -> Decimal:
    return Decimal(value).scaleb(-scale)


def _scaled(value: Decimal | None) -> int | None:
    return None if value is None else int(value.scaleb(2))


@settings(max_examples=2000, deadline=None)
@given(
    money.filter(lambda x: x >= 0), vacancy, money, money, dscr,
    money, money, money, dscr, req,
)  # fmt: skip
@example(1000, 0, 500, -200, 100, 1000, 500, 1000, 120, None)  # cf pct exactly −120
@example(850, 600, 0, 900, 125, 1000, 0, 1000, 125, None)  # rent pct exactly −15
@example(1000, 1000, 600, 800, 113, 1000, 500, 1000, 125, 125)  # pct −20, DSCR 0.9 × req
def test_assess_scaled_matches_assess(
    rent: int, vac: int, expenses: int, cf: int, actual_dscr: int,
    p_rent: int, p_noi: int, p_cf: int, p_dscr: int, required: int | None,
) -> None:  # fmt: skip
    reference = assess(
        Projection(_d(p_rent, 2), _d(p_noi, 2), _d(p_cf, 2), _d(p_dscr, 2)),
        Actuals(_d(rent, 2), _d(vac, 4), _d(expenses, 2), _d(cf, 2), _d(actual_dscr, 2)),
        None if required is None else _d(required, 2),
    )
    stored = period_assessment_columns(reference)
    fast = assess_scaled(
        rent, vac, expenses, cf, actual_dscr, p_rent, p_noi, p_cf, p_dscr,
        125 if required is None else required,
    )  # fmt: skip
    assert fast == (
        stored["grade"],
        stored["flags"],
        _scaled(stored["cash_flow_variance"]),
        _scaled(stored["cash_flow_variance_pct"]),
        _scaled(stored["rent_variance"]),
        _scaled(stored["rent_variance_pct"]),
        _scaled(stored["expense_variance"]),
        _scaled(stored["expense_variance_pct"]),
        _scaled(stored["dscr_variance"]),
    )


def test_a_box_just_below_60_percent_warns_though_its_rate_shows_60() -> None:
    from app.domain.enums import Grade
    from app.domain.postclose import box_warning, performance_rate

    grades = [Grade.A] * 2401 + [Grade.C] * 1601  # 59.995 %
    assert str(performance_rate(grades)) == "60.00"
    assert box_warning(grades) == "WARNING"
    assert box_warning([Grade.A] * 3 + [Grade.C] * 2) is None  # exactly 60 %
