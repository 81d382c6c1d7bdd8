"""`import buy_boxes`, `import deal_performance`, `import rent_roll` (SPEC §9, §11) on SQLite and
PostgreSQL: every row checked by the same rules as the forms, all written or none, each month
graded, and the records' grades, buy-box rates and buyer scores brought up to date."""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from app import cli
from app.db.base import Base
from app.db.models import BuyBox, Buyer, Deal, DealPerformance, PerformancePeriod, User
from app.domain.postclose import Projection, assess
from app.domain.rentroll import parse_period
from app.services.database import Database
from app.services.importing import ImportFailed, import_file, kind_names
from app.services.importing.kinds import users as users_kind
from app.services.postclose.regrade import period_assessment_columns

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "resources" / "samples"
FIXTURES = ROOT / "tests" / "fixtures" / "csv"
AS_OF = dt.date(2025, 6, 15)
RENT_HEADER = (
    "performance_ref,year,month,actual_rent_collected,actual_vacancy_rate,maintenance,"
    "property_management,taxes,insurance,other,expenses_total,actual_noi,"
    "actual_monthly_cash_flow,actual_dscr,notes"
)
RECORD_HEADER = (
    "ref,deal_ref,buyer,buy_box_ref,strategy,market_key,closed_date,purchase_price,"
    "rehab_cost_actual,loan_type,interest_rate,ltv,amortization_years,projected_rent,"
    "projected_noi,projected_monthly_cash_flow,projected_dscr,assumptions"
)


@pytest.fixture(autouse=True)
def no_login_roles(monkeypatch: pytest.MonkeyPatch) -> None:
    """The sample users get no server-wide login roles in these tests."""
    monkeypatch.setattr(users_kind, "find_ensure_db_roles", lambda: None)


def fixture(name: str) -> Path:
    return FIXTURES / f"postclose_{name}.csv"


def load(db: Database, kind: str, name: str) -> Any:
    path = fixture(name)
    return import_file(db, kind, path, label=path.name, as_of=AS_OF)


@pytest.fixture
def office(db: Database) -> Database:
    """The sample office with its deals (DL-1004 closed won, DL-1002 open)."""
    import_file(db, "users", SAMPLES / "users.csv")
    import_file(db, "deals", SAMPLES / "deals.csv")
    return db


@pytest.fixture
def portfolio(office: Database) -> Database:
    """Two buy boxes and three records (buyers created on the way), no month entered."""
    load(office, "buy_boxes", "buy_boxes")
    load(office, "deal_performance", "deal_performance")
    return office


@pytest.fixture
def graded(portfolio: Database) -> Database:
    load(portfolio, "rent_roll", "rent_roll")
    return portfolio


def count(db: Database, model: type[Base]) -> int:
    with db.read() as s:
        return int(s.scalar(sa.select(sa.func.count()).select_from(model)) or 0)


def counts(db: Database) -> tuple[int, int, int, int]:
    return (
        count(db, BuyBox),
        count(db, Buyer),
        count(db, DealPerformance),
        count(db, PerformancePeriod),
    )


def failure(db: Database, kind: str, path: Path) -> ImportFailed:
    with pytest.raises(ImportFailed) as info:
        import_file(db, kind, path, label=path.name, as_of=AS_OF)
    return info.value


def where(exc: ImportFailed) -> list[tuple[int | None, str | None]]:
    return [(e.row, e.column) for e in exc.errors]


def reason(exc: ImportFailed, row: int | None, column: str | None) -> str:
    found = [e.reason for e in exc.errors if (e.row, e.column) == (row, column)]
    assert len(found) == 1, (row, column, exc.errors)
    return found[0]


def write(tmp_path: Path, header: str, *lines: str, name: str = "f.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join((header, *lines)) + "\n", encoding="utf-8")
    return path


def records(db: Database) -> dict[str, DealPerformance]:
    with db.read() as s:
        return {r.ref or "": r for r in s.scalars(sa.select(DealPerformance))}


def periods(db: Database) -> dict[tuple[str, int, int], PerformancePeriod]:
    with db.read() as s:
        rows = s.execute(
            sa.select(DealPerformance.ref, PerformancePeriod).join(
                DealPerformance, DealPerformance.id == PerformancePeriod.performance_id
            )
        )
        return {(ref, p.year, p.month): p for ref, p in rows}


def boxes(db: Database) -> dict[str, BuyBox]:
    with db.read() as s:
        return {b.ref or "": b for b in s.scalars(sa.select(BuyBox))}


def buyers(db: Database) -> dict[str, Buyer]:
    with db.read() as s:
        return {b.name: b for b in s.scalars(sa.select(Buyer))}


def user_id(db: Database, email: str) -> int:
    with db.read() as s:
        return int(s.scalars(sa.select(User.id).where(User.email == email)).one())


BROKER = "morgan.reyes@example.com"


# --------------------------------------------------------------------------- the kinds


def test_the_kinds_follow_commissions_in_spec_order() -> None:
    names = kind_names()
    at = names.index("commissions")
    assert names[at + 1 : at + 4] == ["buy_boxes", "deal_performance", "rent_roll"]


# --------------------------------------------------------------------------- buy boxes


def test_buy_boxes_import(office: Database) -> None:
    result = load(office, "buy_boxes", "buy_boxes")

    assert result.rows == 2
    stored = boxes(office)
    assert set(stored) == {"BB-1", "BB-2"}
    b1, b2 = stored["BB-1"], stored["BB-2"]
    assert (b1.name, b1.market_key, b1.strategy, b1.min_dscr) == (
        "Austin rentals",
        "austin",
        "buy_hold",
        Decimal("1.30"),
    )
    assert (b2.strategy, b2.min_dscr) == ("commercial", Decimal("1.20"))  # "Commercial", any case
    assert b1.buyer_id is None and b1.performance_rate is None and b1.warning_level is None
    assert b1.version == 1


def test_buy_boxes_refusals_write_nothing(office: Database) -> None:
    load(office, "buy_boxes", "buy_boxes")
    before = counts(office)

    exc = failure(office, "buy_boxes", fixture("buy_boxes_bad"))

    assert where(exc) == [
        (2, "strategy"),
        (3, "min_dscr"),
        (4, "min_dscr"),
        (5, "ref"),
        (7, "ref"),
        (8, "name"),
    ]
    assert reason(exc, 2, "strategy") == (
        "'flip' is not a strategy (choose Buy & hold or Commercial)"
    )
    assert reason(exc, 3, "min_dscr") == "must not be negative (got -1)"
    assert reason(exc, 4, "min_dscr") == "at most two decimals (got 1.255)"
    assert reason(exc, 5, "ref") == (
        "a buy box with ref BB-1 is already in the database (imports add, they never overwrite)"
    )
    assert reason(exc, 7, "ref") == "ref bb-6 already appears on row 6"
    assert reason(exc, 8, "name") == "is required"
    assert counts(office) == before  # row 6 (BB-6) is valid, and was not written either


# --------------------------------------------------------------------------- records


def test_records_import_with_the_pro_forma_locked_and_buyers_created(portfolio: Database) -> None:
    db = portfolio
    stored = records(db)
    assert set(stored) == {"PR-1", "PR-2", "PR-3"}
    pr1, pr2, pr3 = stored["PR-1"], stored["PR-2"], stored["PR-3"]
    people = buyers(db)
    # "Acme Capital" and "acme capital" are one buyer, created with its first spelling.
    assert set(people) == {"Acme Capital", "Birch Homes"}
    assert pr1.buyer_id == pr2.buyer_id == people["Acme Capital"].id
    assert pr3.buyer_id == people["Birch Homes"].id
    assert people["Acme Capital"].engagement_score is None  # no month entered yet
    with db.read() as s:
        won = s.scalars(sa.select(Deal.id).where(Deal.ref == "DL-1004")).one()
    assert pr1.deal_id == won and pr2.deal_id is None
    box = boxes(db)
    assert pr1.buy_box_id == box["BB-1"].id
    assert pr2.buy_box_id == box["BB-2"].id  # "bb-2": buy-box refs match regardless of case
    assert pr3.buy_box_id is None
    assert (pr1.strategy, pr1.market_key, pr1.closed_date) == (
        "buy_hold",
        "austin",
        dt.date(2024, 11, 15),
    )
    assert pr1.purchase_price == Decimal("610000.00")  # "$610,000"
    assert pr1.rehab_cost_actual == Decimal("25000.00")
    assert (pr1.loan_type, pr1.interest_rate, pr1.ltv, pr1.amortization_years) == (
        "DSCR",
        Decimal("0.0650"),  # "6.5%"
        Decimal("0.7500"),
        30,
    )
    assert pr2.ltv == Decimal("0.7000")  # "70": a number above 1 is a percentage
    assert (
        pr1.projected_rent,
        pr1.projected_noi,
        pr1.projected_monthly_cash_flow,
        pr1.projected_dscr,
    ) == (Decimal("4200.00"), Decimal("2800.00"), Decimal("650.00"), Decimal("1.35"))
    assert pr1.assumptions == ["Rent grows 3%", "Vacancy 5%"]
    assert pr2.assumptions == []
    assert (pr3.loan_type, pr3.interest_rate, pr3.projected_dscr) == ("cash", None, Decimal(0))
    broker = user_id(db, BROKER)
    assert all(r.locked_by == broker and r.locked_at is not None for r in stored.values())
    assert all(r.current_grade is None and r.current_flags == [] for r in stored.values())


def test_the_result_names_the_new_buyers(office: Database) -> None:
    load(office, "buy_boxes", "buy_boxes")
    result = load(office, "deal_performance", "deal_performance")
    assert result.rows == 3
    assert result.notes == ("2 new buyers added: Acme Capital, Birch Homes",)


def test_an_existing_buyer_is_reused_regardless_of_case(
    portfolio: Database, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        RECORD_HEADER,
        "PR-4,,BIRCH HOMES,,buy_hold,austin,2025-02-01,200000,,,,,,1800,1200,500,1.30,",
    )
    result = import_file(portfolio, "deal_performance", path, as_of=AS_OF)
    assert (result.rows, result.notes) == (1, ())
    assert records(portfolio)["PR-4"].buyer_id == buyers(portfolio)["Birch Homes"].id
    assert count(portfolio, Buyer) == 2


def test_record_refusals_write_nothing(portfolio: Database) -> None:
    before = counts(portfolio)

    exc = failure(portfolio, "deal_performance", fixture("deal_performance_bad"))

    assert where(exc) == [
        (2, "deal_ref"),
        (3, "buy_box_ref"),
        (4, "strategy"),
        (5, "ref"),
        (6, "deal_ref"),
        (7, "interest_rate"),
        (8, "closed_date"),
        (9, "projected_dscr"),
        (11, "ref"),
        (12, "deal_ref"),
        (12, "purchase_price"),
    ]
    assert reason(exc, 2, "deal_ref") == (
        "deal DL-1002 (Harbor Way fourplex) has not closed won (it is at proposal)"
    )
    assert reason(exc, 3, "buy_box_ref") == "no buy box with ref 'BB-9'"
    assert reason(exc, 4, "strategy") == "'flip' is not one of buy_hold/commercial"
    assert reason(exc, 5, "ref") == (
        "a performance record with ref PR-1 is already in the database "
        "(imports add, they never overwrite)"
    )
    assert reason(exc, 6, "deal_ref") == (
        "deal DL-1004 (410 Pine Ave sale) already has a performance record"
    )
    assert reason(exc, 7, "interest_rate") == "a cash purchase has no loan; leave it empty"
    assert reason(exc, 8, "closed_date") == "2025-07-01 is after today; record it at close"
    assert reason(exc, 9, "projected_dscr") == "a DSCR of 0 is not possible with a loan"
    assert reason(exc, 11, "ref") == "ref PX-9 already appears on row 10"
    assert reason(exc, 12, "deal_ref") == "no deal with ref 'DL-9999'"
    assert reason(exc, 12, "purchase_price") == "must not be negative (got -5)"
    assert all(e.file == "postclose_deal_performance_bad.csv" for e in exc.errors)
    assert counts(portfolio) == before  # no record, and no new buyer ("Cedar LLC")
    assert "Cedar LLC" not in buyers(portfolio)


def test_two_rows_may_not_give_one_deal_two_records(office: Database, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        RECORD_HEADER,
        "PR-1,DL-1004,Acme,,buy_hold,austin,2024-11-15,610000,,,,,,4200,2800,650,1.35,",
        "PR-2,DL-1004,Acme,,buy_hold,austin,2024-11-15,610000,,,,,,4200,2800,650,1.35,",
        "PR-3,DL-1005,Acme,,buy_hold,austin,2024-11-15,610000,,,,,,4200,2800,650,1.35,",
    )
    exc = failure(office, "deal_performance", path)
    assert where(exc) == [(3, "deal_ref"), (4, "deal_ref")]
    assert reason(exc, 3, "deal_ref") == "deal DL-1004 is already given its record on row 2"
    assert reason(exc, 4, "deal_ref") == (
        "deal DL-1005 (Cedar Ln lot) has not closed won (it is at closed lost)"
    )
    assert counts(office) == (0, 0, 0, 0)


def test_an_office_with_nobody_to_record_it_in_the_name_of(db: Database, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        RECORD_HEADER,
        "PR-1,,Acme,,buy_hold,austin,2024-11-15,610000,,,,,,4200,2800,650,1.35,",
    )
    exc = failure(db, "deal_performance", path)
    assert where(exc) == [(None, None)]
    assert "Add a broker or an admin first" in exc.errors[0].reason
    assert counts(db) == (0, 0, 0, 0)


# --------------------------------------------------------------------------- rent roll


def test_rent_roll_months_are_stored_and_graded(graded: Database) -> None:
    stored = periods(graded)
    assert set(stored) == {
        ("PR-1", 2025, 1),
        ("PR-1", 2025, 2),
        ("PR-2", 2025, 3),
        ("PR-3", 2025, 3),
    }
    jan, feb = stored["PR-1", 2025, 1], stored["PR-1", 2025, 2]
    # January: the breakdown makes the total; better than the pro forma, DSCR ≥ BB-1's 1.30.
    assert (jan.actual_rent_collected, jan.actual_vacancy_rate) == (
        Decimal("4200.00"),
        Decimal("0.0200"),
    )
    assert (jan.maintenance, jan.property_management, jan.taxes, jan.insurance, jan.other) == (
        Decimal("300.00"),
        Decimal("336.00"),
        Decimal("450.00"),
        Decimal("200.00"),
        Decimal("100.00"),
    )
    assert jan.expenses_total == Decimal("1386.00")
    assert (jan.actual_noi, jan.actual_monthly_cash_flow, jan.actual_dscr) == (
        Decimal("2814.00"),
        Decimal("680.00"),
        Decimal("1.38"),
    )
    assert (jan.grade, jan.flags) == ("A", [])
    assert (jan.cash_flow_variance, jan.cash_flow_variance_pct) == (
        Decimal("30.00"),
        Decimal("4.62"),
    )
    assert (jan.rent_variance, jan.rent_variance_pct) == (Decimal("0.00"), Decimal("0.00"))
    assert (jan.expense_variance, jan.expense_variance_pct) == (
        Decimal("-14.00"),
        Decimal("-1.00"),
    )
    assert jan.dscr_variance == Decimal("0.03")
    # February: "8%" vacancy, a typed total; cash flow 13.85 % short, DSCR under BB-1's 1.30.
    assert feb.actual_vacancy_rate == Decimal("0.0800")
    assert (feb.maintenance, feb.expenses_total) == (None, Decimal("1500.00"))
    assert feb.grade == "C"
    assert feb.flags == [
        "moderate_cash_flow_shortfall",
        "dscr_below_minimum",
        "elevated_vacancy_rate",
    ]
    assert (feb.cash_flow_variance, feb.cash_flow_variance_pct) == (
        Decimal("-90.00"),
        Decimal("-13.85"),
    )
    assert (feb.rent_variance_pct, feb.expense_variance_pct, feb.dscr_variance) == (
        Decimal("-7.14"),
        Decimal("7.14"),
        Decimal("-0.13"),
    )
    assert feb.notes == "Unit 2 turned over"
    assert stored["PR-2", 2025, 3].actual_vacancy_rate == Decimal("0.0400")  # "4" = 4 %
    assert stored["PR-2", 2025, 3].grade == "B"
    # A cash purchase may enter a DSCR of 0; by SPEC §9 that grades D.
    cash = stored["PR-3", 2025, 3]
    assert (cash.actual_dscr, cash.grade, cash.flags) == (Decimal(0), "D", ["dscr_below_minimum"])
    broker = user_id(graded, BROKER)
    assert all(p.entered_by == broker and p.version == 1 for p in stored.values())
    assert all(p.entered_at is not None and p.updated_by is None for p in stored.values())


def test_imported_grades_are_the_forms_grades(graded: Database) -> None:
    """The stored assessment is what the form's parser and SPEC §9 make of the same text."""
    texts = {
        "actual_rent_collected": "3900",
        "actual_vacancy_rate": "8%",
        "expenses_total": "1500",
        "actual_noi": "2400",
        "actual_monthly_cash_flow": "560",
        "actual_dscr": "1.22",
        "notes": "Unit 2 turned over",
    }
    values = parse_period(texts, "DSCR")
    projection = Projection(Decimal(4200), Decimal(2800), Decimal(650), Decimal("1.35"))
    expected = {
        **values.columns(),
        **period_assessment_columns(assess(projection, values.actuals(), Decimal("1.30"))),
    }
    feb = periods(graded)["PR-1", 2025, 2]
    assert {name: getattr(feb, name) for name in expected} == expected


def test_rent_roll_refreshes_grades_rates_and_scores(portfolio: Database) -> None:
    result = load(portfolio, "rent_roll", "rent_roll")

    assert result.rows == 4
    stored = records(portfolio)
    # The record's current grade is its latest month's (February), whatever the file's order.
    assert stored["PR-1"].current_grade == "C"
    assert stored["PR-1"].current_flags == [
        "moderate_cash_flow_shortfall",
        "dscr_below_minimum",
        "elevated_vacancy_rate",
    ]
    assert (stored["PR-2"].current_grade, stored["PR-3"].current_grade) == ("B", "D")
    box = boxes(portfolio)
    assert (box["BB-1"].performance_rate, box["BB-1"].warning_level) == (Decimal(0), "CRITICAL")
    assert (box["BB-2"].performance_rate, box["BB-2"].warning_level) == (Decimal(100), None)
    people = buyers(portfolio)
    # Acme: one of two graded A/B = 50; mean latest cash-flow variance (−90 − 50)/2 = −70.
    assert people["Acme Capital"].engagement_score == Decimal("50.00")
    assert people["Birch Homes"].engagement_score == Decimal("0.00")
    assert result.notes == (
        "Buy box Austin rentals is CRITICAL: Only 0.00% of its properties are graded A or B "
        "(below 40%).",
    )


def test_rent_roll_refusals_write_nothing(graded: Database) -> None:
    before = counts(graded)
    grades_before = {ref: r.current_grade for ref, r in records(graded).items()}

    exc = failure(graded, "rent_roll", fixture("rent_roll_bad"))

    assert where(exc) == [
        (2, "actual_rent_collected"),
        (3, "actual_vacancy_rate"),
        (4, "actual_dscr"),
        (5, "month"),
        (6, "performance_ref"),
        (8, "month"),
        (9, "month"),
        (10, "expenses_total"),
        (11, "expenses_total"),
        (12, "month"),
    ]
    assert reason(exc, 2, "actual_rent_collected") == "must not be negative (got -100)"
    assert reason(exc, 3, "actual_vacancy_rate") == "150% is outside 0–1 (or 0–100 %)"
    assert reason(exc, 4, "actual_dscr") == "a DSCR of 0 is not possible with a loan"
    assert reason(exc, 5, "month") == "2025-07 has not begun yet (today is 2025-06-15)"
    assert reason(exc, 6, "performance_ref") == "no performance record with ref 'PR-9'"
    assert reason(exc, 8, "month") == "PR-2 2025-04 already appears on row 7"
    assert reason(exc, 9, "month") == (
        "PR-1 2025-01 is entered already (imports add, they never overwrite; change it in PerfDesk)"
    )
    assert reason(exc, 10, "expenses_total") == (
        "1,400.00 differs from the breakdown's sum 600.00; correct one or leave the total empty"
    )
    assert reason(exc, 11, "expenses_total") == "required (or give the breakdown)"
    assert reason(exc, 12, "month") == "13 is outside 1–12"
    assert str(exc).splitlines()[0] == "postclose_rent_roll_bad.csv: 10 errors, nothing imported"
    assert counts(graded) == before  # row 7 is valid, and was not written either
    assert {ref: r.current_grade for ref, r in records(graded).items()} == grades_before


@pytest.mark.parametrize(
    ("line", "column", "why"),
    [
        ("PR-1,2025,3,-100,0.02,,,,,,1400,2800,650,1.35,", "actual_rent_collected",
         "must not be negative (got -100)"),
        ("PR-1,2025,3,4200,150%,,,,,,1400,2800,650,1.35,", "actual_vacancy_rate",
         "150% is outside 0–1 (or 0–100 %)"),
        ("PR-1,2025,3,4200,0.02,,,,,,1400,2800,650,0,", "actual_dscr",
         "a DSCR of 0 is not possible with a loan"),
        ("PR-1,2025,7,4200,0.02,,,,,,1400,2800,650,1.35,", "month",
         "2025-07 has not begun yet (today is 2025-06-15)"),
        ("PR-9,2025,3,4200,0.02,,,,,,1400,2800,650,1.35,", "performance_ref",
         "no performance record with ref 'PR-9'"),
        ("PR-1,2025,1,4200,0.02,,,,,,1400,2800,650,1.35,", "month",
         "PR-1 2025-01 is entered already (imports add, they never overwrite; "
         "change it in PerfDesk)"),
        ("PR-1,2025,3,4200,0.02,,,,,,1400,2800,650,1.35,", "month",
         "PR-1 2025-03 already appears on row 2"),
    ],
)  # fmt: skip
def test_one_bad_month_refuses_the_file(
    graded: Database, tmp_path: Path, line: str, column: str, why: str
) -> None:
    good = "PR-1,2025,3,4200,0.02,,,,,,1400,2800,650,1.35,"
    path = write(tmp_path, RENT_HEADER, good, line)
    before = counts(graded)

    exc = failure(graded, "rent_roll", path)

    assert [str(e) for e in exc.errors] == [f"f.csv, row 3, column {column}: {why}"]
    assert counts(graded) == before


# --------------------------------------------------------------------------- command line


def _url(db: Database) -> str:
    return db.engine.url.render_as_string(hide_password=False)


def test_the_command_line_imports_the_three_files(
    office: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    url = _url(office)
    for kind, name in (
        ("buy_boxes", "buy_boxes"),
        ("deal_performance", "deal_performance"),
        ("rent_roll", "rent_roll"),
    ):
        path = str(fixture(name))
        code = cli.main(["--db", url, "--as-of", AS_OF.isoformat(), "import", kind, path])
        out = capsys.readouterr()
        assert code == 0, out.err
        rows = {"buy_boxes": 2, "deal_performance": 3, "rent_roll": 4}[kind]
        assert out.out == f"imported {rows} {kind} from {path}\n"
    assert counts(office) == (2, 2, 3, 4)
    assert records(office)["PR-1"].current_grade == "C"


def test_the_command_line_refuses_a_bad_file_with_exit_1(
    graded: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    before = counts(graded)
    path = str(fixture("rent_roll_bad"))

    code = cli.main(["--db", _url(graded), "--as-of", "2025-06-15", "import", "rent_roll", path])

    out = capsys.readouterr()
    assert code == 1
    assert out.out == ""
    err = out.err.strip().splitlines()
    assert err[0] == f"{path}: 10 errors, nothing imported"
    assert err[1] == f"{path}, row 2, column actual_rent_collected: must not be negative (got -100)"
    assert len(err) == 11 and "Traceback" not in out.err
    assert counts(graded) == before


def test_the_command_line_knows_the_new_kinds(
    sqlite_db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(["--db", _url(sqlite_db), "import", "rent_rolls", "x.csv"])
    assert code == 2
    assert "rent_roll" in capsys.readouterr().err


# --------------------------------------------------------------------------- many rows


def test_many_rows_cross_every_chunk(sqlite_db: Database, tmp_path: Path) -> None:
    """1,200 records (refs looked up 500 at a time) and 6,000 months (written in blocks)."""
    db = sqlite_db
    import_file(db, "users", SAMPLES / "users.csv")
    n = 1200
    path = write(
        tmp_path,
        RECORD_HEADER,
        *(
            f"M-{i},,Buyer {i % 7},,buy_hold,austin,2024-01-01,100000,,DSCR,,,,1000,600,200,1.30,"
            for i in range(n)
        ),
        name="records.csv",
    )
    assert import_file(db, "deal_performance", path, as_of=AS_OF).rows == n
    months = [
        f"M-{i},2025,{m},1000,0.02,,,,,,{400 if i % 2 else 460},600,{200 if i % 2 else 150},1.30,"
        for i in range(n)
        for m in range(1, 6)
    ]
    path = write(tmp_path, RENT_HEADER, *months, name="months.csv")

    assert import_file(db, "rent_roll", path, as_of=AS_OF).rows == 6000

    assert count(db, PerformancePeriod) == 6000
    grades = {ref: r.current_grade for ref, r in records(db).items()}
    assert grades["M-1"] == "A" and grades["M-0"] == "C"  # cash flow 25 % short: C
    assert len(buyers(db)) == 7
    # Again: every month is already entered, each named; nothing is written.
    exc = failure(db, "rent_roll", path)
    assert len(exc.errors) == 6000 and {e.column for e in exc.errors} == {"month"}
    assert count(db, PerformancePeriod) == 6000


# -- who an import is recorded as (--as) ------------------------------------------------------


def test_an_import_is_recorded_as_the_person_named_and_refused_to_those_who_may_not(
    db: Database, tmp_path: Path
) -> None:
    from app.domain.errors import PermissionDenied
    from app.services.users import add_user

    pid = os.getpid()
    boss, mgr, dialer = (f"{n}.{pid}@office.example" for n in ("boss", "mgr", "dial"))
    add_user(db, boss, "broker", "Bea", "Boss")
    add_user(db, mgr, "manager", "Max", "Manager", broker_email=boss)
    add_user(db, dialer, "dialer", "Dee", "Dial", broker_email=boss)
    records = tmp_path / "records.csv"
    records.write_text(
        "ref,buyer,strategy,market_key,closed_date,purchase_price,projected_rent,projected_noi,"
        "projected_monthly_cash_flow,projected_dscr\n"
        "AS-1,Acme,buy_hold,austin,2025-01-10,300000,2400,1700,350,1.30\n"
    )
    with pytest.raises(PermissionDenied, match="import performance records"):
        import_file(db, "deal_performance", records, acting=dialer)
    import_file(db, "deal_performance", records, acting=mgr, as_of=dt.date(2025, 3, 1))
    months = tmp_path / "months.csv"
    months.write_text(
        "performance_ref,year,month,actual_rent_collected,actual_vacancy_rate,expenses_total,"
        "actual_noi,actual_monthly_cash_flow,actual_dscr\n"
        "AS-1,2025,2,2400,0,700,1700,350,1.30\n"
    )
    with pytest.raises(PermissionDenied, match="import rent-roll months"):
        import_file(db, "rent_roll", months, acting=dialer, as_of=dt.date(2025, 3, 1))
    import_file(db, "rent_roll", months, acting=mgr, as_of=dt.date(2025, 3, 1))
    with db.read() as s:
        locked_by = s.scalar(sa.select(DealPerformance.locked_by))
        entered_by = s.scalar(sa.select(PerformancePeriod.entered_by))
        manager_id = s.scalar(sa.select(User.id).where(User.email == mgr))
    assert locked_by == manager_id and entered_by == manager_id
