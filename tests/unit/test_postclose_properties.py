"""Property-based tests of SPEC §9 (post-close performance) against an independent oracle.

The oracle below re-states each flag and grade definition of SPEC §9 from its text, with
exact arithmetic: a percentage comparison ``variance / |projected| × 100 < k`` is written as
``variance × 100 < k × |projected|`` (no division, no rounding), which is only defined when the
projection is not zero; a ``…_pct`` is undefined (None) at a zero projection (SPEC §9 and the
module docstring of app/domain/postclose.py), so a flag defined by a percentage does not apply.
"""

from __future__ import annotations

import itertools
import math
from decimal import Decimal as D
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.enums import Grade
from app.domain.postclose import (
    Actuals,
    Assessment,
    Projection,
    assess,
    engagement_score,
    performance_rate,
    warning_level,
)

DEFAULT_REQ = D("1.25")  # SPEC §9: 1.25 where the buy box has no minimum DSCR
PROPS = settings(max_examples=300, deadline=None)


# ---------------------------------------------------------------------------- the oracle


def _pct_below(variance: D, projected: D, k: int) -> bool:
    """variance / |projected| × 100 < k; False when the pct is undefined (projected 0)."""
    return projected != 0 and variance * 100 < k * abs(projected)


def _pct_at_least(variance: D, projected: D, k: int) -> bool:
    return projected != 0 and variance * 100 >= k * abs(projected)


def _pct_above(variance: D, projected: D, k: int) -> bool:
    return projected != 0 and variance * 100 > k * abs(projected)


def oracle_flags(p: Projection, a: Actuals, req: D) -> set[str]:
    cf_var = a.cash_flow - p.cash_flow
    rent_var = a.rent - p.rent
    projected_expenses = p.rent - p.noi  # SPEC: projected rent − projected NOI
    exp_var = a.expenses - projected_expenses
    flags = set()
    if _pct_below(cf_var, p.cash_flow, -20):
        flags.add("significant_cash_flow_shortfall")
    if _pct_at_least(cf_var, p.cash_flow, -20) and _pct_below(cf_var, p.cash_flow, -10):
        flags.add("moderate_cash_flow_shortfall")
    if a.dscr - p.dscr < D("-0.2"):
        flags.add("dscr_below_projection")
    if a.dscr < req:
        flags.add("dscr_below_minimum")
    if _pct_below(rent_var, p.rent, -15):
        flags.add("rent_collection_shortfall")
    if a.vacancy > D("0.10"):
        flags.add("high_vacancy_rate")
    if D("0.05") < a.vacancy <= D("0.10"):
        flags.add("elevated_vacancy_rate")
    if _pct_above(exp_var, projected_expenses, 20):
        flags.add("expense_overrun")
    return flags


def oracle_grade(p: Projection, a: Actuals, req: D, *, zero_projection_met: bool) -> Grade:
    """SPEC §9 grade, first that holds.

    ``zero_projection_met`` decides B's "cash-flow pct ≥ −10" when the projected cash flow is
    0 (pct undefined): False reads it literally (an undefined pct is not ≥ −10); True reads it
    as "variance ≥ −10 % of |projected|", i.e. variance ≥ 0, the limit on both sides of 0.
    """
    flags = oracle_flags(p, a, req)
    cf_var = a.cash_flow - p.cash_flow
    if a.cash_flow < 0 or a.dscr < D("1.00"):
        return Grade.D
    if a.cash_flow >= p.cash_flow and a.dscr >= req:
        return Grade.A
    if p.cash_flow == 0:
        within_ten = zero_projection_met and cf_var >= 0
    else:
        within_ten = _pct_at_least(cf_var, p.cash_flow, -10)
    if (
        within_ten
        and a.dscr >= D("0.9") * req
        and "expense_overrun" not in flags
        and "high_vacancy_rate" not in flags
    ):
        return Grade.B
    return Grade.C


def _rounded_pct(variance: D, projected: D) -> Fraction:
    """The exact pct rounded half-up (away from zero) to 2 decimals."""
    exact = Fraction(variance) * 100 / abs(Fraction(projected))
    cents = abs(exact) * 100
    rounded = Fraction(math.floor(cents + Fraction(1, 2)), 100)
    return rounded if exact >= 0 else -rounded


# ---------------------------------------------------------------------------- strategies


def money(low: str, high: str) -> st.SearchStrategy[D]:
    return st.decimals(
        min_value=D(low), max_value=D(high), places=2, allow_nan=False, allow_infinity=False
    )


ratio = st.decimals(
    min_value=D(0), max_value=D("4.00"), places=2, allow_nan=False, allow_infinity=False
)
vacancy = st.one_of(
    st.sampled_from([D("0"), D("0.05"), D("0.0501"), D("0.10"), D("0.1001"), D("1")]),
    st.decimals(min_value=D(0), max_value=D(1), places=4, allow_nan=False, allow_infinity=False),
)
required_dscr = st.one_of(
    st.none(),
    st.sampled_from([D("0.50"), D("1.00"), D("1.20"), D("1.25"), D("1.30"), D("2.00")]),
    st.decimals(
        min_value=D("0.5"), max_value=D("2.0"), places=2, allow_nan=False, allow_infinity=False
    ),
)


def amounts(low: int, high: int) -> st.SearchStrategy[D]:
    """Any cents in [low, high], or a round amount (a multiple of $25, zero included) whose
    10, 15 and 20 % are whole cents, so that SPEC's percentage boundaries can be hit exactly."""
    return st.one_of(
        st.integers(low // 25, high // 25).map(lambda k: D(k * 25).quantize(D("0.01"))),
        money(str(low), str(high)),
    )


projections = st.builds(
    Projection,
    rent=amounts(0, 20000),
    noi=amounts(-5000, 20000),
    cash_flow=amounts(-1000, 10000),
    dscr=ratio,
)
# Boundaries of SPEC §9 in % of |projected|: cash flow −10/−20, rent −15, expenses +20
# (first, as hypothesis favours the first of a sampled_from), then other shifts.
OTHER_SHIFTS = (0, -100, -25, -5, 5, 25, 50)
NUDGES = (D(0), D("-0.01"), D("0.01"))


@st.composite
def near(draw: st.DrawFn, projected: D, free: st.SearchStrategy[D], *boundaries: int) -> D:
    """An actual on or a cent next to a percentage boundary of ``projected``, or any value."""
    if draw(st.booleans()):
        return draw(free)
    shift = draw(st.sampled_from((*boundaries, *OTHER_SHIFTS)))
    return (projected + abs(projected) * shift / 100 + draw(st.sampled_from(NUDGES))).quantize(
        D("0.01")
    )


@st.composite
def cases(draw: st.DrawFn) -> tuple[Projection, Actuals, D | None]:
    p = draw(projections)
    req = draw(required_dscr)
    cf = draw(near(p.cash_flow, amounts(-500, 15000), -10, -20))
    rent = max(D("0.00"), draw(near(p.rent, amounts(0, 25000), -15)))
    expenses = max(D("0.00"), draw(near(p.expenses, amounts(0, 25000), 20)))
    r = req if req is not None else DEFAULT_REQ
    # DSCRs are stored with 2 decimals (NUMERIC(6,2)); 0.9 × req is one when req is in tenths.
    boundaries = [
        D("0.9") * r, p.dscr - D("0.2"), r, D("1.00"), D("0.9") * r - D("0.01"),
        p.dscr - D("0.21"), r - D("0.01"), D("0.99"), D("0.9") * r + D("0.01"),
        p.dscr - D("0.19"),
    ]  # fmt: skip
    candidates = [b.quantize(D("0.01")) for b in boundaries if b >= 0]
    # A negative NOI gives a negative DSCR (rentroll docstring); mostly ≥ 0.8: few D grades.
    free = st.decimals(min_value=D("-0.50"), max_value=D("3.00"), places=2)
    actual_dscr = draw(free) if draw(st.booleans()) else draw(st.sampled_from(candidates))
    a = Actuals(rent=rent, vacancy=draw(vacancy), expenses=expenses, cash_flow=cf, dscr=actual_dscr)
    return p, a, req


@st.composite
def b_or_c_cases(draw: st.DrawFn) -> tuple[Projection, Actuals, D | None]:
    """A positive projection missed by about 10 %, a DSCR about 0.9 × req: B against C."""
    p = Projection(
        rent=D(draw(st.integers(40, 800)) * 25),
        noi=D(draw(st.integers(20, 400)) * 25),
        cash_flow=D(draw(st.integers(1, 400)) * 25),
        dscr=draw(ratio),
    )
    req = draw(st.sampled_from([None, D("1.20"), D("1.30"), D("1.50"), D("1.10")]))
    r = DEFAULT_REQ if req is None else req
    cf = p.cash_flow * D("0.9") + draw(st.sampled_from(NUDGES)) * draw(st.integers(0, 3))
    dscr_a = max(D(1), (D("0.9") * r).quantize(D("0.01")) + draw(st.sampled_from(NUDGES)))
    expenses = (p.expenses * D("1.2") + draw(st.sampled_from(NUDGES))).quantize(D("0.01"))
    vac = draw(st.sampled_from([D("0.10"), D("0.1001"), D("0.05"), D("0.0501"), D("0.03")]))
    a = Actuals(rent=p.rent, vacancy=vac, expenses=max(D(0), expenses), cash_flow=cf, dscr=dscr_a)
    return p, a, req


# ---------------------------------------------------------------------------- assess


@PROPS
@given(cases())
def test_variances_are_actual_minus_projected(case: tuple[Projection, Actuals, D | None]) -> None:
    p, a, req = case
    got = assess(p, a, req)
    assert got.cash_flow_variance == a.cash_flow - p.cash_flow
    assert got.rent_variance == a.rent - p.rent
    assert got.expense_variance == a.expenses - (p.rent - p.noi)
    assert got.dscr_variance == a.dscr - p.dscr


@PROPS
@given(cases())
def test_pct_is_none_exactly_when_projected_is_zero(
    case: tuple[Projection, Actuals, D | None],
) -> None:
    p, a, req = case
    got = assess(p, a, req)
    for pct, variance, projected in (
        (got.cash_flow_variance_pct, a.cash_flow - p.cash_flow, p.cash_flow),
        (got.rent_variance_pct, a.rent - p.rent, p.rent),
        (got.expense_variance_pct, a.expenses - (p.rent - p.noi), p.rent - p.noi),
    ):
        assert (pct is None) == (projected == 0)
        if pct is not None:
            assert pct.as_tuple().exponent == -2  # shown with 2 decimals
            assert Fraction(pct) == _rounded_pct(variance, projected)


@PROPS
@given(st.one_of(cases(), b_or_c_cases()))
def test_flags_are_those_of_spec(case: tuple[Projection, Actuals, D | None]) -> None:
    p, a, req = case
    flags = assess(p, a, req).flags
    assert len(flags) == len(set(flags))
    assert set(flags) == oracle_flags(p, a, DEFAULT_REQ if req is None else req)
    assert not {"moderate_cash_flow_shortfall", "significant_cash_flow_shortfall"} <= set(flags)
    assert not {"high_vacancy_rate", "elevated_vacancy_rate"} <= set(flags)


@PROPS
@given(st.one_of(cases(), b_or_c_cases()))
def test_grade_is_the_first_of_spec_that_holds(case: tuple[Projection, Actuals, D | None]) -> None:
    p, a, req = case
    r = DEFAULT_REQ if req is None else req
    # docs/rules.md: with a zero projected cash flow, "pct ≥ −10" reads as "not below it".
    expected = oracle_grade(p, a, r, zero_projection_met=True)
    got = assess(p, a, req)
    assert got.grade is expected
    if got.grade is Grade.D:
        assert a.cash_flow < 0 or a.dscr < 1


def test_flags_and_grade_on_every_boundary_of_spec() -> None:
    """Exhaustively, actuals on and a cent either side of each §9 threshold (flags, grade)."""
    projections = [
        Projection(rent=D(2000), noi=D(1500), cash_flow=D(400), dscr=D("1.40")),
        Projection(rent=D(1000), noi=D(1100), cash_flow=D(-200), dscr=D("1.10")),  # negatives
        Projection(rent=D(0), noi=D(0), cash_flow=D(0), dscr=D(0)),  # all zero
    ]
    checked = 0
    for p, req in itertools.product(projections, (None, D("1.20"), D("1.25"), D("1.30"))):
        r = DEFAULT_REQ if req is None else req
        dscrs = {
            (x + n).quantize(D("0.01"))
            for x in (r, D("0.9") * r, D(1), p.dscr - D("0.2"))
            for n in NUDGES
        }
        for cf_s, rent_s, exp_s, n, dscr_a, vac in itertools.product(
            (-20, -10, 0), (-15, 0), (20, 0), NUDGES, sorted(dscrs),
            (D("0.05"), D("0.0501"), D("0.10"), D("0.1001")),
        ):  # fmt: skip
            a = Actuals(
                rent=max(D(0), p.rent + abs(p.rent) * rent_s / 100 + n),
                vacancy=vac,
                expenses=max(D(0), p.expenses + abs(p.expenses) * exp_s / 100 + n),
                cash_flow=p.cash_flow + abs(p.cash_flow) * cf_s / 100 + n,
                dscr=dscr_a,
            )
            got = assess(p, a, req)
            assert set(got.flags) == oracle_flags(p, a, r), (p, a, req)
            assert got.grade is oracle_grade(p, a, r, zero_projection_met=True), (p, a, req)
            checked += 1
    assert checked > 5000


@PROPS
@given(cases())
def test_no_required_dscr_is_the_same_as_one_point_two_five(
    case: tuple[Projection, Actuals, D | None],
) -> None:
    p, a, _ = case
    assert assess(p, a, None) == assess(p, a, D("1.25"))


def test_assessment_is_rounded_only_at_the_end() -> None:
    # −1/3 of the projection: the pct is −33.33…, shown as −33.33; flags use the exact value.
    p = Projection(rent=D(3), noi=D(2), cash_flow=D(3), dscr=D("1.50"))
    a = Actuals(rent=D(2), vacancy=D(0), expenses=D(1), cash_flow=D(2), dscr=D("1.50"))
    got = assess(p, a, None)
    assert got == Assessment(
        cash_flow_variance=D("-1.00"), cash_flow_variance_pct=D("-33.33"),
        rent_variance=D("-1.00"), rent_variance_pct=D("-33.33"),
        expense_variance=D("0.00"), expense_variance_pct=D("0.00"),
        dscr_variance=D("0.00"),
        flags=["significant_cash_flow_shortfall", "rent_collection_shortfall"],
        grade=Grade.C,
    )  # fmt: skip


ZERO_CF = Projection(rent=D(1000), noi=D(800), cash_flow=D(0), dscr=D("1.30"))
MET = Actuals(rent=D(1000), vacancy=D(0), expenses=D(200), cash_flow=D(50), dscr=D("1.20"))


@pytest.mark.parametrize("projected", [D("-0.01"), D("0.01"), D("1.00")])
def test_beating_a_near_zero_cash_flow_projection_earns_b(projected: D) -> None:
    p = Projection(ZERO_CF.rent, ZERO_CF.noi, projected, ZERO_CF.dscr)
    assert assess(p, MET, None).grade is Grade.B  # DSCR 1.20 < 1.25 but ≥ 0.9 × 1.25


def test_meeting_a_zero_cash_flow_projection_can_earn_b() -> None:
    got = assess(ZERO_CF, MET, None)
    assert got.cash_flow_variance_pct is None and got.flags == ["dscr_below_minimum"]
    assert got.grade is Grade.B


# ---------------------------------------------------------------------------- buy box


grades = st.lists(st.sampled_from(list(Grade)), max_size=120)


@PROPS
@given(grades)
def test_performance_rate_is_the_a_or_b_share_times_100(gs: list[Grade]) -> None:
    rate = performance_rate(gs)
    if not gs:
        assert rate is None
        return
    assert rate is not None
    good = sum(1 for g in gs if g in (Grade.A, Grade.B))
    exact = Fraction(100 * good, len(gs))
    assert Fraction(rate) == Fraction(math.floor(exact * 100 + Fraction(1, 2)), 100)
    assert rate.as_tuple().exponent == -2
    assert 0 <= rate <= 100


@pytest.mark.parametrize(
    ("gs", "rate"),
    [
        ([], None),
        ([Grade.A], D("100.00")),
        ([Grade.C, Grade.D], D("0.00")),
        ([Grade.A, Grade.B, Grade.C], D("66.67")),
        ([Grade.B, Grade.C, Grade.D], D("33.33")),
        ([Grade.A, Grade.B, Grade.B, Grade.C, Grade.D], D("60.00")),
        ([Grade.A, Grade.B, Grade.C, Grade.C, Grade.D], D("40.00")),
    ],
)
def test_performance_rate_examples(gs: list[Grade], rate: D | None) -> None:
    assert performance_rate(gs) == rate


def oracle_level(rate: D | None) -> str | None:
    if rate is None:
        return None
    if rate < 40:
        return "CRITICAL"
    if rate < 60:
        return "WARNING"
    return None


@PROPS
@given(
    st.one_of(
        st.none(),
        st.decimals(min_value=D(0), max_value=D(100), places=2),
        st.decimals(min_value=D("39.9"), max_value=D("40.1"), places=4),
        st.decimals(min_value=D("59.9"), max_value=D("60.1"), places=4),
    )
)
def test_warning_level_thresholds(rate: D | None) -> None:
    assert warning_level(rate) == oracle_level(rate)


@pytest.mark.parametrize(
    ("rate", "level"),
    [
        (D("100"), None),
        (D("60"), None),
        (D("60.00"), None),
        (D("59.99"), "WARNING"),
        (D("40"), "WARNING"),
        (D("40.00"), "WARNING"),
        (D("39.99"), "CRITICAL"),
        (D("0"), "CRITICAL"),
        (None, None),
    ],
)
def test_warning_level_boundaries(rate: D | None, level: str | None) -> None:
    assert warning_level(rate) == level


# ---------------------------------------------------------------------------- buyer score


def oracle_score(rate: D | None, records: int, mean: D | None) -> D | None:
    if rate is None:
        return None
    score = rate
    if records >= 10:
        score += 5
    elif records >= 5:
        score += 2
    if mean is not None and mean > 100:
        score += 5
    if mean is not None and mean < -300:
        score -= 10
    elif mean is not None and mean < -100:
        score -= 5
    return min(D(100), max(D(0), score))


MEAN_BOUNDARIES = [D(v) for v in ("100", "100.01", "99.99", "-100", "-100.01", "-99.99",
                                  "-300", "-300.01", "-299.99", "0")]  # fmt: skip


@PROPS
@given(
    rate=st.one_of(st.none(), st.decimals(min_value=D(0), max_value=D(100), places=2)),
    records=st.one_of(st.sampled_from([0, 1, 4, 5, 9, 10, 11]), st.integers(0, 500)),
    mean=st.one_of(st.none(), st.sampled_from(MEAN_BOUNDARIES), money("-2000", "2000")),
)
def test_engagement_score(rate: D | None, records: int, mean: D | None) -> None:
    score = engagement_score(rate, records, mean)
    expected = oracle_score(rate, records, mean)
    assert score == expected
    if score is not None:
        assert D(0) <= score <= D(100)
        assert score.as_tuple().exponent == -2


@pytest.mark.parametrize(
    ("rate", "records", "mean", "score"),
    [
        (D(50), 4, D(0), D("50.00")),
        (D(50), 5, D(0), D("52.00")),  # +2 with 5 or more
        (D(50), 9, D(0), D("52.00")),
        (D(50), 10, D(0), D("55.00")),  # +5 with 10 or more (not +7)
        (D(50), 4, D(100), D("50.00")),  # exactly $100: no bonus
        (D(50), 4, D("100.01"), D("55.00")),
        (D(50), 4, D(-100), D("50.00")),  # exactly −$100: no penalty
        (D(50), 4, D("-100.01"), D("45.00")),
        (D(50), 4, D(-300), D("45.00")),  # exactly −$300: the −5 penalty, not −10
        (D(50), 4, D("-300.01"), D("40.00")),
        (D(50), 10, D(150), D("60.00")),
        (D(97), 10, D(150), D("100.00")),  # clamped to 100
        (D(8), 4, D(-500), D("0.00")),  # clamped to 0
        (D(10), 4, D(-500), D("0.00")),  # exactly 0
        (D(90), 10, D(101), D("100.00")),  # exactly 100
        (D("33.33"), 5, None, D("35.33")),
        (None, 0, None, None),
    ],
)
def test_engagement_score_boundaries(
    rate: D | None, records: int, mean: D | None, score: D | None
) -> None:
    assert engagement_score(rate, records, mean) == score
