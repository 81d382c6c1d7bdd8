"""ROI by lead source, the pure rules (app/domain/roi.py): proration of a month's spend by days,
matching sources ignoring case and blanks, the name shown, the (no source) row, null ratios,
sorting, the rows by person (their own spend only), range presets, what a cost row accepts,
and the JSON of ``report roi``."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from app.domain.roi import (
    LAST_12_MONTHS,
    LAST_MONTH,
    NO_SOURCE,
    THIS_MONTH,
    THIS_QUARTER,
    YEAR_TO_DATE,
    CostEntry,
    Counted,
    Figures,
    add_months,
    build_report,
    check_range,
    clean_source,
    days_inside,
    first_of_month,
    month_label,
    parse_cost,
    preset_range,
    prorated,
    roi_json,
    source_key,
)

D = Decimal
OCT, NOV = dt.date(2026, 10, 1), dt.date(2026, 11, 1)
PEOPLE = {1: ("ann@x.example", "Ann Avery"), 2: ("ben@x.example", "Ben Baker")}


# -- proration ----------------------------------------------------------------------------------


def test_a_whole_month_in_the_range_counts_its_whole_cost() -> None:
    assert prorated(D("310.00"), OCT, dt.date(2026, 10, 1), dt.date(2026, 10, 31)) == D("310.00")
    assert prorated(D("310.00"), OCT, dt.date(2026, 9, 1), dt.date(2026, 12, 31)) == D("310.00")


def test_part_of_a_month_counts_its_share_of_days() -> None:
    # 16 of October's 31 days, 15 of November's 30
    assert prorated(D("310"), OCT, dt.date(2026, 10, 16), dt.date(2026, 11, 15)) == D(160)
    assert prorated(D("300"), NOV, dt.date(2026, 10, 16), dt.date(2026, 11, 15)) == D(150)
    assert days_inside(NOV, dt.date(2026, 10, 16), dt.date(2026, 11, 15)) == 15
    assert days_inside(dt.date(2026, 12, 1), dt.date(2026, 10, 16), dt.date(2026, 11, 15)) == 0


def test_proration_is_exact_and_rounded_only_when_shown() -> None:
    # 10 of February 2026's 28 days of 100: 35.714285…
    share = prorated(D(100), dt.date(2026, 2, 1), dt.date(2026, 2, 1), dt.date(2026, 2, 10))
    assert share == D(1000) / D(28)
    report = build_report(
        dt.date(2026, 2, 1),
        dt.date(2026, 2, 10),
        "USD",
        [CostEntry("Web", dt.date(2026, 2, 1), None, D(100))] * 3,
        [],
        PEOPLE,
    )
    assert report.sources[0].figures.cost == 3 * share  # summed exactly: 107.142857…
    assert roi_json(report)["sources"][0]["cost"] == "107.14"  # type: ignore[index]


def test_months_and_ranges() -> None:
    assert first_of_month(dt.date(2026, 11, 17)) == NOV
    assert add_months(dt.date(2026, 11, 17), 2) == dt.date(2027, 1, 1)
    assert add_months(NOV, -11) == dt.date(2025, 12, 1)
    assert month_label(NOV) == "November 2026"
    check_range(NOV, NOV)
    with pytest.raises(ValueError, match="after the last"):
        check_range(dt.date(2026, 11, 2), NOV)


def test_range_presets() -> None:
    today = dt.date(2026, 11, 17)
    assert preset_range(THIS_MONTH, today) == (NOV, dt.date(2026, 11, 30))
    assert preset_range(LAST_MONTH, today) == (OCT, dt.date(2026, 10, 31))
    assert preset_range(THIS_QUARTER, today) == (OCT, dt.date(2026, 12, 31))
    assert preset_range(YEAR_TO_DATE, today) == (dt.date(2026, 1, 1), today)
    assert preset_range(LAST_12_MONTHS, today) == (dt.date(2025, 11, 18), today)
    assert preset_range(LAST_MONTH, dt.date(2026, 1, 5)) == (
        dt.date(2025, 12, 1),
        dt.date(2025, 12, 31),
    )
    assert preset_range(LAST_12_MONTHS, dt.date(2028, 2, 29)) == (
        dt.date(2027, 3, 1),
        dt.date(2028, 2, 29),
    )
    assert preset_range("custom", today) is None


# -- what a cost row accepts --------------------------------------------------------------------


def test_a_source_is_trimmed_required_and_at_most_80_characters() -> None:
    assert clean_source("  Zillow ") == "Zillow"
    for bad, reason in (
        ("", "required"),
        ("   ", "required"),
        (None, "required"),
        ("x" * 81, "at most 80 characters (got 81)"),
        ("(No Source)", "row of leads and deals without a source"),
    ):
        with pytest.raises(ValueError, match=reason.replace("(", r"\(").replace(")", r"\)")):
            clean_source(bad)
    assert clean_source("x" * 80) == "x" * 80


def test_a_cost_is_a_number_not_negative_with_at_most_two_decimals() -> None:
    assert parse_cost("1,200.50") == D("1200.50")
    assert parse_cost("$800") == D("800.00")
    assert parse_cost(D("0")) == D("0.00")
    assert parse_cost(250) == D("250.00")
    for bad, reason in (
        ("", "required"),
        (None, "required"),
        ("-5", "must not be negative (got -5)"),
        ("abc", "'abc' is not a number"),
        ("10.005", "at most 2 decimals (got 10.005)"),
        ("1e20", "must be less than"),
        ("NaN", "not a finite number"),
    ):
        with pytest.raises(ValueError, match=reason.replace("(", r"\(").replace(")", r"\)")):
            parse_cost(bad)


# -- the report ---------------------------------------------------------------------------------


def test_sources_match_ignoring_case_and_blanks_and_take_the_cost_rows_spelling() -> None:
    assert source_key(" ZILLOW ") == source_key("zillow") == "zillow"
    assert source_key("  ") is None and source_key(None) is None
    report = build_report(
        OCT,
        dt.date(2026, 10, 31),
        "USD",
        [CostEntry("Zillow", OCT, 1, D(500))],
        [
            Counted(1, "zillow ", leads=3),
            Counted(2, "ZILLOW", leads=1),
            Counted(1, "Zillow", closed=1, commission=D(900)),
        ],
        PEOPLE,
    )
    (zillow,) = report.sources
    assert zillow.source == "Zillow"
    assert zillow.figures == Figures(D(500), 4, 1, D(900))


def test_without_cost_rows_the_most_frequent_spelling_is_shown() -> None:
    report = build_report(
        OCT,
        dt.date(2026, 10, 31),
        "USD",
        [],
        [Counted(1, "open house", leads=1), Counted(2, "Open House ", leads=3)],
        PEOPLE,
    )
    assert [s.source for s in report.sources] == ["Open House"]


def test_leads_and_deals_without_a_source_form_the_no_source_row() -> None:
    report = build_report(
        OCT,
        dt.date(2026, 10, 31),
        "USD",
        [],
        [Counted(1, None, leads=2), Counted(2, "  ", closed=1, commission=D(100))],
        PEOPLE,
    )
    (row,) = report.sources
    assert (row.key, row.source) == (None, NO_SOURCE)
    assert row.figures == Figures(D(0), 2, 1, D(100))


def test_ratios_are_null_when_their_divisor_is_zero() -> None:
    f = Figures(D(0), 0, 0, D(0))
    assert (f.cost_per_lead, f.cost_per_closed, f.commission_per_dollar) == (None, None, None)
    f = Figures(D(300), 4, 0, D(0))
    assert (f.cost_per_lead, f.cost_per_closed, f.commission_per_dollar) == (D(75), None, D(0))
    f = Figures(D(0), 2, 1, D(500))
    assert (f.cost_per_lead, f.cost_per_closed, f.commission_per_dollar) == (D(0), D(0), None)


def test_a_source_is_listed_with_cost_rows_leads_or_closed_deals_sorted_by_cost() -> None:
    report = build_report(
        OCT,
        dt.date(2026, 10, 31),
        "USD",
        [
            CostEntry("Website", OCT, None, D(400)),
            CostEntry("Sign Call", OCT, None, D(0)),  # entered at 0: listed
            CostEntry("Facebook", NOV, None, D(999)),  # another month: not counted
            CostEntry("Zillow", OCT, 1, D(400)),
        ],
        [
            Counted(1, "Referral", leads=2),
            Counted(2, "Past client", leads=0, commission=D(0)),  # nothing: not listed
        ],
        PEOPLE,
    )
    assert [(s.source, s.figures.cost) for s in report.sources] == [
        ("Website", D(400)),
        ("Zillow", D(400)),
        ("Referral", D(0)),
        ("Sign Call", D(0)),
    ]
    assert report.totals == Figures(D(800), 2, 0, D(0))


def test_a_person_carries_only_the_spend_bought_for_them() -> None:
    report = build_report(
        OCT,
        dt.date(2026, 10, 31),
        "USD",
        [
            CostEntry("Website", OCT, None, D(400)),  # office-wide: not shared out
            CostEntry("Zillow", OCT, 2, D(300)),
            CostEntry("Zillow", OCT, 1, D(200)),
        ],
        [
            Counted(1, "Website", leads=4),
            Counted(1, "zillow", leads=2, closed=1, commission=D(1000)),
            Counted(2, "Zillow", leads=3),
            Counted(9, "Zillow", leads=5),  # somebody ``people`` does not name
        ],
        PEOPLE,
    )
    rows = [(a.name, a.source, a.figures) for a in report.agents]
    assert rows == [
        ("Ann Avery", "Zillow", Figures(D(200), 2, 1, D(1000))),
        ("Ann Avery", "Website", Figures(D(0), 4, 0, D(0))),
        ("Ben Baker", "Zillow", Figures(D(300), 3, 0, D(0))),
    ]
    ann_zillow = report.agents[0].figures
    assert ann_zillow.cost_per_lead == D(100) and ann_zillow.commission_per_dollar == D(5)
    zillow = next(s for s in report.sources if s.source == "Zillow")
    assert zillow.figures == Figures(D(500), 10, 1, D(1000))


def test_the_json_has_money_as_strings_and_ratios_as_numbers() -> None:
    report = build_report(
        OCT,
        dt.date(2026, 10, 31),
        "SGD",
        [CostEntry("Zillow", OCT, 1, D("300"))],
        [Counted(1, "Zillow", leads=7, closed=1, commission=D("1000.005")), Counted(2, None, 1)],
        PEOPLE,
        other_currency_closed=2,
    )
    data = roi_json(report)
    assert data["start"] == "2026-10-01" and data["end"] == "2026-10-31"
    assert data["currency"] == "SGD" and data["other_currency_closed"] == 2
    assert data["sources"] == [
        {
            "source": "Zillow", "cost": "300.00", "leads": 7, "closed": 1,
            "commission": "1000.01", "cost_per_lead": "42.86", "cost_per_closed": "300.00",
            "commission_per_dollar": 3.3334,
        },
        {
            "source": NO_SOURCE, "cost": "0.00", "leads": 1, "closed": 0,
            "commission": "0.00", "cost_per_lead": "0.00", "cost_per_closed": None,
            "commission_per_dollar": None,
        },
    ]  # fmt: skip
    agents = data["agents"]
    assert isinstance(agents, list) and [a["email"] for a in agents] == [
        "ann@x.example",
        "ben@x.example",
    ]
    assert set(agents[0]) == {
        "email", "name", "source", "cost", "leads", "closed", "commission", "cost_per_lead",
        "cost_per_closed", "commission_per_dollar",
    }  # fmt: skip
    assert data["totals"] == {
        "cost": "300.00", "leads": 8, "closed": 1, "commission": "1000.01",
        "cost_per_lead": "37.50", "cost_per_closed": "300.00", "commission_per_dollar": 3.3334,
    }  # fmt: skip
