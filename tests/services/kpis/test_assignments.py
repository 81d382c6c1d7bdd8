"""KPI assignments (app/services/kpis/assignments.py, SPEC §7, §1, §5) on SQLite and
PostgreSQL: to a person or a whole team, the weights warning, the refusals by field, who may
assign (the manager of the person's team, an admin), and the audit chain of each assignment.

The office: Bo the broker; Ada the admin; Mia manages North (Ann Avery, Ben Baker and Dan
Dale, who has left); Sam manages South (Cat Cole).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from app.db.models import KpiAssignment
from app.domain.errors import ConflictError, PermissionDenied
from app.services.audit import chain_entries, verify_all
from app.services.database import Database
from app.services.kpis.assignments import (
    AssignmentError,
    assign,
    assignable_people,
    assignable_teams,
    list_assignments,
    update_assignment,
)
from tests.services.kpis.test_definitions import Shop

MONDAY = dt.date(2025, 1, 6)


@dataclass
class Office:
    shop: Shop
    bo: int
    ada: int
    mia: int
    sam: int
    ann: int
    ben: int
    dan: int
    cat: int
    north: int
    south: int
    calls: int  # manual, weekly, higher is better
    minutes: int  # manual, monthly, lower is better

    @property
    def db(self) -> Database:
        return self.shop.db

    def email(self, uid: int) -> str:
        return self.shop.emails[uid]


@pytest.fixture
def office(db: Database) -> Office:
    shop = Shop(db)
    bo = shop.person("Bo", "Broker", role="broker")
    ada = shop.person("Ada", "Admin", role="admin", broker=bo)
    mia = shop.person("Mia", "Manager", role="manager", broker=bo)
    sam = shop.person("Sam", "Stone", role="manager", broker=bo)
    ann = shop.person("Ann", "Avery", broker=bo)
    ben = shop.person("Ben", "Baker", broker=bo)
    dan = shop.person("Dan", "Dale", broker=bo)
    cat = shop.person("Cat", "Cole", broker=bo)
    north = shop.team("North", mia, [ann, ben, dan], broker=bo)
    south = shop.team("South", sam, [cat], broker=bo)
    shop.deactivate(dan)
    calls = shop.kpi("Calls Made", period="weekly", low="0", high="500")
    minutes = shop.kpi("Response Minutes", target_type="lower_better")
    return Office(shop, bo, ada, mia, sam, ann, ben, dan, cat, north, south, calls, minutes)


def form(office: Office, **kw: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "kpi_id": office.calls,
        "user_id": office.ann,
        "target_value": "25",
        "weight": "40",
        "start_date": MONDAY.isoformat(),
        "end_date": "",
    }
    values.update(kw)
    return values


def refused(office: Office, values: dict[str, Any], acting: int) -> dict[str, str]:
    before = office.shop.count(KpiAssignment)
    with pytest.raises(AssignmentError) as caught:
        assign(office.db, values, acting=office.email(acting))
    assert office.shop.count(KpiAssignment) == before
    return caught.value.errors


def stored(db: Database) -> list[tuple[Any, ...]]:
    with db.read() as s:
        return [
            tuple(r)
            for r in s.execute(
                sa.select(
                    KpiAssignment.user_id,
                    KpiAssignment.team_id,
                    KpiAssignment.target_value,
                    KpiAssignment.weight,
                    KpiAssignment.start_date,
                    KpiAssignment.end_date,
                    KpiAssignment.assigned_by,
                ).order_by(KpiAssignment.id)
            )
        ]


# -- assigning ------------------------------------------------------------------------------------


def test_a_person_is_assigned_with_a_warning_until_the_weights_make_100(office: Office) -> None:
    first = assign(office.db, form(office), acting=office.email(office.mia))
    second = assign(
        office.db,
        form(office, kpi_id=office.minutes, target_value="30", weight="60", end_date="2025-12-31"),
        acting=office.email(office.mia),
    )

    assert first.warnings == ("Ann Avery: Weights add up to 40, not 100.",)
    assert second.warnings == ()  # 40 + 60
    assert len(first.ids) == len(second.ids) == 1
    assert stored(office.db) == [
        (office.ann, None, Decimal("25"), Decimal("40"), MONDAY, None, office.mia),
        (
            office.ann,
            None,
            Decimal("30"),
            Decimal("60"),
            MONDAY,
            dt.date(2025, 12, 31),
            office.mia,
        ),
    ]
    rows = list_assignments(office.db, acting=office.email(office.ann), user_id=office.ann)
    assert [(r.kpi_name, r.person, r.weight, r.is_active) for r in rows] == [
        ("Calls Made", "Ann Avery", Decimal("40"), True),
        ("Response Minutes", "Ann Avery", Decimal("60"), True),
    ]


def test_a_team_is_assigned_one_row_per_active_member(office: Office) -> None:
    done = assign(
        office.db,
        form(office, user_id=None, team_id=office.north, weight="100"),
        acting=office.email(office.mia),
    )

    assert len(done.ids) == 2  # Dan has left
    assert done.warnings == ()
    assert [(u, t) for u, t, *_ in stored(office.db)] == [
        (office.ann, office.north),
        (office.ben, office.north),
    ]
    with office.db.read() as s:
        assert sorted(s.scalars(sa.select(KpiAssignment.id))) == sorted(done.ids)


def test_a_team_assignment_leaves_out_who_has_it_and_warns_per_person(office: Office) -> None:
    assign(office.db, form(office, weight="100"), acting=office.email(office.mia))

    done = assign(
        office.db,
        form(office, user_id="", team_id=str(office.north), weight="30"),
        acting=office.email(office.mia),
    )

    assert len(done.ids) == 1
    assert done.warnings == (
        "Ann Avery already has Calls Made; left as it was.",
        "Ben Baker: Weights add up to 30, not 100.",
    )
    assert [(u, t, w) for u, t, _tv, w, *_ in stored(office.db)] == [
        (office.ann, None, Decimal("100")),
        (office.ben, office.north, Decimal("30")),
    ]


def test_weights_adding_up_to_zero_are_refused(office: Office) -> None:
    mia = office.mia

    assert refused(office, form(office, weight="0"), mia) == {
        "weight": "Ann Avery's weights would add up to 0, so no overall score could be computed"
    }
    assert refused(office, form(office, user_id=None, team_id=office.north, weight="0"), mia) == {
        "weight": "Ann Avery's weights would add up to 0, so no overall score could be computed"
    }

    assign(office.db, form(office, weight="40"), acting=office.email(mia))
    done = assign(
        office.db, form(office, kpi_id=office.minutes, weight="0"), acting=office.email(mia)
    )
    assert done.warnings == ("Ann Avery: Weights add up to 40, not 100.",)


def test_a_form_is_refused_by_field(office: Office) -> None:
    mia = office.mia
    cases: list[tuple[dict[str, Any], dict[str, str]]] = [
        (
            {"kpi_id": office.minutes, "target_value": "0"},
            {"target_value": "A target of 0 cannot be scored for a lower-is-better KPI."},
        ),
        (
            {"kpi_id": office.minutes, "target_value": "-5"},
            {"target_value": "A lower-is-better target must be more than 0."},
        ),
        (
            {"target_value": "0"},
            {"target_value": "A target of 0 cannot be scored for a higher-is-better KPI."},
        ),
        ({"target_value": "lots"}, {"target_value": "'lots' is not a number"}),
        ({"target_value": ""}, {"target_value": "required"}),
        ({"weight": "100.01"}, {"weight": "Weight cannot be more than 100."}),
        ({"weight": "-1"}, {"weight": "Weight cannot be negative."}),
        ({"weight": "33.333"}, {"weight": "Weight has at most two decimals."}),
        ({"end_date": "2025-01-05"}, {"end_date": "the end is before the start"}),
        ({"start_date": ""}, {"start_date": "required"}),
        ({"kpi_id": None}, {"kpi_id": "choose a KPI"}),
        ({"user_id": None}, {"user_id": "choose a person or a team"}),
        ({"user_id": office.dan}, {"user_id": "choose an active person"}),
    ]
    for values, errors in cases:
        assert refused(office, form(office, **values), mia) == errors, values


def test_the_same_person_kpi_and_start_is_refused(office: Office) -> None:
    assign(office.db, form(office), acting=office.email(office.mia))

    assert refused(office, form(office, target_value="30"), office.mia) == {
        "start_date": "Ann Avery already has Calls Made from 2025-01-06"
    }
    later = assign(
        office.db, form(office, start_date="2025-07-07"), acting=office.email(office.mia)
    )
    assert len(later.ids) == 1


def test_a_deactivated_kpi_cannot_be_assigned(office: Office) -> None:
    old = office.shop.kpi("Old Calls", active=False)

    assert refused(office, form(office, kpi_id=old), office.ada) == {
        "kpi_id": "Old Calls is deactivated"
    }


# -- who may assign -----------------------------------------------------------------------------


def test_a_manager_assigns_only_their_teams_members(office: Office) -> None:
    mia = office.email(office.mia)

    with pytest.raises(PermissionDenied, match=r"cat\.cole@kpi\.example"):
        assign(office.db, form(office, user_id=office.cat), acting=mia)
    with pytest.raises(PermissionDenied):
        assign(office.db, form(office, user_id=None, team_id=office.south), acting=mia)
    assert office.shop.count(KpiAssignment) == 0

    assign(office.db, form(office, user_id=office.cat), acting=office.email(office.sam))
    assign(office.db, form(office, user_id=office.ben), acting=mia)
    assign(office.db, form(office, user_id=office.mia), acting=office.email(office.ada))
    assert office.shop.count(KpiAssignment) == 3
    assert [p[0] for p in assignable_people(office.db, acting=mia)] == [office.ann, office.ben]
    assert assignable_teams(office.db, acting=mia) == [(office.north, "North")]
    assert [t for t, _ in assignable_teams(office.db, acting=office.email(office.ada))] == [
        office.north,
        office.south,
    ]


def test_a_broker_or_an_agent_may_not_assign(office: Office) -> None:
    for who in (office.bo, office.ann):
        with pytest.raises(PermissionDenied):
            assign(office.db, form(office), acting=office.email(who))
        with pytest.raises(PermissionDenied):
            assign(
                office.db,
                form(office, user_id=None, team_id=office.north),
                acting=office.email(who),
            )

    assert office.shop.count(KpiAssignment) == 0
    assert assignable_people(office.db, acting=office.email(office.bo)) == []


def test_who_reads_which_assignments(office: Office) -> None:
    for uid in (office.ann, office.ben, office.cat):
        assign(office.db, form(office, user_id=uid, weight="100"), acting=office.email(office.ada))

    def seen(who: int) -> list[int]:
        return [r.user_id for r in list_assignments(office.db, acting=office.email(who))]

    assert seen(office.ann) == [office.ann]
    assert seen(office.mia) == [office.ann, office.ben]
    assert seen(office.bo) == [office.ann, office.ben, office.cat]  # the broker's agents
    assert seen(office.ada) == [office.ann, office.ben, office.cat]


# -- changing, and the audit chain ---------------------------------------------------------------


def test_assign_and_update_write_audit_entries_with_what_changed(office: Office) -> None:
    (aid,) = assign(office.db, form(office), acting=office.email(office.mia)).ids

    warnings = update_assignment(
        office.db,
        aid,
        {"weight": "100", "end_date": "2025-06-29"},
        version=1,
        acting=office.email(office.mia),
    )

    assert warnings == ()
    chain = chain_entries(office.db, f"kpi_assignment:{aid}")
    assert [
        (e.seq, e.event_type, e.entity_type, e.entity_id, e.actor_id, ok) for e, ok in chain
    ] == [
        (1, "kpi.assigned", "kpi_assignment", str(aid), office.mia, True),
        (2, "kpi.assignment_changed", "kpi_assignment", str(aid), office.mia, True),
    ]
    assigned, changed = (e.payload for e, _ in chain)
    assert assigned == {
        "kpi": "Calls Made",
        "user_id": office.ann,
        "team_id": None,
        "target_value": "25",
        "weight": "40",
        "start_date": "2025-01-06",
        "end_date": None,
    }
    assert changed == {
        "kpi": "Calls Made",
        "user_id": office.ann,
        "changed": {"weight": ["40", "100"], "end_date": [None, "2025-06-29"]},
    }
    result = verify_all(office.db)
    assert result.intact and result.entries == 2


def test_an_update_that_changes_nothing_writes_nothing(office: Office) -> None:
    (aid,) = assign(office.db, form(office), acting=office.email(office.mia)).ids

    assert (
        update_assignment(
            office.db,
            aid,
            {"target_value": "25.0", "weight": "40", "start_date": "2025-01-06"},
            version=1,
            acting=office.email(office.mia),
        )
        == ()
    )

    assert len(chain_entries(office.db, f"kpi_assignment:{aid}")) == 1
    (row,) = list_assignments(office.db, acting=office.email(office.mia))
    assert row.version == 1


def test_an_update_is_checked_like_a_new_assignment(office: Office) -> None:
    mia = office.email(office.mia)
    (aid,) = assign(office.db, form(office), acting=mia).ids

    assert update_assignment(office.db, aid, {"weight": "70"}, version=1, acting=mia) == (
        "Ann Avery: Weights add up to 70, not 100.",
    )
    with pytest.raises(AssignmentError) as caught:
        update_assignment(office.db, aid, {"weight": "0"}, acting=mia)
    assert caught.value.errors == {
        "weight": "the weights would add up to 0, so no overall score could be computed"
    }
    with pytest.raises(AssignmentError) as caught:
        update_assignment(office.db, aid, {"end_date": "2024-12-31"}, acting=mia)
    assert caught.value.errors == {"end_date": "the end is before the start"}
    with pytest.raises(ConflictError):
        update_assignment(office.db, aid, {"weight": "80"}, version=1, acting=mia)
    with pytest.raises(PermissionDenied):
        update_assignment(office.db, aid, {"weight": "80"}, acting=office.email(office.sam))
    with pytest.raises(PermissionDenied):
        update_assignment(office.db, aid, {"weight": "80"}, acting=office.email(office.bo))

    (row,) = list_assignments(office.db, acting=mia)
    assert (row.weight, row.version, row.end_date) == (Decimal("70"), 2, None)
    assert len(chain_entries(office.db, f"kpi_assignment:{aid}")) == 2

    update_assignment(office.db, aid, {"is_active": False}, version=2, acting=mia)
    assert list_assignments(office.db, acting=mia) == []
    (row,) = list_assignments(office.db, acting=mia, active_only=False)
    assert row.is_active is False
    last, _ok = chain_entries(office.db, f"kpi_assignment:{aid}")[-1]
    assert last.payload["changed"] == {"is_active": [True, False]}


def test_moving_a_start_onto_another_assignments_start_is_refused(office: Office) -> None:
    mia = office.email(office.mia)
    assign(office.db, form(office, weight="100"), acting=mia)
    (later,) = assign(
        office.db, form(office, start_date="2025-07-07", weight="100"), acting=mia
    ).ids

    with pytest.raises(AssignmentError) as caught:
        update_assignment(office.db, later, {"start_date": "2025-01-06"}, version=1, acting=mia)

    assert caught.value.errors == {"start_date": "Ann Avery already has Calls Made from 2025-01-06"}
    assert [r[4] for r in stored(office.db)] == [MONDAY, dt.date(2025, 7, 7)]
    assert len(chain_entries(office.db, f"kpi_assignment:{later}")) == 1
