"""SPEC §10 benchmarks, the pure rules: which row applies to a metric for an asset and deal type
on a day (the most specific, then the newest effective, then the last imported), and how the
cells of a benchmarks file are read (SPEC §11)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from app.domain.benchmarks import (
    COHORT_LABELS,
    COHORTS,
    BenchmarkRow,
    applicable,
    effective_date_problem,
    latest_effective,
    parse_cohort,
    parse_dimension,
    parse_metric_key,
    parse_source,
    parse_value_numeric,
    parse_value_text,
    series_key,
    specificity,
    value_problem,
)
from app.domain.enums import BenchmarkCohort

DAY = dt.date(2025, 8, 1)
_ids = iter(range(1, 10_000))


def bench(
    metric: str = "avg_cycle_days",
    asset: str | None = None,
    deal: str | None = None,
    cohort: str = "industry_avg",
    value: str | None = "90",
    effective: dt.date = dt.date(2025, 1, 15),
    *,
    id_: int | None = None,
    text: str | None = None,
) -> BenchmarkRow:
    return BenchmarkRow(
        id=id_ if id_ is not None else next(_ids),
        metric_key=metric,
        asset_type=asset,
        deal_type=deal,
        cohort=cohort,
        value_numeric=Decimal(value) if value is not None else None,
        value_text=text,
        source="survey",
        effective_date=effective,
    )


def test_the_cohorts_are_the_enumerations_values_in_spec_order() -> None:
    assert COHORTS == ("industry_avg", "top_quartile", "internal_avg")
    assert tuple(c.value for c in BenchmarkCohort) == COHORTS
    assert [COHORT_LABELS[c] for c in COHORTS] == [
        "Industry average", "Top quartile", "Internal average"
    ]  # fmt: skip


# --------------------------------------------------------------------------- applicable


def test_newest_effective_row_per_key_wins() -> None:
    old = bench(value="95", effective=dt.date(2024, 7, 1))
    new = bench(value="92", effective=dt.date(2025, 7, 1))
    assert applicable([new, old], "avg_cycle_days", None, None, DAY) == {"industry_avg": new}
    assert applicable([old, new], "avg_cycle_days", None, None, DAY) == {"industry_avg": new}


def test_a_row_effective_after_the_day_asked_for_does_not_apply_yet() -> None:
    old = bench(value="95", effective=dt.date(2024, 7, 1))
    future = bench(value="90", effective=dt.date(2025, 9, 1))
    assert applicable([old, future], "avg_cycle_days", None, None, DAY) == {"industry_avg": old}
    on_the_day = bench(value="91", effective=DAY)
    found = applicable([old, future, on_the_day], "avg_cycle_days", None, None, DAY)
    assert found == {"industry_avg": on_the_day}
    assert applicable([future], "avg_cycle_days", None, None, DAY) == {}


def test_each_cohort_gets_its_own_row() -> None:
    avg = bench(cohort="industry_avg", value="92")
    top = bench(cohort="top_quartile", value="64")
    ours = bench(cohort="internal_avg", value="88")
    other_metric = bench(metric="dscr", cohort="industry_avg", value="1.28")
    found = applicable([avg, top, ours, other_metric], "avg_cycle_days", None, None, DAY)
    assert found == {"industry_avg": avg, "top_quartile": top, "internal_avg": ours}


def test_the_most_specific_row_wins_before_the_newest() -> None:
    general = bench(effective=dt.date(2025, 7, 1))  # newest, but for any asset and deal type
    deal_only = bench(deal="buy_side", effective=dt.date(2025, 6, 1))
    asset_only = bench(asset="residential", effective=dt.date(2025, 5, 1))
    both = bench(asset="residential", deal="buy_side", effective=dt.date(2024, 1, 1))
    rows = [general, deal_only, asset_only, both]

    def winner(asset: str | None, deal: str | None, among: list[BenchmarkRow]) -> BenchmarkRow:
        return applicable(among, "avg_cycle_days", asset, deal, DAY)["industry_avg"]

    assert winner("residential", "buy_side", rows) is both
    assert winner("residential", "buy_side", rows[:3]) is asset_only
    assert winner("residential", "buy_side", rows[:2]) is deal_only
    assert winner("residential", "buy_side", rows[:1]) is general
    assert winner("residential", "sell_side", rows) is asset_only  # the buy-side ones don't fit
    assert winner("commercial", "buy_side", rows) is deal_only
    assert winner("commercial", "sell_side", rows) is general
    assert [specificity(r) for r in rows] == [0, 1, 2, 3]


def test_asked_for_no_asset_type_only_rows_for_any_asset_type_apply() -> None:
    general = bench(value="100")
    residential = bench(asset="residential", value="88")
    assert applicable([general, residential], "avg_cycle_days", None, None, DAY) == {
        "industry_avg": general
    }
    assert applicable([residential], "avg_cycle_days", None, "buy_side", DAY) == {}


def test_asset_deal_type_and_metric_compare_regardless_of_case() -> None:
    row = bench(asset="residential", deal="buy_side")
    found = applicable([row], "AVG_Cycle_Days", "Residential", "BUY_SIDE", DAY)
    assert found == {"industry_avg": row}


def test_the_same_effective_date_twice_gives_the_last_imported_row() -> None:
    first = bench(id_=50, value="90")
    second = bench(id_=51, value="91")
    assert applicable([second, first], "avg_cycle_days", None, None, DAY)["industry_avg"] is second
    assert applicable([first, second], "avg_cycle_days", None, None, DAY)["industry_avg"] is second


def test_a_text_row_applies_like_a_number() -> None:
    text = bench(metric="market_outlook", value=None, text="balanced market")
    assert applicable([text], "market_outlook", "residential", None, DAY) == {"industry_avg": text}


def test_series_key_folds_case() -> None:
    a = bench(metric="Dscr", asset="Residential", deal="Buy_Side", cohort="top_quartile")
    b = bench(metric="dscr", asset="residential", deal="buy_side", cohort="top_quartile")
    assert series_key(a) == series_key(b) == ("dscr", "residential", "buy_side", "top_quartile")


# --------------------------------------------------------------------------- the cells


def test_metric_key_is_lower_cased_letters_digits_and_underscores() -> None:
    assert parse_metric_key("Avg_Cycle_Days") == "avg_cycle_days"
    assert parse_metric_key("dscr_12m") == "dscr_12m"
    with pytest.raises(ValueError, match=r"'avg cycle' is not a metric key"):
        parse_metric_key("avg cycle")
    with pytest.raises(ValueError, match="not a metric key"):
        parse_metric_key("cap-rate")
    assert parse_metric_key("a" * 80) == "a" * 80
    with pytest.raises(ValueError, match="81 characters long; at most 80 fit"):
        parse_metric_key("a" * 81)


def test_asset_and_deal_types_are_lower_cased_and_empty_means_any() -> None:
    assert parse_dimension(" Multifamily ") == "multifamily"
    assert parse_dimension("   ") is None
    assert parse_dimension("x" * 40) == "x" * 40
    with pytest.raises(ValueError, match="at most 40 fit"):
        parse_dimension("x" * 41)


def test_cohort_is_one_of_three_in_any_case() -> None:
    assert parse_cohort("Top_Quartile") == "top_quartile"
    assert parse_cohort("INTERNAL_AVG") == "internal_avg"
    with pytest.raises(ValueError) as info:
        parse_cohort("median")
    assert str(info.value) == (
        "unknown cohort 'median' (expected industry_avg, top_quartile or internal_avg)"
    )


def test_value_numeric_is_a_number_with_four_decimals_that_fits() -> None:
    assert parse_value_numeric("0.0255") == Decimal("0.0255")
    assert parse_value_numeric("-12.5") == Decimal("-12.5")
    assert parse_value_numeric("1,250") == Decimal(1250)
    assert parse_value_numeric("99999999999999.9999") == Decimal("99999999999999.9999")
    with pytest.raises(ValueError) as info:
        parse_value_numeric("ninety")
    assert str(info.value) == "'ninety' is not a number"
    with pytest.raises(ValueError, match="'NaN' is not a number"):
        parse_value_numeric("NaN")
    with pytest.raises(ValueError, match="more than four decimals"):
        parse_value_numeric("0.02555")
    with pytest.raises(ValueError, match="too large"):
        parse_value_numeric("100000000000000")


def test_value_text_and_source_are_at_most_200_characters() -> None:
    assert parse_value_text(" balanced ") == "balanced"
    assert parse_source("s" * 200) == "s" * 200
    with pytest.raises(ValueError, match="201 characters long; at most 200 fit"):
        parse_value_text("t" * 201)
    with pytest.raises(ValueError, match="at most 200 fit"):
        parse_source("s" * 201)


def test_a_row_gives_a_number_a_text_or_both() -> None:
    assert value_problem(Decimal(1), None) is None
    assert value_problem(None, "text") is None
    assert value_problem(Decimal(1), "text") is None
    assert value_problem(None, None) == "give value_numeric, value_text or both"


def test_effective_date_is_at_most_a_year_ahead() -> None:
    today = dt.date(2025, 6, 15)
    assert latest_effective(today) == dt.date(2026, 6, 15)
    assert effective_date_problem(dt.date(2026, 6, 15), today) is None
    assert effective_date_problem(dt.date(1999, 1, 1), today) is None
    assert effective_date_problem(dt.date(2026, 6, 16), today) == (
        "2026-06-16 is more than a year after 2025-06-15 (at most 2026-06-15)"
    )
