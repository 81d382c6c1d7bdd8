"""Portfolio analytics (SPEC §9) and ``report portfolio`` (SPEC §12), on both backends.

The portfolio below is small enough to work out by hand:

| ref  | buyer | box  | market      | strategy   | closed     | periods: (cf var, dscr var) | grd |
|------|-------|------|-------------|------------|------------|-----------------------------|-----|
| PF-1 | Acme  | BB-1 | bakersfield | buy_hold   | 2025-01-10 | 2025-02 (-50.00, -0.10),    | A   |
|      |       |      |             |            |            | 2025-03 (100.25, 0.05)      |     |
| PF-2 | Birch | BB-2 | fresno      | commercial | 2024-11-05 | 2024-12 (10.00, 0.20),      | D   |
|      |       |      |             |            |            | 2025-01 (-200.50, -0.31)    |     |
| PF-3 | Acme  | —    | bakersfield | commercial | 2025-06-01 | none                        | —   |
| PF-4 | Acme  | BB-1 | visalia     | buy_hold   | 2025-03-15 | 2025-04 (0.00, 0.00)        | B   |

Latest periods are written before the earlier ones, so "latest" by id would be wrong, and PF-2's
run over a new year, so "latest" by month alone would be wrong too.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from app import cli
from app.db.models import BuyBox, Buyer, DealPerformance, PerformancePeriod, User
from app.domain.errors import ValidationError
from app.services.database import Database
from app.services.postclose.portfolio import (
    HistoryPoint,
    MonthlyCashFlow,
    PortfolioFilters,
    PortfolioSummary,
    dscr_values,
    monthly_cash_flow,
    portfolio_filters,
    portfolio_json,
    portfolio_report,
    portfolio_text,
    property_history,
    report_dscr_values,
)

ROOT = Path(__file__).resolve().parents[2]
MONEY = re.compile(r"^-?\d+\.\d\d$")
NOW = dt.datetime(2025, 6, 2, 12, tzinfo=dt.UTC)
SUMMARY_KEYS = [
    "total_deals",
    "grade_distribution",
    "average_cash_flow_variance",
    "average_dscr_variance",
    "performance_rate",
]
SHORTFALL = ["significant_cash_flow_shortfall", "dscr_below_minimum"]


def D(text: str) -> Decimal:
    return Decimal(text)


# (year, month, actual cash flow, cash-flow variance, actual DSCR, DSCR variance, grade, flags)
Period = tuple[int, int, str, str, str, str, str, list[str]]


@pytest.fixture
def portfolio(db: Database) -> Database:
    with db.session() as s:
        closer = User(email="cara@example.com", first_name="Cara", last_name="Diaz", role="closer")
        s.add(closer)
        acme = Buyer(name="Acme Holdings", engagement_score=D("80"))
        birch = Buyer(name="Birch Capital", engagement_score=D("35.5"))
        cedar = Buyer(name="Cedar Trust")
        s.add_all([acme, birch, cedar])
        s.flush()

        def box(ref: str, buyer: Buyer, market: str, strategy: str, rate: str | None,
                warning: str | None) -> BuyBox:  # fmt: skip
            b = BuyBox(
                ref=ref,
                name=f"{market} {strategy}",
                market_key=market,
                strategy=strategy,
                min_dscr=D("1.25"),
                buyer_id=buyer.id,
                performance_rate=None if rate is None else D(rate),
                warning_level=warning,
            )
            s.add(b)
            s.flush()
            return b

        bb1 = box("BB-1", acme, "bakersfield", "buy_hold", "100", None)
        bb2 = box("BB-2", birch, "fresno", "commercial", "0", "CRITICAL")
        box("BB-3", cedar, "visalia", "buy_hold", None, None)

        def record(ref: str, buyer: Buyer, bb: BuyBox | None, market: str, strategy: str,
                   closed: dt.date, projected_cf: str, projected_dscr: str,
                   periods: list[Period]) -> None:  # fmt: skip
            r = DealPerformance(
                ref=ref,
                buyer_id=buyer.id,
                buy_box_id=None if bb is None else bb.id,
                strategy=strategy,
                market_key=market,
                closed_date=closed,
                purchase_price=D("300000"),
                projected_rent=D("2400"),
                projected_noi=D("1700"),
                projected_monthly_cash_flow=D(projected_cf),
                projected_dscr=D(projected_dscr),
                assumptions=[],
                locked_at=NOW,
                locked_by=closer.id,
                current_grade=periods[0][6] if periods else None,  # the first given is latest
                current_flags=periods[0][7] if periods else [],
            )
            s.add(r)
            s.flush()
            for year, month, cf, cf_var, dscr, dscr_var, grade, flags in periods:
                s.add(
                    PerformancePeriod(
                        performance_id=r.id,
                        year=year,
                        month=month,
                        actual_rent_collected=D("2400"),
                        actual_vacancy_rate=D("0"),
                        expenses_total=D("700"),
                        actual_noi=D("1700"),
                        actual_monthly_cash_flow=D(cf),
                        actual_dscr=D(dscr),
                        grade=grade,
                        flags=flags,
                        cash_flow_variance=D(cf_var),
                        rent_variance=D("0"),
                        expense_variance=D("0"),
                        dscr_variance=D(dscr_var),
                        entered_by=closer.id,
                        entered_at=NOW,
                    )
                )
                s.flush()  # ids in the order given: the latest period gets the smaller id

        record("PF-1", acme, bb1, "bakersfield", "buy_hold", dt.date(2025, 1, 10), "350", "1.30", [
            (2025, 3, "450.25", "100.25", "1.35", "0.05", "A", []),
            (2025, 2, "300", "-50", "1.20", "-0.10", "C", ["dscr_below_minimum"]),
        ])  # fmt: skip
        record("PF-2", birch, bb2, "fresno", "commercial", dt.date(2024, 11, 5), "1200", "1.25", [
            (2025, 1, "999.50", "-200.50", "0.94", "-0.31", "D", SHORTFALL),
            (2024, 12, "1210", "10", "1.45", "0.20", "B", []),
        ])  # fmt: skip
        record("PF-3", acme, None, "bakersfield", "commercial", dt.date(2025, 6, 1), "800", "1.3",
               [])  # fmt: skip
        record("PF-4", acme, bb1, "visalia", "buy_hold", dt.date(2025, 3, 15), "500", "1.40", [
            (2025, 4, "500", "0", "1.40", "0", "B", []),
        ])  # fmt: skip
    return db


def refs(db: Database, **filters: Any) -> list[str | None]:
    return [r.ref for r in portfolio_report(db, PortfolioFilters(**filters)).records]


def grades(a: int, b: int, c: int, d: int) -> dict[str, int]:
    return {"A": a, "B": b, "C": c, "D": d}


# ---------------------------------------------------------------------------- the service


def test_grade_distribution_counts_every_grade_and_leaves_records_without_periods_ungraded(
    portfolio: Database,
) -> None:
    summary = portfolio_report(portfolio, PortfolioFilters()).summary

    assert summary.total_deals == 4
    assert summary.grade_distribution == grades(1, 1, 0, 1)
    assert list(summary.grade_distribution) == ["A", "B", "C", "D"]
    assert summary.ungraded == 1


def test_means_are_over_each_records_latest_period_only(portfolio: Database) -> None:
    summary = portfolio_report(portfolio, PortfolioFilters()).summary

    # Latest periods: PF-1 2025-03, PF-2 2025-01, PF-4 2025-04; PF-3 has none.
    # (100.25 − 200.50 + 0) / 3 = −33.4166…; (0.05 − 0.31 + 0) / 3 = −0.0866…
    assert summary.average_cash_flow_variance == D("-33.42")
    assert summary.average_dscr_variance == D("-0.09")
    # A and B of the three graded records; PF-3 is not counted.
    assert summary.performance_rate == D("66.67")


def test_breakdowns_by_market_strategy_and_buyer_round_half_up(portfolio: Database) -> None:
    report = portfolio_report(portfolio, PortfolioFilters())

    assert list(report.by_market) == ["bakersfield", "fresno", "visalia"]
    assert report.by_market["bakersfield"] == PortfolioSummary(
        2, grades(1, 0, 0, 0), D("100.25"), D("0.05"), D("100.00")
    )
    assert report.by_market["fresno"] == PortfolioSummary(
        1, grades(0, 0, 0, 1), D("-200.50"), D("-0.31"), D("0.00")
    )
    # (100.25 + 0) / 2 = 50.125 → 50.13 and (0.05 + 0) / 2 = 0.025 → 0.03: half-up.
    assert report.by_strategy["buy_hold"] == PortfolioSummary(
        2, grades(1, 1, 0, 0), D("50.13"), D("0.03"), D("100.00")
    )
    # PF-3 counts in the total only: no grade, no mean, no rate.
    assert report.by_strategy["commercial"] == PortfolioSummary(
        2, grades(0, 0, 0, 1), D("-200.50"), D("-0.31"), D("0.00")
    )
    assert list(report.by_buyer) == ["Acme Holdings", "Birch Capital"]
    assert report.by_buyer["Acme Holdings"] == PortfolioSummary(
        3, grades(1, 1, 0, 0), D("50.13"), D("0.03"), D("100.00")
    )


def test_records_carry_their_latest_periods_figures(portfolio: Database) -> None:
    report = portfolio_report(portfolio, PortfolioFilters())

    assert [r.ref for r in report.records] == ["PF-1", "PF-2", "PF-3", "PF-4"]
    pf1, pf2, pf3, _pf4 = report.records
    assert (pf1.grade, pf1.flags, pf1.cash_flow_variance, pf1.dscr_variance) == (
        "A",
        (),
        D("100.25"),
        D("0.05"),
    )
    assert (pf2.grade, pf2.flags, pf2.cash_flow_variance, pf2.actual_dscr) == (
        "D",
        tuple(SHORTFALL),
        D("-200.50"),
        D("0.94"),
    )
    assert (pf2.market, pf2.strategy, pf2.buyer, pf2.buy_box_ref, pf2.closed_date) == (
        "fresno",
        "commercial",
        "Birch Capital",
        "BB-2",
        dt.date(2024, 11, 5),
    )
    assert (pf3.grade, pf3.flags, pf3.cash_flow_variance, pf3.dscr_variance) == (
        None,
        (),
        None,
        None,
    )


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"market": "bakersfield"}, ["PF-1", "PF-3"]),
        ({"strategy": "commercial"}, ["PF-2", "PF-3"]),
        ({"closed_from": dt.date(2025, 1, 10)}, ["PF-1", "PF-3", "PF-4"]),  # inclusive
        ({"closed_to": dt.date(2025, 1, 10)}, ["PF-1", "PF-2"]),  # inclusive
        ({"market": "bakersfield", "strategy": "buy_hold"}, ["PF-1"]),
        ({"market": "nowhere"}, []),
    ],
)
def test_each_filter_narrows_the_records(
    portfolio: Database, filters: dict[str, Any], expected: list[str]
) -> None:
    assert refs(portfolio, **filters) == expected


def test_buyer_and_buy_box_filters_narrow_the_records(portfolio: Database) -> None:
    birch = portfolio_filters(portfolio, buyer_name="Birch Capital")
    bb1 = portfolio_filters(portfolio, buy_box_ref="BB-1")

    assert refs(portfolio, buyer_id=birch.buyer_id) == ["PF-2"]
    assert refs(portfolio, buy_box_id=bb1.buy_box_id) == ["PF-1", "PF-4"]


def test_a_filter_narrows_the_figures_too(portfolio: Database) -> None:
    report = portfolio_report(portfolio, PortfolioFilters(strategy="buy_hold"))

    assert report.summary == PortfolioSummary(
        2, grades(1, 1, 0, 0), D("50.13"), D("0.03"), D("100.00")
    )
    assert list(report.by_strategy) == ["buy_hold"]
    assert list(report.by_market) == ["bakersfield", "visalia"]


def test_buy_boxes_and_buyers_are_all_without_a_filter_else_those_of_the_records(
    portfolio: Database,
) -> None:
    everything = portfolio_report(portfolio, PortfolioFilters())
    fresno = portfolio_report(portfolio, PortfolioFilters(market="fresno"))
    bb3 = portfolio_filters(portfolio, buy_box_ref="BB-3")
    empty_box = portfolio_report(portfolio, bb3)

    assert [(b.ref, b.performance_rate, b.warning) for b in everything.buy_boxes] == [
        ("BB-1", D("100.00"), None),
        ("BB-2", D("0.00"), "CRITICAL"),
        ("BB-3", None, None),
    ]
    assert [(b.name, b.engagement_score) for b in everything.buyers] == [
        ("Acme Holdings", D("80.00")),
        ("Birch Capital", D("35.50")),
        ("Cedar Trust", None),
    ]
    assert [b.ref for b in fresno.buy_boxes] == ["BB-2"]
    assert [b.name for b in fresno.buyers] == ["Birch Capital"]
    # A buy box with no records still shows itself when filtered on.
    assert (empty_box.records, [b.ref for b in empty_box.buy_boxes]) == ([], ["BB-3"])
    assert empty_box.summary == PortfolioSummary(0, grades(0, 0, 0, 0), None, None, None)


def test_monthly_cash_flow_sums_projected_and_actual_by_month(portfolio: Database) -> None:
    assert monthly_cash_flow(portfolio, PortfolioFilters()) == [
        MonthlyCashFlow(2024, 12, D("1200.00"), D("1210.00")),
        MonthlyCashFlow(2025, 1, D("1200.00"), D("999.50")),
        MonthlyCashFlow(2025, 2, D("350.00"), D("300.00")),
        MonthlyCashFlow(2025, 3, D("350.00"), D("450.25")),
        MonthlyCashFlow(2025, 4, D("500.00"), D("500.00")),
    ]
    assert monthly_cash_flow(portfolio, PortfolioFilters(market="bakersfield")) == [
        MonthlyCashFlow(2025, 2, D("350.00"), D("300.00")),
        MonthlyCashFlow(2025, 3, D("350.00"), D("450.25")),
    ]


def test_monthly_cash_flow_sums_exactly_in_sql(portfolio: Database) -> None:
    """Ten periods of 0.10 in one month sum to 1.00, not 0.9999… (SQLite keeps cents)."""
    with portfolio.session() as s:
        record = s.scalar(sa.select(DealPerformance).where(DealPerformance.ref == "PF-4"))
        period = s.scalar(sa.select(PerformancePeriod).where(PerformancePeriod.year == 2025))
        assert record is not None and period is not None

        def copy(row: Any, **values: Any) -> Any:
            kept = {c.key: getattr(row, c.key) for c in row.__table__.columns if c.key != "id"}
            return type(row)(**(kept | values))

        for k in range(10):
            extra = copy(record, ref=f"EX-{k}", market_key="exact",
                         projected_monthly_cash_flow=D("0.10"))  # fmt: skip
            s.add(extra)
            s.flush()
            s.add(copy(period, performance_id=extra.id,
                       year=2030, month=1, actual_monthly_cash_flow=D("0.10")))  # fmt: skip

    assert monthly_cash_flow(portfolio, PortfolioFilters(market="exact")) == [
        MonthlyCashFlow(2030, 1, D("1.00"), D("1.00"))
    ]


def test_dscr_values_are_the_latest_actual_dscrs(portfolio: Database) -> None:
    assert dscr_values(portfolio, PortfolioFilters()) == [D("0.94"), D("1.35"), D("1.40")]
    assert dscr_values(portfolio, PortfolioFilters(strategy="commercial")) == [D("0.94")]
    report = portfolio_report(portfolio, PortfolioFilters())
    assert report_dscr_values(report) == [D("0.94"), D("1.35"), D("1.40")]


def test_property_history_lists_the_periods_oldest_first(portfolio: Database) -> None:
    pf2 = portfolio_report(portfolio, PortfolioFilters(market="fresno")).records[0]

    assert property_history(portfolio, pf2.id) == [
        HistoryPoint(2024, 12, D("1210.00"), D("1200.00"), D("1.45"), D("1.25"), "B", ()),
        HistoryPoint(2025, 1, D("999.50"), D("1200.00"), D("0.94"), D("1.25"), "D",
                     tuple(SHORTFALL)),
    ]  # fmt: skip
    with pytest.raises(ValidationError, match="no performance record"):
        property_history(portfolio, 999_999)


def test_filters_name_buyers_and_buy_boxes_and_refuse_unknown_ones(portfolio: Database) -> None:
    assert portfolio_filters(portfolio, buyer_name="birch capital").buyer_id is not None
    assert portfolio_filters(portfolio, market=" Fresno ").market == "fresno"
    assert portfolio_filters(portfolio, market="nowhere").market == "nowhere"
    assert portfolio_filters(portfolio, market=" ").market is None
    with pytest.raises(ValidationError, match="--buyer: there is no buyer named 'Nobody'"):
        portfolio_filters(portfolio, buyer_name="Nobody")
    with pytest.raises(ValidationError, match="--buy-box: there is no buy box"):
        portfolio_filters(portfolio, buy_box_ref="BB-9")
    with portfolio.session() as s:
        s.add(Buyer(name="ACME HOLDINGS"))
    assert portfolio_filters(portfolio, buyer_name="ACME HOLDINGS").buyer_id is not None
    with pytest.raises(ValidationError, match="'acme holdings' matches 2; give it exactly"):
        portfolio_filters(portfolio, buyer_name="acme holdings")
    with pytest.raises(ValidationError, match="--closed-from"):
        portfolio_filters(portfolio, closed_from=dt.date(2025, 2, 1), closed_to=dt.date(2025, 1, 1))


def test_json_has_the_shape_of_spec_12(portfolio: Database) -> None:
    shown = portfolio_json(portfolio_report(portfolio, PortfolioFilters()))
    shown = json.loads(json.dumps(shown))  # what --json prints

    assert list(shown) == [
        "summary",
        "by_market",
        "by_strategy",
        "by_buyer",
        "records",
        "buy_boxes",
        "buyers",
    ]
    assert shown["summary"] == {
        "total_deals": 4,
        "grade_distribution": grades(1, 1, 0, 1),
        "average_cash_flow_variance": "-33.42",
        "average_dscr_variance": -0.09,
        "performance_rate": 66.67,
    }
    for section in ("by_market", "by_strategy", "by_buyer"):
        for figures in shown[section].values():
            assert list(figures) == SUMMARY_KEYS
    assert shown["by_strategy"]["buy_hold"]["average_cash_flow_variance"] == "50.13"
    assert shown["by_strategy"]["commercial"]["performance_rate"] == 0.0
    assert shown["records"][1] == {
        "ref": "PF-2",
        "grade": "D",
        "flags": SHORTFALL,
        "cash_flow_variance": "-200.50",
        "dscr_variance": -0.31,
    }
    assert shown["records"][2] == {
        "ref": "PF-3",
        "grade": None,
        "flags": [],
        "cash_flow_variance": None,
        "dscr_variance": None,
    }
    assert all(MONEY.match(r["cash_flow_variance"]) for r in shown["records"] if r["grade"])
    assert shown["buy_boxes"] == [
        {"ref": "BB-1", "performance_rate": 100.0, "warning": None},
        {"ref": "BB-2", "performance_rate": 0.0, "warning": "CRITICAL"},
        {"ref": "BB-3", "performance_rate": None, "warning": None},
    ]
    assert shown["buyers"] == [
        {"name": "Acme Holdings", "engagement_score": 80.0},
        {"name": "Birch Capital", "engagement_score": 35.5},
        {"name": "Cedar Trust", "engagement_score": None},
    ]


def test_json_of_an_empty_portfolio_has_nulls(db: Database) -> None:
    shown = portfolio_json(portfolio_report(db, PortfolioFilters()))

    assert shown["summary"] == {
        "total_deals": 0,
        "grade_distribution": grades(0, 0, 0, 0),
        "average_cash_flow_variance": None,
        "average_dscr_variance": None,
        "performance_rate": None,
    }
    assert (shown["by_market"], shown["records"], shown["buy_boxes"]) == ({}, [], [])


def test_text_report_shows_the_figures(portfolio: Database) -> None:
    text = portfolio_text(portfolio_report(portfolio, PortfolioFilters(strategy="commercial")))
    lines = text.splitlines()

    assert lines[0] == "Portfolio (strategy commercial)"
    (everything,) = [line for line in lines if line.startswith("All ")]
    assert everything.split() == ["All", "2", "0", "0", "0", "1", "1", "-$200.50", "-0.31", "0.00%"]
    (pf2,) = [line for line in lines if line.startswith("PF-2")]
    assert "-$200.50" in pf2 and "significant_cash_flow_shortfall" in pf2
    assert any(line.startswith("BB-2") and line.endswith("CRITICAL") for line in lines)


# ---------------------------------------------------------------------------- the command


def run_cli(db: Database, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main(["--db", db.url, "report", "portfolio", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_report_portfolio_json_on_the_command_line(
    portfolio: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(portfolio, capsys, "--json")

    assert (code, err) == (0, "")
    assert json.loads(out) == json.loads(
        json.dumps(portfolio_json(portfolio_report(portfolio, PortfolioFilters())))
    )


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--market", "bakersfield"], ["PF-1", "PF-3"]),
        (["--market", "FRESNO"], ["PF-2"]),
        (["--strategy", "buy_hold"], ["PF-1", "PF-4"]),
        (["--buyer", "Birch Capital"], ["PF-2"]),
        (["--buy-box", "BB-1"], ["PF-1", "PF-4"]),
        (["--closed-from", "2025-01-11", "--closed-to", "2025-05-31"], ["PF-4"]),
    ],
)
def test_report_portfolio_filters_on_the_command_line(
    portfolio: Database, capsys: pytest.CaptureFixture[str], args: list[str], expected: list[str]
) -> None:
    code, out, err = run_cli(portfolio, capsys, "--json", *args)

    assert (code, err) == (0, "")
    assert [r["ref"] for r in json.loads(out)["records"]] == expected
    assert json.loads(out)["summary"]["total_deals"] == len(expected)


def test_report_portfolio_prints_text_without_json(
    portfolio: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(portfolio, capsys, "--buyer", "Birch Capital")

    assert (code, err) == (0, "")
    assert out.splitlines()[0] == "Portfolio (buyer Birch Capital)"
    assert any(line.startswith("PF-2") for line in out.splitlines())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--buyer", "Nobody"], "--buyer: there is no buyer named 'Nobody'\n"),
        (["--buy-box", "BB-9"], "--buy-box: there is no buy box with the ref 'BB-9'\n"),
    ],
)
def test_report_portfolio_unknown_buyer_or_buy_box_exits_1(
    portfolio: Database, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, out, err = run_cli(portfolio, capsys, "--json", *args)

    assert (code, out, err) == (1, "", message)


@pytest.mark.parametrize(
    "args",
    [
        ["--strategy", "flip"],
        ["--closed-from", "10/01/2025"],
        ["--closed-to"],
        ["--jsn"],
    ],
)
def test_report_portfolio_bad_usage_exits_2(
    portfolio: Database, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    code, out, err = run_cli(portfolio, capsys, *args)

    assert (code, out) == (2, "")
    assert "usage:" in err


def test_main_py_report_portfolio_exit_codes(sqlite_db: Database, tmp_path: Path) -> None:
    """Through ``main.py`` itself, as a person runs it."""
    env = {k: v for k, v in os.environ.items() if k != "PERFDESK_DB_URL"}
    env.update(HOME=str(tmp_path), XDG_DATA_HOME=str(tmp_path / "data"))

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(ROOT / "main.py"), "--db", sqlite_db.url, "report", "portfolio",
             *args],
            capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120,
        )  # fmt: skip

    ok = run("--json")
    unknown = run("--buyer", "Nobody")

    assert (ok.returncode, ok.stderr) == (0, "")
    assert json.loads(ok.stdout)["summary"]["total_deals"] == 0
    assert (unknown.returncode, unknown.stdout) == (1, "")
    assert unknown.stderr == "--buyer: there is no buyer named 'Nobody'\n"
