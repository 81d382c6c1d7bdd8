"""`import kpi_definitions | kpi_assignments | kpi_measurements` (SPEC §7, §11) on SQLite and
PostgreSQL: each row checked by the same rules as the KPI forms, every problem named with its
row and column, all rows written or none, who may import what (SPEC §1), the audit entries
written with them, and the sample files going into the small demo office.

The office is resources/samples/users.csv: Morgan Reyes (broker), Priya Shah (manager of
Downtown: Priya, Ann Lee, Ben Ortiz), Cara Kim (agent, Westside, no manager), Dan Cole (closer)
and Erin Fox (admin).
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from app import cli
from app.db.base import Base
from app.db.models import (
    AuditEntry,
    KpiAssignment,
    KpiDefinition,
    KpiMeasurement,
    Team,
    User,
)
from app.domain.errors import PermissionDenied
from app.services.audit import verify_all
from app.services.database import Database
from app.services.demo import generate
from app.services.importing import import_file, kind_names
from tests.services.kpis.importing import (  # noqa: F401 - no_login_roles: the autouse fixture
    ADMIN,
    ANN,
    AS_OF,
    BEN,
    BROKER,
    CARA,
    MANAGER,
    SAMPLES,
    failure,
    load,
    no_login_roles,
    reason,
    user_id,
    where,
    write,
)

DEF_HEADER = (
    "name,description,category,calculation_type,unit,aggregation_period,target_type,data_source"
)
ASSIGN_HEADER = "user_email,team,kpi_name,target_value,weight,start_date,end_date"
MEASURE_HEADER = "user_email,kpi_name,period_start,period_end,actual_value,notes"

Q_LEADS = (
    "SELECT COUNT(*) FROM leads WHERE owner_id = :user_id AND created_at >= :start_date "
    "AND created_at < :end_date"
)


def cell(text: str) -> str:
    """A CSV cell holding ``text`` (quoted, quotes doubled)."""
    return '"' + text.replace('"', '""') + '"'


def count(db: Database, model: type[Base]) -> int:
    with db.read() as s:
        return int(s.scalar(sa.select(sa.func.count()).select_from(model)) or 0)


def counts(db: Database) -> tuple[int, int, int, int]:
    return (
        count(db, KpiDefinition),
        count(db, KpiAssignment),
        count(db, KpiMeasurement),
        count(db, AuditEntry),
    )


def definitions(db: Database) -> dict[str, KpiDefinition]:
    with db.read() as s:
        return {d.name: d for d in s.scalars(sa.select(KpiDefinition))}


def assignments(db: Database) -> dict[tuple[str, str, dt.date], KpiAssignment]:
    with db.read() as s:
        rows = s.execute(
            sa.select(User.email, KpiDefinition.name, KpiAssignment)
            .join(User, User.id == KpiAssignment.user_id)
            .join(KpiDefinition, KpiDefinition.id == KpiAssignment.kpi_definition_id)
        )
        return {(e, n, a.start_date): a for e, n, a in rows}


def measurements(db: Database) -> dict[tuple[str, str, dt.date], KpiMeasurement]:
    with db.read() as s:
        rows = s.execute(
            sa.select(User.email, KpiDefinition.name, KpiMeasurement)
            .join(KpiAssignment, KpiAssignment.id == KpiMeasurement.assignment_id)
            .join(User, User.id == KpiAssignment.user_id)
            .join(KpiDefinition, KpiDefinition.id == KpiAssignment.kpi_definition_id)
        )
        return {(e, n, m.period_start): m for e, n, m in rows}


def chain(db: Database, assignment_id: int) -> list[AuditEntry]:
    with db.read() as s:
        return list(
            s.scalars(
                sa.select(AuditEntry)
                .where(AuditEntry.chain_key == f"kpi_assignment:{assignment_id}")
                .order_by(AuditEntry.seq)
            )
        )


def intact(db: Database) -> None:
    result = verify_all(db, workers=1)
    assert result.intact, result.describe()


@pytest.fixture
def office(db: Database) -> Database:
    import_file(db, "users", SAMPLES / "users.csv")
    return db


KPI_FILE = (
    "Calls Logged,Outbound calls.,activity,manual,count,monthly,higher_better,"
    + cell('{"type": "manual", "allowed_range": {"min": 0, "max": 1000}}'),
    "Weekly Showings,,sales,Manual,count,Weekly,Higher is better,",
    "Survey Score,Post-close survey.,service,manual,score,quarterly,exact,"
    + cell('{"allowed_range": {"min": "1", "max": 5}}'),
)


@pytest.fixture
def defined(office: Database, tmp_path: Path) -> Database:
    """Three manual KPIs: Calls Logged (monthly, 0–1000), Weekly Showings (weekly), Survey Score
    (quarterly, exact, 1–5); with the built-in library's Leads Generated (monthly, query)."""
    load(office, "kpi_definitions", write(tmp_path, DEF_HEADER, *KPI_FILE, name="kpis.csv"))
    return office


ASSIGN_FILE = (
    f"{ANN},,Calls Logged,100,50,2025-01-01,",
    f"{ANN},,Weekly Showings,10,25,2025-01-01,2025-03-31",
    f"{ANN},,survey score,4.5,25,2025-01-01,",
    f"{BEN},,Leads Generated,20,100,2025-01-01,",
    f"{CARA},,Calls Logged,80,100,2025-01-01,",
)


@pytest.fixture
def assigned(defined: Database, tmp_path: Path) -> Database:
    """Ann: Calls Logged 100 (50 %), Weekly Showings 10 until March (25 %), Survey Score 4.5
    (25 %); Ben: Leads Generated 20 (100 %); Cara: Calls Logged 80 (100 %); all from 2025."""
    result = load(defined, "kpi_assignments", write(tmp_path, ASSIGN_HEADER, *ASSIGN_FILE))
    assert result.rows == 5 and result.notes == ()
    return defined


# --------------------------------------------------------------------------- the registry


def test_the_kpi_kinds_follow_benchmarks_definitions_first() -> None:
    names = kind_names()
    at = names.index("benchmarks")
    assert names[at + 1 : at + 4] == ["kpi_definitions", "kpi_assignments", "kpi_measurements"]


# --------------------------------------------------------------------------- definitions


def test_definitions_of_each_calculation_type_are_stored_as_the_form_stores_them(
    office: Database, tmp_path: Path
) -> None:
    formula = {
        "type": "formula",
        "formula": "done / max(calls, 1) * 100",
        "inputs": [
            {"variable": "done", "source": {"type": "database", "query": Q_LEADS}},
            {"variable": "calls", "kpi": "calls logged"},
        ],
    }
    path = write(
        tmp_path,
        DEF_HEADER,
        *KPI_FILE,
        "Leads Counted,Leads created.,sales,query,count,monthly,higher_better,"
        + cell(json.dumps({"type": "database", "query": Q_LEADS})),
        "Leads per Call,,sales,Formula,%,monthly,higher_better," + cell(json.dumps(formula)),
        "Talk Time,,activity,API,minutes,daily,lower_better,"
        + cell('{"provider": "aircall", "metric": "talk_time"}'),
    )

    result = load(office, "kpi_definitions", path)

    assert result.rows == 6 and result.kind == "kpi_definitions"
    found = definitions(office)
    calls = found["Calls Logged"]
    assert (calls.description, calls.category, calls.unit) == (
        "Outbound calls.",
        "activity",
        "count",
    )
    assert (calls.calculation_type, calls.aggregation_period, calls.target_type) == (
        "manual",
        "monthly",
        "higher_better",
    )
    assert (calls.min_value, calls.max_value) == (Decimal(0), Decimal(1000))
    assert calls.data_source == {"type": "manual", "allowed_range": {"min": "0", "max": "1000"}}
    assert calls.is_active and not calls.is_builtin and calls.created_by is None
    weekly = found["Weekly Showings"]
    assert (weekly.calculation_type, weekly.aggregation_period, weekly.target_type) == (
        "manual",
        "weekly",
        "higher_better",
    )
    assert weekly.description is None and weekly.min_value is None and weekly.max_value is None
    assert weekly.data_source == {"type": "manual", "allowed_range": {}}
    survey = found["Survey Score"]
    assert (survey.min_value, survey.max_value, survey.target_type) == (1, 5, "exact")
    leads = found["Leads Counted"]
    assert leads.data_source == {
        "type": "database",
        "query": Q_LEADS,
        "parameters": ["user_id", "start_date", "end_date"],
    }
    assert leads.min_value is None
    ratio = found["Leads per Call"]
    assert ratio.calculation_type == "formula"
    assert ratio.data_source == {
        "type": "formula",
        "formula": "done / max(calls, 1) * 100",
        "inputs": [
            {
                "variable": "done",
                "source": {
                    "type": "database",
                    "query": Q_LEADS,
                    "parameters": ["user_id", "start_date", "end_date"],
                },
            },
            {"variable": "calls", "kpi": "calls logged"},
        ],
    }
    talk = found["Talk Time"]
    assert (talk.calculation_type, talk.aggregation_period, talk.target_type) == (
        "api",
        "daily",
        "lower_better",
    )
    assert talk.data_source == {"type": "api", "provider": "aircall", "metric": "talk_time"}


def test_every_definition_problem_is_named_and_nothing_is_written(
    office: Database, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        DEF_HEADER,
        "revenue,,,query,,monthly,higher_better," + cell(f'{{"query": "{Q_LEADS}"}}'),  # 2
        "Calls Logged,,,manual,,monthly,higher_better,",  # 3
        "CALLS LOGGED,,,manual,,monthly,higher_better,",  # 4
        "Magic,,,magic,,monthly,higher_better,",  # 5
        "Fortnight,,,manual,,fortnightly,higher_better,",  # 6
        "More,,,manual,,monthly,more,",  # 7
        "Bad JSON,,,manual,,monthly,exact," + cell('{"type": "manual",}'),  # 8
        "Wrong Type,,,manual,,monthly,exact," + cell('{"type": "database", "query": "x"}'),  # 9
        "Built In,,,query,,monthly,exact," + cell('{"type": "builtin", "metric": "revenue"}'),
        "Upside Down,,,manual,,monthly,exact," + cell('{"allowed_range": {"min": 5, "max": 1}}'),
        "Fine Bound,,,manual,,monthly,exact," + cell('{"allowed_range": {"min": 0.12345}}'),  # 12
        "No User,,,query,,monthly,exact,"
        + cell('{"query": "SELECT COUNT(*) FROM leads WHERE created_at >= :start_date"}'),
        "Unknown Input,,,formula,,monthly,exact,"
        + cell('{"formula": "a", "inputs": [{"variable": "a", "kpi": "Nope"}]}'),  # 14
        "Unused Input,,,formula,,monthly,exact,"
        + cell(
            '{"formula": "a * 2", "inputs": [{"variable": "a", "kpi": "Revenue"}, '
            '{"variable": "b", "kpi": "Revenue"}]}'
        ),  # 15
        "Zendesk,,,api,,monthly,exact," + cell('{"provider": "zendesk"}'),  # 16
        "No SQL,,,query,,monthly,exact,",  # 17
        "x" * 256 + ",,,manual,,monthly,exact,",  # 18
        "Array,,,manual,,monthly,exact,[1]",  # 19
        "Bad Input SQL,,,formula,,monthly,exact,"
        + cell(
            '{"formula": "a", "inputs": [{"variable": "a", "source": '
            '{"type": "database", "query": "DELETE FROM leads WHERE owner_id = :user_id"}}]}'
        ),  # 20
    )
    before = counts(office)

    exc = failure(office, "kpi_definitions", path)

    assert where(exc) == [
        (2, "name"),
        (4, "name"),
        (5, "calculation_type"),
        (6, "aggregation_period"),
        (7, "target_type"),
        (8, "data_source"),
        (9, "data_source"),
        (10, "data_source"),
        (11, "data_source"),
        (12, "data_source"),
        (13, "data_source"),
        (14, "data_source"),
        (15, "data_source"),
        (16, "data_source"),
        (17, "data_source"),
        (18, "name"),
        (19, "data_source"),
        (20, "data_source"),
    ]
    assert "a KPI named 'Revenue' exists already" in reason(exc, 2, "name")
    assert reason(exc, 4, "name") == "the KPI name 'CALLS LOGGED' already appears on row 3"
    assert "'magic' is not one of manual, query, formula, api" in reason(exc, 5, "calculation_type")
    assert "'fortnightly' is not one of daily" in reason(exc, 6, "aggregation_period")
    assert "'more' is not one of higher_better" in reason(exc, 7, "target_type")
    assert reason(exc, 8, "data_source") == (
        "is not valid JSON: Expecting property name enclosed in double quotes at character 19"
    )
    assert 'has "type": "manual", not \'database\'' in reason(exc, 9, "data_source")
    assert "built-in library" in reason(exc, 10, "data_source")
    assert reason(exc, 11, "data_source") == "The allowed minimum is more than the maximum"
    assert reason(exc, 12, "data_source") == (
        "the allowed minimum: 0.12345 has more than four decimals"
    )
    assert ":user_id" in reason(exc, 13, "data_source")
    assert reason(exc, 14, "data_source") == (
        "no active KPI named 'Nope' in the database or on an earlier row"
    )
    assert "does not use the input b" in reason(exc, 15, "data_source")
    assert "Unknown data-source provider 'zendesk'" in reason(exc, 16, "data_source")
    assert reason(exc, 17, "data_source") == "A query KPI needs its SQL"
    assert reason(exc, 18, "name") == "is 256 characters long; at most 255 fit"
    assert reason(exc, 19, "data_source").startswith("must be a JSON object")
    assert reason(exc, 20, "data_source").startswith("input a: ")
    assert str(exc).startswith("f.csv: 18 errors, nothing imported")
    assert counts(office) == before


def test_a_formula_may_use_an_earlier_row_but_not_a_later_one_nor_a_circle(
    office: Database, tmp_path: Path
) -> None:
    # A formula stored before its input existed (e.g. the input was renamed since).
    with office.session() as s:
        s.add(
            KpiDefinition(
                name="Alpha",
                calculation_type="formula",
                aggregation_period="monthly",
                target_type="higher_better",
                is_active=True,
                is_builtin=False,
                data_source={
                    "type": "formula",
                    "formula": "b",
                    "inputs": [{"variable": "b", "kpi": "Beta"}],
                },
            )
        )

    def formula(name: str, uses: str) -> str:
        doc = f'{{"formula": "x + 1", "inputs": [{{"variable": "x", "kpi": "{uses}"}}]}}'
        return f"{name},,,formula,,monthly,higher_better," + cell(doc)

    path = write(
        tmp_path,
        DEF_HEADER,
        formula("Uses Later", "Base"),  # 2: Base comes on row 3
        "Base,,,manual,,monthly,higher_better,",  # 3
        formula("Uses Earlier", "base"),  # 4
        formula("Beta", "Alpha"),  # 5: Alpha uses Beta
        formula("Self", "self"),  # 6
    )
    exc = failure(office, "kpi_definitions", path)

    assert where(exc) == [(2, "data_source"), (5, "data_source"), (6, "data_source")]
    assert "no active KPI named 'Base'" in reason(exc, 2, "data_source")
    assert reason(exc, 5, "data_source") == (
        "the KPIs refer to each other in a circle: Beta → Alpha → Beta"
    )
    assert reason(exc, 6, "data_source") == (
        "the KPIs refer to each other in a circle: Self → Self"
    )

    fixed = write(
        tmp_path,
        DEF_HEADER,
        "Base,,,manual,,monthly,higher_better,",
        formula("Uses Earlier", "base"),
        name="fixed.csv",
    )
    assert load(office, "kpi_definitions", fixed).rows == 2
    assert definitions(office)["Uses Earlier"].data_source["inputs"] == [
        {"variable": "x", "kpi": "base"}
    ]


def test_a_formula_may_not_use_a_deactivated_kpi(office: Database, tmp_path: Path) -> None:
    with office.session() as s:
        s.execute(
            sa.update(KpiDefinition).where(KpiDefinition.name == "Revenue").values(is_active=False)
        )
    doc = '{"formula": "r", "inputs": [{"variable": "r", "kpi": "Revenue"}]}'
    path = write(tmp_path, DEF_HEADER, "Rev,,,formula,,monthly,exact," + cell(doc))

    exc = failure(office, "kpi_definitions", path)

    assert where(exc) == [(2, "data_source")]
    assert "no active KPI named 'Revenue'" in reason(exc, 2, "data_source")


def test_only_an_admin_imports_definitions(office: Database, tmp_path: Path) -> None:
    path = write(tmp_path, DEF_HEADER, *KPI_FILE)
    before = counts(office)
    for who in (ANN, MANAGER, BROKER):
        with pytest.raises(PermissionDenied, match="Only an admin may create or change KPI"):
            load(office, "kpi_definitions", path, acting=who)
    assert counts(office) == before

    assert load(office, "kpi_definitions", path, acting=ADMIN).rows == 3

    assert definitions(office)["Calls Logged"].created_by == user_id(office, ADMIN)


# --------------------------------------------------------------------------- assignments


def test_assignments_to_people_and_teams_are_stored_with_their_audit_entries(
    defined: Database, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        ASSIGN_HEADER,
        f"{ANN.upper()},,calls logged,120.5,40,2025-01-01,2025-12-31",
        ",downtown,Weekly Showings,12,60,2025-01-01,",
        f"{CARA},,Survey Score,4.5,100,2025-02-01,",
    )

    result = load(defined, "kpi_assignments", path)

    assert result.rows == 5  # Ann; Priya, Ann and Ben of Downtown; Cara
    stored = assignments(defined)
    assert len(stored) == 5
    day = dt.date(2025, 1, 1)
    ann = stored[(ANN, "Calls Logged", day)]
    assert (ann.target_value, ann.weight, ann.end_date, ann.team_id) == (
        Decimal("120.5"),
        Decimal(40),
        dt.date(2025, 12, 31),
        None,
    )
    assert ann.is_active and ann.assigned_by is None and ann.version == 1
    with defined.read() as s:
        downtown = s.scalar(sa.text("SELECT id FROM teams WHERE name = 'Downtown'"))
    for email in (MANAGER, ANN, BEN):
        team = stored[(email, "Weekly Showings", day)]
        assert (team.target_value, team.weight, team.end_date, team.team_id) == (
            Decimal(12),
            Decimal(60),
            None,
            downtown,
        )
    cara = stored[(CARA, "Survey Score", dt.date(2025, 2, 1))]
    assert (cara.target_value, cara.weight) == (Decimal("4.5"), Decimal(100))
    # Weights: Ann 40 + 60 = 100 and Cara 100; Priya and Ben have 60 only.
    assert result.notes == (
        f"Ben Ortiz ({BEN}) on 2025-01-01: Weights add up to 60, not 100.",
        f"Priya Shah ({MANAGER}) on 2025-01-01: Weights add up to 60, not 100.",
    )
    entries = chain(defined, ann.id)
    assert len(entries) == 1
    entry = entries[0]
    assert (entry.seq, entry.event_type, entry.entity_type, entry.entity_id) == (
        1,
        "kpi.assigned",
        "kpi_assignment",
        str(ann.id),
    )
    assert entry.actor_id == user_id(defined, BROKER)  # local mode: the first broker
    assert entry.payload == {
        "kpi": "Calls Logged",
        "user_id": user_id(defined, ANN),
        "team_id": None,
        "target_value": "120.5",
        "weight": "40",
        "start_date": "2025-01-01",
        "end_date": "2025-12-31",
    }
    ben = chain(defined, stored[(BEN, "Weekly Showings", day)].id)
    assert [e.payload["team_id"] for e in ben] == [downtown]
    intact(defined)


def test_every_assignment_problem_is_named_and_nothing_is_written(
    assigned: Database, tmp_path: Path
) -> None:
    with assigned.session() as s:
        s.add(
            User(
                email="gone@example.com",
                first_name="Gone",
                last_name="Away",
                role="agent",
                is_active=False,
            )
        )
        s.add(
            KpiDefinition(
                name="Retired",
                calculation_type="manual",
                aggregation_period="monthly",
                target_type="higher_better",
                is_active=False,
                is_builtin=False,
            )
        )
        s.add(Team(name="Empty"))
    path = write(
        tmp_path,
        ASSIGN_HEADER,
        f"{BEN},Downtown,Calls Logged,10,10,2025-01-01,",  # 2 both
        ",,Calls Logged,10,10,2025-01-01,",  # 3 neither
        "nobody@example.com,,Calls Logged,10,10,2025-01-01,",  # 4
        "gone@example.com,,Calls Logged,10,10,2025-01-01,",  # 5
        ",Nowhere,Calls Logged,10,10,2025-01-01,",  # 6
        ",Empty,Calls Logged,10,10,2025-01-01,",  # 7
        f"{BEN},,Nope,10,10,2025-01-01,",  # 8
        f"{BEN},,Retired,10,10,2025-01-01,",  # 9
        f"{BEN},,Calls Logged,0,10,2025-02-01,",  # 10
        f"{BEN},,Average Cycle Days,-5,10,2025-02-01,",  # 11 lower-is-better
        f"{BEN},,Calls Logged,10,101,2025-03-01,",  # 12
        f"{BEN},,Calls Logged,10,10.125,2025-04-01,",  # 13
        f"{BEN},,Calls Logged,10.12345,10,2025-05-01,",  # 14
        f"{BEN},,Calls Logged,10,10,2025-06-01,2025-05-31",  # 15
        f"{BEN},,Calls Logged,10,10,2025-13-01,",  # 16
        f"{BEN},,Survey Score,4,10,2025-07-01,",  # 17
        ",downtown,Survey Score,4,10,2025-07-01,",  # 18: Ben again (and Priya, Ann)
        f"{ANN},,Calls Logged,90,50,2025-01-01,",  # 19: already in the database
    )
    before = counts(assigned)

    exc = failure(assigned, "kpi_assignments", path)

    assert where(exc) == [
        (2, "team"),
        (3, "user_email"),
        (4, "user_email"),
        (5, "user_email"),
        (6, "team"),
        (7, "team"),
        (8, "kpi_name"),
        (9, "kpi_name"),
        (10, "target_value"),
        (11, "target_value"),
        (12, "weight"),
        (13, "weight"),
        (14, "target_value"),
        (15, "end_date"),
        (16, "start_date"),
        (18, "team"),
        (19, "start_date"),
    ]
    assert reason(exc, 2, "team") == "give user_email or team, not both"
    assert reason(exc, 3, "user_email") == "is required (or team)"
    assert reason(exc, 4, "user_email") == "no user with email nobody@example.com"
    assert reason(exc, 5, "user_email") == "gone@example.com has been deactivated"
    assert reason(exc, 6, "team") == "no team named 'Nowhere'"
    assert reason(exc, 7, "team") == "Empty has no active members"
    assert reason(exc, 8, "kpi_name") == "no KPI named 'Nope'"
    assert reason(exc, 9, "kpi_name") == "Retired is deactivated"
    assert reason(exc, 10, "target_value") == (
        "A target of 0 cannot be scored for a higher-is-better KPI"
    )
    assert reason(exc, 11, "target_value") == "A lower-is-better target must be more than 0"
    assert reason(exc, 12, "weight") == "Weight cannot be more than 100"
    assert reason(exc, 13, "weight") == "Weight has at most two decimals"
    assert reason(exc, 14, "target_value") == "10.12345 has more than four decimals"
    assert reason(exc, 15, "end_date") == "the end is before the start"
    assert "is not a valid date" in reason(exc, 16, "start_date")
    assert reason(exc, 18, "team") == (
        f"{BEN} is given Survey Score from 2025-07-01 on row 17 already"
    )
    assert reason(exc, 19, "start_date") == (
        f"{ANN} already has Calls Logged from 2025-01-01 (imports add, they never overwrite)"
    )
    assert counts(assigned) == before


def test_weights_adding_up_to_zero_are_refused_and_other_totals_are_notes(
    defined: Database, tmp_path: Path
) -> None:
    zero = write(
        tmp_path,
        ASSIGN_HEADER,
        f"{ANN},,Calls Logged,100,0,2025-01-01,",
        f"{ANN},,Survey Score,4,0,2025-01-01,",
        f"{BEN},,Calls Logged,100,0,2025-01-01,2025-01-31",
        f"{BEN},,Survey Score,4,30,2025-02-01,",
        name="zero.csv",
    )
    exc = failure(defined, "kpi_assignments", zero)
    assert where(exc) == [(2, "weight"), (3, "weight"), (4, "weight")]
    assert reason(exc, 2, "weight") == (
        f"{ANN}'s weights would add up to 0 from 2025-01-01, so no overall score could be computed"
    )
    assert count(defined, KpiAssignment) == 0

    partial = write(
        tmp_path,
        ASSIGN_HEADER,
        f"{ANN},,Calls Logged,100,30,2025-01-01,",
        f"{ANN},,Survey Score,4,70,2025-01-01,",
        f"{BEN},,Calls Logged,100,30,2025-01-01,",
        f"{BEN},,Survey Score,4,30.5,2025-03-01,",
        name="partial.csv",
    )
    result = load(defined, "kpi_assignments", partial)
    assert result.rows == 4
    assert result.notes == (
        f"Ben Ortiz ({BEN}) on 2025-01-01: Weights add up to 30, not 100.",
        f"Ben Ortiz ({BEN}) on 2025-03-01: Weights add up to 60.5, not 100.",
    )
    # The database's active assignments count: Ann's are at 100 already.
    more = write(
        tmp_path, ASSIGN_HEADER, f"{ANN},,Weekly Showings,5,10,2025-02-03,", name="more.csv"
    )
    assert load(defined, "kpi_assignments", more).notes == (
        f"Ann Lee ({ANN}) on 2025-02-03: Weights add up to 110, not 100.",
    )


def test_a_manager_assigns_to_their_team_only_and_an_agent_to_nobody(
    defined: Database, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        ASSIGN_HEADER,
        f"{ANN},,Calls Logged,100,100,2025-01-01,",
        f"{CARA},,Calls Logged,100,100,2025-01-01,",
        ",Westside,Survey Score,4,50,2025-01-01,",
    )
    before = counts(defined)
    with pytest.raises(
        PermissionDenied, match="may import KPI assignments; you are signed in as agent"
    ):
        load(defined, "kpi_assignments", path, acting=ANN)

    exc = failure(defined, "kpi_assignments", path, acting=MANAGER)

    assert where(exc) == [(3, "user_email"), (4, "team")]
    assert reason(exc, 3, "user_email") == (
        f"you may not assign KPIs to {CARA}: only the manager of their team or an admin may"
    )
    assert reason(exc, 4, "team") == (
        f"you may not assign KPIs to {CARA} of Westside: only the manager of their team or an "
        "admin may"
    )
    assert counts(defined) == before

    ok = write(tmp_path, ASSIGN_HEADER, f"{ANN},,Calls Logged,100,100,2025-01-01,", name="ok.csv")
    assert load(defined, "kpi_assignments", ok, acting=MANAGER).rows == 1
    manager = user_id(defined, MANAGER)
    made = assignments(defined)[(ANN, "Calls Logged", dt.date(2025, 1, 1))]
    assert made.assigned_by == manager
    assert [e.actor_id for e in chain(defined, made.id)] == [manager]
    admin = write(
        tmp_path, ASSIGN_HEADER, f"{CARA},,Calls Logged,80,100,2025-01-01,", name="admin.csv"
    )
    assert load(defined, "kpi_assignments", admin, acting=ADMIN).rows == 1
    intact(defined)


# --------------------------------------------------------------------------- measurements


MEASURE_FILE = (
    f"{ANN},Calls Logged,2025-01-01,2025-01-31,120,Busy month",
    f"{ANN},Weekly Showings,2025-01-06,2025-01-12,7,",
    f"{ANN},Survey Score,2025-01-01,2025-03-31,4.05,",
    f"{BEN},leads generated,2025-02-01,2025-02-28,15,From the old CRM",
    f"{CARA},Calls Logged,2025-05-01,2025-05-31,0.3333,",
)


def test_measurements_are_stored_with_the_target_snapshot_and_audit_entries(
    assigned: Database, tmp_path: Path
) -> None:
    result = load(assigned, "kpi_measurements", write(tmp_path, MEASURE_HEADER, *MEASURE_FILE))

    assert result.rows == 5 and result.notes == ()
    stored = measurements(assigned)
    broker = user_id(assigned, BROKER)
    expected: dict[tuple[str, str, dt.date], tuple[Any, ...]] = {
        (ANN, "Calls Logged", dt.date(2025, 1, 1)): (
            dt.date(2025, 1, 31),
            "120",
            "100",
            "120.00",
            "Busy month",
        ),
        (ANN, "Weekly Showings", dt.date(2025, 1, 6)): (
            dt.date(2025, 1, 12),
            "7",
            "10",
            "70.00",
            None,
        ),
        (ANN, "Survey Score", dt.date(2025, 1, 1)): (
            dt.date(2025, 3, 31),
            "4.05",
            "4.5",
            "90.00",
            None,
        ),
        (BEN, "Leads Generated", dt.date(2025, 2, 1)): (
            dt.date(2025, 2, 28),
            "15",
            "20",
            "75.00",
            "From the old CRM",
        ),
        (CARA, "Calls Logged", dt.date(2025, 5, 1)): (
            dt.date(2025, 5, 31),
            "0.3333",
            "80",
            "0.42",
            None,
        ),
    }
    assert set(stored) == set(expected)
    for key, (end, actual, target, pct, notes) in expected.items():
        m = stored[key]
        assert (m.period_end, m.actual_value, m.target_value, m.achievement_pct, m.notes) == (
            end,
            Decimal(actual),
            Decimal(target),
            Decimal(pct),
            notes,
        ), key
        assert m.calculation_metadata == {"method": "import"}
        assert m.calculated_by == broker and m.version == 1
    calls = assignments(assigned)[(ANN, "Calls Logged", dt.date(2025, 1, 1))]
    entries = chain(assigned, calls.id)
    assert [(e.seq, e.event_type) for e in entries] == [
        (1, "kpi.assigned"),
        (2, "kpi.measurement_entered"),
    ]
    entered = entries[1]
    assert (entered.entity_type, entered.entity_id, entered.actor_id) == (
        "kpi_assignment",
        str(calls.id),
        broker,
    )
    assert entered.payload == {
        "kpi": "Calls Logged",
        "user_id": user_id(assigned, ANN),
        "period_start": "2025-01-01",
        "period_end": "2025-01-31",
        "old_value": None,
        "new_value": "120",
        "target_value": "100.0000",
        "achievement_pct": "120.00",
    }
    intact(assigned)


def test_every_measurement_problem_is_named_and_nothing_is_written(
    assigned: Database, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        MEASURE_HEADER,
        f"{ANN},Calls Logged,2025-01-05,2025-02-04,10,",  # 2
        f"{ANN},Calls Logged,2025-01-01,2025-01-30,10,",  # 3
        f"{ANN},Weekly Showings,2025-01-07,2025-01-13,3,",  # 4
        f"{ANN},Calls Logged,2025-07-01,2025-07-31,10,",  # 5 not started
        f"{ANN},Weekly Showings,2025-04-07,2025-04-13,3,",  # 6 after the assignment
        f"{BEN},Calls Logged,2025-01-01,2025-01-31,10,",  # 7 not assigned
        f"{ANN},Calls Logged,2025-02-01,2025-02-28,1001,",  # 8
        f"{ANN},Calls Logged,2025-03-01,2025-03-31,1.23456,",  # 9
        f"{ANN},Calls Logged,2025-04-01,2025-04-30,abc,",  # 10
        "nobody@example.com,Calls Logged,2025-01-01,2025-01-31,10,",  # 11
        f"{ANN},Nope,2025-01-01,2025-01-31,10,",  # 12
        f"{ANN},Calls Logged,2025-05-01,2025-05-31,10," + "n" * 2001,  # 13
        f"{ANN},Calls Logged,2025-01-01,2025-01-31,10,",  # 14 fine
        f"{ANN},calls logged,2025-01-01,2025-01-31,11,",  # 15 same period as row 14
        f"{ANN},Survey Score,2025-01-01,2025-03-31,0.5,",  # 16 below the range
        f"{ANN},Calls Logged,2024-12-01,2024-12-31,10,",  # 17 before the assignment
    )
    before = counts(assigned)

    exc = failure(assigned, "kpi_measurements", path)

    assert where(exc) == [
        (2, "period_start"),
        (3, "period_end"),
        (4, "period_start"),
        (5, "period_start"),
        (6, "kpi_name"),
        (7, "kpi_name"),
        (8, "actual_value"),
        (9, "actual_value"),
        (10, "actual_value"),
        (11, "user_email"),
        (12, "kpi_name"),
        (13, "notes"),
        (15, "period_start"),
        (16, "actual_value"),
        (17, "kpi_name"),
    ]
    monthly = "Calls Logged is measured monthly: expected the period 2025-01-01 to 2025-01-31"
    assert reason(exc, 2, "period_start") == monthly
    assert reason(exc, 3, "period_end") == monthly
    assert reason(exc, 4, "period_start") == (
        "Weekly Showings is measured weekly: expected the period 2025-01-06 to 2025-01-12"
    )
    assert reason(exc, 5, "period_start") == (
        "the period 2025-07-01 to 2025-07-31 has not started yet (today is 2025-06-15)"
    )
    assert reason(exc, 6, "kpi_name") == (
        f"{ANN} has no assignment of Weekly Showings over 2025-04-07 to 2025-04-13"
    )
    assert reason(exc, 7, "kpi_name") == (
        f"{BEN} has no assignment of Calls Logged over 2025-01-01 to 2025-01-31"
    )
    assert reason(exc, 8, "actual_value") == "1001 is above the allowed maximum 1000"
    assert reason(exc, 9, "actual_value") == "1.23456 has more than four decimals"
    assert reason(exc, 10, "actual_value") == "'abc' is not a number"
    assert reason(exc, 11, "user_email") == "no user with email nobody@example.com"
    assert reason(exc, 12, "kpi_name") == "no KPI named 'Nope'"
    assert reason(exc, 13, "notes") == "is 2001 characters long; at most 2000 fit"
    assert reason(exc, 15, "period_start") == (
        f"{ANN}'s Calls Logged for 2025-01-01 to 2025-01-31 already appears on row 14"
    )
    assert reason(exc, 16, "actual_value") == "0.5 is below the allowed minimum 1"
    assert counts(assigned) == before


def test_a_stored_measurement_is_not_overwritten(assigned: Database, tmp_path: Path) -> None:
    path = write(tmp_path, MEASURE_HEADER, *MEASURE_FILE)
    load(assigned, "kpi_measurements", path)
    before = counts(assigned)

    exc = failure(assigned, "kpi_measurements", path)

    assert where(exc) == [(n, "period_start") for n in range(2, 7)]
    assert reason(exc, 2, "period_start") == (
        f"{ANN}'s Calls Logged for 2025-01-01 to 2025-01-31 is stored already (imports add, "
        "they never overwrite; change it in PerfDesk)"
    )
    assert counts(assigned) == before
    assert measurements(assigned)[(ANN, "Calls Logged", dt.date(2025, 1, 1))].actual_value == 120


def test_the_later_of_two_overlapping_assignments_takes_the_value(
    defined: Database, tmp_path: Path
) -> None:
    revised = write(
        tmp_path,
        ASSIGN_HEADER,
        f"{ANN},,Survey Score,4,100,2025-01-01,2025-02-14",
        f"{ANN},,Survey Score,4.8,100,2025-02-15,",
        name="revised.csv",
    )
    load(defined, "kpi_assignments", revised)
    path = write(tmp_path, MEASURE_HEADER, f"{ANN},Survey Score,2025-01-01,2025-03-31,4.8,")

    load(defined, "kpi_measurements", path)

    m = measurements(defined)[(ANN, "Survey Score", dt.date(2025, 1, 1))]
    later = assignments(defined)[(ANN, "Survey Score", dt.date(2025, 2, 15))]
    assert (m.assignment_id, m.target_value, m.achievement_pct) == (later.id, Decimal("4.8"), 100)


def test_a_manager_enters_values_for_their_team_only_and_an_agent_for_nobody(
    assigned: Database, tmp_path: Path
) -> None:
    path = write(tmp_path, MEASURE_HEADER, *MEASURE_FILE)
    before = counts(assigned)
    with pytest.raises(PermissionDenied, match="may import KPI measurements"):
        load(assigned, "kpi_measurements", path, acting=ANN)

    exc = failure(assigned, "kpi_measurements", path, acting=MANAGER)

    assert where(exc) == [(6, "user_email")]
    assert reason(exc, 6, "user_email") == (
        f"you may not enter values for {CARA}: only the manager of their team or an admin may"
    )
    assert counts(assigned) == before

    team_only = write(tmp_path, MEASURE_HEADER, *MEASURE_FILE[:4], name="team.csv")
    assert load(assigned, "kpi_measurements", team_only, acting=MANAGER).rows == 4
    manager = user_id(assigned, MANAGER)
    stored = measurements(assigned)
    assert {m.calculated_by for m in stored.values()} == {manager}
    calls = assignments(assigned)[(ANN, "Calls Logged", dt.date(2025, 1, 1))]
    assert [e.actor_id for e in chain(assigned, calls.id)][-1] == manager
    intact(assigned)


def test_many_measurements_cross_every_chunk(sqlite_db: Database, tmp_path: Path) -> None:
    """600 people of one team (looked up 500 at a time), 7,200 months and their audit entries."""
    db = sqlite_db
    n = 600
    people = [f"p{i}@big.example" for i in range(n)]
    write(
        tmp_path,
        "email,first_name,last_name,role,team,broker_email",
        "boss@big.example,Bo,Ss,broker,,",
        *(f"{e},P,{i},agent,Big,boss@big.example" for i, e in enumerate(people)),
        name="users.csv",
    )
    import_file(db, "users", tmp_path / "users.csv")
    load(db, "kpi_definitions", write(tmp_path, DEF_HEADER, KPI_FILE[0], name="k.csv"))
    result = load(
        db,
        "kpi_assignments",
        write(tmp_path, ASSIGN_HEADER, ",Big,Calls Logged,100,100,2024-01-01,", name="a.csv"),
    )
    assert result.rows == n
    months = [
        f"{e},Calls Logged,2024-{m:02d}-01,{dt.date(2024, m + 1, 1) - dt.timedelta(days=1)},"
        f"{(i + m) % 200},"
        for i, e in enumerate(people)
        for m in range(1, 12)
    ] + [f"{e},Calls Logged,2024-12-01,2024-12-31,50," for e in people]
    path = write(tmp_path, MEASURE_HEADER, *months, name="m.csv")

    assert load(db, "kpi_measurements", path).rows == 12 * n

    assert count(db, KpiMeasurement) == 12 * n
    last = measurements(db)[(people[-1], "Calls Logged", dt.date(2024, 12, 1))]
    assert (last.actual_value, last.achievement_pct) == (50, 50)
    assert count(db, AuditEntry) == 13 * n
    intact(db)
    exc = failure(db, "kpi_measurements", path)
    assert len(exc.errors) == 12 * n and {e.column for e in exc.errors} == {"period_start"}


# --------------------------------------------------------------------------- the samples


def test_the_sample_files_import_into_the_small_demo_office(db: Database) -> None:
    day = dt.date(2026, 3, 1)
    generate(db, scale="small", seed=7, as_of=day)
    before = counts(db)

    written = [
        import_file(db, kind, SAMPLES / f"{kind}.csv", as_of=day).rows
        for kind in ("kpi_definitions", "kpi_assignments", "kpi_measurements")
    ]

    assert written == [6, 9, 9]
    after = counts(db)
    assert after[:3] == (before[0] + 6, before[1] + 9, before[2] + 9)
    assert after[3] == before[3] + 9 + 9
    intact(db)


def test_the_command_line_imports_and_refuses(
    sqlite_db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = sqlite_db
    import_file(db, "users", SAMPLES / "users.csv")
    url = db.engine.url.render_as_string(hide_password=False)
    kpis = write(tmp_path, DEF_HEADER, *KPI_FILE, name="kpis.csv")
    code = cli.main(["--db", url, "--as", ANN, "import", "kpi_definitions", str(kpis)])
    out = capsys.readouterr()
    assert code == 1 and "Only an admin" in out.err and "Traceback" not in out.err
    code = cli.main(["--db", url, "--as", ADMIN, "import", "kpi_definitions", str(kpis)])
    assert code == 0
    assert capsys.readouterr().out == f"imported 3 kpi_definitions from {kpis}\n"
    one = write(tmp_path, ASSIGN_HEADER, f"{ANN},,Calls Logged,100,60,2025-01-01,", name="a.csv")
    code = cli.main(["--db", url, "import", "kpi_assignments", str(one)])
    out = capsys.readouterr()
    assert code == 0
    assert out.err == f"note: Ann Lee ({ANN}) on 2025-01-01: Weights add up to 60, not 100.\n"
