"""Benchmarks read and deleted (SPEC §10) on SQLite and PostgreSQL: every row in one query for
the lookup the analytics page makes, the list the Benchmarks page shows with which row of each
series is in force (current, superseded, future), and deleting rows (admins, brokers, managers;
on a server the grant's refusal reads as the app's own)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from app.db.models import Benchmark
from app.domain.benchmarks import BenchmarkRow, applicable
from app.domain.errors import PermissionDenied
from app.services.analytics import benchmarks as service
from app.services.analytics.benchmarks import (
    BenchmarkItem,
    delete_benchmarks,
    list_benchmarks,
    load_benchmarks,
    may_write_benchmarks,
)
from app.services.database import Database, open_database
from app.services.users import add_user

DAY = dt.date(2025, 8, 1)
OLD, NEW, LATER = dt.date(2024, 7, 1), dt.date(2025, 7, 1), dt.date(2025, 9, 1)


def mail(name: str) -> str:
    return f"{name}@bench-service.example"


def add(db: Database, *rows: tuple[Any, ...]) -> list[int]:
    """(metric, asset, deal, cohort, value, text, effective) each; returns the ids."""
    ids: list[int] = []
    with db.session() as s:
        for metric, asset, deal, cohort, value, text, effective in rows:
            b = Benchmark(
                metric_key=metric, asset_type=asset, deal_type=deal, cohort=cohort,
                value_numeric=Decimal(value) if value is not None else None, value_text=text,
                source="Survey", effective_date=effective,
            )  # fmt: skip
            s.add(b)
            s.flush()
            ids.append(b.id)
    return ids


def ids_left(db: Database) -> set[int]:
    with db.read() as s:
        return set(s.scalars(sa.select(Benchmark.id)))


@pytest.fixture
def figures(db: Database) -> dict[str, int]:
    """Cycle days (residential buy side: an old and a new industry average, a future one, a top
    quartile; any asset: an internal average), conversion (any), commission rates."""
    names = (
        "cycle_old", "cycle_new", "cycle_future", "cycle_top", "cycle_internal",
        "conversion", "conversion_top", "commission_res", "commission_any", "outlook",
    )  # fmt: skip
    ids = add(
        db,
        ("avg_cycle_days", "residential", "buy_side", "industry_avg", "95", None, OLD),
        ("avg_cycle_days", "residential", "buy_side", "industry_avg", "92", None, NEW),
        ("avg_cycle_days", "residential", "buy_side", "industry_avg", "90", None, LATER),
        ("avg_cycle_days", "residential", "buy_side", "top_quartile", "64", None, NEW),
        ("avg_cycle_days", None, None, "internal_avg", "88", None, NEW),
        ("conversion_rate", None, None, "industry_avg", "42.5", None, NEW),
        ("conversion_rate", None, None, "top_quartile", "58", None, OLD),
        ("commission_rate", "residential", None, "industry_avg", "0.0255", None, NEW),
        ("commission_rate", None, None, "industry_avg", "0.0275", None, NEW),
        ("market_outlook", None, None, "industry_avg", None, "Balanced", NEW),
    )
    return dict(zip(names, ids, strict=True))


# --------------------------------------------------------------------------- reading


def test_load_benchmarks_reads_every_row_in_one_query(
    db: Database, figures: dict[str, int]
) -> None:
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", seen)
    try:
        with db.read() as s:
            rows = load_benchmarks(s)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", seen)
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 1
    assert len(rows) == len(figures)
    assert all(isinstance(r, BenchmarkRow) for r in rows)
    by_id = {r.id: r for r in rows}
    cycle = by_id[figures["cycle_new"]]
    assert (cycle.metric_key, cycle.asset_type, cycle.deal_type, cycle.cohort) == (
        "avg_cycle_days", "residential", "buy_side", "industry_avg"
    )  # fmt: skip
    assert (cycle.value_numeric, cycle.value_text, cycle.source, cycle.effective_date) == (
        Decimal(92), None, "Survey", NEW
    )  # fmt: skip
    outlook = by_id[figures["outlook"]]
    assert (outlook.value_numeric, outlook.value_text) == (None, "Balanced")


def test_the_analytics_lookup_over_the_stored_rows(db: Database, figures: dict[str, int]) -> None:
    with db.read() as s:
        rows = load_benchmarks(s)

    def ids(metric: str, asset: str | None, deal: str | None, day: dt.date) -> dict[str, int]:
        return {c: r.id for c, r in applicable(rows, metric, asset, deal, day).items()}

    assert ids("avg_cycle_days", "residential", "buy_side", DAY) == {
        "industry_avg": figures["cycle_new"],
        "top_quartile": figures["cycle_top"],
        "internal_avg": figures["cycle_internal"],
    }
    assert ids("avg_cycle_days", "residential", "buy_side", dt.date(2025, 1, 1)) == {
        "industry_avg": figures["cycle_old"]
    }
    assert (
        ids("avg_cycle_days", "residential", "buy_side", LATER)["industry_avg"]
        == (figures["cycle_future"])
    )
    assert ids("avg_cycle_days", "commercial", "buy_side", DAY) == {
        "internal_avg": figures["cycle_internal"]
    }
    assert ids("conversion_rate", "residential", "sell_side", DAY) == {
        "industry_avg": figures["conversion"],
        "top_quartile": figures["conversion_top"],
    }
    assert ids("commission_rate", "residential", "sell_side", DAY) == {
        "industry_avg": figures["commission_res"]
    }
    assert ids("commission_rate", "commercial", None, DAY) == {
        "industry_avg": figures["commission_any"]
    }


def test_the_list_says_which_row_of_each_series_is_in_force(
    db: Database, figures: dict[str, int]
) -> None:
    items = list_benchmarks(db, DAY)
    assert all(isinstance(i, BenchmarkItem) for i in items)
    state = {i.id: ("current" if i.current else "future" if i.future else "superseded")
             for i in items}  # fmt: skip
    assert state[figures["cycle_old"]] == "superseded"
    assert state[figures["cycle_new"]] == "current"
    assert state[figures["cycle_future"]] == "future"
    assert state[figures["conversion_top"]] == "current"  # old, but nothing newer
    assert sum(1 for s in state.values() if s == "current") == 8
    old = next(i for i in items if i.id == figures["cycle_old"])
    assert old.superseded and not old.current and not old.future
    assert old.value_numeric == Decimal(95) and old.effective_date == OLD

    later = {i.id: i for i in list_benchmarks(db, LATER)}
    assert later[figures["cycle_future"]].current
    assert later[figures["cycle_new"]].superseded


def test_the_list_is_sorted_by_metric_asset_deal_cohort_and_newest_first(
    db: Database, figures: dict[str, int]
) -> None:
    order = [i.id for i in list_benchmarks(db, DAY)]
    f = figures
    assert order == [
        f["cycle_internal"],  # avg_cycle_days, any asset type first
        f["cycle_future"], f["cycle_new"], f["cycle_old"],  # residential buy side, newest first
        f["cycle_top"],  # then the top quartile
        f["commission_any"], f["commission_res"],
        f["conversion"], f["conversion_top"],  # industry, then top quartile
        f["outlook"],
    ]  # fmt: skip


def test_the_newest_row_is_current_whatever_the_case_of_its_key(db: Database) -> None:
    old, new = add(
        db,
        ("dscr", "Residential", None, "industry_avg", "1.2", None, OLD),
        ("dscr", "residential", None, "industry_avg", "1.3", None, NEW),
    )
    state = {i.id: i.current for i in list_benchmarks(db, DAY)}
    assert state == {old: False, new: True}


def test_an_empty_database_lists_nothing(db: Database) -> None:
    assert list_benchmarks(db, DAY) == []
    with db.read() as s:
        assert load_benchmarks(s) == []


# --------------------------------------------------------------------------- deleting


@pytest.fixture
def office(db: Database) -> dict[str, int]:
    ids = {}
    for name, role in (("bo", "broker"), ("max", "manager"), ("ada", "admin"), ("al", "agent"),
                       ("cy", "closer")):  # fmt: skip
        ids[name] = add_user(db, mail(name), role, name.title(), "Person").id
    return ids


def test_delete_removes_the_rows_and_says_how_many(db: Database, figures: dict[str, int]) -> None:
    gone = [figures["cycle_old"], figures["outlook"], 999_999]  # one that is not there
    assert delete_benchmarks(db, gone, acting=None) == 2
    assert ids_left(db) == set(figures.values()) - set(gone)
    assert delete_benchmarks(db, []) == 0


@pytest.mark.parametrize("who", ["bo", "max", "ada"])
def test_brokers_managers_and_admins_delete(
    db: Database, figures: dict[str, int], office: dict[str, int], who: str
) -> None:
    assert may_write_benchmarks(db, mail(who))
    assert delete_benchmarks(db, [figures["cycle_new"]], acting=mail(who)) == 1
    assert figures["cycle_new"] not in ids_left(db)


@pytest.mark.parametrize(("who", "role"), [("al", "agent"), ("cy", "closer")])
def test_others_are_refused_and_nothing_is_deleted(
    db: Database, figures: dict[str, int], office: dict[str, int], who: str, role: str
) -> None:
    assert not may_write_benchmarks(db, mail(who))
    with pytest.raises(PermissionDenied) as info:
        delete_benchmarks(db, list(figures.values()), acting=mail(who))
    assert str(info.value) == (
        f"Only a broker, manager or admin may delete benchmarks; you are signed in as {role}."
    )
    assert ids_left(db) == set(figures.values())


def test_with_nobody_named_the_local_person_or_the_servers_owner_may_write(
    db: Database, figures: dict[str, int]
) -> None:
    assert may_write_benchmarks(db)
    assert delete_benchmarks(db, [figures["outlook"]]) == 1


# --------------------------------------------------------------------------- on a server


@pytest.fixture
def logins(pg_db: Database, office_pg: dict[str, int]) -> Iterator[dict[str, Database]]:
    held: dict[str, Database] = {}
    for name in ("al", "max"):
        url = make_url(pg_db.url).set(username=mail(name)).render_as_string(False)
        held[name] = open_database(url)
    yield held
    for db in held.values():
        db.dispose()


@pytest.fixture
def office_pg(pg_db: Database) -> dict[str, int]:
    return {
        "al": add_user(pg_db, mail("al"), "agent", "Al", "Agent").id,
        "max": add_user(pg_db, mail("max"), "manager", "Max", "Manager").id,
    }


@pytest.mark.pg
def test_on_a_server_the_grants_refusal_reads_as_the_apps_own(
    pg_db: Database, logins: dict[str, Database], monkeypatch: pytest.MonkeyPatch
) -> None:
    (row,) = add(pg_db, ("dscr", None, None, "industry_avg", "1.25", None, NEW))
    agent = logins["al"]
    assert [r.id for r in list_benchmarks(agent, DAY)] == [row]  # everyone reads them
    with pytest.raises(PermissionDenied) as by_the_app:
        delete_benchmarks(agent, [row])
    monkeypatch.setattr(service, "check_writer", lambda _actor, _doing: None)
    with pytest.raises(PermissionDenied) as by_the_server:
        delete_benchmarks(agent, [row])
    said = "Only a broker, manager or admin may delete benchmarks; you are signed in as agent."
    assert str(by_the_app.value) == str(by_the_server.value) == said
    assert ids_left(pg_db) == {row}
    monkeypatch.undo()
    assert may_write_benchmarks(logins["max"]) and not may_write_benchmarks(agent)
    assert delete_benchmarks(logins["max"], [row]) == 1
    assert ids_left(pg_db) == set()
