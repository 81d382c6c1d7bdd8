"""SPEC §9: variances, flags, grades, buy-box performance rate, buyer engagement score."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from app.domain.enums import Grade
from app.domain.postclose import (
    Actuals,
    Projection,
    assess,
    engagement_score,
    performance_rate,
    warning_level,
)

PRO_FORMA = Projection(rent=D(2400), noi=D(1700), cash_flow=D(400), dscr=D("1.40"))


def actual(**kw: object) -> Actuals:
    base = dict(rent=D(2400), vacancy=D("0.03"), expenses=D(700), cash_flow=D(400), dscr=D("1.40"))
    base.update(kw)
    return Actuals(**base)  # type: ignore[arg-type]


def test_variances_are_actual_minus_projected_and_pct_over_abs_projected() -> None:
    a = assess(
        PRO_FORMA, actual(rent=D(2160), expenses=D(770), cash_flow=D(300), dscr=D("1.15")), None
    )
    assert a.cash_flow_variance == D("-100.00") and a.cash_flow_variance_pct == D("-25.00")
    assert a.rent_variance == D("-240.00") and a.rent_variance_pct == D("-10.00")
    assert a.expense_variance == D("70.00") and a.expense_variance_pct == D("10.00")  # 2400 − 1700
    assert a.dscr_variance == D("-0.25")


def test_pct_of_a_negative_projection_uses_its_absolute_value() -> None:
    p = Projection(rent=D(2000), noi=D(1500), cash_flow=D(-200), dscr=D("1.30"))
    assert assess(p, actual(cash_flow=D(-100)), None).cash_flow_variance_pct == D("50.00")


def test_pct_is_undefined_when_projected_is_zero() -> None:
    p = Projection(rent=D(2000), noi=D(1500), cash_flow=D(0), dscr=D("1.30"))
    assert assess(p, actual(cash_flow=D(50)), None).cash_flow_variance_pct is None


@pytest.mark.parametrize(
    ("cash_flow", "flag"),
    [
        (D(319), "significant_cash_flow_shortfall"),  # −20.25 %
        (D(320), "moderate_cash_flow_shortfall"),  # −20 % exactly: moderate
        (D(359), "moderate_cash_flow_shortfall"),  # −10.25 %
        (D(360), None),  # −10 %: no flag
    ],
)
def test_cash_flow_shortfall_flags_at_their_boundaries(cash_flow: D, flag: str | None) -> None:
    flags = assess(PRO_FORMA, actual(cash_flow=cash_flow), None).flags
    shortfall = [f for f in flags if f.endswith("cash_flow_shortfall")]
    assert shortfall == ([flag] if flag else [])


def test_dscr_below_projection_needs_more_than_point_two() -> None:
    assert "dscr_below_projection" not in assess(PRO_FORMA, actual(dscr=D("1.20")), None).flags
    assert "dscr_below_projection" in assess(PRO_FORMA, actual(dscr=D("1.19")), None).flags


def test_dscr_below_minimum_uses_the_buy_box_else_one_point_two_five() -> None:
    assert "dscr_below_minimum" in assess(PRO_FORMA, actual(dscr=D("1.24")), None).flags
    assert "dscr_below_minimum" not in assess(PRO_FORMA, actual(dscr=D("1.24")), D("1.20")).flags


def test_rent_collection_shortfall_below_minus_fifteen_pct() -> None:
    assert "rent_collection_shortfall" not in assess(PRO_FORMA, actual(rent=D(2040)), None).flags
    assert "rent_collection_shortfall" in assess(PRO_FORMA, actual(rent=D(2039)), None).flags


@pytest.mark.parametrize(
    ("vacancy", "flag"),
    [
        (D("0.05"), None),
        (D("0.0501"), "elevated_vacancy_rate"),
        (D("0.10"), "elevated_vacancy_rate"),
        (D("0.1001"), "high_vacancy_rate"),
    ],
)
def test_vacancy_flags(vacancy: D, flag: str | None) -> None:
    flags = [f for f in assess(PRO_FORMA, actual(vacancy=vacancy), None).flags if "vacancy" in f]
    assert flags == ([flag] if flag else [])


def test_expense_overrun_above_twenty_pct() -> None:
    assert "expense_overrun" not in assess(PRO_FORMA, actual(expenses=D(840)), None).flags
    assert "expense_overrun" in assess(PRO_FORMA, actual(expenses=D(841)), None).flags


def test_grade_d_for_negative_cash_flow_or_dscr_below_one() -> None:
    assert assess(PRO_FORMA, actual(cash_flow=D(-1)), None).grade is Grade.D
    assert assess(PRO_FORMA, actual(dscr=D("0.99")), None).grade is Grade.D


def test_grade_a_when_cash_flow_meets_projection_and_dscr_meets_required() -> None:
    assert assess(PRO_FORMA, actual(cash_flow=D(400), dscr=D("1.25")), None).grade is Grade.A
    assert assess(PRO_FORMA, actual(cash_flow=D(400), dscr=D("1.24")), None).grade is not Grade.A


def test_grade_b_within_ten_pct_and_ninety_pct_of_required_dscr() -> None:
    assert assess(PRO_FORMA, actual(cash_flow=D(360), dscr=D("1.125")), None).grade is Grade.B
    assert assess(PRO_FORMA, actual(cash_flow=D(359), dscr=D("1.30")), None).grade is Grade.C


def test_grade_b_is_lost_to_expense_overrun_or_high_vacancy() -> None:
    ok = dict(cash_flow=D(380), dscr=D("1.30"))
    assert assess(PRO_FORMA, actual(**ok), None).grade is Grade.B
    assert assess(PRO_FORMA, actual(expenses=D(900), **ok), None).grade is Grade.C
    assert assess(PRO_FORMA, actual(vacancy=D("0.11"), **ok), None).grade is Grade.C


def test_buy_box_performance_rate_and_warning_levels() -> None:
    assert performance_rate([]) is None
    rate = performance_rate([Grade.A, Grade.B, Grade.C, Grade.D, Grade.D])
    assert rate == D("40.00") and warning_level(rate) == "WARNING"
    assert warning_level(D("39.99")) == "CRITICAL"
    assert warning_level(D("60")) is None


@pytest.mark.parametrize(
    ("rate", "records", "mean_variance", "score"),
    [
        (D(50), 10, D(0), D("55.00")),  # +5 with 10 or more records
        (D(50), 5, D(0), D("52.00")),  # else +2 with 5 or more
        (D(50), 4, D("100.01"), D("55.00")),  # +5 when mean variance > $100
        (D(50), 4, D("-300.01"), D("40.00")),  # −10 when < −$300
        (D(50), 4, D("-100.01"), D("45.00")),  # else −5 when < −$100
        (D(98), 12, D(150), D("100.00")),  # clamped to 100
        (D(5), 1, D(-500), D("0.00")),  # clamped to 0
    ],
)
def test_buyer_engagement_score(rate: D, records: int, mean_variance: D, score: D) -> None:
    assert engagement_score(rate, records, mean_variance) == score
