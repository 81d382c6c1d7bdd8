"""SPEC §7 achievement and overall-score rules, with property-based checks."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.enums import TargetType
from app.domain.errors import ValidationError
from app.domain.kpis import (
    Scored,
    achievement_pct,
    check_in_range,
    check_target,
    check_weight,
    check_weights_total,
    find_cycle,
    overall_score,
    stored_pct,
    weights_warning,
)

HB, LB, EX = TargetType.HIGHER_BETTER, TargetType.LOWER_BETTER, TargetType.EXACT
amounts = st.decimals(min_value=D("-1000000"), max_value=D("1000000"), places=2)
positive = st.decimals(min_value=D("0.01"), max_value=D("1000000"), places=2)


@pytest.mark.parametrize(
    ("actual", "target", "kind", "expected"),
    [
        (D(8), D(10), HB, D("80.00")),
        (D(15), D(10), HB, D("150.00")),
        (D(0), D(10), HB, D("0.00")),
        (D(20), D(10), LB, D("50.00")),
        (D(5), D(10), LB, D("200.00")),
        (D(0), D(10), LB, D("100.00")),
        (D(10), D(10), EX, D("100.00")),
        (D(12), D(10), EX, D("80.00")),
        (D(25), D(10), EX, D("0.00")),
        (D(-5), D(-10), EX, D("50.00")),
        (D(1), D(3), HB, D("33.33")),
        (D(2), D(3), HB, D("66.67")),
    ],
)
def test_achievement_examples(actual: D, target: D, kind: TargetType, expected: D) -> None:
    assert stored_pct(achievement_pct(actual, target, kind)) == expected


@pytest.mark.parametrize("kind", list(TargetType))
def test_target_zero_is_not_scored(kind: TargetType) -> None:
    assert achievement_pct(D(5), D(0), kind) is None
    assert achievement_pct(D(0), D(0), kind) is None


@given(amounts, positive)
def test_higher_better_is_the_ratio(actual: D, target: D) -> None:
    assert achievement_pct(actual, target, HB) == actual / target * 100


@given(positive, positive)
def test_lower_better_is_the_inverse_ratio(actual: D, target: D) -> None:
    pct = achievement_pct(actual, target, LB)
    assert pct == target / actual * 100
    # Doing better (a smaller actual) never scores less.
    smaller = actual / 2
    if smaller > 0:
        better = achievement_pct(smaller, target, LB)
        assert better is not None and better >= pct  # type: ignore[operator]


@given(amounts, amounts.filter(lambda t: t != 0))
def test_exact_is_between_0_and_100_and_peaks_on_target(actual: D, target: D) -> None:
    pct = achievement_pct(actual, target, EX)
    assert pct is not None and D(0) <= pct <= D(100)
    assert achievement_pct(target, target, EX) == D(100)


parts = st.lists(
    st.tuples(
        st.decimals(min_value=D(0), max_value=D(100), places=2),
        st.one_of(st.none(), st.decimals(min_value=D(0), max_value=D(500), places=2)),
    ),
    max_size=12,
)


@given(parts)
def test_overall_score_is_the_weighted_mean_of_scored_parts(raw: list[tuple[D, D | None]]) -> None:
    score = overall_score(Scored(w, a) for w, a in raw)
    scored = [(w, a) for w, a in raw if a is not None]
    weight = sum((w for w, _ in scored), D(0))
    if weight == 0:
        assert score is None
        return
    assert score is not None
    exact = sum((w * a for w, a in scored), D(0)) / weight
    assert abs(score - exact) <= D("0.005")
    assert score == score.quantize(D("0.01"))
    low = min(a for w, a in scored if w > 0)
    high = max(a for w, a in scored if w > 0)
    assert low - D("0.005") <= score <= high + D("0.005")


def test_overall_score_example() -> None:
    # 40 × 80 + 60 × 100 = 9200 → / 100 = 92.00; the unscored part is left out.
    assert overall_score([Scored(D(40), D(80)), Scored(D(60), D(100)), Scored(D(10), None)]) == D(
        "92.00"
    )
    assert overall_score([Scored(D(1), D("33.335"))]) == D("33.34")  # half-up


def test_weights() -> None:
    check_weight(D("12.5"))
    for bad in (D(-1), D("100.01"), D("1.234")):
        with pytest.raises(ValidationError):
            check_weight(bad)
    assert weights_warning([D(50), D(50)]) is None
    assert weights_warning([D(50), D(40)]) == "Weights add up to 90, not 100."
    with pytest.raises(ValidationError, match="add up to 0"):
        check_weights_total([D(0), D(0)])
    check_weights_total([])


def test_targets_and_ranges() -> None:
    with pytest.raises(ValidationError, match="lower-is-better"):
        check_target(D(0), LB)
    with pytest.raises(ValidationError):
        check_target(D(-3), LB)
    check_target(D(-3), EX)
    with pytest.raises(ValidationError, match="below the allowed minimum 1"):
        check_in_range(D("0.5"), D(1), D(5))
    with pytest.raises(ValidationError, match="above the allowed maximum 5"):
        check_in_range(D("5.5"), D(1), D(5))
    check_in_range(D(5), D(1), D(5))


def test_find_cycle() -> None:
    assert find_cycle({"a": ["b"], "b": ["c"], "c": []}) is None
    assert find_cycle({"a": ["b"], "b": ["c"], "c": ["a"]}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": ["a"]}) == ["a", "a"]
