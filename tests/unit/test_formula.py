"""Formula KPIs: what may be written, and what evaluating gives (or why it gives nothing)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.formula import Formula, FormulaError, check_input_name


def test_evaluates_with_decimals() -> None:
    f = Formula.parse("converted / leads * 100", {"converted": 1, "leads": 1})
    assert f.names == ("converted", "leads")
    assert f.evaluate({"converted": D(1), "leads": D(8)}) == D("12.5")
    assert Formula.parse("0.1 + 0.2").evaluate({}) == D("0.3")  # decimals, not floats
    assert Formula.parse("max(a, b) - min(a, b) + abs(-a)").evaluate({"a": D(2), "b": D(5)}) == D(5)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("a +", "not a valid expression"),
        ("a; b", "not a valid expression"),
        ("a ** 2", r"Only \+ - \* /"),
        ("a // 2", r"Only \+ - \* /"),
        ("a.real", "Only arithmetic"),
        ("a == b", "Only arithmetic"),
        ("'x'", "Only numbers"),
        ("True + 1", "Only numbers"),
        ("open('f')", "Only the functions"),
        ("__import__('os').system('x')", "Only"),
        ("[a, b]", "Only arithmetic"),
        ("lambda: 1", "Only arithmetic"),
        ("max", "is a function"),
        ("abs(a, b)", "exactly one"),
        ("max()", "one or more"),
    ],
)
def test_refused_when_saved(text: str, message: str) -> None:
    with pytest.raises(FormulaError, match=message):
        Formula.parse(text)


def test_unknown_names_are_listed() -> None:
    with pytest.raises(FormulaError, match="Unknown names in the formula: x, y"):
        Formula.parse("a + x + y", {"a": 1})


def test_no_value_reasons() -> None:
    f = Formula.parse("a / b")
    with pytest.raises(FormulaError, match="Division by zero"):
        f.evaluate({"a": D(1), "b": D(0)})
    with pytest.raises(FormulaError, match="Division by zero"):
        f.evaluate({"a": D(0), "b": D(0)})
    with pytest.raises(FormulaError, match="No value for b"):
        f.evaluate({"a": D(1), "b": None})


def test_input_names() -> None:
    check_input_name("closed_won_2")
    for bad in ("2x", "a-b", "", "max", "x" * 41):
        with pytest.raises(FormulaError):
            check_input_name(bad)


small = st.decimals(min_value=D(-10000), max_value=D(10000), places=2)


@given(small, small, small)
def test_matches_decimal_arithmetic(a: D, b: D, c: D) -> None:
    f = Formula.parse("(a + b) * c - a / 4")
    assert f.evaluate({"a": a, "b": b, "c": c}) == (a + b) * c - a / D(4)
