"""Demo data: plausible, consistent with SPEC's rules, deterministic, stored right on both
backends, refused on a database with people in it, and gone without a trace when cancelled."""

from __future__ import annotations

import datetime as dt
import gc
import os
import shutil
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from decimal import Decimal
from itertools import groupby, pairwise
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from app.db.base import Base
from app.db.models import (
    Appointment,
    AppSetting,
    AuditEntry,
    CommissionAdjustment,
    CommissionRecord,
    Deal,
    DealPerformance,
    DealStageEvent,
    Escrow,
    Goal,
    KpiAssignment,
    KpiDefinition,
    KpiMeasurement,
    Lead,
    Listing,
    PerformancePeriod,
    Team,
    User,
)
from app.domain.audit import verify_chain
from app.domain.enums import CommissionStatus, DealStage, DealStatus, GoalStatus, Role
from app.domain.errors import DatabaseProblem, PerfDeskError
from app.domain.kpi_sources import BUILTIN_KPIS
from app.domain.money import quantize
from app.services.database import Database, open_database
from app.services.demo import DemoCancelled, DemoSummary, generate
from app.services.demo.bulk import Writer, open_target
from app.services.demo.vocab import TOWNS

AS_OF = dt.date(2025, 10, 22)
LA = ZoneInfo("America/Los_Angeles")
NOW = dt.datetime(2025, 10, 22, tzinfo=LA).astimezone(dt.UTC)
#: Tables a scheduled job fills; the demo leaves them to it.
DERIVED = (
    "agent_performance_snapshots",
    "kpi_score_snapshots",
    "agent_monthly_kpis",
    "user_achievements",
    "job_runs",
    "notification_deliveries",
)
AUDIT_FIELDS = (
    "id", "chain_key", "seq", "event_type", "entity_type", "entity_id", "actor_id", "payload",
    "recorded_at", "prev_hash", "hash",
)  # fmt: skip


def _small(db: Database, seed: int = 7, **kw: Any) -> DemoSummary:
    return generate(db, scale="small", seed=seed, as_of=AS_OF, **kw)


@pytest.fixture
def small(db: Database) -> Database:
    _small(db)
    return db


def _count(db: Database, table: str) -> int:
    with db.engine.connect() as conn:
        return int(conn.execute(sa.text(f"SELECT COUNT(*) FROM {table}")).scalar_one())


def _all(db: Database, model: type[Any], *order: Any) -> list[Any]:
    with db.read() as s:
        return list(s.scalars(sa.select(model).order_by(*(order or (model.id,)))).all())


# -- what the office holds ----------------------------------------------------------------------
def test_small_office_fills_every_area_and_leaves_job_tables_empty(db: Database) -> None:
    summary = _small(db)
    assert summary.scale == "small" and summary.seed == 7 and summary.as_of == AS_OF
    assert summary.seconds > 0 and summary.total_rows == sum(summary.rows.values())
    for table in (
        "users", "teams", "leads", "appointments", "clients", "listings", "escrows", "deals",
        "deal_stage_events", "commission_records", "commission_adjustments", "audit_entries",
        "kpi_definitions", "kpi_assignments", "kpi_measurements", "goals", "buyers",
        "buy_boxes", "deal_performances", "performance_periods", "notifications",
        "lead_source_costs", "benchmarks", "activity_entries",
    ):  # fmt: skip
        # The built-in KPI library was there before the demo (migration 0010).
        before = len(BUILTIN_KPIS) if table == "kpi_definitions" else 0
        assert _count(db, table) - before == summary.rows[table] > 0, table
    for table in DERIVED:
        assert _count(db, table) == 0, table
    # A few hundred rows per table at most: small is for tests.
    assert max(summary.rows.values()) < 1000
    assert "leads" in summary.summary()


def test_people_broker_teams_and_roles(small: Database) -> None:
    users = _all(small, User)
    roles = Counter(u.role for u in users)
    assert roles == {"broker": 1, "agent": 6, "manager": 2, "admin": 1, "closer": 1, "dialer": 1}
    broker = next(u for u in users if u.role == Role.BROKER)
    assert broker.email.startswith("josh.riley@") and broker.broker_id is None
    assert all(u.broker_id == broker.id for u in users if u is not broker)
    names = {u.full_name for u in users}
    assert {"Jayden Metz", "Cole Rangel", "Lee Rangel"} <= names
    assert len({u.email for u in users}) == len(users)
    teams = _all(small, Team)
    assert len(teams) == 2
    for team in teams:
        assert team.broker_id == broker.id
        manager = next(u for u in users if u.id == team.manager_id)
        assert manager.role == Role.MANAGER and manager.team_id == team.id
    with small.read() as s:
        assert s.get(AppSetting, "currency").value == "USD"  # type: ignore[union-attr]


def test_records_are_plausible(small: Database) -> None:
    users = {u.id: u for u in _all(small, User)}
    broker = next(u for u in users.values() if u.role == Role.BROKER)
    leads = _all(small, Lead)
    # A year of history ending at as_of, busier in spring and summer than in winter.
    assert all(NOW - dt.timedelta(days=366) <= lead.created_at < NOW for lead in leads)
    by_month = Counter(lead.created_at.astimezone(LA).month for lead in leads)
    assert by_month[5] + by_month[6] + by_month[7] > by_month[11] + by_month[12] + by_month[1]
    sources = Counter(lead.source for lead in leads)
    assert sources.most_common(1)[0][0] == "Zillow"
    assert {"Referral", "Website", "Open House"} <= set(sources)
    # The broker's own leads are private; a few agents' leads are too.
    assert all(lead.is_private for lead in leads if lead.owner_id == broker.id)
    assert any(lead.is_private for lead in leads if lead.owner_id != broker.id)
    assert any(not lead.is_private for lead in leads)
    statuses = Counter(lead.status for lead in leads)
    assert set(statuses) == {"new", "contacted", "qualified", "converted", "lost"}
    assert statuses["converted"] / len(leads) < 0.1
    towns = tuple(f", {t.name}, CA 9" for t in TOWNS)
    for escrow in _all(small, Escrow):
        assert any(t in escrow.property_address for t in towns)
        assert Decimal(60_000) <= escrow.purchase_price <= Decimal(2_000_000)
        assert escrow.my_commission is not None
        assert Decimal("0.012") <= escrow.my_commission / escrow.purchase_price <= Decimal("0.031")
        assert (escrow.escrow_status == "Closed") == (escrow.closed_at is not None)
        assert escrow.closed_at is None or escrow.created_at < escrow.closed_at < NOW
    for listing in _all(small, Listing):
        assert Decimal(50_000) <= listing.list_price <= Decimal(2_000_000)
    appts = _all(small, Appointment)
    assert {a.status for a in appts} >= {"scheduled", "completed", "no_show", "cancelled"}
    for a in appts:
        assert a.created_at < a.start_time < a.end_time
        assert (a.status == "scheduled") <= (a.start_time >= NOW)
    assert all(a.is_private for a in appts if a.agent_id == broker.id)


# -- the pipeline, commissions and the audit chain ------------------------------------------
def test_every_stage_and_status_with_consistent_histories(small: Database) -> None:
    deals = {d.id: d for d in _all(small, Deal)}
    events = _all(small, DealStageEvent, DealStageEvent.deal_id, DealStageEvent.recorded_at)
    assert {d.pipeline_stage for d in deals.values()} == set(DealStage)
    assert {d.status for d in deals.values()} >= {"open", "closed_won", "closed_lost"}
    seen = set()
    for deal_id, group in groupby(events, key=lambda e: e.deal_id):
        history = list(group)
        deal = deals[deal_id]
        seen.add(deal_id)
        assert history[0].from_stage is None and history[0].to_stage == DealStage.LEAD_CAPTURED
        assert history[0].recorded_at == deal.created_at
        for before, after in pairwise(history):
            assert after.from_stage == before.to_stage != after.to_stage
            assert after.recorded_at > before.recorded_at
        last = history[-1]
        assert last.recorded_at < NOW
        assert deal.pipeline_stage == last.to_stage
        if last.to_stage in (DealStage.CLOSED_WON, DealStage.CLOSED_LOST):
            assert deal.status == last.to_stage.value
            assert deal.actual_close_date == last.recorded_at.astimezone(LA).date()
        else:
            assert deal.status == DealStatus.OPEN and deal.actual_close_date is None
        assert Decimal(0) <= deal.confidence <= Decimal(1)
        assert deal.estimated_value_currency in ("USD", "SGD")
    assert seen == set(deals)


def test_commissions_in_every_status_with_matching_timestamps(small: Database) -> None:
    records = _all(small, CommissionRecord)
    assert {r.status for r in records} == set(CommissionStatus)
    order = list(DealStage)
    reached: dict[int, int] = defaultdict(int)  # furthest stage each deal got to (lost aside)
    for e in _all(small, DealStageEvent):
        if e.to_stage != DealStage.CLOSED_LOST:
            reached[e.deal_id] = max(reached[e.deal_id], order.index(e.to_stage))
    assert all(reached[r.deal_id] >= order.index(DealStage.PROPOSAL) for r in records)
    assert len({(r.deal_id, r.agent_id, r.commission_type) for r in records}) == len(records)
    for r in records:
        assert r.commission_amount == quantize(r.basis_amount * r.commission_rate)
        stamps = (r.confirmed_at, r.invoiced_at, r.paid_at)
        if r.status == CommissionStatus.PENDING:
            assert stamps == (None, None, None)
        elif r.status == CommissionStatus.CONFIRMED:
            assert r.confirmed_at and r.invoiced_at is None and r.paid_at is None
        elif r.status == CommissionStatus.INVOICED:
            assert r.confirmed_at and r.invoiced_at and r.paid_at is None
            assert r.confirmed_at < r.invoiced_at
        elif r.status == CommissionStatus.PAID:
            assert r.confirmed_at and r.invoiced_at and r.paid_at
            assert r.confirmed_at < r.invoiced_at < r.paid_at < NOW
        elif r.status == CommissionStatus.DISPUTED:
            assert r.disputed_at and r.dispute_reason and r.disputed_from_status
            assert r.resolved_at is None or r.resolved_at < r.disputed_at
        else:
            assert r.written_off_at and r.disputed_at and r.resolved_at == r.written_off_at
        if r.status != CommissionStatus.DISPUTED:
            assert r.disputed_from_status is None
        assert r.introduced_at == r.created_at
    adjustments = _all(small, CommissionAdjustment)
    assert adjustments
    for adj in adjustments:
        sign = {"clawback": -1, "bonus": 1}.get(adj.adjustment_type)
        assert adj.amount != 0 and (sign is None or adj.amount * sign > 0) and adj.note


def test_audit_chains_verify_and_cover_every_move_and_commission_event(small: Database) -> None:
    entries = _all(small, AuditEntry, AuditEntry.chain_key, AuditEntry.seq)
    chains = 0
    for _key, group in groupby(entries, key=lambda e: e.chain_key):
        rows = [{f: getattr(e, f) for f in AUDIT_FIELDS} for e in group]
        assert verify_chain(rows) is None
        chains += 1
    assert chains > 10
    moves = [e for e in _all(small, DealStageEvent) if e.from_stage is not None]
    transitions = {
        e.payload["stage_event_id"]: e for e in entries if e.event_type == "deal_stage_transition"
    }
    assert set(transitions) == {m.id for m in moves}
    for m in moves:
        audit = transitions[m.id]
        assert audit.chain_key == f"deal:{m.deal_id}" and audit.actor_id == m.changed_by_id
        assert (
            audit.payload["from_stage"] == m.from_stage and audit.payload["to_stage"] == m.to_stage
        )
        assert audit.recorded_at == m.recorded_at
    by_commission: dict[str, Counter[str]] = defaultdict(Counter)
    for e in entries:
        if e.entity_type == "commission":
            by_commission[e.entity_id][e.event_type] += 1
    records = _all(small, CommissionRecord)
    adjustments = Counter(a.commission_id for a in _all(small, CommissionAdjustment))
    for r in records:
        events = by_commission[str(r.id)]
        assert events["commission_created"] == 1
        assert events["commission_status_changed"] == r.version - 1
        assert events["commission_adjusted"] == adjustments[r.id]


# -- KPIs, goals, post-close ----------------------------------------------------------------
def test_kpis_goals_and_rent_rolls(small: Database) -> None:
    defs = {d.id: d for d in _all(small, KpiDefinition)}
    assert {d.calculation_type for d in defs.values()} == {"manual", "query", "formula", "api"}
    assert {d.target_type for d in defs.values()} == {"higher_better", "lower_better", "exact"}
    assignments = {a.id: a for a in _all(small, KpiAssignment)}
    per_user: dict[int, Decimal] = defaultdict(Decimal)
    for a in assignments.values():
        if a.is_active:
            per_user[a.user_id] += a.weight
    assert set(per_user.values()) == {Decimal(100)}
    for m in _all(small, KpiMeasurement):
        a = assignments[m.assignment_id]
        assert m.target_value == a.target_value and m.period_end < AS_OF
        if (
            m.achievement_pct is not None
            and defs[a.kpi_definition_id].target_type == "higher_better"
        ):
            assert m.achievement_pct == quantize(m.actual_value / m.target_value * 100)
    for g in _all(small, Goal):
        pct = g.current_value / g.target_value * 100
        if g.period_end < AS_OF:
            assert g.finalized_at is not None
            assert g.status == (GoalStatus.ACHIEVED if pct >= 100 else GoalStatus.MISSED)
        else:
            assert g.finalized_at is None and g.status != GoalStatus.MISSED
    records = _all(small, DealPerformance)
    periods = _all(small, PerformancePeriod)
    closer = next(u for u in _all(small, User) if u.role == Role.CLOSER)
    assert len(periods) == 12 * len(records)
    for rec in records:
        assert rec.locked_at is not None and rec.locked_by == closer.id
        mine = [p for p in periods if p.performance_id == rec.id]
        assert len({(p.year, p.month) for p in mine}) == 12
        assert rec.current_grade == max(mine, key=lambda p: (p.year, p.month)).grade
        assert rec.closed_date < min(dt.date(p.year, p.month, 1) for p in mine)
    for p in periods:
        parts = (p.maintenance, p.property_management, p.taxes, p.insurance, p.other)
        assert p.expenses_total == sum(parts)
        assert p.actual_noi == p.actual_rent_collected - p.expenses_total
        assert Decimal(0) <= p.actual_vacancy_rate <= Decimal(1)


# -- determinism and stored forms -----------------------------------------------------------
def _snapshot(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every mapped table's rows as the ORM reads them (values, not stored forms)."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with db.read() as s:
        for mapper in Base.registry.mappers:
            cls = mapper.class_
            cols = [c.key for c in mapper.column_attrs]
            rows = s.scalars(sa.select(cls).order_by(*mapper.primary_key)).all()
            if cls is KpiDefinition:  # the built-in library's rows carry their migration time
                cols.remove("created_at")
            out[cls.__tablename__] = [tuple(getattr(r, c) for c in cols) for r in rows]
    return out


@pytest.fixture
def fresh_sqlite(sqlite_template: Path, tmp_path: Path) -> Iterator[Callable[[], Database]]:
    opened: list[Database] = []

    def make() -> Database:
        path = tmp_path / f"demo{len(opened)}.sqlite3"
        shutil.copyfile(sqlite_template, path)
        database = open_database(f"sqlite:///{path}")
        opened.append(database)
        return database

    yield make
    for database in opened:
        database.dispose()


def test_same_seed_same_rows_other_seed_other_rows(fresh_sqlite: Callable[[], Database]) -> None:
    first, again, other = fresh_sqlite(), fresh_sqlite(), fresh_sqlite()
    _small(first)
    _small(again)
    _small(other, seed=8)
    a, b, c = _snapshot(first), _snapshot(again), _snapshot(other)
    assert a == b
    assert a["leads"] != c["leads"] and a["deals"] != c["deals"]


@pytest.mark.pg
def test_both_backends_read_back_the_same_office(sqlite_db: Database, pg_db: Database) -> None:
    _small(sqlite_db)
    _small(pg_db)
    assert _snapshot(sqlite_db) == _snapshot(pg_db)


def test_bulk_written_rows_read_back_as_the_python_values(db: Database) -> None:
    pacific = dt.datetime(2025, 3, 9, 1, 59, 59, 123456, tzinfo=LA)  # the night clocks change
    utc = dt.datetime(2025, 7, 1, 12, 0, tzinfo=dt.UTC)
    fairy = db.engine.raw_connection()
    try:
        writer = Writer(open_target(fairy.driver_connection, db.engine.dialect), chunk_rows=2)
        add_user = writer.table(
            "users",
            ("id", "email", "first_name", "last_name", "role", "is_active", "last_login",
             "created_at", "version"),
        )  # fmt: skip
        add_user((1, "b@x.example", "Bea", "Ng", Role.BROKER, True, pacific, utc, 1))
        add_user((2, "c@x.example", "Cy", "Ng", "agent", False, None, utc, 1))
        add_escrow = writer.table(
            "escrows",
            ("id", "agent_id", "property_address", "purchase_price", "my_commission",
             "escrow_status", "created_at", "closed_at", "version"),
        )  # fmt: skip
        for i in range(10):  # ten times 0.10 must sum to exactly 1.00 in SQL
            add_escrow((10 + i, 2, "1 Main St", Decimal("0.10"), None, "Active", utc, None, 1))
        add_escrow((30, 1, "2 Oak Ave", Decimal("450000.005"), Decimal("11250.12"), "Closed",
                    utc, pacific, 1))  # fmt: skip
        add_kpi = writer.table(
            "kpi_definitions",
            ("id", "name", "calculation_type", "data_source", "aggregation_period",
             "target_type", "min_value", "max_value", "is_active", "is_builtin", "created_at",
             "version"),
        )  # fmt: skip
        source = {"type": "manual", "allowed_range": {"min": 1, "max": 5}, "note": "é"}
        add_kpi((101, "Score", "manual", source, "monthly", "exact", Decimal("-2.5"),
                 Decimal("1.00005"), True, False, utc, 1))  # fmt: skip
        writer.finish()
    finally:
        fairy.close()
    with db.read() as s:
        bea, cy = s.get(User, 1), s.get(User, 2)
        assert bea is not None and cy is not None
        assert bea.last_login == pacific and bea.last_login.tzinfo is not None
        assert bea.role == "broker" and bea.is_active is True and cy.is_active is False
        assert cy.last_login is None
        big = s.get(Escrow, 30)
        assert big is not None
        assert big.purchase_price == Decimal("450000.01")  # half-up to cents
        assert big.my_commission == Decimal("11250.12") and big.closed_at == pacific
        total = s.scalar(sa.select(sa.func.sum(Escrow.purchase_price)).where(Escrow.agent_id == 2))
        assert total == Decimal("1.00")
        kpi = s.get(KpiDefinition, 101)
        assert kpi is not None
        assert kpi.data_source == source and kpi.max_value == Decimal("1.0001")
        assert kpi.min_value == Decimal("-2.5")
        # Ids were given by the loader: the next ORM insert continues after them.
        s.add(User(email="d@x.example", first_name="Di", last_name="Ng", role="agent"))
        s.flush()
        assert s.scalar(sa.select(sa.func.max(User.id))) == 3
        s.rollback()


def test_ids_continue_after_the_demo(small: Database) -> None:
    before = _count(small, "deals")
    with small.session() as s:
        agent = s.scalars(sa.select(User).where(User.role == "agent")).first()
        assert agent is not None
        deal = Deal(
            agent_id=agent.id, title="New one", asset_type="residential", deal_type="buy_side",
            pipeline_stage="lead_captured", status="open",
            estimated_value_amount=Decimal("300000"), estimated_value_currency="USD",
            confidence=Decimal("0.1"),
        )  # fmt: skip
        s.add(deal)
        s.flush()
        assert deal.id == before + 1


# -- refusal, cancel, progress --------------------------------------------------------------
def test_refuses_a_database_with_people_in_it(small: Database) -> None:
    before = {t: _count(small, t) for t in ("users", "leads", "audit_entries")}
    with pytest.raises(PerfDeskError, match="already has people"):
        _small(small, seed=9)
    assert {t: _count(small, t) for t in before} == before


@pytest.mark.parametrize("after", [1, 4, 12])
def test_cancel_leaves_nothing_behind(db: Database, after: int) -> None:
    asked = 0

    def cancelled() -> bool:
        nonlocal asked
        asked += 1
        return asked > after

    with pytest.raises(DemoCancelled):
        _small(db, cancelled=cancelled)
    with db.engine.connect() as conn:
        tables = [t for t in sa.inspect(conn).get_table_names() if t != "alembic_version"]
    assert tables
    counts = {t: _count(db, t) for t in tables}
    counts["kpi_definitions"] -= len(BUILTIN_KPIS)  # the library migration 0010 wrote
    assert counts == dict.fromkeys(tables, 0)
    # And the database is usable afterwards.
    assert _small(db).rows["users"] == 12


def test_progress_is_reported_in_order_and_ends_at_the_total(db: Database) -> None:
    calls: list[tuple[int, int, str]] = []
    summary = _small(db, progress=lambda done, total, label: calls.append((done, total, label)))
    assert len(calls) > 10
    dones = [c[0] for c in calls]
    assert dones == sorted(dones)
    assert all(done <= total for done, total, _ in calls)
    assert calls[-1] == (summary.total_rows, summary.total_rows, "Done")
    labels = {c[2] for c in calls}
    assert {"People…", "Leads and appointments…", "Deals, commissions and audit chains…"} <= labels


def test_a_database_without_the_schema_is_refused(tmp_path: Path) -> None:
    bare = open_database(f"sqlite:///{tmp_path / 'bare.sqlite3'}")
    try:
        with pytest.raises(DatabaseProblem, match="no PerfDesk schema"):
            _small(bare)
    finally:
        bare.dispose()


@pytest.mark.pg
def test_a_postgres_database_without_the_schema_is_refused(empty_pg_url: str) -> None:
    bare = open_database(empty_pg_url)
    try:
        with pytest.raises(DatabaseProblem, match="no PerfDesk schema"):
            _small(bare)
    finally:
        bare.dispose()


def test_garbage_collection_is_put_back_as_it_was(db: Database) -> None:
    assert gc.isenabled()
    with pytest.raises(DemoCancelled):
        _small(db, cancelled=lambda: True)
    assert gc.isenabled()
    gc.disable()
    try:
        _small(db)
        assert not gc.isenabled()
    finally:
        gc.enable()


@pytest.mark.pg
def test_a_login_under_row_level_security_is_refused(pg_db: Database) -> None:
    role = f"perfdesk_demo_t{os.getpid()}"
    with pg_db.engine.begin() as conn:
        conn.execute(sa.text(f"CREATE ROLE {role} NOLOGIN IN ROLE perfdesk_user"))
    engine = sa.create_engine(pg_db.url)

    @sa.event.listens_for(engine, "connect")
    def _become(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.execute(f"SET ROLE {role}")
        dbapi_conn.commit()

    try:
        with pytest.raises(PerfDeskError, match="only by the owner"):
            _small(Database(pg_db.url, engine))
    finally:
        engine.dispose()
        with pg_db.engine.begin() as conn:
            conn.execute(sa.text(f"DROP ROLE {role}"))
    assert _count(pg_db, "users") == 0


def test_unknown_scale_is_refused(db: Database) -> None:
    with pytest.raises(PerfDeskError, match="Unknown demo scale"):
        generate(db, scale="huge")
    assert _count(db, "users") == 0


# -- the seeds' office ----------------------------------------------------------------------
def test_brokerage_is_the_seeds_office(db: Database) -> None:
    summary = generate(db, scale="brokerage", as_of=AS_OF)
    users = _all(db, User)
    roles = Counter(u.role for u in users)
    assert roles == {"broker": 1, "agent": 40, "manager": 4, "admin": 1, "closer": 1, "dialer": 1}
    assert summary.rows["teams"] == 4
    assert summary.rows["deal_performances"] == 60
    assert summary.rows["performance_periods"] == 60 * 24
    assert summary.rows["leads"] > 20_000
    by_name = {u.full_name: u.id for u in users}
    with db.engine.connect() as conn:
        public: dict[int, int] = dict(
            conn.execute(
                sa.text(
                    "SELECT owner_id, COUNT(*) FROM leads WHERE is_private = :f GROUP BY owner_id"
                ),
                {"f": False},
            ).all()
        )
    assert public[by_name["Jayden Metz"]] == 1247
    assert public[by_name["Cole Rangel"]] == 823
    assert public[by_name["Lee Rangel"]] == 1502
    assert by_name["Josh Riley"] not in public  # the broker's own leads are all private
