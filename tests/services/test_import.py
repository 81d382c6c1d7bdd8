"""CSV import (SPEC §11) on SQLite and PostgreSQL: every row checked, all written or none."""

from __future__ import annotations

import csv
import datetime as dt
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from app.db.base import Base
from app.db.models import Appointment, Client, Escrow, Lead, Listing, Team, User
from app.services.database import Database
from app.services.importing import (
    ImportCancelled,
    ImportFailed,
    RowError,
    UnknownKind,
    import_file,
    kind_names,
)
from app.services.importing.kinds import users as users_kind

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "resources" / "samples"
FIXTURES = ROOT / "tests" / "fixtures" / "csv"
KINDS = ["users", "leads", "appointments", "clients", "listings", "escrows"]
MODELS: dict[str, type[Base]] = {
    "users": User,
    "leads": Lead,
    "appointments": Appointment,
    "clients": Client,
    "listings": Listing,
    "escrows": Escrow,
}
_real_find_ensure_db_roles = users_kind.find_ensure_db_roles


@pytest.fixture(autouse=True)
def login_roles(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Record the login roles an import asks for, instead of creating server-wide roles."""
    calls: list[list[str]] = []

    def ensure(db: Database, emails: list[str]) -> None:
        calls.append(list(emails))

    monkeypatch.setattr(users_kind, "find_ensure_db_roles", lambda: ensure)
    return calls


@pytest.fixture
def office(db: Database) -> Database:
    """The sample office: a broker, a manager, three agents, a closer, an admin."""
    import_file(db, "users", SAMPLES / "users.csv")
    return db


def count(db: Database, model: type[Base]) -> int:
    with db.read() as s:
        return int(s.scalar(sa.select(sa.func.count()).select_from(model)) or 0)


def data_rows(path: Path) -> int:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return sum(1 for row in csv.reader(f) if any(cell.strip() for cell in row)) - 1


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def failure(db: Database, kind: str, path: Path) -> ImportFailed:
    with pytest.raises(ImportFailed) as info:
        import_file(db, kind, path, label=path.name)
    return info.value


def where(exc: ImportFailed) -> list[tuple[int | None, str | None]]:
    return [(e.row, e.column) for e in exc.errors]


def reason(exc: ImportFailed, row: int | None, column: str | None) -> str:
    found = [e.reason for e in exc.errors if (e.row, e.column) == (row, column)]
    assert len(found) == 1, (row, column, exc.errors)
    return found[0]


def users_by_email(db: Database) -> dict[str, User]:
    with db.read() as s:
        return {u.email: u for u in s.scalars(sa.select(User))}


# --------------------------------------------------------------------------- every kind


def test_the_registry_lists_the_kinds_of_this_issue() -> None:
    assert kind_names()[: len(KINDS)] == KINDS


@pytest.mark.parametrize("kind", KINDS)
def test_sample_of_each_kind_imports(db: Database, kind: str) -> None:
    if kind != "users":
        import_file(db, "users", SAMPLES / "users.csv")
    path = SAMPLES / f"{kind}.csv"
    before = count(db, MODELS[kind])

    result = import_file(db, kind, path)

    assert result.kind == kind
    assert result.rows == data_rows(path) > 0
    assert result.file == str(path)
    assert count(db, MODELS[kind]) == before + result.rows


def test_samples_store_exact_values(db: Database) -> None:
    for kind in KINDS:
        import_file(db, kind, SAMPLES / f"{kind}.csv")
    people = users_by_email(db)
    broker = people["morgan.reyes@example.com"]
    ann = people["ann.lee@example.com"]
    with db.read() as s:
        teams = {t.name: t for t in s.scalars(sa.select(Team))}
        escrow = s.scalars(sa.select(Escrow).where(Escrow.property_address == "410 Pine Ave")).one()
        listing = s.scalars(sa.select(Listing).where(Listing.address == "12 Elm St")).one()
        taylor = s.scalars(sa.select(Lead).where(Lead.name == "Taylor Brooks")).one()
        quinn = s.scalars(sa.select(Lead).where(Lead.name == "Quinn Walker")).one()
        casey = s.scalars(sa.select(Lead).where(Lead.name == "Casey Nguyen")).one()
        lunch = s.scalars(sa.select(Appointment).where(Appointment.title.like("Lunch%"))).one()
        total = s.scalar(sa.select(sa.func.sum(Escrow.purchase_price)))

    assert ann.broker_id == broker.id and ann.role == "agent"
    assert people["erin.fox@example.com"].broker_id is None
    assert set(teams) == {"Downtown", "Westside"}
    assert teams["Downtown"].broker_id == broker.id
    assert teams["Downtown"].manager_id == people["priya.shah@example.com"].id
    assert teams["Westside"].broker_id == broker.id and teams["Westside"].manager_id is None
    assert ann.team_id == teams["Downtown"].id
    assert escrow.purchase_price == Decimal("610000.00")
    assert escrow.my_commission == Decimal("15250.00")
    assert escrow.closed_at == dt.datetime(2024, 11, 15, tzinfo=dt.UTC)
    assert listing.list_price == Decimal("485000.00")
    assert total == Decimal("4920000.00")  # summed in SQL, exact on both backends
    # "-08:00" is converted; a naive or date-only time is UTC; stored and read back aware.
    assert taylor.created_at == dt.datetime(2025, 1, 10, 18, 0, tzinfo=dt.UTC)
    assert casey.created_at == dt.datetime(2024, 11, 20, tzinfo=dt.UTC)
    # is_private left empty: false, except for a broker's own records (SPEC §1).
    assert casey.is_private is False
    assert quinn.is_private is True and quinn.owner_id == broker.id
    assert lunch.is_private is True


def test_bom_crlf_header_case_and_quoted_newlines_are_accepted(office: Database) -> None:
    result = import_file(office, "leads", FIXTURES / "leads_bom_crlf.csv")

    assert result.rows == 2
    with office.read() as s:
        jordan, taylor = s.scalars(sa.select(Lead).order_by(Lead.id)).all()
    assert jordan.email == "jordan.miles@example.net"
    assert jordan.status == "new" and jordan.is_private is True
    assert jordan.created_at == dt.datetime(2025, 1, 6, 7, 15, tzinfo=dt.UTC)
    assert taylor.name == "Brooks, Taylor" and taylor.email is None
    assert taylor.source is not None and taylor.source.splitlines() == ["Open house", "Sunday"]


# --------------------------------------------------------------------------- refusals


def test_every_bad_cell_is_reported_and_nothing_is_written(office: Database) -> None:
    import_file(office, "leads", SAMPLES / "leads.csv")
    before = count(office, Lead)

    exc = failure(office, "leads", FIXTURES / "leads_bad_values.csv")

    assert where(exc) == [
        (2, "email"),
        (3, "owner_email"),
        (4, "name"),
        (4, "status"),
        (4, "is_private"),
        (4, "created_at"),
        (5, "created_at"),
    ]
    assert reason(exc, 2, "email") == "'not-an-email' is not an email address"
    assert reason(exc, 3, "owner_email") == "no user with email nobody@example.com"
    assert reason(exc, 4, "name") == "is required"
    assert reason(exc, 4, "status") == "'hot' is not one of new/contacted/qualified/converted/lost"
    assert reason(exc, 4, "is_private") == "'maybe' is not true or false"
    assert reason(exc, 4, "created_at").startswith("'2025-13-01' is not a valid date or time")
    assert reason(exc, 5, "created_at") == "is required"
    assert all(e.file == "leads_bad_values.csv" for e in exc.errors)
    lines = str(exc).splitlines()
    assert lines[0] == "leads_bad_values.csv: 7 errors, nothing imported"
    assert lines[1] == (
        "leads_bad_values.csv, row 2, column email: 'not-an-email' is not an email address"
    )
    assert len(lines) == 8
    assert count(office, Lead) == before  # row 6 is valid, and was not written either


def test_unknown_and_missing_columns_are_named(office: Database) -> None:
    unknown = failure(office, "leads", FIXTURES / "leads_unknown_column.csv")
    assert where(unknown) == [(1, "budget"), (1, "notes")]
    assert reason(unknown, 1, "budget").startswith("unknown column (expected: owner_email, name")

    missing = failure(office, "leads", FIXTURES / "leads_missing_columns.csv")
    assert where(missing) == [(1, "owner_email"), (1, "created_at")]
    assert reason(missing, 1, "created_at") == "required column is missing"
    assert count(office, Lead) == 0


def test_a_header_naming_a_column_twice_is_refused(office: Database, tmp_path: Path) -> None:
    path = write(tmp_path, "c.csv", "agent_email,name,status,Status,created_at\n")
    exc = failure(office, "clients", path)
    assert where(exc) == [(1, "status")]
    assert reason(exc, 1, "status") == "is named twice in the header"


def test_identical_rows_in_one_file_are_refused(office: Database) -> None:
    exc = failure(office, "leads", FIXTURES / "leads_duplicates.csv")
    # Row 4 is row 2 once case, offsets and spelling are normalised; row 5 is a second later.
    assert where(exc) == [(4, None)]
    assert reason(exc, 4, None) == "is the same lead as row 2"
    assert str(exc) == "leads_duplicates.csv, row 4: is the same lead as row 2 (nothing imported)"
    assert count(office, Lead) == 0


@pytest.mark.parametrize("kind", KINDS[1:])
def test_importing_the_same_file_twice_is_refused(office: Database, kind: str) -> None:
    path = SAMPLES / f"{kind}.csv"
    first = import_file(office, kind, path)

    exc = failure(office, kind, path)

    assert len(exc.errors) == first.rows
    assert {e.column for e in exc.errors} == {None}
    assert exc.errors[0].reason.startswith(f"the same {kind[:-1]} is already in the database")
    assert count(office, MODELS[kind]) == first.rows


def test_negative_money_is_refused_with_a_clear_reason(office: Database) -> None:
    exc = failure(office, "listings", FIXTURES / "listings_negative.csv")
    assert [str(e) for e in exc.errors] == [
        "listings_negative.csv, row 3, column list_price: must not be negative (got -1)"
    ]
    assert count(office, Listing) == 0


def test_escrow_rules(office: Database) -> None:
    exc = failure(office, "escrows", FIXTURES / "escrows_bad.csv")

    assert where(exc) == [
        (2, "purchase_price"),
        (3, "my_commission"),
        (4, "closed_at"),
        (5, "closed_at"),
        (6, "closed_at"),
        (7, "my_commission"),
        (8, "purchase_price"),
        (8, "escrow_status"),
        (8, "created_at"),
    ]
    assert reason(exc, 2, "purchase_price") == "must not be negative (got -520000)"
    assert reason(exc, 3, "my_commission") == "must not be negative (got -100)"
    assert reason(exc, 4, "closed_at") == "is required when escrow_status is Closed"
    assert reason(exc, 5, "closed_at") == "2024-06-28 is before created_at 2024-07-01"
    assert reason(exc, 6, "closed_at") == "must be empty while escrow_status is Active"
    assert reason(exc, 7, "my_commission") == "250000 is more than purchase_price 210000"
    assert reason(exc, 8, "purchase_price") == "'abc' is not a number"
    assert reason(exc, 8, "escrow_status") == "'Open' is not one of Active/Pending/Closed/Cancelled"
    assert count(office, Escrow) == 0


def test_a_cancelled_escrow_may_say_when_it_fell_through(office: Database, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "e.csv",
        "agent_email,property_address,purchase_price,escrow_status,created_at,closed_at\n"
        "ann.lee@example.com,1 A St,100,cancelled,2024-01-01,2024-01-01\n"
        "ann.lee@example.com,2 A St,100,Closed,2024-01-01T08:00,2024-01-01T08:00\n",
    )
    assert import_file(office, "escrows", path).rows == 2
    with office.read() as s:
        statuses = s.scalars(sa.select(Escrow.escrow_status).order_by(Escrow.id)).all()
    assert statuses == ["Cancelled", "Closed"]


def test_records_refer_to_people_by_existing_email(db: Database, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "c.csv",
        "agent_email,name,status,created_at\nann.lee@example.com,Sam,active,2025-01-01\n",
    )
    exc = failure(db, "clients", path)
    assert [str(e) for e in exc.errors] == [
        "c.csv, row 2, column agent_email: no user with email ann.lee@example.com"
    ]


def test_text_longer_than_its_column_is_refused(office: Database, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "c.csv",
        f"agent_email,name,status,created_at\nann.lee@example.com,{'x' * 161},active,2025-01-01\n",
    )
    exc = failure(office, "clients", path)
    assert reason(exc, 2, "name") == "is 161 characters long; at most 160 fit"


def test_money_is_rounded_half_up_to_cents_when_stored(office: Database, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "l.csv",
        "agent_email,address,list_price,status,created_at\n"
        'ann.lee@example.com,1 A St,"$1,200.505",active,2025-01-01\n'
        "ann.lee@example.com,2 A St,0.10,active,2025-01-01\n",
    )
    import_file(office, "listings", path)
    with office.read() as s:
        prices = s.scalars(sa.select(Listing.list_price).order_by(Listing.id)).all()
    assert prices == [Decimal("1200.51"), Decimal("0.10")]


# --------------------------------------------------------------------------- users


def test_users_rules_report_every_problem(db: Database) -> None:
    exc = failure(db, "users", FIXTURES / "users_bad.csv")

    assert where(exc) == [
        (4, "email"),
        (5, "broker_email"),
        (6, "broker_email"),
        (8, "last_name"),
        (8, "role"),
        (9, "email"),
    ]
    assert reason(exc, 4, "email") == "email ann.lee@example.com already appears on row 3"
    assert reason(exc, 5, "broker_email") == "ann.lee@example.com is an agent, not a broker"
    assert reason(exc, 6, "broker_email") == (
        "no user with email late.broker@example.com in the database or on an earlier row"
    )
    assert reason(exc, 8, "role").startswith("'boss' is not one of broker/manager/admin")
    assert count(db, User) == 0
    assert count(db, Team) == 0


def test_reimporting_an_existing_email_is_refused(office: Database, tmp_path: Path) -> None:
    before = count(office, User)
    path = write(
        tmp_path,
        "u.csv",
        "email,first_name,last_name,role,broker_email\n"
        "new.agent@example.com,New,Agent,agent,morgan.reyes@example.com\n"
        "Ann.Lee@Example.com,Ann,Lee,agent,morgan.reyes@example.com\n",
    )
    exc = failure(office, "users", path)
    assert [str(e) for e in exc.errors] == [
        "u.csv, row 3, column email: a user with email ann.lee@example.com already exists "
        "(imports add, they never overwrite)"
    ]
    assert count(office, User) == before
    assert users_by_email(office)["ann.lee@example.com"].first_name == "Ann"


def test_users_teams_and_brokers(office: Database, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "u.csv",
        "email,first_name,last_name,role,team,broker_email\n"
        "fay.wu@example.com,Fay,Wu,agent,downtown,\n"  # existing team, any case; only broker
        "gil.ray@example.com,Gil,Ray,dialer,Northside,morgan.reyes@example.com\n"
        "hal.oak@example.com,Hal,Oak,manager,NORTHSIDE,morgan.reyes@example.com\n",
    )
    assert import_file(office, "users", path).rows == 3

    people = users_by_email(office)
    broker_id = people["morgan.reyes@example.com"].id
    with office.read() as s:
        teams = {t.name: t for t in s.scalars(sa.select(Team))}
    assert set(teams) == {"Downtown", "Westside", "Northside"}
    assert people["fay.wu@example.com"].team_id == teams["Downtown"].id
    assert people["fay.wu@example.com"].broker_id == broker_id  # the office's only broker
    assert people["hal.oak@example.com"].team_id == teams["Northside"].id
    assert teams["Northside"].broker_id == broker_id
    assert teams["Northside"].manager_id == people["hal.oak@example.com"].id


def test_users_broker_conflicts(office: Database, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "u.csv",
        "email,first_name,last_name,role,team,broker_email\n"
        "sky.lane@example.com,Sky,Lane,broker,Uptown,\n"
        "ivy.ng@example.com,Ivy,Ng,agent,,\n"
        "jon.fox@example.com,Jon,Fox,agent,Downtown,sky.lane@example.com\n"
        "kai.moe@example.com,Kai,Moe,broker,,morgan.reyes@example.com\n"
        "lou.day@example.com,Lou,Day,agent,Uptown,sky.lane@example.com\n"
        "mo.bell@example.com,Mo,Bell,agent,lou.day@example.com,lou.day@example.com\n",
    )
    exc = failure(office, "users", path)
    assert where(exc) == [
        (3, "broker_email"),
        (4, "team"),
        (5, "broker_email"),
        (7, "broker_email"),
    ]
    assert reason(exc, 3, "broker_email") == (
        "is required for an agent when the office has several brokers"
    )
    assert reason(exc, 4, "team") == (
        "team Downtown belongs to broker morgan.reyes@example.com, not sky.lane@example.com"
    )
    assert reason(exc, 5, "broker_email") == (
        "must be empty for a broker (a broker belongs to no other broker)"
    )
    assert reason(exc, 7, "broker_email") == "lou.day@example.com is an agent, not a broker"


def test_an_agent_may_refer_to_a_broker_added_earlier_in_the_file(db: Database) -> None:
    import_file(db, "users", SAMPLES / "users.csv")
    people = users_by_email(db)
    assert people["cara.kim@example.com"].broker_id == people["morgan.reyes@example.com"].id


def test_login_roles_are_asked_for_only_in_shared_mode(
    db: Database, login_roles: list[list[str]]
) -> None:
    with (SAMPLES / "users.csv").open(encoding="utf-8") as f:
        emails = [row["email"] for row in csv.DictReader(f)]

    result = import_file(db, "users", SAMPLES / "users.csv")

    assert login_roles == ([] if db.is_local else [emails])
    assert result.notes == ()


@pytest.mark.pg
def test_without_ensure_db_roles_shared_mode_says_so(
    pg_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(users_kind, "find_ensure_db_roles", lambda: None)
    result = import_file(pg_db, "users", SAMPLES / "users.csv")
    assert result.rows == 7
    assert "database logins were not created" in result.notes[0]


@pytest.fixture
def dropped_roles(pg_db: Database) -> Iterator[list[str]]:
    names: list[str] = []
    yield names
    with pg_db.engine.connect() as c:
        for name in names:
            c.execute(sa.text(f'DROP ROLE IF EXISTS "{name}"'))
        c.commit()


@pytest.mark.pg
def test_shared_mode_import_gives_each_person_a_login(
    pg_db: Database, monkeypatch: pytest.MonkeyPatch, dropped_roles: list[str], tmp_path: Path
) -> None:
    monkeypatch.setattr(users_kind, "find_ensure_db_roles", _real_find_ensure_db_roles)
    if _real_find_ensure_db_roles() is None:
        pytest.skip("app.services.users.ensure_db_roles is not available")
    tag = uuid.uuid4().hex[:8]
    emails = [f"imp{tag}.broker@example.com", f"imp{tag}.agent@example.com"]
    dropped_roles.extend(emails)
    path = write(
        tmp_path,
        "u.csv",
        "email,first_name,last_name,role,broker_email\n"
        f"{emails[0]},Bo,Broker,broker,\n{emails[1]},Al,Agent,agent,{emails[0]}\n",
    )
    assert import_file(pg_db, "users", path).rows == 2
    with pg_db.engine.connect() as c:
        roles = c.execute(
            sa.text("SELECT rolname FROM pg_roles WHERE rolname = ANY(:names) AND rolcanlogin"),
            {"names": emails},
        ).scalars()
        assert sorted(roles) == sorted(emails)
    assert all(u.db_role == u.email for u in users_by_email(pg_db).values())


# --------------------------------------------------------------------------- files


def test_a_file_that_is_not_utf8_is_refused(sqlite_db: Database) -> None:
    exc = failure(sqlite_db, "clients", FIXTURES / "clients_latin1.csv")
    assert str(exc) == (
        "clients_latin1.csv: is not UTF-8 text (byte 0xe9 on line 2); save it as 'CSV UTF-8' "
        "(nothing imported)"
    )


def test_a_file_separated_by_semicolons_gets_a_hint(sqlite_db: Database) -> None:
    exc = failure(sqlite_db, "leads", FIXTURES / "leads_semicolons.csv")
    assert where(exc) == [(1, None)]
    assert "looks separated by semicolons" in exc.errors[0].reason


def test_rows_with_the_wrong_number_of_values(db: Database) -> None:
    import_file(db, "users", SAMPLES / "users.csv")
    exc = failure(db, "clients", FIXTURES / "clients_ragged.csv")
    # Row 2 only has trailing empty values; rows 5 and 6 are blank and skipped.
    assert [str(e) for e in exc.errors] == [
        "clients_ragged.csv, row 3: has 6 values but the header names 5 columns",
        "clients_ragged.csv, row 6: has 4 values but the header names 5 columns",
    ]
    assert count(db, Client) == 0


def test_bad_rows_and_ragged_rows_are_reported_together(office: Database, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "c.csv",
        "agent_email,name,status,created_at\n"
        "ann.lee@example.com,Sam,active\n"
        "ann.lee@example.com,Lee,gone,2025-01-01\n",
    )
    exc = failure(office, "clients", path)
    assert where(exc) == [(2, None), (3, "status")]


def test_missing_and_empty_files(sqlite_db: Database, tmp_path: Path) -> None:
    missing = failure(sqlite_db, "leads", tmp_path / "nope.csv")
    assert str(missing) == "nope.csv: no such file (nothing imported)"
    empty = failure(sqlite_db, "leads", write(tmp_path, "empty.csv", ""))
    assert str(empty) == "empty.csv: is empty; expected a header row (nothing imported)"


def test_a_header_without_rows_imports_nothing(sqlite_db: Database, tmp_path: Path) -> None:
    path = write(tmp_path, "h.csv", "owner_email,name,status,created_at\n")
    assert import_file(sqlite_db, "leads", path).rows == 0


def test_an_unknown_kind_is_refused(sqlite_db: Database) -> None:
    with pytest.raises(UnknownKind, match="there is no import kind 'deal'; kinds: users, leads"):
        import_file(sqlite_db, "deal", SAMPLES / "leads.csv")


def test_row_error_text_names_file_row_column_and_reason() -> None:
    assert str(RowError("a.csv", 3, "created_at", "is required")) == (
        "a.csv, row 3, column created_at: is required"
    )
    assert str(RowError("a.csv", 3, None, "is the same lead as row 2")) == (
        "a.csv, row 3: is the same lead as row 2"
    )
    assert str(RowError("a.csv", None, None, "no such file")) == "a.csv: no such file"


# --------------------------------------------------------------------------- progress


def test_progress_is_reported_and_cancel_writes_nothing(
    sqlite_db: Database, tmp_path: Path
) -> None:
    import_file(sqlite_db, "users", SAMPLES / "users.csv")
    lines = ["agent_email,name,status,created_at"]
    lines += [f"ann.lee@example.com,Client {i},active,2025-01-01" for i in range(1200)]
    path = write(tmp_path, "many.csv", "\n".join(lines) + "\n")
    seen: list[tuple[int, int]] = []

    with pytest.raises(ImportCancelled):
        import_file(
            sqlite_db,
            "clients",
            path,
            progress=lambda done, total: seen.append((done, total)),
            cancelled=lambda: len(seen) >= 1,
        )
    assert count(sqlite_db, Client) == 0
    assert seen == [(500, 1200)]

    seen.clear()
    result = import_file(
        sqlite_db, "clients", path, progress=lambda done, total: seen.append((done, total))
    )
    assert result.rows == 1200
    assert seen == [(500, 1200), (1000, 1200), (1200, 1200)]
    assert count(sqlite_db, Client) == 1200


# --------------------------------------------------------------------------- extending


def test_a_new_kind_plugs_into_the_same_checks(
    sqlite_db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.domain import csvrules as cr
    from app.services.importing import registry
    from app.services.importing.spec import Column, Identity, ImportContext, ImportKind, Row

    code = Column("code", cr.text(8), required=True)
    amount = Column("amount", cr.money, required=True)
    written: list[tuple[str, Decimal]] = []

    class Budgets(ImportKind):
        name = "budgets"
        noun = "budget"
        columns = (code, amount)

        def identity(self, row: Row) -> Identity | None:
            return Identity(row.get(code), code.name, f"code {row.get(code)}")

        def write(self, ctx: ImportContext, rows: Any) -> int:
            written.extend((row[code], row[amount]) for row in rows)
            return len(rows)

    monkeypatch.setattr(registry, "_extra", {})
    registry.register(Budgets)
    assert "budgets" in kind_names()

    good = write(tmp_path, "b.csv", "code,amount\nA1,10\nB2,$20.50\n")
    assert import_file(sqlite_db, "budgets", good).rows == 2
    assert written == [("A1", Decimal("10")), ("B2", Decimal("20.50"))]

    bad = write(tmp_path, "bad.csv", "code,amount\nA1,-1\nA1,5\nA1,6\n")
    exc = failure(sqlite_db, "budgets", bad)
    assert [str(e) for e in exc.errors] == [
        "bad.csv, row 2, column amount: must not be negative (got -1)",
        "bad.csv, row 4, column code: code A1 already appears on row 3",
    ]
