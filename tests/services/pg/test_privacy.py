"""SPEC §1 held by the server (issue 3, item 4): each person logs in as their own PostgreSQL
role and tries, with raw SQL, every read and write SPEC §1 forbids. Each forbidden case must
get no rows, change nothing, or fail with a permission error (SQLSTATE 42501); a few allowed
cases show that the policies are not simply "deny everything".

One office is built per module (people added with ``add_user``, each with their own login),
in a scratch database made and dropped like ``pg_db``'s (with the login roles its people were
given): some 260 cases on one database instead of 260 databases. Every case runs in its own
transaction, rolled back, so none sees another's writes. The number of cases tried is
printed at the end of the run (``conftest.py``).
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from app.db import security
from app.services.database import open_database
from app.services.users import add_user
from tests.conftest import PgDatabases
from tests.services.pg.conftest import TALLY

pytestmark = pytest.mark.pg

START = dt.datetime(2025, 9, 23, tzinfo=dt.UTC)
END = dt.datetime(2025, 10, 23, tzinfo=dt.UTC)
IN_PERIOD = dt.datetime(2025, 10, 1, 12, tzinfo=dt.UTC)
_serial = itertools.count()

#: Who logs in: key → (role, team, broker key).
PEOPLE: Mapping[str, tuple[str, str | None, str | None]] = {
    "broker": ("broker", None, None),
    "broker2": ("broker", None, None),
    "manager": ("manager", "Central", "broker"),
    "agent": ("agent", "Central", "broker"),
    "agent2": ("agent", "South", "broker"),
    "rival": ("agent", None, "broker2"),
    "admin": ("admin", None, "broker"),
    "dialer": ("dialer", None, "broker"),
    "closer": ("closer", None, "broker"),
    "gone": ("agent", None, "broker"),  # deactivated
}
#: A login in the PerfDesk group that is nobody in the office.
STRAY = "stray"

# ---------------------------------------------------------------------------- the office


class Office:
    """The scratch database, its people's ids and logins, and the records' ids."""

    def __init__(self, dbs: PgDatabases) -> None:
        self.dbs = dbs
        self.name = dbs.create(template=dbs.migrated_template())
        self.url = dbs.url_for(self.name)
        self.db = open_database(self.url)
        tag = f"p{os.getpid()}n{next(_serial)}"
        self.logins = {key: f"{key}.{tag}@example.com" for key in PEOPLE}
        self.logins[STRAY] = f"stray.{tag}@example.com"
        self.ids: dict[str, Any] = {"start": START, "end": END}
        self.engines: dict[str, sa.Engine] = {}

    def engine(self, who: str) -> sa.Engine:
        if who not in self.engines:
            url = make_url(self.url).set(username=self.logins[who], password=None)
            self.engines[who] = sa.create_engine(url)
        return self.engines[who]

    def close(self) -> None:
        for engine in self.engines.values():
            engine.dispose()
        self.db.dispose()
        self.dbs.drop(self.name)  # drops the people's login roles too
        with self.dbs.engine.connect() as c:
            c.execute(sa.text(f'DROP ROLE IF EXISTS "{self.logins[STRAY]}"'))


def _insert(c: sa.Connection, table: str, **values: Any) -> int:
    """A row as the table owner (no policy applies); JSON columns are given as text."""
    cols = ", ".join(values)
    binds = ", ".join(f":{k}" for k in values)
    stmt = sa.text(f"INSERT INTO {table} ({cols}) VALUES ({binds}) RETURNING id")
    return int(c.execute(stmt, values).scalar_one())


def _row(**values: Any) -> dict[str, Any]:
    return {"created_at": IN_PERIOD, **values}


def _versioned(**values: Any) -> dict[str, Any]:
    return _row(version=1, **values)


def build_office(dbs: PgDatabases) -> Office:
    office = Office(dbs)
    ids = office.ids
    for key, (role, team, broker) in PEOPLE.items():
        info = add_user(
            office.db,
            office.logins[key],
            role,
            first_name=key.capitalize(),
            last_name="Test",
            team=team,
            broker_email=office.logins[broker] if broker else None,
        )
        ids[key] = info.id
    with office.db.engine.begin() as c:
        c.execute(sa.text(f'CREATE ROLE "{office.logins[STRAY]}" LOGIN IN ROLE {security.USERS}'))
        c.execute(sa.text("UPDATE users SET is_active = false WHERE id = :gone"), ids)
        ids["central"] = c.execute(sa.text("SELECT id FROM teams WHERE name = 'Central'")).scalar()
        ids["south"] = c.execute(sa.text("SELECT id FROM teams WHERE name = 'South'")).scalar()
        c.execute(sa.text("UPDATE teams SET manager_id = :manager WHERE id = :central"), ids)

        def lead(key: str, owner: str, status: str = "new", private: bool = False) -> None:
            ids[key] = _insert(
                c,
                "leads",
                **_versioned(owner_id=ids[owner], name=key, status=status, is_private=private),
            )

        lead("lead_a1", "agent")
        lead("lead_a1c", "agent", "converted")
        lead("lead_a1p", "agent", "converted", private=True)
        lead("lead_a2", "agent2")
        lead("lead_a2p", "agent2", private=True)
        lead("lead_bp", "broker", private=True)
        lead("lead_r", "rival")
        lead("lead_g", "gone")

        def appointment(key: str, agent: str, status: str, private: bool = False) -> None:
            ids[key] = _insert(
                c,
                "appointments",
                **_versioned(
                    agent_id=ids[agent],
                    title=key,
                    start_time=IN_PERIOD,
                    status=status,
                    is_private=private,
                ),
            )

        appointment("appt_a1", "agent", "completed")
        appointment("appt_a1p", "agent", "completed", private=True)
        appointment("appt_a2", "agent2", "no_show")
        appointment("appt_bp", "broker", "scheduled", private=True)

        for who in ("agent", "agent2", "broker", "rival"):
            ids[f"client_{who}"] = _insert(
                c, "clients", **_versioned(agent_id=ids[who], name="C", status="active")
            )
            ids[f"listing_{who}"] = _insert(
                c,
                "listings",
                **_versioned(agent_id=ids[who], address="1 Oak", list_price=1, status="active"),
            )
            ids[f"escrow_{who}"] = _insert(
                c,
                "escrows",
                **_versioned(
                    agent_id=ids[who],
                    property_address="2 Elm",
                    purchase_price=100,
                    escrow_status="Active",
                ),
            )

        def deal(key: str, agent: str, stage: str = "proposal", status: str = "open") -> None:
            ids[key] = _insert(
                c,
                "deals",
                **_versioned(
                    agent_id=ids[agent],
                    title=key,
                    asset_type="multifamily",
                    deal_type="acquisition",
                    pipeline_stage=stage,
                    status=status,
                    estimated_value_amount=1000,
                    estimated_value_currency="USD",
                    confidence=0.5,
                ),
            )

        deal("deal_a1", "agent")
        deal("deal_a2", "agent2")
        deal("deal_r", "rival")
        deal("deal_won", "agent2", "closed_won", "closed_won")
        for who in ("a1", "a2"):
            d = ids[f"deal_{who}"]
            ids[f"event_{who}"] = _insert(
                c,
                "deal_stage_events",
                deal_id=d,
                to_stage="proposal",
                changed_by_id=ids["admin"],
                recorded_at=IN_PERIOD,
            )
            ids[f"contact_{who}"] = _insert(
                c, "deal_contacts", **_versioned(deal_id=d, role="principal", name="P")
            )
            ids[f"document_{who}"] = _insert(
                c, "deal_documents", **_versioned(deal_id=d, title="T", doc_type="loi", uri="x:")
            )

        def commission(key: str, deal_key: str, agent: str, kind: str = "exclusive") -> None:
            ids[key] = _insert(
                c,
                "commission_records",
                **_versioned(
                    deal_id=ids[deal_key],
                    agent_id=ids[agent],
                    commission_type=kind,
                    basis_amount=1000,
                    commission_rate=0.03,
                    commission_amount=30,
                    status="pending",
                ),
            )

        commission("com_a1", "deal_a1", "agent")
        commission("com_a2", "deal_a2", "agent2")
        commission("com_x", "deal_a2", "agent", "co_broke")  # the agent's, on agent2's deal
        ids["adj_a2"] = _insert(
            c,
            "commission_adjustments",
            **_row(
                commission_id=ids["com_a2"],
                adjustment_type="bonus",
                amount=5,
                note="n",
                created_by_id=ids["broker"],
            ),
        )
        ids["adj_x"] = _insert(
            c,
            "commission_adjustments",
            **_row(
                commission_id=ids["com_x"],
                adjustment_type="bonus",
                amount=5,
                note="n",
                created_by_id=ids["broker"],
            ),
        )

        def notification(key: str, recipient: str) -> None:
            ids[key] = _insert(
                c,
                "notifications",
                **_row(
                    recipient_id=ids[recipient],
                    type="escrow.created",
                    agent_id=ids["agent"],
                    entity_type="escrow",
                    entity_id=ids["escrow_agent"],
                    title="New escrow",
                ),
            )

        notification("notif_b", "broker")
        notification("notif_a1", "agent")
        ids["delivery_b"] = _insert(
            c,
            "notification_deliveries",
            **_row(notification_id=ids["notif_b"], channel="email", status="pending", attempts=0),
        )
        ids["settings_b"] = _insert(
            c,
            "notification_settings",
            **_versioned(
                broker_id=ids["broker"],
                notify_escrow_created=True,
                notify_escrow_closed=True,
                notify_client_created=True,
                notify_listing_created=True,
                channel_in_app=True,
                channel_email=True,
                channel_sms=False,
            ),
        )
        ids["kdef"] = _insert(
            c,
            "kpi_definitions",
            **_versioned(
                name="Calls",
                calculation_type="manual",
                aggregation_period="monthly",
                target_type="higher_better",
                is_active=True,
                is_builtin=False,
            ),
        )

        def assignment(key: str, user: str | None, team: str | None) -> None:
            ids[key] = _insert(
                c,
                "kpi_assignments",
                **_versioned(
                    kpi_definition_id=ids["kdef"],
                    user_id=ids[user] if user else None,
                    team_id=ids[team] if team else None,
                    target_value=10,
                    weight=1,
                    start_date=dt.date(2025, 1, 1),
                    is_active=True,
                ),
            )

        assignment("ka_a1", "agent", None)
        assignment("ka_a2", "agent2", None)
        assignment("ka_central", None, "central")
        for who in ("a1", "a2"):
            ids[f"km_{who}"] = _insert(
                c,
                "kpi_measurements",
                **dict(
                    version=1,
                    assignment_id=ids[f"ka_{who}"],
                    period_start=dt.date(2025, 9, 1),
                    period_end=dt.date(2025, 9, 30),
                    actual_value=5,
                    target_value=10,
                    calculated_at=IN_PERIOD,
                ),
            )
        for who in ("agent", "agent2"):
            ids[f"score_{who}"] = _insert(
                c,
                "kpi_score_snapshots",
                **_row(user_id=ids[who], snapshot_date=dt.date(2025, 9, 30), kpi_scores="[]"),
            )
        ids["monthly_a2"] = _insert(
            c,
            "agent_monthly_kpis",
            created_at=IN_PERIOD,
            user_id=ids["agent2"],
            broker_id=ids["broker"],
            period_start=dt.date(2025, 9, 1),
            period_end=dt.date(2025, 9, 30),
            total_leads=1,
            new_leads=1,
            converted_leads=0,
            total_appointments=1,
            completed_appointments=0,
            no_shows=1,
            total_escrows=1,
            total_clients=1,
            active_listings=1,
            total_volume=100,
            total_commission=0,
        )
        ids["snapshot_a2"] = _insert(
            c,
            "agent_performance_snapshots",
            agent_id=ids["agent2"],
            as_of_date=dt.date(2025, 9, 30),
            deals_open=1,
            deals_closed_won=0,
            gross_pipeline_value=1000,
            weighted_pipeline_value=500,
            confirmed_commission_amount=0,
            disputed_commission_amount=0,
            ratios="{}",
            computed_at=IN_PERIOD,
        )
        ids["buyer"] = _insert(c, "buyers", **_versioned(name="Acme Holdings"))
        ids["perf_a1"] = _insert(c, "deal_performances", **_performance(ids, "deal_a1"))
        ids["period_a1"] = _insert(c, "performance_periods", **_period(ids, 2025, 9))
        c.execute(sa.text("ANALYZE leads"))
    TALLY["logins"] = len(PEOPLE) + 1
    return office


def _performance(ids: Mapping[str, Any], deal_key: str) -> dict[str, Any]:
    return _versioned(
        deal_id=ids[deal_key],
        buyer_id=ids["buyer"],
        strategy="buy_hold",
        market_key="austin",
        closed_date=dt.date(2025, 6, 30),
        purchase_price=250000,
        projected_rent=2500,
        projected_noi=1800,
        projected_monthly_cash_flow=400,
        projected_dscr=1.3,
        assumptions="[]",
        locked_at=IN_PERIOD,
        locked_by=ids["closer"],
        current_flags="[]",
    )


def _period(ids: Mapping[str, Any], year: int, month: int) -> dict[str, Any]:
    return dict(
        version=1,
        performance_id=ids["perf_a1"],
        year=year,
        month=month,
        actual_rent_collected=2400,
        actual_vacancy_rate=0.05,
        expenses_total=700,
        actual_noi=1700,
        actual_monthly_cash_flow=350,
        actual_dscr=1.25,
        grade="B",
        flags="[]",
        cash_flow_variance=-50,
        rent_variance=-100,
        expense_variance=0,
        dscr_variance=-0.05,
        entered_by=ids["manager"],
        entered_at=IN_PERIOD,
    )


# ---------------------------------------------------------------------------- the cases

NO_ROWS = "no rows"  # a read returns nothing
NO_EFFECT = "no effect"  # an UPDATE or DELETE touches no row
DENIED = "denied"  # SQLSTATE 42501: permission denied / row-level security violation
ROWS = "rows"  # allowed: a read returns exactly ``value`` rows
VALUE = "value"  # allowed: the first column of the only row is ``value``
DONE = "done"  # allowed: a write changes ``value`` rows (1 unless given)
FORBIDDEN = (NO_ROWS, NO_EFFECT, DENIED)


@dataclass(frozen=True)
class Case:
    who: str
    what: str
    sql: tuple[str, ...]  # run in order; the last one's outcome is checked
    expect: str
    value: Any = None

    @property
    def id(self) -> str:
        return f"{self.who}:{self.what}"


def case(who: str, what: str, *sql: str, expect: str, value: Any = None) -> Case:
    return Case(who, what, sql, expect, value)


def _lead_cases() -> list[Case]:
    """Leads and appointments are their owner's alone, whoever asks (SPEC §1)."""
    cases: list[Case] = []
    for who in ("agent2", "broker", "manager", "admin", "dialer", "closer", "rival"):
        cases += [
            case(
                who,
                "read the agent's leads",
                "SELECT * FROM leads WHERE owner_id = :agent",
                expect=NO_ROWS,
            ),
            case(
                who,
                "read the agent's private lead",
                "SELECT * FROM leads WHERE id = :lead_a1p",
                expect=NO_ROWS,
            ),
            case(
                who,
                "read anybody's leads but own",
                "SELECT * FROM leads WHERE owner_id <> :" + who,
                expect=NO_ROWS,
            ),
            case(
                who,
                "update the agent's lead",
                "UPDATE leads SET status = 'lost' WHERE id = :lead_a1",
                expect=NO_EFFECT,
            ),
            case(
                who,
                "delete the agent's leads",
                "DELETE FROM leads WHERE owner_id = :agent",
                expect=NO_EFFECT,
            ),
            case(
                who,
                "insert a lead for the agent",
                "INSERT INTO leads (owner_id, name, status, is_private, created_at, version) "
                "VALUES (:agent, 'x', 'new', false, now(), 1)",
                expect=DENIED,
            ),
            case(
                who,
                "read the agent's appointments",
                "SELECT * FROM appointments WHERE agent_id = :agent",
                expect=NO_ROWS,
            ),
            case(
                who,
                "update the agent's appointment",
                "UPDATE appointments SET status = 'cancelled' WHERE id = :appt_a1",
                expect=NO_EFFECT,
            ),
            case(
                who,
                "delete the agent's private appointment",
                "DELETE FROM appointments WHERE id = :appt_a1p",
                expect=NO_EFFECT,
            ),
            case(
                who,
                "insert an appointment for the agent",
                "INSERT INTO appointments (agent_id, title, start_time, status, is_private, "
                "created_at, version) VALUES (:agent, 'x', now(), 'scheduled', false, now(), 1)",
                expect=DENIED,
            ),
        ]
    for who in ("admin", "manager", "agent"):
        cases += [
            case(
                who,
                "read the broker's private lead",
                "SELECT * FROM leads WHERE id = :lead_bp",
                expect=NO_ROWS,
            ),
            case(
                who,
                "read the broker's private appointment",
                "SELECT * FROM appointments WHERE id = :appt_bp",
                expect=NO_ROWS,
            ),
        ]
    cases += [
        case(
            "agent",
            "give own lead away",
            "UPDATE leads SET owner_id = :agent2 WHERE id = :lead_a1",
            expect=DENIED,
        ),
        case(
            "agent",
            "move own appointment to the broker",
            "UPDATE appointments SET agent_id = :broker WHERE id = :appt_a1",
            expect=DENIED,
        ),
        case("gone", "read own leads once deactivated", "SELECT * FROM leads", expect=NO_ROWS),
        case(STRAY, "read leads as a login that is nobody", "SELECT * FROM leads", expect=NO_ROWS),
        case(
            STRAY, "read escrows as a login that is nobody", "SELECT * FROM escrows", expect=NO_ROWS
        ),
        case(
            STRAY,
            "insert a lead as a login that is nobody",
            "INSERT INTO leads (owner_id, name, status, is_private, created_at, version) "
            "VALUES (:agent, 'x', 'new', false, now(), 1)",
            expect=DENIED,
        ),
    ]
    return cases


def _record_cases() -> list[Case]:
    """Escrows, clients, listings: owner, owner's broker, owner's team manager, admin."""
    cases: list[Case] = []
    # agent2 (team South, broker "broker"): not the agent's, the Central manager's, the other
    # brokerage's, a dialer's or a closer's to see.
    for who in ("agent", "manager", "dialer", "closer", "rival", "broker2"):
        for table in ("escrows", "clients", "listings"):
            cases.append(
                case(
                    who,
                    f"read agent2's {table}",
                    f"SELECT * FROM {table} WHERE agent_id = :agent2",
                    expect=NO_ROWS,
                )
            )
    cases += [
        case(
            "agent",
            "update agent2's escrow",
            "UPDATE escrows SET purchase_price = 1 WHERE id = :escrow_agent2",
            expect=NO_EFFECT,
        ),
        case(
            "agent",
            "delete agent2's client",
            "DELETE FROM clients WHERE id = :client_agent2",
            expect=NO_EFFECT,
        ),
        case(
            "agent",
            "insert an escrow for agent2",
            "INSERT INTO escrows (agent_id, property_address, purchase_price, escrow_status, "
            "created_at, version) VALUES (:agent2, 'x', 1, 'Active', now(), 1)",
            expect=DENIED,
        ),
        case(
            "agent",
            "hand own listing to agent2",
            "UPDATE listings SET agent_id = :agent2 WHERE id = :listing_agent",
            expect=DENIED,
        ),
        case(
            "manager",
            "insert a client for agent2 (not their team)",
            "INSERT INTO clients (agent_id, name, status, created_at, version) "
            "VALUES (:agent2, 'x', 'active', now(), 1)",
            expect=DENIED,
        ),
        case(
            "broker2",
            "delete the other brokerage's listings",
            "DELETE FROM listings WHERE agent_id = :agent",
            expect=NO_EFFECT,
        ),
        case(
            "broker",
            "read the other brokerage's escrows",
            "SELECT * FROM escrows WHERE agent_id = :rival",
            expect=NO_ROWS,
        ),
        case("dialer", "read any escrow", "SELECT * FROM escrows", expect=NO_ROWS),
        case(
            "agent",
            "read the monthly KPIs of agent2",
            "SELECT * FROM agent_monthly_kpis WHERE user_id = :agent2",
            expect=NO_ROWS,
        ),
        case(
            "agent",
            "read the performance snapshots of agent2",
            "SELECT * FROM agent_performance_snapshots WHERE agent_id = :agent2",
            expect=NO_ROWS,
        ),
        case(
            "dialer",
            "read the monthly KPIs of agent2",
            "SELECT * FROM agent_monthly_kpis",
            expect=NO_ROWS,
        ),
        # allowed
        case("agent", "read own escrows", "SELECT * FROM escrows", expect=ROWS, value=1),
        case(
            "broker",
            "read agent2's escrows",
            "SELECT * FROM escrows WHERE agent_id = :agent2",
            expect=ROWS,
            value=1,
        ),
        case(
            "broker",
            "read the brokerage's escrows (own and agents')",
            "SELECT * FROM escrows",
            expect=ROWS,
            value=3,
        ),
        case(
            "manager",
            "read the Central agent's clients",
            "SELECT * FROM clients WHERE agent_id = :agent",
            expect=ROWS,
            value=1,
        ),
        case("admin", "read every escrow", "SELECT * FROM escrows", expect=ROWS, value=4),
        case(
            "broker",
            "update agent2's escrow",
            "UPDATE escrows SET purchase_price = 2 WHERE id = :escrow_agent2",
            expect=DONE,
        ),
        case(
            "broker",
            "read agent2's monthly KPIs",
            "SELECT * FROM agent_monthly_kpis",
            expect=ROWS,
            value=1,
        ),
    ]
    return cases


def _deal_cases() -> list[Case]:
    """Deals, stage history, contacts, documents, commissions: as the deal (SPEC §1)."""
    cases: list[Case] = []
    reads = {
        "deals": "SELECT * FROM deals WHERE id = :deal_a2",
        "stage history": "SELECT * FROM deal_stage_events WHERE deal_id = :deal_a2",
        "contacts": "SELECT * FROM deal_contacts WHERE deal_id = :deal_a2",
        "documents": "SELECT * FROM deal_documents WHERE deal_id = :deal_a2",
        "commissions": "SELECT * FROM commission_records WHERE id = :com_a2",
        "commission adjustments": "SELECT * FROM commission_adjustments WHERE id = :adj_a2",
    }
    for who in ("agent", "manager", "dialer", "broker2"):
        for what, sql in reads.items():
            cases.append(case(who, f"read agent2's deal {what}", sql, expect=NO_ROWS))
    cases += [
        case("rival", "read every commission", "SELECT * FROM commission_records", expect=NO_ROWS),
        case(
            "agent",
            "move agent2's deal",
            "UPDATE deals SET pipeline_stage = 'negotiation' WHERE id = :deal_a2",
            expect=NO_EFFECT,
        ),
        case(
            "agent",
            "write agent2's deal history",
            "INSERT INTO deal_stage_events (deal_id, from_stage, to_stage, changed_by_id, "
            "recorded_at) VALUES (:deal_a2, 'proposal', 'negotiation', :agent, now())",
            expect=DENIED,
        ),
        case(
            "agent",
            "book self a commission on agent2's deal",
            "INSERT INTO commission_records (deal_id, agent_id, commission_type, basis_amount, "
            "commission_rate, commission_amount, status, created_at, version) VALUES "
            "(:deal_a2, :agent, 'referral', 1, 0.5, 0.5, 'pending', now(), 1)",
            expect=DENIED,
        ),
        case(
            "agent",
            "raise own commission on agent2's deal",
            "UPDATE commission_records SET commission_amount = 999 WHERE id = :com_x",
            expect=NO_EFFECT,
        ),
        case(
            "agent",
            "delete own commission on agent2's deal",
            "DELETE FROM commission_records WHERE id = :com_x",
            expect=NO_EFFECT,
        ),
        case(
            "agent",
            "add a bonus to own commission on agent2's deal",
            "INSERT INTO commission_adjustments (commission_id, adjustment_type, amount, note, "
            "created_by_id, created_at) VALUES (:com_x, 'bonus', 100, 'x', :agent, now())",
            expect=DENIED,
        ),
        case(
            "manager",
            "create a deal for agent2 (not their team)",
            "INSERT INTO deals (agent_id, title, asset_type, deal_type, pipeline_stage, status, "
            "estimated_value_amount, estimated_value_currency, confidence, created_at, version) "
            "VALUES (:agent2, 'x', 'a', 'b', 'proposal', 'open', 1, 'USD', 0.5, now(), 1)",
            expect=DENIED,
        ),
        case(
            "broker",
            "read the other brokerage's deals",
            "SELECT * FROM deals WHERE agent_id = :rival",
            expect=NO_ROWS,
        ),
        # allowed
        case(
            "agent",
            "read own commission on agent2's deal",
            "SELECT * FROM commission_records WHERE id = :com_x",
            expect=ROWS,
            value=1,
        ),
        case("agent", "read own deals", "SELECT * FROM deals", expect=ROWS, value=1),
        case(
            "broker",
            "read agent2's deal history",
            "SELECT * FROM deal_stage_events WHERE deal_id = :deal_a2",
            expect=ROWS,
            value=1,
        ),
        case(
            "broker",
            "read the commissions on agent2's deal",
            "SELECT * FROM commission_records WHERE deal_id = :deal_a2",
            expect=ROWS,
            value=2,
        ),
        case(
            "manager",
            "read the Central agent's deal contacts",
            "SELECT * FROM deal_contacts WHERE deal_id = :deal_a1",
            expect=ROWS,
            value=1,
        ),
        case("admin", "read every deal", "SELECT * FROM deals", expect=ROWS, value=4),
    ]
    return cases


def _notification_cases() -> list[Case]:
    cases = [
        case(
            who,
            "read the broker's notifications",
            "SELECT * FROM notifications WHERE recipient_id = :broker",
            expect=NO_ROWS,
        )
        for who in ("agent", "admin", "manager", "broker2")
    ]
    cases += [
        case(
            "agent",
            "mark the broker's notification read",
            "UPDATE notifications SET read_at = now() WHERE id = :notif_b",
            expect=NO_EFFECT,
        ),
        case(
            "agent",
            "read the broker's notification deliveries",
            "SELECT * FROM notification_deliveries",
            expect=NO_ROWS,
        ),
        case(
            "admin",
            "delete the broker's notification deliveries",
            "DELETE FROM notification_deliveries WHERE id = :delivery_b",
            expect=NO_EFFECT,
        ),
        case(
            "agent",
            "notify the broker of something made up",
            "INSERT INTO notifications (recipient_id, type, entity_type, entity_id, title, "
            "created_at) VALUES (:broker, 'escrow.created', 'escrow', 1, 'x', now())",
            expect=DENIED,
        ),
        case(
            "agent",
            "switch off the broker's notifications",
            "UPDATE notification_settings SET channel_email = false WHERE id = :settings_b",
            expect=NO_EFFECT,
        ),
        case(
            "broker", "read own notifications", "SELECT * FROM notifications", expect=ROWS, value=1
        ),
        case(
            "agent", "read own notifications", "SELECT * FROM notifications", expect=ROWS, value=1
        ),
    ]
    return cases


def _kpi_cases() -> list[Case]:
    insert_measurement = (
        "INSERT INTO kpi_measurements (assignment_id, period_start, period_end, actual_value, "
        "target_value, calculated_at, version) VALUES (:{a}, '2025-10-01', '2025-10-31', 1, 10, "
        "now(), 1)"
    )
    insert_assignment = (
        "INSERT INTO kpi_assignments (kpi_definition_id, user_id, target_value, weight, "
        "start_date, is_active, created_at, version) VALUES (:kdef, :{u}, 1, 1, '2025-10-01', "
        "true, now(), 1)"
    )
    return [
        case(
            "agent",
            "read agent2's KPI assignment",
            "SELECT * FROM kpi_assignments WHERE id = :ka_a2",
            expect=NO_ROWS,
        ),
        case(
            "agent",
            "read agent2's KPI measurements",
            "SELECT * FROM kpi_measurements WHERE id = :km_a2",
            expect=NO_ROWS,
        ),
        case(
            "agent",
            "read agent2's KPI score",
            "SELECT * FROM kpi_score_snapshots WHERE user_id = :agent2",
            expect=NO_ROWS,
        ),
        case(
            "agent",
            "enter own KPI measurement",
            insert_measurement.format(a="ka_a1"),
            expect=DENIED,
        ),
        case(
            "agent",
            "raise own KPI target",
            "UPDATE kpi_assignments SET target_value = 1 WHERE id = :ka_a1",
            expect=NO_EFFECT,
        ),
        case(
            "agent2",
            "read the Central team's assignment",
            "SELECT * FROM kpi_assignments WHERE id = :ka_central",
            expect=NO_ROWS,
        ),
        case(
            "manager",
            "assign agent2 (not their team) a KPI",
            insert_assignment.format(u="agent2"),
            expect=DENIED,
        ),
        case(
            "manager",
            "enter agent2's KPI measurement",
            insert_measurement.format(a="ka_a2"),
            expect=DENIED,
        ),
        case(
            "manager",
            "read agent2's KPI assignment",
            "SELECT * FROM kpi_assignments WHERE id = :ka_a2",
            expect=NO_ROWS,
        ),
        case(
            "broker", "assign the agent a KPI", insert_assignment.format(u="agent"), expect=DENIED
        ),
        case(
            "dialer",
            "read anybody's KPI assignments",
            "SELECT * FROM kpi_assignments",
            expect=NO_ROWS,
        ),
        case(
            "dialer",
            "read anybody's KPI measurements",
            "SELECT * FROM kpi_measurements",
            expect=NO_ROWS,
        ),
        case(
            "agent",
            "define a KPI",
            "INSERT INTO kpi_definitions (name, calculation_type, aggregation_period, "
            "target_type, is_active, is_builtin, created_at, version) VALUES "
            "('x', 'manual', 'monthly', 'exact', true, false, now(), 1)",
            expect=DENIED,
        ),
        case(
            "manager",
            "edit a KPI definition",
            "UPDATE kpi_definitions SET name = 'y' WHERE id = :kdef",
            expect=DENIED,
        ),
        # allowed
        case(
            "agent",
            "read own and own team's KPI assignments",
            "SELECT * FROM kpi_assignments",
            expect=ROWS,
            value=2,
        ),
        case(
            "manager",
            "enter the Central agent's KPI measurement",
            insert_measurement.format(a="ka_a1"),
            expect=DONE,
        ),
        case(
            "manager",
            "assign the Central agent a KPI",
            insert_assignment.format(u="agent"),
            expect=DONE,
        ),
        case(
            "broker",
            "read agent2's KPI measurements",
            "SELECT * FROM kpi_measurements WHERE id = :km_a2",
            expect=ROWS,
            value=1,
        ),
        case(
            "admin",
            "read every KPI score",
            "SELECT * FROM kpi_score_snapshots",
            expect=ROWS,
            value=2,
        ),
    ]


def _rent_roll_cases() -> list[Case]:
    """Deal performance / rent roll: everyone reads; closer creates at close; broker, manager
    and admin change it and enter periods (SPEC §1)."""
    insert_period = (
        "INSERT INTO performance_periods (performance_id, year, month, actual_rent_collected, "
        "actual_vacancy_rate, expenses_total, actual_noi, actual_monthly_cash_flow, actual_dscr, "
        "grade, flags, cash_flow_variance, rent_variance, expense_variance, dscr_variance, "
        "entered_by, entered_at, version) VALUES (:perf_a1, 2025, 10, 2500, 0, 700, 1800, 400, "
        "1.3, 'A', '[]', 0, 0, 0, 0, :{who}, now(), 1)"
    )
    insert_performance = (
        "INSERT INTO deal_performances (deal_id, buyer_id, strategy, market_key, closed_date, "
        "purchase_price, projected_rent, projected_noi, projected_monthly_cash_flow, "
        "projected_dscr, assumptions, locked_at, locked_by, current_flags, created_at, version) "
        "VALUES (:deal_won, :buyer, 'buy_hold', 'austin', '2025-10-01', 1, 1, 1, 1, 1, '[]', "
        "now(), :{who}, '[]', now(), 1)"
    )
    update_period = "UPDATE performance_periods SET notes = 'x' WHERE id = :period_a1"
    cases: list[Case] = []
    for who in ("dialer", "closer", "agent"):
        cases += [
            case(who, "enter a rent roll period", insert_period.format(who=who), expect=DENIED),
            case(who, "change a rent roll period", update_period, expect=DENIED),
            case(
                who,
                "delete a rent roll period",
                "DELETE FROM performance_periods WHERE id = :period_a1",
                expect=DENIED,
            ),
            case(
                who,
                "change a performance record's grade",
                "UPDATE deal_performances SET current_grade = 'A' WHERE id = :perf_a1",
                expect=DENIED,
            ),
        ]
    cases += [
        case(who, "create a performance record", insert_performance.format(who=who), expect=DENIED)
        for who in ("dialer", "agent")
    ]
    cases += [
        case(
            "closer",
            "delete a performance record",
            "DELETE FROM deal_performances WHERE id = :perf_a1",
            expect=DENIED,
        ),
        case(
            "manager",
            "change the locked pro forma",
            "UPDATE deal_performances SET projected_rent = 1 WHERE id = :perf_a1",
            expect=DENIED,
        ),
        # allowed
        case(
            "dialer",
            "read performance records",
            "SELECT * FROM deal_performances",
            expect=ROWS,
            value=1,
        ),
        case(
            "dialer",
            "read the rent roll",
            "SELECT * FROM performance_periods",
            expect=ROWS,
            value=1,
        ),
        case(
            "agent", "read the rent roll", "SELECT * FROM performance_periods", expect=ROWS, value=1
        ),
        case(
            "closer",
            "create a performance record at close",
            insert_performance.format(who="closer"),
            expect=DONE,
        ),
        case(
            "manager", "enter a rent roll period", insert_period.format(who="manager"), expect=DONE
        ),
        case("broker", "change a rent roll period", update_period, expect=DONE),
        case(
            "admin",
            "change a performance record's grade",
            "UPDATE deal_performances SET current_grade = 'B' WHERE id = :perf_a1",
            expect=DONE,
        ),
    ]
    return cases


def _people_cases() -> list[Case]:
    insert_user = (
        "INSERT INTO users (email, first_name, last_name, role, is_active, created_at, version) "
        "VALUES ('new.person@example.com', 'New', 'Person', 'agent', true, now(), 1)"
    )
    # The stray login (a PerfDesk login that is nobody) giving itself an admin's row, say.
    insert_login = (
        "INSERT INTO users (email, first_name, last_name, role, db_role, is_active, "
        "created_at, version) VALUES ('me@example.com', 'Me', 'Me', 'admin', '{stray}', true, "
        "now(), 1)"
    )
    cases = [
        case(who, "add a person", insert_user, expect=DENIED)
        for who in ("agent", "broker", "manager", "dialer", STRAY)
    ]
    cases += [
        case(who, "add a person with a login", insert_login, expect=DENIED)
        for who in ("agent", "manager", STRAY)
    ]
    cases += [
        case(
            "agent",
            "make self an admin",
            "UPDATE users SET role = 'admin' WHERE id = :agent",
            expect=DENIED,
        ),
        case(
            "broker",
            "take agent2 into the other brokerage",
            "UPDATE users SET broker_id = :broker2 WHERE id = :agent2",
            expect=DENIED,
        ),
        case(
            "agent",
            "join the Central team as its manager",
            "UPDATE teams SET manager_id = :agent WHERE id = :central",
            expect=DENIED,
        ),
        case(
            "manager",
            "create a team",
            "INSERT INTO teams (name, created_at, version) VALUES ('x', now(), 1)",
            expect=DENIED,
        ),
        case("dialer", "delete a person", "DELETE FROM users WHERE id = :agent", expect=DENIED),
        # allowed: the directory is everyone's; admins add people
        case("agent", "read the directory", "SELECT * FROM users", expect=ROWS, value=len(PEOPLE)),
        case("dialer", "read the teams", "SELECT * FROM teams", expect=ROWS, value=2),
        case(
            "admin",
            "add a person",
            insert_user,
            "SELECT count(*) FROM users WHERE email = 'new.person@example.com'",
            expect=VALUE,
            value=1,
        ),
        case(
            "admin",
            "move agent2 to the Central team",
            "UPDATE users SET team_id = :central WHERE id = :agent2",
            expect=DONE,
        ),
    ]
    return cases


def _spoofing_cases() -> list[Case]:
    """Nothing a client can set makes the server take it for somebody else."""
    return [
        case(
            "agent",
            "claim to be the broker with session settings",
            "SET app.user_id = '1'",
            "SET app.current_user_id = '1'",
            "SET app.role = 'admin'",
            "SELECT set_config('app.user_email', current_setting('app.role'), false)",
            "SELECT * FROM leads WHERE owner_id <> :agent",
            expect=NO_ROWS,
        ),
        case(
            "agent",
            "read escrows with spoofed settings",
            "SET app.role = 'admin'",
            "SET perfdesk.user_email = 'admin'",
            "SELECT * FROM escrows WHERE agent_id <> :agent",
            expect=NO_ROWS,
        ),
        case("agent", "SET ROLE to the broker's login", "SET ROLE {broker}", expect=DENIED),
        case("agent", "SET ROLE to the admin group", "SET ROLE perfdesk_admin", expect=DENIED),
        case(
            "agent",
            "SET SESSION AUTHORIZATION as the broker",
            "SET SESSION AUTHORIZATION {broker}",
            expect=DENIED,
        ),
        case(
            "admin",
            "SET ROLE to the admin group, then read escrows",
            "SET ROLE perfdesk_admin",
            "SELECT * FROM escrows",
            expect=DENIED,
        ),
        case(
            "agent",
            "switch row security off",
            "SET row_security = off",
            "SELECT * FROM leads",
            expect=DENIED,
        ),
        case(
            "agent",
            "disable row-level security on leads",
            "ALTER TABLE leads DISABLE ROW LEVEL SECURITY",
            expect=DENIED,
        ),
        case("agent", "drop the leads policy", "DROP POLICY leads_owner ON leads", expect=DENIED),
        case("agent", "truncate leads", "TRUNCATE leads", expect=DENIED),
        case("agent", "create a table", "CREATE TABLE public.mine (x int)", expect=DENIED),
        case(
            "agent",
            "create a function that could stand in for a helper",
            "CREATE FUNCTION public.perfdesk_me2() RETURNS int LANGUAGE sql AS 'SELECT 1'",
            expect=DENIED,
        ),
        case(
            "agent",
            "read leads' column statistics",
            "SELECT * FROM pg_stats WHERE tablename = 'leads'",
            expect=NO_ROWS,
        ),
        case(
            "broker",
            "read the private leads' statistics",
            "SELECT * FROM pg_stats WHERE tablename = 'leads'",
            expect=NO_ROWS,
        ),
        case(
            "agent",
            "count the broker's leads by naming their login",
            "SELECT * FROM perfdesk_lead_counts_for('{broker}', :start, :end)",
            expect=DENIED,
        ),
        case(
            "dialer",
            "count everyone's appointments by naming the admin's login",
            "SELECT * FROM perfdesk_appointment_counts_for('{admin}', :start, :end)",
            expect=DENIED,
        ),
        case(
            "agent",
            "call the caller check directly",
            "SELECT perfdesk_assert_caller('{agent}')",
            expect=DENIED,
        ),
    ]


def _count_cases() -> list[Case]:
    """The definer functions: counts only, only for owners the caller may count, never
    private rows (the agent has 2 non-private leads and a private one)."""
    leads = "SELECT * FROM perfdesk_lead_counts(:start, :end)"
    appointments = "SELECT * FROM perfdesk_appointment_counts(:start, :end)"
    return [
        case(
            "agent",
            "lead counts of anybody else",
            leads + " WHERE owner_id <> :agent",
            expect=NO_ROWS,
        ),
        case(
            "agent",
            "lead counts including the private lead",
            leads + " WHERE owner_id = :agent AND (total <> 2 OR converted <> 1)",
            expect=NO_ROWS,
        ),
        case(
            "agent2",
            "appointment counts of anybody else",
            appointments + " WHERE owner_id <> :agent2",
            expect=NO_ROWS,
        ),
        case(
            "broker",
            "lead counts of the other brokerage",
            leads + " WHERE owner_id = :rival",
            expect=NO_ROWS,
        ),
        case(
            "broker",
            "counts of own private leads",
            leads + " WHERE owner_id = :broker",
            expect=NO_ROWS,
        ),
        case(
            "broker",
            "counts of own private appointments",
            appointments + " WHERE owner_id = :broker",
            expect=NO_ROWS,
        ),
        case(
            "broker",
            "lead counts including private leads",
            leads + " WHERE (owner_id = :agent AND total <> 2) "
            "OR (owner_id = :agent2 AND total <> 1)",
            expect=NO_ROWS,
        ),
        case(
            "broker",
            "appointment counts including private ones",
            appointments + " WHERE owner_id = :agent AND completed <> 1",
            expect=NO_ROWS,
        ),
        case(
            "manager",
            "lead counts beyond their team",
            leads + " WHERE owner_id NOT IN (:agent, :manager)",
            expect=NO_ROWS,
        ),
        case(
            "admin",
            "lead counts including private leads",
            leads + " WHERE owner_id IN (:broker) OR (owner_id = :agent2 AND total <> 1)",
            expect=NO_ROWS,
        ),
        case("dialer", "lead counts of anybody", leads, expect=NO_ROWS),
        case("closer", "appointment counts of anybody", appointments, expect=NO_ROWS),
        case("gone", "lead counts once deactivated", leads, expect=NO_ROWS),
        case(STRAY, "lead counts as a login that is nobody", leads, expect=NO_ROWS),
        # allowed: the broker counts the agents of their brokerage
        case(
            "broker",
            "lead counts of the agent",
            "SELECT total FROM perfdesk_lead_counts(:start, :end) WHERE owner_id = :agent",
            expect=VALUE,
            value=2,
        ),
        # agent, agent2 and the deactivated agent (whose production still counts in totals)
        case("broker", "owners counted", leads, expect=ROWS, value=3),
        case(
            "broker",
            "no-shows of agent2",
            "SELECT no_shows FROM "
            "perfdesk_appointment_counts(:start, :end) WHERE owner_id = :agent2",
            expect=VALUE,
            value=1,
        ),
        case("admin", "owners counted", leads, expect=ROWS, value=4),  # and the rival
    ]


CASES: tuple[Case, ...] = (
    *_lead_cases(),
    *_record_cases(),
    *_deal_cases(),
    *_notification_cases(),
    *_kpi_cases(),
    *_rent_roll_cases(),
    *_people_cases(),
    *_spoofing_cases(),
    *_count_cases(),
)


# ---------------------------------------------------------------------------- running them


@pytest.fixture(scope="module")
def office(pg_databases: PgDatabases) -> Iterator[Office]:
    built = build_office(pg_databases)
    try:
        yield built
    finally:
        built.close()


def _statement(office: Office, sql: str) -> tuple[sa.TextClause, dict[str, Any]]:
    # Logins go into the text: '{broker}' as a string literal, bare {broker} as a quoted
    # identifier (SET ROLE "…"); everything else (:agent, :start, …) is a bound parameter.
    quoted = {k: f'"{v}"' for k, v in office.logins.items()}
    if "'{" in sql:
        quoted = dict(office.logins)
    stmt = sa.text(sql.format(**quoted))
    names = stmt.compile().params
    return stmt, {name: office.ids[name] for name in names}


def run(office: Office, c: Case) -> tuple[str, Any]:
    """Run a case as its login in one transaction, rolled back; what happened."""
    with office.engine(c.who).connect() as conn:
        try:
            for sql in c.sql[:-1]:
                conn.execute(*_statement(office, sql))
            result = conn.execute(*_statement(office, c.sql[-1]))
        except sa.exc.DBAPIError as exc:
            state = getattr(exc.orig, "sqlstate", None)
            conn.rollback()
            if state == "42501":
                return DENIED, str(exc.orig).splitlines()[0]
            raise
        if result.returns_rows:
            rows = result.all()
            outcome = (ROWS, rows)
        else:
            outcome = (DONE, result.rowcount)
        conn.rollback()
    return outcome


@pytest.mark.parametrize("c", CASES, ids=[c.id for c in CASES])
def test_spec_1_as_each_login(office: Office, c: Case) -> None:
    kind, got = run(office, c)
    forbidden = c.expect in FORBIDDEN
    TALLY["forbidden" if forbidden else "allowed"] += 1
    if c.expect == DENIED:
        assert kind == DENIED, f"{c.id}: expected a permission error, got {kind} {got!r}"
    elif c.expect == NO_ROWS:
        assert (kind, got) == (ROWS, []), f"{c.id}: expected no rows, got {kind} {got!r}"
    elif c.expect == NO_EFFECT:
        assert (kind, got) == (DONE, 0), f"{c.id}: expected no effect, got {kind} {got!r}"
    elif c.expect == ROWS:
        assert kind == ROWS and len(got) == c.value, f"{c.id}: got {kind} {got!r}"
    elif c.expect == VALUE:
        assert kind == ROWS and [tuple(r) for r in got] == [(c.value,)], f"{c.id}: {got!r}"
    else:
        assert (kind, got) == (DONE, c.value or 1), f"{c.id}: got {kind} {got!r}"
    if forbidden:
        TALLY["refused"] += 1


def test_the_cases_cover_every_login_and_are_mostly_refusals(
    capsys: pytest.CaptureFixture[str],
) -> None:
    logins = {c.who for c in CASES}
    assert logins == {*PEOPLE, STRAY}
    forbidden = sum(c.expect in FORBIDDEN for c in CASES)
    assert len({c.id for c in CASES}) == len(CASES)  # one test id per case
    with capsys.disabled():
        print(
            f"\nprivacy cases: {len(CASES)} ({forbidden} forbidden, "
            f"{len(CASES) - forbidden} allowed) as {len(logins)} logins"
        )
