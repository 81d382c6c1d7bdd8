"""KPI definitions (app/services/kpis/definitions.py, SPEC §7) on SQLite and PostgreSQL:
creating manual, query, formula and api KPIs from a form's text, the per-field reasons a form
is refused (nothing written), the built-in library keeping its source, optimistic
concurrency, who may define KPIs (admins) and deactivating.

``Shop`` (below) builds the people, teams, KPIs, assignments, measurements and records the
other KPI service tests use as well.
"""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from app.db.models import (
    CommissionRecord,
    Deal,
    Escrow,
    KpiAssignment,
    KpiDefinition,
    KpiMeasurement,
    Lead,
    Team,
    User,
)
from app.db.models.notifications import Notification
from app.domain.errors import ConflictError, PermissionDenied, ValidationError
from app.services.database import Database
from app.services.kpis import definitions
from app.services.kpis.definitions import DefinitionError, save_definition, set_active

_serial = itertools.count(1)

LEADS_SQL = (
    "SELECT COUNT(*) FROM leads WHERE owner_id = :user_id "
    "AND created_at >= :start_date AND created_at < :end_date"
)


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


class Shop:
    """An office to test against, each record written in its own transaction."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.emails: dict[int, str] = {}

    def add(self, obj: Any) -> int:
        with self.db.session() as s:
            s.add(obj)
            s.flush()
            return int(obj.id)

    # -- people and teams ------------------------------------------------------------------

    def person(
        self,
        first: str,
        last: str = "Test",
        role: str = "agent",
        broker: int | None = None,
        active: bool = True,
    ) -> int:
        email = f"{first.lower()}.{last.lower()}@kpi.example"
        uid = self.add(
            User(
                email=email,
                first_name=first,
                last_name=last,
                role=role,
                broker_id=broker,
                is_active=active,
            )
        )
        self.emails[uid] = email
        return uid

    def team(
        self, name: str, manager: int | None, members: list[int], broker: int | None = None
    ) -> int:
        tid = self.add(Team(name=name, manager_id=manager, broker_id=broker))
        with self.db.session() as s:
            for uid in members:
                s.get_one(User, uid).team_id = tid
        return tid

    def deactivate(self, uid: int) -> None:
        with self.db.session() as s:
            s.get_one(User, uid).is_active = False

    # -- KPIs --------------------------------------------------------------------------------

    def kpi(
        self,
        name: str,
        calculation: str = "manual",
        period: str = "monthly",
        target_type: str = "higher_better",
        low: str | None = None,
        high: str | None = None,
        source: dict[str, Any] | None = None,
        active: bool = True,
    ) -> int:
        if source is None and calculation == "manual":
            rng = {k: v for k, v in (("min", low), ("max", high)) if v is not None}
            source = {"type": "manual", "allowed_range": rng}
        return self.add(
            KpiDefinition(
                name=name,
                calculation_type=calculation,
                data_source=source,
                aggregation_period=period,
                target_type=target_type,
                min_value=None if low is None else Decimal(low),
                max_value=None if high is None else Decimal(high),
                is_active=active,
            )
        )

    def builtin(self, name: str) -> int:
        with self.db.read() as s:
            found = s.scalar(sa.select(KpiDefinition.id).where(KpiDefinition.name == name))
        assert found is not None, name
        return int(found)

    def assign(
        self,
        kpi: int,
        user: int,
        target: str,
        weight: str = "50",
        start: dt.date = dt.date(2025, 1, 1),
        end: dt.date | None = None,
        active: bool = True,
    ) -> int:
        return self.add(
            KpiAssignment(
                kpi_definition_id=kpi,
                user_id=user,
                target_value=Decimal(target),
                weight=Decimal(weight),
                start_date=start,
                end_date=end,
                is_active=active,
            )
        )

    def measure(
        self,
        assignment: int,
        start: dt.date,
        end: dt.date,
        actual: str,
        target: str,
        pct: str | None,
    ) -> int:
        return self.add(
            KpiMeasurement(
                assignment_id=assignment,
                period_start=start,
                period_end=end,
                actual_value=Decimal(actual),
                target_value=Decimal(target),
                achievement_pct=None if pct is None else Decimal(pct),
                calculation_metadata={"method": "manual"},
                calculated_at=utc("2025-01-01T00:00:00"),
            )
        )

    # -- records (SPEC §8 figures) -------------------------------------------------------------

    def lead(self, owner: int, created: str, status: str = "new") -> int:
        return self.add(
            Lead(
                owner_id=owner, name=f"Lead {next(_serial)}", status=status, created_at=utc(created)
            )
        )

    def deal(
        self, agent: int, created: str, closed: dt.date | None = None, lost: bool = False
    ) -> int:
        stage, status = "proposal", "open"
        if closed is not None:
            stage = status = "closed_lost" if lost else "closed_won"
        return self.add(
            Deal(
                ref=f"K-{next(_serial)}",
                agent_id=agent,
                title=f"{next(_serial)} Elm St",
                asset_type="single_family",
                deal_type="acquisition",
                pipeline_stage=stage,
                status=status,
                estimated_value_amount=Decimal("300000"),
                estimated_value_currency="USD",
                confidence=Decimal("0.5"),
                actual_close_date=closed,
                created_at=utc(created),
            )
        )

    def commission(self, deal: int, agent: int, amount: str, status: str = "confirmed") -> int:
        return self.add(
            CommissionRecord(
                deal_id=deal,
                agent_id=agent,
                commission_type="exclusive",
                basis_amount=Decimal(amount),
                commission_rate=Decimal(1),
                commission_amount=Decimal(amount),
                status=status,
                created_at=utc("2025-01-01T12:00:00"),
            )
        )

    def closed_escrow(self, agent: int, closed: str, commission: str) -> int:
        return self.add(
            Escrow(
                agent_id=agent,
                property_address=f"{next(_serial)} Main St",
                purchase_price=Decimal("250000"),
                my_commission=Decimal(commission),
                escrow_status="Closed",
                created_at=utc(closed) - dt.timedelta(days=30),
                closed_at=utc(closed),
            )
        )

    # -- reading back ----------------------------------------------------------------------------

    def count(self, model: type) -> int:
        with self.db.read() as s:
            return int(s.scalar(sa.select(sa.func.count()).select_from(model)) or 0)

    def notes(self, kind: str) -> list[tuple[int, int, str]]:
        """(recipient, entity id, title) of the notifications of ``kind``, in order."""
        with self.db.read() as s:
            rows = s.execute(
                sa.select(Notification.recipient_id, Notification.entity_id, Notification.title)
                .where(Notification.type == kind)
                .order_by(Notification.id)
            )
            return [(int(r), int(e), str(t)) for r, e, t in rows]


# ============================================================================= definitions


@pytest.fixture
def shop(db: Database) -> Shop:
    return Shop(db)


@pytest.fixture
def ada(shop: Shop) -> str:
    """The admin, who defines KPIs (her email: PostgreSQL needs a named person)."""
    broker = shop.person("Bo", "Broker", role="broker")
    uid = shop.person("Ada", "Admin", role="admin", broker=broker)
    return shop.emails[uid]


def form(name: str = "Calls Made", calculation: str = "manual", **kw: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "name": name,
        "description": "Outbound calls",
        "category": "activity",
        "calculation_type": calculation,
        "unit": "count",
        "aggregation_period": "weekly",
        "target_type": "higher_better",
    }
    values.update(kw)
    return values


def refused(db: Database, values: dict[str, Any], acting: str, **kw: Any) -> dict[str, str]:
    before = Shop(db).count(KpiDefinition)
    with pytest.raises(DefinitionError) as caught:
        save_definition(db, values, acting=acting, **kw)
    assert Shop(db).count(KpiDefinition) == before
    return caught.value.errors


# -- creating ---------------------------------------------------------------------------------


def test_manual_and_query_kpis_are_created_from_a_form(db: Database, ada: str) -> None:
    calls = save_definition(
        db,
        form(
            "  Calls Made ",
            "Manual",  # the label is understood as well as the value
            aggregation_period="Weekly",
            target_type="Higher is better",
            min_value="0",
            max_value="500",
        ),
        acting=ada,
    )
    emails = save_definition(db, form("Emails Sent", min_value="", max_value=" "), acting=ada)
    leads = save_definition(db, form("Leads This Week", "query", query=LEADS_SQL + ";"), acting=ada)

    assert (calls.created, emails.created, leads.created) == (True, True, True)
    row = definitions.get_definition(db, calls.id)
    assert (row.name, row.calculation_type, row.aggregation_period, row.target_type) == (
        "Calls Made",
        "manual",
        "weekly",
        "higher_better",
    )
    assert (row.min_value, row.max_value) == (Decimal("0"), Decimal("500"))
    assert row.data_source == {"type": "manual", "allowed_range": {"min": "0", "max": "500"}}
    assert (row.description, row.category, row.unit) == ("Outbound calls", "activity", "count")
    assert (row.is_active, row.is_builtin, row.version, row.assignments) == (True, False, 1, 0)
    assert row.calculation_label == "Manual"
    row = definitions.get_definition(db, emails.id)
    assert (row.min_value, row.max_value) == (None, None)
    assert row.data_source == {"type": "manual", "allowed_range": {}}
    row = definitions.get_definition(db, leads.id)
    assert (row.calculation_type, row.min_value, row.max_value) == ("query", None, None)
    assert row.data_source == {
        "type": "database",
        "query": LEADS_SQL + ";",
        "parameters": ["user_id", "start_date", "end_date"],
    }


def test_formula_and_api_kpis_are_created_from_a_form(db: Database, ada: str) -> None:
    ratio = save_definition(
        db,
        form(
            "Won Per Lead",
            "formula",
            formula="won / leads * 100",
            inputs=[
                {"variable": "won", "kpi": "deals closed"},  # any case
                {"variable": "leads", "query": LEADS_SQL},
            ],
        ),
        acting=ada,
    )
    dialled = save_definition(
        db,
        form("Calls Dialled", "api", api={"provider": "aircall", "metric": "call_count"}),
        acting=ada,
    )

    row = definitions.get_definition(db, ratio.id)
    assert row.calculation_type == "formula"
    assert row.data_source == {
        "type": "formula",
        "formula": "won / leads * 100",
        "inputs": [
            {"variable": "won", "kpi": "deals closed"},
            {
                "variable": "leads",
                "source": {
                    "type": "database",
                    "query": LEADS_SQL,
                    "parameters": ["user_id", "start_date", "end_date"],
                },
            },
        ],
    }
    assert [(i.name, i.kpi, i.sql) for i in definitions.input_rows(row)] == [
        ("won", "deals closed", None),
        ("leads", None, LEADS_SQL),
    ]
    row = definitions.get_definition(db, dialled.id)
    assert (row.calculation_type, row.calculation_label) == ("api", "API")
    assert row.data_source == {"type": "api", "provider": "aircall", "metric": "call_count"}
    assert definitions.input_rows(row) == ()


# -- refusals, by field ---------------------------------------------------------------------------

FORM_REFUSALS: list[tuple[dict[str, Any], str, str | None]] = [
    ({"name": ""}, "name", "required"),
    ({"name": "revenue"}, "name", "a KPI named 'revenue' exists already"),  # built-in
    ({"name": "  cALLS mADE "}, "name", "a KPI named 'cALLS mADE' exists already"),
    ({"name": "x" * 256}, "name", "at most 255 characters"),
    ({"unit": "u" * 51}, "unit", "at most 50 characters"),
    ({"category": "c" * 101}, "category", "at most 100 characters"),
    ({"aggregation_period": "fortnightly"}, "aggregation_period", None),
    ({"target_type": ""}, "target_type", "required"),
    ({"calculation_type": "magic"}, "calculation_type", None),
    ({"min_value": "ten"}, "min_value", "'ten' is not a number"),
    (
        {"min_value": "10", "max_value": "5"},
        "min_value",
        "The allowed minimum is more than the maximum.",
    ),
]


def test_a_form_is_refused_by_field_and_nothing_is_written(db: Database, ada: str) -> None:
    save_definition(db, form("Calls Made"), acting=ada)

    for values, field, reason in FORM_REFUSALS:
        errors = refused(db, {**form("Emails Sent"), **values}, ada)

        assert list(errors) == [field], (values, errors)
        if reason is not None:
            assert errors[field] == reason
    with pytest.raises(DefinitionError, match=r"^Name: required; Target type: required$"):
        save_definition(db, form(name="", target_type=""), acting=ada)
    with pytest.raises(ValidationError, match="no longer exists"):
        save_definition(db, form("Other"), definition_id=999_999, acting=ada)


def test_bad_sql_is_refused_on_the_query_field(db: Database, ada: str) -> None:
    for sql in (
        "DELETE FROM leads WHERE owner_id = :user_id",  # the text checks
        LEADS_SQL.replace("leads", "no_such_table", 1),  # the dry run
        "SELECT id, owner_id FROM leads WHERE owner_id = :user_id "
        "AND created_at >= :start_date AND created_at < :end_date",  # two columns
        "",
    ):
        errors = refused(db, form("Bad Query", "query", query=sql), ada)

        assert list(errors) == ["query"], (sql, errors)
        assert errors["query"]


def test_a_bad_formula_is_refused_on_formula_or_inputs(db: Database, shop: Shop, ada: str) -> None:
    shop.kpi("Old Calls", active=False)
    won = {"variable": "won", "kpi": "Deals Closed"}
    bad_sql = LEADS_SQL.replace("leads", "no_such_table", 1)

    assert refused(db, form("Ratio", "formula", formula="won / nope", inputs=[won]), ada) == {
        "formula": "Unknown name in the formula: nope."
    }
    assert refused(db, form("Ratio", "formula", formula="1 + 1", inputs=[]), ada) == {
        "inputs": "a formula needs at least one input"
    }
    assert refused(
        db,
        form(
            "Ratio",
            "formula",
            formula="a + b",
            inputs=[
                {"variable": "a", "kpi": "Nothing Here"},
                {"variable": "b", "kpi": "Old Calls"},
            ],
        ),
        ada,
    ) == {"inputs": "no active KPI named Nothing Here, Old Calls"}
    errors = refused(
        db,
        form("Ratio", "formula", formula="x", inputs=[{"variable": "x", "query": bad_sql}]),
        ada,
    )
    assert list(errors) == ["inputs"] and errors["inputs"].startswith("input x: ")
    errors = refused(
        db, form("Ratio", "formula", formula="won", inputs=[{"variable": "1st", "kpi": "X"}]), ada
    )
    assert list(errors) == ["inputs"] and "'1st' is not a valid input name" in errors["inputs"]


def test_a_formula_kpi_naming_itself_is_a_circle_new_or_edited(db: Database, ada: str) -> None:
    circle = {"inputs": "the KPIs refer to each other in a circle: Loop → Loop"}
    itself = form("Loop", "formula", formula="x + 1", inputs=[{"variable": "x", "kpi": "Loop"}])

    assert refused(db, itself, ada) == circle

    saved = save_definition(
        db,
        form("Loop", "formula", formula="x", inputs=[{"variable": "x", "query": LEADS_SQL}]),
        acting=ada,
    )
    itself["inputs"] = [{"variable": "x", "kpi": "loop"}]
    assert refused(db, itself, ada, definition_id=saved.id) == circle


def test_two_formula_kpis_referring_to_each_other_are_refused(db: Database, ada: str) -> None:
    alpha = save_definition(
        db,
        form("Alpha", "formula", formula="x * 2", inputs=[{"variable": "x", "query": LEADS_SQL}]),
        acting=ada,
    )
    save_definition(
        db,
        form("Beta", "formula", formula="a + 1", inputs=[{"variable": "a", "kpi": "Alpha"}]),
        acting=ada,
    )
    gamma = save_definition(  # a chain without a circle is fine
        db,
        form(
            "Gamma",
            "formula",
            formula="a + b",
            inputs=[{"variable": "a", "kpi": "Alpha"}, {"variable": "b", "kpi": "Beta"}],
        ),
        acting=ada,
    )
    assert gamma.created

    errors = refused(
        db,
        form("Alpha", "formula", formula="b * 2", inputs=[{"variable": "b", "kpi": "beta"}]),
        ada,
        definition_id=alpha.id,
    )

    assert errors == {"inputs": "the KPIs refer to each other in a circle: Alpha → Beta → Alpha"}
    stored = definitions.get_definition(db, alpha.id).data_source
    assert stored is not None and stored["formula"] == "x * 2"


def test_an_api_kpi_with_a_bad_provider_is_refused(db: Database, ada: str) -> None:
    for api, reason in (
        (
            {"provider": "salesforce"},
            "Unknown data-source provider 'salesforce'; choose Intercom, Aircall, HTTP JSON.",
        ),
        ({}, "An API KPI needs a provider."),
        ({"provider": "aircall", "metric": "emails"}, None),
    ):
        errors = refused(db, form("Calls Dialled", "api", api=api), ada)

        assert list(errors) == ["api"], (api, errors)
        if reason is not None:
            assert errors["api"] == reason


# -- editing ------------------------------------------------------------------------------------


def test_a_built_in_definition_keeps_its_source_when_edited(
    db: Database, shop: Shop, ada: str
) -> None:
    rid = shop.builtin("Revenue")
    before = definitions.get_definition(db, rid)

    saved = save_definition(
        db,
        form(
            "Commission Revenue",
            "manual",  # ignored: the library's calculation stays
            aggregation_period="quarterly",
            unit="$",
            min_value="5",
            max_value="1",
            query="DELETE FROM leads",
        ),
        definition_id=rid,
        version=before.version,
        acting=ada,
    )

    after = definitions.get_definition(db, rid)
    assert (saved.id, saved.created) == (rid, False)
    assert (after.name, after.aggregation_period, after.unit) == (
        "Commission Revenue",
        "quarterly",
        "$",
    )
    assert (after.calculation_type, after.data_source) == (
        "query",
        {"type": "builtin", "metric": "revenue"},
    )
    assert (after.min_value, after.max_value, after.is_builtin) == (None, None, True)
    assert after.version == before.version + 1
    assert after.calculation_label == "Built-in"


def test_an_edit_naming_a_stale_version_is_a_conflict(db: Database, ada: str) -> None:
    saved = save_definition(db, form("Calls Made"), acting=ada)
    save_definition(db, form("CALLS MADE"), definition_id=saved.id, version=1, acting=ada)

    with pytest.raises(ConflictError):
        save_definition(db, form("Calls Dialled"), definition_id=saved.id, version=1, acting=ada)
    with pytest.raises(ConflictError):
        set_active(db, saved.id, False, version=1, acting=ada)

    row = definitions.get_definition(db, saved.id)
    assert (row.name, row.version, row.is_active) == ("CALLS MADE", 2, True)


def test_only_an_admin_may_define_kpis(db: Database, shop: Shop, ada: str) -> None:
    saved = save_definition(db, form("Calls Made"), acting=ada)

    for role in ("manager", "broker", "agent"):
        other = shop.emails[shop.person("Nat", role.title(), role=role)]
        with pytest.raises(PermissionDenied):
            save_definition(db, form("Emails Sent"), acting=other)
        with pytest.raises(PermissionDenied):
            save_definition(db, form("Calls Placed"), definition_id=saved.id, acting=other)
        with pytest.raises(PermissionDenied):
            set_active(db, saved.id, False, acting=other)

    assert [r.name for r in definitions.list_definitions(db) if not r.is_builtin] == ["Calls Made"]
    assert definitions.get_definition(db, saved.id).is_active is True


def test_deactivating_keeps_assignments_and_reactivating_brings_it_back(
    db: Database, shop: Shop, ada: str
) -> None:
    saved = save_definition(db, form("Calls Made"), acting=ada)
    ann = shop.person("Ann")
    shop.assign(saved.id, ann, "50")

    set_active(db, saved.id, False, version=1, acting=ada)

    row = definitions.get_definition(db, saved.id)
    assert (row.is_active, row.assignments, row.version) == (False, 1, 2)
    active = [r.name for r in definitions.list_definitions(db, include_inactive=False)]
    assert "Calls Made" not in active
    assert "Calls Made" in [r.name for r in definitions.list_definitions(db)]
    assert shop.count(KpiAssignment) == 1

    set_active(db, saved.id, True, version=2, acting=ada)

    assert definitions.get_definition(db, saved.id).is_active is True
    active = [r.name for r in definitions.list_definitions(db, include_inactive=False)]
    assert "Calls Made" in active
