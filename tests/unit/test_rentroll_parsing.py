"""Rent-roll and pro-forma entry (SPEC §9, §11; rules of app/domain/rentroll.py's docstring).

Pure domain: every parser with good and bad text, the cross-field rules of one period and of
one record, FieldErrors naming every bad field at once, and stored values shown back as text
that parse to the same values.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.errors import ValidationError
from app.domain.rentroll import (
    LABELS,
    MONEY_LIMIT,
    FieldErrors,
    PeriodValues,
    RecordValues,
    assumptions,
    check_month,
    dscr,
    has_loan,
    iso_date,
    loan_type,
    market_key,
    money,
    notes,
    parse_period,
    parse_record,
    period_texts,
    rate,
    ref,
    signed_money,
    strategy,
    vacancy,
    whole,
)

LOANS = ("DSCR", "conventional", "commercial")
NO_LOAN = ("cash", None)


def _same(got: object, want: object) -> None:
    """Equal value and, for a Decimal, the same number of decimals (the stored scale)."""
    assert got == want
    if isinstance(want, D):
        assert isinstance(got, D)
        assert got.as_tuple().exponent == want.as_tuple().exponent, (got, want)


def _refused(parse: Callable[[str], object], text: str, *words: str) -> str:
    with pytest.raises(ValueError) as info:
        parse(text)
    message = str(info.value)
    for word in words:
        assert word.casefold() in message.casefold(), (text, message)
    return message


# ---------------------------------------------------------------------------- money


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1200", D("1200.00")),
        ("$1,200.50", D("1200.50")),
        (" 3.5 ", D("3.50")),
        ("0", D("0.00")),
        ("1.005", D("1.01")),  # half-up to cents
        ("1.004", D("1.00")),
        ("2.675", D("2.68")),  # exact Decimal, not float 2.67499…
        ("99999999999999.99", D("99999999999999.99")),  # the largest NUMERIC(16,2)
        ("1e3", D("1000.00")),
    ],
)
def test_money_accepts(text: str, value: D) -> None:
    _same(money(text), value)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("-1", ("negative", "-1")),
        ("-0.01", ("negative",)),
        ("$-250", ("negative",)),
        ("abc", ("not a number", "abc")),
        ("12a", ("not a number",)),
        ("1.2.3", ("not a number",)),
        ("NaN", ("not a finite number",)),
        ("Infinity", ("not a finite number",)),
        ("100000000000000", ("too large",)),
        ("1e14", ("too large",)),
        ("", ("empty",)),
    ],
)
def test_money_refuses(text: str, words: tuple[str, ...]) -> None:
    _refused(money, text, *words)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("-250.5", D("-250.50")),
        ("-$1,000", D("-1000.00")),
        ("0", D("0.00")),
        ("-99999999999999.99", D("-99999999999999.99")),
        ("-1.005", D("-1.01")),  # half-up is away from zero
    ],
)
def test_signed_money_accepts_negative_values(text: str, value: D) -> None:
    _same(signed_money(text), value)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("-100000000000000", ("too large",)),
        ("1e20", ("too large",)),
        ("x", ("not a number",)),
        ("-inf", ("not a finite number",)),
    ],
)
def test_signed_money_refuses(text: str, words: tuple[str, ...]) -> None:
    _refused(signed_money, text, *words)


@pytest.mark.parametrize("text", ["99999999999999.995", "-99999999999999.999"])
def test_money_that_rounds_up_to_the_limit_is_refused(text: str) -> None:
    # Below 10^14 as typed, 10^14 once rounded to cents: it would not fit NUMERIC(16,2).
    _refused(signed_money, text, "too large")


def test_money_just_below_the_limit_after_rounding_is_accepted() -> None:
    value = signed_money("99999999999999.994")
    _same(value, D("99999999999999.99"))
    assert value < MONEY_LIMIT


# ---------------------------------------------------------------------------- vacancy


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0.05", D("0.0500")),  # a fraction
        ("5%", D("0.0500")),  # a percentage with its sign
        (" 7 % ", D("0.0700")),
        ("5", D("0.0500")),  # a bare number above 1 is a percentage
        ("12.5", D("0.1250")),
        ("1", D("1.0000")),  # "1" is 100 %
        ("1%", D("0.0100")),
        ("100", D("1.0000")),
        ("100%", D("1.0000")),
        ("0", D("0.0000")),
        ("0%", D("0.0000")),
        ("0.5%", D("0.0050")),
        ("0.12345", D("0.1235")),  # four decimals, half-up
        ("0.00005", D("0.0001")),
    ],
)
def test_vacancy_accepts(text: str, value: D) -> None:
    _same(vacancy(text), value)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("-0.05", ("outside", "0–1")),
        ("-5%", ("outside", "0–1")),
        ("101", ("outside", "0–1")),
        ("150%", ("outside", "0–1")),
        ("100.01", ("outside",)),
        ("abc", ("not a number",)),
        ("5%%", ("not a number",)),
        ("five", ("not a number",)),
        ("NaN", ("not a finite number",)),
    ],
)
def test_vacancy_refuses(text: str, words: tuple[str, ...]) -> None:
    _refused(vacancy, text, *words)


# ---------------------------------------------------------------------------- DSCR and rates


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1.25", D("1.25")),
        ("0", D("0.00")),
        ("1.255", D("1.26")),
        (" 2 ", D("2.00")),
        ("9999.99", D("9999.99")),
        ("-0.5", D("-0.50")),  # a negative NOI gives a negative DSCR
        ("-9999.99", D("-9999.99")),
    ],
)
def test_dscr_accepts(text: str, value: D) -> None:
    _same(dscr(text), value)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("10000", ("too large", "9999.99")),
        ("-10000", ("too large", "9999.99")),
        ("9999.995", ("too large",)),
        ("x", ("not a number",)),
        ("1,2x", ("not a number",)),
    ],
)
def test_dscr_refuses(text: str, words: tuple[str, ...]) -> None:
    _refused(dscr, text, *words)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("6.5%", D("0.0650")),
        ("6.5", D("0.0650")),  # a bare number above 1 is a percentage
        ("0.065", D("0.0650")),
        ("80", D("0.8000")),
        ("80%", D("0.8000")),
        ("0", D("0.0000")),
        ("100", D("1.0000")),
    ],
)
def test_rate_accepts(text: str, value: D) -> None:
    _same(rate(text), value)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("101", ("outside", "0–1")),
        ("-1", ("outside",)),
        ("-6.5%", ("outside",)),
        ("six", ("not a number",)),
    ],
)
def test_rate_refuses(text: str, words: tuple[str, ...]) -> None:
    _refused(rate, text, *words)


# ---------------------------------------------------------------------------- whole numbers


@pytest.mark.parametrize(("text", "value"), [("30", 30), (" 7 ", 7), ("1", 1), ("50", 50)])
def test_whole_accepts(text: str, value: int) -> None:
    assert whole(1, 50)(text) == value


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("0", ("outside", "1–50")),
        ("51", ("outside", "1–50")),
        ("-3", ("outside",)),
        ("7.5", ("not a whole number",)),
        ("abc", ("not a whole number",)),
        ("", ("not a whole number",)),
    ],
)
def test_whole_refuses(text: str, words: tuple[str, ...]) -> None:
    _refused(whole(1, 50), text, *words)


# ---------------------------------------------------------------------------- dates and choices


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("2024-03-15", dt.date(2024, 3, 15)),
        (" 2024-02-29 ", dt.date(2024, 2, 29)),  # leap day
    ],
)
def test_iso_date_accepts(text: str, value: dt.date) -> None:
    assert iso_date(text) == value


@pytest.mark.parametrize(
    "text",
    [
        "2023-02-29", "2024-02-30", "2024-13-01", "15/03/2024", "20240315", "2024-3-5",
        "yesterday", "2024-W01-1", "2024-01-01T00:00", "２０２４-０１-０１",
    ],
)  # fmt: skip
def test_iso_date_refuses(text: str) -> None:
    _refused(iso_date, text, "not a date", "YYYY-MM-DD")


@pytest.mark.parametrize(
    ("parse", "text", "value"),
    [
        (strategy, "buy_hold", "buy_hold"),
        (strategy, " BUY_HOLD ", "buy_hold"),
        (strategy, "Commercial", "commercial"),
        (loan_type, "dscr", "DSCR"),
        (loan_type, "DSCR", "DSCR"),
        (loan_type, "Conventional", "conventional"),
        (loan_type, "commercial", "commercial"),
        (loan_type, "CASH", "cash"),
    ],
)
def test_choices_accept_any_case_and_give_the_stored_value(
    parse: Callable[[str], str], text: str, value: str
) -> None:
    assert parse(text) == value


@pytest.mark.parametrize(
    ("parse", "text", "words"),
    [
        (strategy, "flip", ("'flip'", "not one of", "buy_hold", "commercial")),
        (strategy, "buy hold", ("not one of",)),
        (loan_type, "balloon", ("not one of", "DSCR", "conventional", "commercial", "cash")),
    ],
)
def test_choices_refuse_and_list_the_choices(
    parse: Callable[[str], str], text: str, words: tuple[str, ...]
) -> None:
    _refused(parse, text, *words)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("5% rent growth; 8% vacancy", ["5% rent growth", "8% vacancy"]),
        ("a\nb;; c ;\n", ["a", "b", "c"]),
        ("", []),
        (" ; \n ", []),
    ],
)
def test_assumptions_are_split_on_semicolons_and_lines(text: str, value: list[str]) -> None:
    assert assumptions(text) == value


@pytest.mark.parametrize(
    ("parse", "limit"),
    [(notes, 4000), (market_key, 60), (ref, 64)],
)
def test_text_fields_have_a_length_limit(parse: Callable[[str], str], limit: int) -> None:
    assert parse("x" * limit) == "x" * limit
    _refused(parse, "x" * (limit + 1), str(limit + 1), f"at most {limit}")


# ---------------------------------------------------------------------------- the month


@pytest.mark.parametrize(
    ("year", "month", "today", "allowed"),
    [
        (2025, 3, dt.date(2025, 3, 15), True),  # the current month
        (2025, 3, dt.date(2025, 3, 1), True),  # … from its first day
        (2025, 2, dt.date(2025, 3, 1), True),
        (2025, 4, dt.date(2025, 3, 31), False),  # next month
        (2026, 3, dt.date(2025, 3, 15), False),
        (2024, 12, dt.date(2025, 1, 1), True),  # December → January
        (2025, 1, dt.date(2025, 1, 1), True),
        (2025, 1, dt.date(2024, 12, 31), False),
        (2024, 12, dt.date(2024, 12, 31), True),
        (2025, 2, dt.date(2025, 1, 31), False),
        (2019, 7, dt.date(2025, 3, 15), True),
    ],
)
def test_check_month_refuses_a_month_that_has_not_begun(
    year: int, month: int, today: dt.date, allowed: bool
) -> None:
    why = check_month(year, month, today)
    if allowed:
        assert why is None
    else:
        assert why is not None
        assert f"{year}-{month:02d}" in why
        assert "not begun" in why
        assert today.isoformat() in why


@pytest.mark.parametrize(
    ("loan", "expected"),
    [("DSCR", True), ("conventional", True), ("commercial", True), ("cash", False), (None, False)],
)
def test_has_loan(loan: str | None, expected: bool) -> None:
    assert has_loan(loan) is expected


# ---------------------------------------------------------------------------- one period


def period(**kw: str | None) -> dict[str, str | None]:
    texts: dict[str, str | None] = {
        "actual_rent_collected": "2,400",
        "actual_vacancy_rate": "5%",
        "expenses_total": "700",
        "actual_noi": "1700",
        "actual_monthly_cash_flow": "400",
        "actual_dscr": "1.40",
        "notes": "",
    }
    texts.update(kw)
    return texts


def period_errors(texts: dict[str, str | None], loan: str | None = "DSCR") -> dict[str, str]:
    with pytest.raises(FieldErrors) as info:
        parse_period(texts, loan, "Elm St, March 2025")
    return info.value.errors


def test_parse_period_gives_checked_values() -> None:
    pv = parse_period(period(notes="  roof leak "), "DSCR")
    assert pv == PeriodValues(
        actual_rent_collected=D("2400.00"),
        actual_vacancy_rate=D("0.0500"),
        expenses_total=D("700.00"),
        actual_noi=D("1700.00"),
        actual_monthly_cash_flow=D("400.00"),
        actual_dscr=D("1.40"),
        notes="roof leak",
    )
    assert pv.maintenance is None and pv.other is None
    act = pv.actuals()
    assert (act.rent, act.vacancy, act.expenses, act.cash_flow, act.dscr) == (
        D(2400), D("0.05"), D(700), D(400), D("1.40"),
    )  # fmt: skip


def test_parse_period_allows_negative_noi_and_cash_flow() -> None:
    pv = parse_period(period(actual_noi="-150", actual_monthly_cash_flow="-$320.50"), "DSCR")
    assert pv.actual_noi == D("-150") and pv.actual_monthly_cash_flow == D("-320.50")


@pytest.mark.parametrize("total", [None, "", "  "])
def test_expenses_total_is_the_sum_of_the_breakdown(total: str | None) -> None:
    pv = parse_period(
        period(
            expenses_total=total, maintenance="100.10", property_management="200",
            taxes="", insurance="$1,000", other=None,
        ),
        "DSCR",
    )  # fmt: skip
    _same(pv.expenses_total, D("1300.10"))
    assert (pv.maintenance, pv.property_management, pv.taxes, pv.insurance, pv.other) == (
        D("100.10"), D(200), None, D(1000), None,
    )  # fmt: skip


@pytest.mark.parametrize("total", ["1300.10", "1,300.1", "$1300.10"])
def test_a_typed_total_equal_to_the_breakdown_is_accepted(total: str) -> None:
    pv = parse_period(
        period(expenses_total=total, maintenance="100.10", taxes="200", insurance="1000"), "DSCR"
    )
    assert pv.expenses_total == D("1300.10")


def test_a_typed_total_that_differs_from_the_breakdown_is_refused() -> None:
    errors = period_errors(period(expenses_total="1300", maintenance="100.10", taxes="1200"))
    assert set(errors) == {"expenses_total"}
    message = errors["expenses_total"]
    assert "differs" in message and "sum" in message
    assert "1,300.00" in message and "1,300.10" in message


def test_zero_parts_sum_to_zero() -> None:
    pv = parse_period(period(expenses_total=None, maintenance="0", other="0"), "DSCR")
    _same(pv.expenses_total, D("0.00"))


def test_without_total_and_breakdown_the_total_is_required() -> None:
    errors = period_errors(period(expenses_total=""))
    assert set(errors) == {"expenses_total"}
    assert "required" in errors["expenses_total"]


def test_a_bad_part_is_reported_without_a_second_message_on_the_total() -> None:
    errors = period_errors(period(expenses_total="", maintenance="-5", taxes="10"))
    assert set(errors) == {"maintenance"}
    assert "negative" in errors["maintenance"]


@pytest.mark.parametrize("loan", LOANS)
@pytest.mark.parametrize("text", ["0", "0.00", "0.004", "-0.004"])  # ±0.004 is stored as 0.00
def test_dscr_zero_is_refused_with_a_loan(loan: str, text: str) -> None:
    errors = period_errors(period(actual_dscr=text), loan)
    assert set(errors) == {"actual_dscr"}
    assert "0" in errors["actual_dscr"] and "loan" in errors["actual_dscr"]


@pytest.mark.parametrize("loan", NO_LOAN)
def test_dscr_zero_is_allowed_without_a_loan(loan: str | None) -> None:
    assert parse_period(period(actual_dscr="0"), loan).actual_dscr == 0


@pytest.mark.parametrize("loan", LOANS)
@pytest.mark.parametrize("text", ["0.01", "-0.01", "-0.35"])
def test_a_small_or_negative_dscr_is_allowed_with_a_loan(loan: str, text: str) -> None:
    # A negative NOI gives a negative DSCR (module docstring); only exactly 0 is refused.
    assert parse_period(period(actual_dscr=text), loan).actual_dscr == D(text)


def test_every_required_field_is_named_when_all_are_empty() -> None:
    errors = period_errors({})
    assert set(errors) == {
        "actual_rent_collected", "actual_vacancy_rate", "actual_noi",
        "actual_monthly_cash_flow", "actual_dscr", "expenses_total",
    }  # fmt: skip
    assert all("required" in m for m in errors.values())


def test_field_errors_name_every_bad_field_at_once() -> None:
    texts = period(
        actual_rent_collected="-5",
        actual_vacancy_rate="150",
        maintenance="lots",
        expenses_total="99",
        actual_noi="",
        actual_monthly_cash_flow="abc",
        actual_dscr="-10000",
        notes="n" * 4001,
    )
    with pytest.raises(FieldErrors) as info:
        parse_period(texts, "DSCR", "Elm St, March 2025")
    err = info.value
    assert isinstance(err, ValidationError)
    assert err.subject == "Elm St, March 2025"
    expected = {
        "actual_rent_collected": "negative",
        "actual_vacancy_rate": "outside",
        "maintenance": "not a number",
        "actual_noi": "required",
        "actual_monthly_cash_flow": "not a number",
        "actual_dscr": "too large",
        "notes": "4000",
    }
    assert set(err.errors) == set(expected)
    for name, word in expected.items():
        assert word in err.errors[name], (name, err.errors[name])
    text = str(err)
    assert text.startswith("Elm St, March 2025: ")
    for name in expected:
        assert f"{LABELS[name]}: {err.errors[name]}" in text


def test_cross_field_errors_come_together_with_cell_errors() -> None:
    errors = period_errors(
        period(actual_rent_collected="x", expenses_total="5", taxes="6", actual_dscr="0"),
        "conventional",
    )
    assert set(errors) == {"actual_rent_collected", "expenses_total", "actual_dscr"}


def test_field_errors_without_a_subject() -> None:
    err = FieldErrors({"actual_dscr": "must not be negative", "unknown": "odd"})
    assert str(err) == "DSCR: must not be negative; unknown: odd"


# ---------------------------------------------------------------------------- round trip


@pytest.mark.parametrize(
    ("texts", "loan"),
    [
        (period(), "DSCR"),
        (period(actual_vacancy_rate="0"), "DSCR"),
        (period(actual_vacancy_rate="1"), "DSCR"),  # 100 %
        (period(actual_vacancy_rate="0.0001"), "DSCR"),
        (period(actual_vacancy_rate="0.1"), "DSCR"),  # 10 %: normalised to 1E+1
        (period(actual_vacancy_rate="12.34"), "DSCR"),
        (period(actual_dscr="0", actual_monthly_cash_flow="-900"), "cash"),
        (period(actual_dscr="0"), None),
        (period(expenses_total=None, maintenance="1.5", other="0", taxes="99999"), "DSCR"),
        (period(actual_noi="-0", notes=" two\nlines "), "commercial"),
        (period(actual_rent_collected="99999999999999.99"), "DSCR"),
    ],
)
def test_period_texts_round_trip(texts: dict[str, str | None], loan: str | None) -> None:
    pv = parse_period(texts, loan)
    shown = period_texts(pv.columns())
    again = parse_period(shown, loan)
    assert again == pv
    for name, value in pv.columns().items():
        _same(getattr(again, name), value)


def test_period_texts_shows_vacancy_as_a_percentage_and_empty_for_none() -> None:
    shown = period_texts(parse_period(period(actual_vacancy_rate="0.1"), "DSCR").columns())
    assert shown["actual_vacancy_rate"] == "10%"
    assert shown["maintenance"] == "" and shown["notes"] == ""
    assert shown["actual_rent_collected"] == "2400.00"


def test_period_texts_of_values_read_back_from_a_database() -> None:
    stored = {
        "actual_rent_collected": D("2400.00"),
        "actual_vacancy_rate": D("0.0750"),
        "maintenance": D("1E+2"),
        "taxes": D("50"),
        "expenses_total": D("150.00"),
        "actual_noi": D("-12.5"),
        "actual_monthly_cash_flow": D("-300.00"),
        "actual_dscr": D("0.95"),
        "notes": None,
    }
    pv = parse_period(period_texts(stored), "DSCR")
    for name, value in stored.items():
        assert getattr(pv, name) == value


cents = st.decimals(
    min_value=D(0), max_value=D("9999999.99"), places=2, allow_nan=False, allow_infinity=False
)
signed_cents = st.decimals(
    min_value=D("-9999999.99"),
    max_value=D("9999999.99"),
    places=2,
    allow_nan=False,
    allow_infinity=False,
)


@settings(max_examples=300, deadline=None)
@given(
    rent=cents,
    vac=st.decimals(min_value=D(0), max_value=D(1), places=4),
    parts=st.lists(st.one_of(st.none(), cents), min_size=5, max_size=5),
    total=cents,
    noi=signed_cents,
    cf=signed_cents,
    ratio=st.decimals(min_value=D("-9999.99"), max_value=D("9999.99"), places=2).filter(
        lambda x: x != 0  # 0 is refused with a loan
    ),
    note=st.text(max_size=50),
    loan=st.sampled_from((*LOANS, *NO_LOAN)),
)
def test_period_texts_round_trip_property(
    rent: D,
    vac: D,
    parts: list[D | None],
    total: D,
    noi: D,
    cf: D,
    ratio: D,
    note: str,
    loan: str | None,
) -> None:
    names = ("maintenance", "property_management", "taxes", "insurance", "other")
    given_parts = [p for p in parts if p is not None]
    stored: dict[str, object] = {
        "actual_rent_collected": rent,
        "actual_vacancy_rate": vac,
        **dict(zip(names, parts, strict=True)),
        "expenses_total": sum(given_parts, D(0)) if given_parts else total,
        "actual_noi": noi,
        "actual_monthly_cash_flow": cf,
        "actual_dscr": ratio,
        "notes": note.strip() or None,
    }
    pv = parse_period(period_texts(stored), loan)
    for name, value in stored.items():
        assert getattr(pv, name) == value, name
    assert parse_period(period_texts(pv.columns()), loan) == pv


@pytest.mark.parametrize("total", [None, "120000000000000"])
def test_an_expenses_total_too_large_to_store_is_refused(total: str | None) -> None:
    # Each part fits NUMERIC(16,2); their sum does not.
    texts = period(expenses_total=total, maintenance="60000000000000", taxes="60000000000000")
    errors = period_errors(texts)
    assert set(errors) == {"expenses_total"}
    assert "too large" in errors["expenses_total"]


def test_the_largest_storable_breakdown_sum_is_accepted() -> None:
    texts = period(expenses_total=None, maintenance="50000000000000", taxes="49999999999999.99")
    assert parse_period(texts, "DSCR").expenses_total == MONEY_LIMIT - D("0.01")


# ---------------------------------------------------------------------------- a record

TODAY = dt.date(2025, 6, 30)


def record(**kw: str | None) -> dict[str, str | None]:
    texts: dict[str, str | None] = {
        "ref": "ELM-12",
        "market_key": "austin",
        "strategy": "Buy_Hold",
        "closed_date": "2025-01-15",
        "purchase_price": "$450,000",
        "rehab_cost_actual": "",
        "loan_type": "dscr",
        "interest_rate": "7.25%",
        "ltv": "75",
        "amortization_years": "30",
        "projected_rent": "2400",
        "projected_noi": "1700",
        "projected_monthly_cash_flow": "400",
        "projected_dscr": "1.40",
        "assumptions": "3% rent growth; 5% vacancy",
    }
    texts.update(kw)
    return texts


def record_errors(texts: dict[str, str | None]) -> dict[str, str]:
    with pytest.raises(FieldErrors) as info:
        parse_record(texts, TODAY, "ELM-12")
    return info.value.errors


def test_parse_record_gives_checked_values() -> None:
    rv = parse_record(record(), TODAY)
    assert rv == RecordValues(
        market_key="austin",
        strategy="buy_hold",
        closed_date=dt.date(2025, 1, 15),
        purchase_price=D("450000.00"),
        projected_rent=D("2400.00"),
        projected_noi=D("1700.00"),
        projected_monthly_cash_flow=D("400.00"),
        projected_dscr=D("1.40"),
        ref="ELM-12",
        rehab_cost_actual=None,
        loan_type="DSCR",
        interest_rate=D("0.0725"),
        ltv=D("0.75"),
        amortization_years=30,
        assumptions=["3% rent growth", "5% vacancy"],
    )
    p = rv.projection()
    assert (p.rent, p.noi, p.cash_flow, p.dscr) == (D(2400), D(1700), D(400), D("1.40"))
    assert p.expenses == D(700)


def test_a_record_without_optional_fields() -> None:
    rv = parse_record(
        record(ref="", loan_type=None, interest_rate="", ltv=None, amortization_years="",
               assumptions=""),
        TODAY,
    )  # fmt: skip
    assert rv.ref is None and rv.loan_type is None and rv.interest_rate is None
    assert rv.assumptions == []


def test_a_record_allows_negative_projected_noi_and_cash_flow() -> None:
    rv = parse_record(record(projected_noi="-100", projected_monthly_cash_flow="-50"), TODAY)
    assert rv.projected_noi == D(-100) and rv.projected_monthly_cash_flow == D(-50)


@pytest.mark.parametrize(
    "name",
    [
        "market_key", "strategy", "closed_date", "purchase_price", "projected_rent",
        "projected_noi", "projected_monthly_cash_flow", "projected_dscr",
    ],
)  # fmt: skip
@pytest.mark.parametrize("empty", [None, "", "   "])
def test_record_required_fields(name: str, empty: str | None) -> None:
    errors = record_errors(record(**{name: empty}))
    assert errors == {name: "required"}


def test_every_required_record_field_is_named_at_once() -> None:
    errors = record_errors({})
    assert set(errors) == {
        "market_key", "strategy", "closed_date", "purchase_price", "projected_rent",
        "projected_noi", "projected_monthly_cash_flow", "projected_dscr",
    }  # fmt: skip


def test_closed_today_is_allowed_and_tomorrow_is_refused() -> None:
    assert parse_record(record(closed_date=TODAY.isoformat()), TODAY).closed_date == TODAY
    errors = record_errors(record(closed_date="2025-07-01"))
    assert set(errors) == {"closed_date"}
    assert "after today" in errors["closed_date"] and "2025-07-01" in errors["closed_date"]


@pytest.mark.parametrize("field_name", ["interest_rate", "ltv", "amortization_years"])
def test_a_cash_purchase_has_no_loan_terms(field_name: str) -> None:
    texts = record(loan_type="Cash", interest_rate="", ltv="", amortization_years="")
    texts[field_name] = {"interest_rate": "6.5%", "ltv": "0.7", "amortization_years": "30"}[
        field_name
    ]
    errors = record_errors(texts)
    assert set(errors) == {field_name}
    assert "cash" in errors[field_name] and "empty" in errors[field_name]


def test_a_cash_purchase_reports_every_loan_term_and_its_own_parse_error() -> None:
    errors = record_errors(record(loan_type="cash", interest_rate="abc"))
    assert set(errors) == {"interest_rate", "ltv", "amortization_years"}
    assert "not a number" in errors["interest_rate"]


def test_a_cash_purchase_without_loan_terms_is_accepted() -> None:
    rv = parse_record(
        record(loan_type="cash", interest_rate="", ltv="", amortization_years="",
               projected_dscr="0"),
        TODAY,
    )  # fmt: skip
    assert rv.loan_type == "cash" and rv.projected_dscr == 0


@pytest.mark.parametrize("loan", ["dscr", "Conventional", "COMMERCIAL"])
def test_projected_dscr_zero_is_refused_with_a_loan(loan: str) -> None:
    errors = record_errors(record(loan_type=loan, projected_dscr="0"))
    assert set(errors) == {"projected_dscr"}
    assert "loan" in errors["projected_dscr"]


def test_record_field_errors_are_all_named_and_shown_with_labels() -> None:
    texts = record(
        market_key="m" * 61,
        strategy="flip",
        closed_date="2025-13-01",
        purchase_price="-1",
        loan_type="balloon",
        interest_rate="150",
        amortization_years="60",
        projected_rent="-2400",
        projected_dscr="99999",
    )
    with pytest.raises(FieldErrors) as info:
        parse_record(texts, TODAY, "ELM-12")
    err = info.value
    assert set(err.errors) == {
        "market_key", "strategy", "closed_date", "purchase_price", "loan_type",
        "interest_rate", "amortization_years", "projected_rent", "projected_dscr",
    }  # fmt: skip
    text = str(err)
    assert text.startswith("ELM-12: ")
    for name in err.errors:
        assert f"{LABELS[name]}: {err.errors[name]}" in text
    assert "Amortisation (years): " in text and "Projected DSCR: " in text
