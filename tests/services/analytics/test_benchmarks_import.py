"""`import benchmarks` (SPEC §10, §11) on SQLite and PostgreSQL: every cell read by the rules of
app/domain/benchmarks.py, every problem named with its row and column, all rows written or
none, one row per (metric, asset type, deal type, cohort, effective date) in the file and in
the database, who may import (admins, brokers, managers), the sample file, and the command line.

The office is resources/samples/users.csv: Morgan Reyes (broker), Priya Shah (manager), Ann Lee
(agent), Dan Cole (closer), Erin Fox (admin). "Today" is 15 June 2025.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from app import cli
from app.db.models import Benchmark
from app.domain.errors import PermissionDenied
from app.services.database import Database, open_database
from app.services.importing import ImportFailed, import_file, kind_names
from app.services.users import add_user
from tests.services.kpis.importing import (  # noqa: F401 - no_login_roles: the autouse fixture
    ADMIN,
    ANN,
    AS_OF,
    BROKER,
    MANAGER,
    SAMPLES,
    failure,
    load,
    no_login_roles,
    reason,
    where,
    write,
)

CLOSER = "dan.cole@example.com"
HEADER = "metric_key,asset_type,deal_type,cohort,value_numeric,value_text,source,effective_date"
SAMPLE = SAMPLES / "benchmarks.csv"
SAMPLE_ROWS = 43

Stored = tuple[str, str | None, str | None, str, Decimal | None, str | None, str, dt.date]


def stored(db: Database) -> list[Stored]:
    with db.read() as s:
        rows = s.scalars(sa.select(Benchmark).order_by(Benchmark.id))
        return [
            (b.metric_key, b.asset_type, b.deal_type, str(b.cohort), b.value_numeric,
             b.value_text, b.source, b.effective_date)
            for b in rows
        ]  # fmt: skip


def count(db: Database) -> int:
    with db.read() as s:
        return int(s.scalar(sa.select(sa.func.count()).select_from(Benchmark)) or 0)


@pytest.fixture
def office(db: Database) -> Database:
    import_file(db, "users", SAMPLES / "users.csv")
    return db


# --------------------------------------------------------------------------- the registry


def test_benchmarks_is_the_kind_after_rent_roll() -> None:
    names = kind_names()
    assert names.index("benchmarks") == names.index("rent_roll") + 1


# --------------------------------------------------------------------------- a good file


GOOD = (
    "Avg_Cycle_Days,Residential,Buy_Side,Industry_Avg,92,,Survey 2025,2025-01-15",  # 2
    "avg_cycle_days,residential,buy_side,TOP_QUARTILE,64,,Survey 2025,2025-01-15",  # 3
    "conversion_rate,,,internal_avg,51.25,,Office review,2024-12-31",  # 4
    "commission_rate, commercial ,,industry_avg,0.0300,,Survey 2025,2025-01-15",  # 5
    'market_outlook,,,industry_avg,,"Balanced market, inventory up",MLS,2025-06-01',  # 6
    "dscr,multifamily,buy_side,industry_avg,-1.5,negative on purpose,Lenders,2026-06-15",  # 7
)


def test_a_good_file_is_stored_exactly(office: Database, tmp_path: Path) -> None:
    result = load(office, "benchmarks", write(tmp_path, HEADER, *GOOD), acting=ADMIN)

    assert (result.kind, result.rows, result.notes) == ("benchmarks", 6, ())
    assert stored(office) == [
        ("avg_cycle_days", "residential", "buy_side", "industry_avg", Decimal(92), None,
         "Survey 2025", dt.date(2025, 1, 15)),
        ("avg_cycle_days", "residential", "buy_side", "top_quartile", Decimal(64), None,
         "Survey 2025", dt.date(2025, 1, 15)),
        ("conversion_rate", None, None, "internal_avg", Decimal("51.25"), None,
         "Office review", dt.date(2024, 12, 31)),
        ("commission_rate", "commercial", None, "industry_avg", Decimal("0.03"), None,
         "Survey 2025", dt.date(2025, 1, 15)),
        ("market_outlook", None, None, "industry_avg", None, "Balanced market, inventory up",
         "MLS", dt.date(2025, 6, 1)),
        ("dscr", "multifamily", "buy_side", "industry_avg", Decimal("-1.5"),
         "negative on purpose", "Lenders", dt.date(2026, 6, 15)),  # a year ahead: allowed
    ]  # fmt: skip


def test_four_decimals_are_kept_exactly_in_sql(office: Database, tmp_path: Path) -> None:
    lines = [f"rate_{n},,,industry_avg,0.0001,,s,2025-01-01" for n in range(10)]
    load(office, "benchmarks", write(tmp_path, HEADER, *lines))
    with office.read() as s:
        total = s.scalar(sa.select(sa.func.sum(Benchmark.value_numeric)))
    assert total == Decimal("0.001")


def test_a_header_alone_imports_nothing(office: Database, tmp_path: Path) -> None:
    assert load(office, "benchmarks", write(tmp_path, HEADER)).rows == 0
    assert count(office) == 0


# --------------------------------------------------------------------------- bad input


BAD = (
    "conversion_rate,,,median,42,,Survey,2025-01-15",  # 2: unknown cohort
    "conversion_rate,,,industry_avg,forty-two,,Survey,2025-01-15",  # 3: not a number
    "conversion_rate,,,top_quartile,58,,,2025-01-15",  # 4: no source
    "conversion_rate,,,internal_avg,51,,Survey,2026-06-16",  # 5: more than a year ahead
    "Avg Cycle,,,industry_avg,90,,Survey,2025-01-15",  # 6: not a metric key
    "dscr,,,industry_avg,,,Survey,2025-01-15",  # 7: no value at all
    "dscr,,,top_quartile,1.23456,,Survey,2025-01-15",  # 8: five decimals
    f"dscr,{'x' * 41},,industry_avg,1.2,,Survey,2025-01-15",  # 9: asset type too long
    "dscr,,,internal_avg,1.2,,Survey,15/01/2025",  # 10: not an ISO date
    "dscr,residential,,industry_avg,1.25,,Survey,2025-01-15",  # 11: fine on its own
)


def test_every_bad_cell_is_named_with_its_row_and_column_and_nothing_is_written(
    office: Database, tmp_path: Path
) -> None:
    exc = failure(office, "benchmarks", write(tmp_path, HEADER, *BAD, name="bad.csv"))

    assert where(exc) == [
        (2, "cohort"),
        (3, "value_numeric"),
        (4, "source"),
        (5, "effective_date"),
        (6, "metric_key"),
        (7, "value_numeric"),
        (8, "value_numeric"),
        (9, "asset_type"),
        (10, "effective_date"),
    ]
    assert reason(exc, 2, "cohort") == (
        "unknown cohort 'median' (expected industry_avg, top_quartile or internal_avg)"
    )
    assert reason(exc, 3, "value_numeric") == "'forty-two' is not a number"
    assert reason(exc, 4, "source") == "is required"
    assert reason(exc, 5, "effective_date") == (
        "2026-06-16 is more than a year after 2025-06-15 (at most 2026-06-15)"
    )
    assert "is not a metric key" in reason(exc, 6, "metric_key")
    assert reason(exc, 7, "value_numeric") == "give value_numeric, value_text or both"
    assert reason(exc, 8, "value_numeric") == "1.23456 has more than four decimals"
    assert reason(exc, 9, "asset_type") == "is 41 characters long; at most 40 fit"
    assert "is not a date (expected YYYY-MM-DD)" in reason(exc, 10, "effective_date")
    assert str(exc).startswith("bad.csv: 9 errors, nothing imported\n")
    assert "bad.csv, row 2, column cohort: unknown cohort 'median'" in str(exc)
    assert count(office) == 0


@pytest.mark.parametrize(
    ("line", "column", "said"),
    [
        ("conversion_rate,,,best_in_class,42,,S,2025-01-15", "cohort", "unknown cohort"),
        ("conversion_rate,,,industry_avg,n/a,,S,2025-01-15", "value_numeric", "is not a number"),
        ("conversion_rate,,,industry_avg,42,,,2025-01-15", "source", "is required"),
        ("conversion_rate,,,industry_avg,42,,S,2027-01-01", "effective_date", "more than a year"),
    ],
    ids=["unknown_cohort", "non_numeric", "missing_source", "far_future"],
)
def test_one_bad_row_refuses_the_whole_file(
    office: Database, tmp_path: Path, line: str, column: str, said: str
) -> None:
    good = (
        "avg_cycle_days,,,industry_avg,90,,S,2025-01-15",
        "dscr,,,industry_avg,1.2,,S,2025-01-15",
    )
    exc = failure(office, "benchmarks", write(tmp_path, HEADER, good[0], line, good[1]))
    assert where(exc) == [(3, column)]
    assert said in reason(exc, 3, column)
    assert count(office) == 0


def test_an_unknown_column_is_refused(office: Database, tmp_path: Path) -> None:
    exc = failure(
        office,
        "benchmarks",
        write(tmp_path, HEADER + ",median", "a,,,industry_avg,1,,s,2025-01-01,"),
    )
    assert where(exc) == [(1, "median")]
    assert reason(exc, 1, "median").startswith("unknown column (expected: metric_key, asset_type")
    assert count(office) == 0


def test_the_same_benchmark_twice_in_the_file_is_an_error(office: Database, tmp_path: Path) -> None:
    lines = (
        "dscr,residential,buy_side,industry_avg,1.28,,S,2025-01-15",  # 2
        "dscr,residential,buy_side,top_quartile,1.45,,S,2025-01-15",  # 3: another cohort
        "dscr,residential,buy_side,industry_avg,1.30,,S,2024-01-15",  # 4: another date
        "DSCR,Residential,BUY_SIDE,Industry_Avg,1.29,,Other,2025-01-15",  # 5: row 2 again
        "dscr,,buy_side,industry_avg,1.28,,S,2025-01-15",  # 6: any asset type: another
    )
    exc = failure(office, "benchmarks", write(tmp_path, HEADER, *lines))
    assert where(exc) == [(5, "effective_date")]
    assert reason(exc, 5, "effective_date") == (
        "dscr (residential, buy_side, industry_avg) effective 2025-01-15 already appears on row 2"
    )
    assert count(office) == 0


def test_a_benchmark_already_in_the_database_is_an_error(office: Database, tmp_path: Path) -> None:
    first = (
        "dscr,residential,buy_side,industry_avg,1.28,,S,2025-01-15",
        "conversion_rate,,,industry_avg,42.5,,S,2025-01-15",
    )
    load(office, "benchmarks", write(tmp_path, HEADER, *first, name="first.csv"))
    again = (
        "conversion_rate,,,industry_avg,43,,S,2025-07-01",  # 2: a newer figure: added
        "Conversion_Rate,,,industry_avg,44,,S,2025-01-15",  # 3: already there
        "dscr,residential,,industry_avg,1.28,,S,2025-01-15",  # 4: any deal type: another key
    )
    exc = failure(office, "benchmarks", write(tmp_path, HEADER, *again, name="again.csv"))
    assert where(exc) == [(3, "effective_date")]
    assert reason(exc, 3, "effective_date") == (
        "conversion_rate (any asset type, any deal type, industry_avg) effective 2025-01-15 "
        "is already in the database (imports add, they never overwrite)"
    )
    assert count(office) == 2
    assert load(office, "benchmarks", write(tmp_path, HEADER, again[0], again[2])).rows == 2
    assert count(office) == 4


# --------------------------------------------------------------------------- who may import


@pytest.mark.parametrize("who", [ANN, CLOSER])
def test_an_agent_or_a_closer_is_refused_the_whole_file(
    office: Database, tmp_path: Path, who: str
) -> None:
    path = write(tmp_path, HEADER, *GOOD)
    with pytest.raises(PermissionDenied) as info:
        load(office, "benchmarks", path, acting=who)
    role = "agent" if who == ANN else "closer"
    assert str(info.value) == (
        f"Only a broker, manager or admin may import benchmarks; you are signed in as {role}."
    )
    assert count(office) == 0


def test_brokers_managers_and_admins_import(office: Database, tmp_path: Path) -> None:
    for n, who in enumerate((BROKER, MANAGER, ADMIN)):
        line = f"metric_{n},,,industry_avg,{n},,S,2025-01-15"
        assert load(office, "benchmarks", write(tmp_path, HEADER, line), acting=who).rows == 1
    assert count(office) == 3


# --------------------------------------------------------------------------- the sample


def test_the_sample_file_imports_cleanly_into_an_empty_database(db: Database) -> None:
    result = import_file(db, "benchmarks", SAMPLE)
    assert result.rows == SAMPLE_ROWS == count(db)
    rows = stored(db)
    metrics = {r[0] for r in rows}
    assert {"conversion_rate", "avg_cycle_days", "commission_rate"} <= metrics
    assert {r[1] for r in rows} == {None, "residential", "multifamily", "commercial"}
    assert {r[2] for r in rows} == {None, "buy_side", "sell_side"}
    assert {r[3] for r in rows} == {"industry_avg", "top_quartile", "internal_avg"}
    assert len({r[7] for r in rows}) == 2
    assert [r[5] for r in rows if r[4] is None] == [
        "Kern County: balanced market, inventory up year over year"
    ]
    with pytest.raises(ImportFailed) as again:  # imports add, never overwrite
        import_file(db, "benchmarks", SAMPLE)
    assert len(again.value.errors) == SAMPLE_ROWS
    assert count(db) == SAMPLE_ROWS


def test_the_sample_agrees_with_the_demo_figures(db: Database) -> None:
    from app.services.demo.settings import BENCHMARKS

    import_file(db, "benchmarks", SAMPLE)
    newest = {
        (m, a, d, c): (v, t) for m, a, d, c, v, t, _s, e in stored(db) if e == dt.date(2025, 7, 1)
    }
    for metric, asset, deal, cohort, value, text in BENCHMARKS:
        number, said = newest[(metric, asset, deal, cohort.value)]
        assert said == text
        assert number == (Decimal(value) if value is not None else None), metric


# --------------------------------------------------------------------------- the command line


def test_the_command_line_imports_and_refuses(
    sqlite_db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = sqlite_db
    import_file(db, "users", SAMPLES / "users.csv")
    url = db.engine.url.render_as_string(hide_password=False)
    base = ["--db", url, "--as-of", AS_OF.isoformat()]

    code = cli.main([*base, "--as", ANN, "import", "benchmarks", str(SAMPLE)])
    out = capsys.readouterr()
    assert code == 1 and out.out == ""
    assert out.err.strip() == (
        "Only a broker, manager or admin may import benchmarks; you are signed in as agent."
    )

    bad = write(tmp_path, HEADER, *BAD[:4], name="bad.csv")
    code = cli.main([*base, "import", "benchmarks", str(bad)])
    out = capsys.readouterr()
    assert code == 1
    err = out.err.strip().splitlines()
    assert err[0] == f"{bad}: 4 errors, nothing imported"
    assert err[1] == (
        f"{bad}, row 2, column cohort: unknown cohort 'median' "
        "(expected industry_avg, top_quartile or internal_avg)"
    )
    assert count(db) == 0

    code = cli.main([*base, "--as", MANAGER, "import", "benchmarks", str(SAMPLE)])
    out = capsys.readouterr()
    assert code == 0 and out.out == f"imported {SAMPLE_ROWS} benchmarks from {SAMPLE}\n"
    assert count(db) == SAMPLE_ROWS

    assert cli.main([*base, "import", "benchmarks"]) == 2  # no file: bad usage
    capsys.readouterr()


# --------------------------------------------------------------------------- on a server


def mail(name: str) -> str:
    return f"{name}@bench-import.example"


@pytest.fixture
def logins(pg_db: Database) -> Iterator[dict[str, Database]]:
    """An agent's and a manager's own server logins."""
    held: dict[str, Database] = {}
    add_user(pg_db, mail("max"), "manager", "Max", "Manager")
    add_user(pg_db, mail("al"), "agent", "Al", "Agent")
    for name in ("max", "al"):
        url = make_url(pg_db.url).set(username=mail(name)).render_as_string(False)
        held[name] = open_database(url)
    yield held
    for db in held.values():
        db.dispose()


@pytest.mark.pg
def test_on_a_server_the_agents_login_is_refused_and_the_managers_imports(
    pg_db: Database, logins: dict[str, Database], tmp_path: Path
) -> None:
    path = write(tmp_path, HEADER, *GOOD)
    with pytest.raises(PermissionDenied, match="you are signed in as agent"):
        load(logins["al"], "benchmarks", path)
    assert count(pg_db) == 0
    with pytest.raises(sa.exc.ProgrammingError, match="permission"), logins["al"].session() as s:
        s.execute(  # the grant refuses the write itself, whatever the app does
            sa.insert(Benchmark).values(
                metric_key="x", cohort="industry_avg", value_numeric=1, source="s",
                effective_date=dt.date(2025, 1, 1),
            )
        )  # fmt: skip
    assert load(logins["max"], "benchmarks", path).rows == len(GOOD)
    assert count(pg_db) == len(GOOD)
