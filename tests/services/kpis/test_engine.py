"""The KPI calculation engine (app/services/kpis/engine.py, SPEC §7) on both backends:
built-in, query, formula and api KPIs measured per assignment for the period holding a day,
the target kept as a snapshot, achievements to 2 decimals; nothing rewritten when nothing
changed; values that cannot be computed give a stated reason and no measurement while the
rest still computes; manual values are never overwritten.

The records (March 2025, the period of 2025-03-15):
- ann: leads on 1, 10 (converted) and 31 March; deals won after 10 and 21 days (avg 15.5);
  two appointments completed and one no-show (show rate 66.6667);
- bob: one lead on 12 March, nothing else;
- cat: nothing at all.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from app.db.models import Appointment, KpiAssignment, KpiDefinition, KpiMeasurement
from app.domain.enums import PeriodType
from app.domain.errors import PerfDeskError
from app.domain.kpi_sources import BUILTIN_KPIS
from app.services.database import Database
from app.services.kpis.adapters import AdapterError
from app.services.kpis.engine import (
    CalcProblem,
    CalcResult,
    calculate,
    last_whole_period,
    periods_due,
)
from tests.services.kpis.test_sales import Office

DAY = dt.date(2025, 3, 15)
MARCH = (dt.date(2025, 3, 1), dt.date(2025, 3, 31))
LEADS_SQL = (
    "SELECT COUNT(*) FROM leads WHERE owner_id = :user_id "
    "AND created_at >= :start_date AND created_at < :end_date"
)
CONVERTED_SQL = LEADS_SQL + " AND status = 'converted'"
BROKEN_SQL = (
    "SELECT COUNT(*) FROM no_such_table WHERE owner_id = :user_id "
    "AND created_at >= :start_date AND created_at < :end_date"
)


@dataclass
class World:
    db: Database
    office: Office
    ann: int
    bob: int
    cat: int
    boss: int

    def kpi(self, name: str) -> int:
        with self.db.read() as s:
            found = s.scalar(sa.select(KpiDefinition.id).where(KpiDefinition.name == name))
        assert found is not None, name
        return int(found)

    def define(
        self,
        name: str,
        calculation: str,
        source: dict[str, Any],
        period: str = "monthly",
        target_type: str = "higher_better",
    ) -> int:
        return self.office.add(
            KpiDefinition(
                name=name,
                calculation_type=calculation,
                data_source=source,
                aggregation_period=period,
                target_type=target_type,
            )
        )

    def assign(
        self,
        kpi: int,
        user: int,
        target: str,
        start: dt.date = dt.date(2025, 1, 1),
        end: dt.date | None = None,
        active: bool = True,
    ) -> int:
        return self.office.add(
            KpiAssignment(
                kpi_definition_id=kpi,
                user_id=user,
                target_value=Decimal(target),
                weight=Decimal(10),
                start_date=start,
                end_date=end,
                is_active=active,
            )
        )

    def run(
        self, period: PeriodType = PeriodType.MONTHLY, day: dt.date = DAY, **kw: Any
    ) -> CalcResult:
        with self.db.session() as s:
            return calculate(s, self.db, period, day, **kw)

    def measurements(self) -> dict[int, KpiMeasurement]:
        """Every measurement by its assignment (the tests keep one period per assignment)."""
        with self.db.read() as s:
            rows = list(s.scalars(sa.select(KpiMeasurement)))
        assert len({r.assignment_id for r in rows}) == len(rows)
        return {r.assignment_id: r for r in rows}

    def email(self, user: int) -> str:
        return {self.ann: "ann", self.bob: "bob", self.cat: "cat"}[user] + "@example.com"


@pytest.fixture
def world(db: Database) -> World:
    office = Office(db)
    ann, bob, cat = office.person("ann"), office.person("bob"), office.person("cat")
    boss = office.person("max", role="manager")
    office.lead(ann, "2025-03-01T00:00")
    office.lead(ann, "2025-03-10T09:00", status="converted")
    office.lead(ann, "2025-03-31T23:59:59")
    office.lead(ann, "2025-02-28T23:00")  # before
    office.lead(ann, "2025-04-01T00:00")  # after
    office.won(ann, "2025-03-01T09:00", dt.date(2025, 3, 11))  # 10 days
    office.won(ann, "2025-02-20T09:00", dt.date(2025, 3, 13))  # 21 days
    office.appointment(ann, "2025-03-05T10:00", "completed")
    office.appointment(ann, "2025-03-06T10:00", "completed")
    office.appointment(ann, "2025-03-07T10:00", "no_show")
    office.lead(bob, "2025-03-12T09:00")
    return World(db, office, ann, bob, cat, boss)


def state(m: KpiMeasurement) -> tuple[Decimal, Decimal, Decimal | None]:
    return (m.actual_value, m.target_value, m.achievement_pct)


def counts(r: CalcResult) -> tuple[int, int, int]:
    return (r.written, r.unchanged, r.no_value)


# --------------------------------------------------------------------------- built-in KPIs


def test_the_builtin_library_is_there() -> None:
    names = {k.name: k.metric for k in BUILTIN_KPIS}
    assert names["Leads Generated"] == "leads"
    assert names["Show Rate"] == "show_rate"
    assert names["Average Cycle Days"] == "avg_cycle_days"


def test_builtin_kpis_measured_with_target_snapshot_and_achievement(world: World) -> None:
    w = world
    leads, cycle, show = w.kpi("Leads Generated"), w.kpi("Average Cycle Days"), w.kpi("Show Rate")
    a_leads, b_leads = w.assign(leads, w.ann, "4"), w.assign(leads, w.bob, "2")
    a_cycle, b_cycle = w.assign(cycle, w.ann, "12"), w.assign(cycle, w.bob, "12")
    a_show, b_show = w.assign(show, w.ann, "90"), w.assign(show, w.bob, "90")

    r = w.run(acting_id=w.boss)

    assert counts(r) == (4, 0, 2)  # bob has no cycle and no show rate
    assert r.problems == [] and r.summary() is None
    got = w.measurements()
    assert set(got) == {a_leads, b_leads, a_cycle, a_show}
    assert b_cycle not in got and b_show not in got
    assert state(got[a_leads]) == (Decimal(3), Decimal(4), Decimal("75.00"))
    assert state(got[b_leads]) == (Decimal(1), Decimal(2), Decimal("50.00"))
    # lower is better: 12 / 15.5 × 100 = 77.419…
    assert state(got[a_cycle]) == (Decimal("15.5"), Decimal(12), Decimal("77.42"))
    # 2 of 3 shown, kept to 4 decimals; 66.6667 / 90 × 100 = 74.074…
    assert state(got[a_show]) == (Decimal("66.6667"), Decimal(90), Decimal("74.07"))
    m = got[a_leads]
    assert (m.period_start, m.period_end) == MARCH
    assert m.calculation_metadata == {"method": "builtin", "metric": "leads"}
    assert m.calculated_by == w.boss
    assert m.calculated_at is not None


def test_a_second_run_writes_nothing_and_changes_are_picked_up(world: World) -> None:
    w = world
    leads, show = w.kpi("Leads Generated"), w.kpi("Show Rate")
    a_leads, b_leads = w.assign(leads, w.ann, "4"), w.assign(leads, w.bob, "2")
    a_show, b_show = w.assign(show, w.ann, "90"), w.assign(show, w.bob, "90")
    assert counts(w.run()) == (3, 0, 1)
    first = w.measurements()

    again = w.run()

    assert counts(again) == (0, 3, 1)
    second = w.measurements()
    for aid, m in first.items():
        assert (second[aid].id, second[aid].version) == (m.id, m.version)
        assert second[aid].calculated_at == m.calculated_at

    # Bob gets a second lead in March, ann's target rises: both are rewritten.
    w.office.lead(w.bob, "2025-03-20T09:00")
    with w.db.session() as s:
        s.execute(
            sa.update(KpiAssignment)
            .where(KpiAssignment.id == a_leads)
            .values(target_value=Decimal(6))
        )

    changed = w.run()

    assert counts(changed) == (2, 1, 1)
    third = w.measurements()
    assert state(third[b_leads]) == (Decimal(2), Decimal(2), Decimal("100.00"))
    assert state(third[a_leads]) == (Decimal(3), Decimal(6), Decimal("50.00"))
    assert third[b_leads].id == first[b_leads].id  # updated in place: one per period
    assert state(third[a_show]) == state(first[a_show])
    assert b_show not in third


def test_a_value_that_disappears_leaves_the_stored_measurement(world: World) -> None:
    w = world
    a_show = w.assign(w.kpi("Show Rate"), w.ann, "90")
    w.run()
    with w.db.session() as s:
        s.execute(
            sa.update(Appointment).where(Appointment.agent_id == w.ann).values(status="scheduled")
        )

    r = w.run()

    assert counts(r) == (0, 0, 1)
    assert state(w.measurements()[a_show]) == (Decimal("66.6667"), Decimal(90), Decimal("74.07"))


# --------------------------------------------------------------------------- query KPIs


def test_query_kpi_gives_the_builtin_numbers(world: World) -> None:
    w = world
    by_query = w.define("Leads by query", "query", {"type": "database", "query": LEADS_SQL})
    builtin = w.kpi("Leads Generated")
    q = {u: w.assign(by_query, u, t) for u, t in ((w.ann, "4"), (w.bob, "2"), (w.cat, "1"))}
    b = {u: w.assign(builtin, u, t) for u, t in ((w.ann, "4"), (w.bob, "2"), (w.cat, "1"))}

    r = w.run()

    assert counts(r) == (6, 0, 0) and r.problems == []
    got = w.measurements()
    assert state(got[q[w.ann]]) == (Decimal(3), Decimal(4), Decimal("75.00"))
    assert state(got[q[w.bob]]) == (Decimal(1), Decimal(2), Decimal("50.00"))
    assert state(got[q[w.cat]]) == (Decimal(0), Decimal(1), Decimal("0.00"))
    for user in (w.ann, w.bob, w.cat):
        assert state(got[q[user]]) == state(got[b[user]])
    assert got[q[w.ann]].calculation_metadata == {"method": "query"}


def test_a_broken_query_is_a_problem_and_the_rest_still_computes(world: World) -> None:
    w = world
    broken = w.define("Broken", "query", {"type": "database", "query": BROKEN_SQL})
    fine = w.define("Leads by query", "query", {"type": "database", "query": LEADS_SQL})
    x_ann, x_bob = w.assign(broken, w.ann, "1"), w.assign(broken, w.bob, "1")
    ok_ann = w.assign(fine, w.ann, "4")

    r = w.run()

    assert counts(r) == (1, 0, 2)
    assert len(r.problems) == 1
    problem = r.problems[0]
    assert (problem.kpi, problem.person) == ("Broken", None)
    assert problem.reason.startswith("the database refused the query: ")
    assert "no_such_table" in problem.reason
    assert problem.describe() == f"Broken: {problem.reason}"
    assert r.summary() == f"1 KPI value(s) not computed; Broken: {problem.reason}"
    got = w.measurements()
    assert x_ann not in got and x_bob not in got
    assert state(got[ok_ann]) == (Decimal(3), Decimal(4), Decimal("75.00"))


def test_query_kpis_need_the_database(world: World) -> None:
    w = world
    kpi = w.define("Leads by query", "query", {"type": "database", "query": LEADS_SQL})
    w.assign(kpi, w.ann, "4")
    with pytest.raises(PerfDeskError, match="need the database"), w.db.session() as s:
        calculate(s, None, PeriodType.MONTHLY, DAY)


# --------------------------------------------------------------------------- formula KPIs


def _conversion(kpi_name: str = "Leads Generated") -> dict[str, Any]:
    return {
        "type": "formula",
        "formula": "a / b * 100",
        "inputs": [
            {"variable": "a", "source": {"type": "database", "query": CONVERTED_SQL}},
            {"variable": "b", "kpi": kpi_name},
        ],
    }


def test_formula_uses_a_query_and_another_kpi_of_the_same_run(world: World) -> None:
    w = world
    formula = w.define("Conversion", "formula", _conversion())
    leads = w.kpi("Leads Generated")
    f = {u: w.assign(formula, u, "50") for u in (w.ann, w.bob, w.cat)}
    lg = {u: w.assign(leads, u, "1") for u in (w.ann, w.bob, w.cat)}

    r = w.run()

    assert r.problems == [CalcProblem("Conversion", "cat@example.com", "Division by zero.")]
    assert r.summary() == (
        "1 KPI value(s) not computed; Conversion for cat@example.com: Division by zero."
    )
    assert counts(r) == (5, 0, 1)
    got = w.measurements()
    # ann: 1 converted of 3 leads = 33.333…; kept to 4 decimals; 33.3333 / 50 = 66.67 %
    assert state(got[f[w.ann]]) == (Decimal("33.3333"), Decimal(50), Decimal("66.67"))
    assert state(got[f[w.bob]]) == (Decimal(0), Decimal(50), Decimal("0.00"))
    assert f[w.cat] not in got  # 0 / 0: no value
    assert state(got[lg[w.cat]]) == (Decimal(0), Decimal(1), Decimal("0.00"))
    assert got[f[w.ann]].calculation_metadata == {
        "method": "formula",
        "inputs": {"a": "1", "b": "3"},
    }


def test_formula_kpi_input_named_in_another_case(world: World) -> None:
    """Names are unique regardless of case, and a formula's KPI input is checked so when
    saved (definitions.py): the engine must find the input the same way."""
    w = world
    formula = w.define("Conversion", "formula", _conversion("leads GENERATED"))
    f_ann = w.assign(formula, w.ann, "50")
    w.assign(w.kpi("Leads Generated"), w.ann, "4")

    r = w.run()

    assert r.problems == []
    assert state(w.measurements()[f_ann]) == (Decimal("33.3333"), Decimal(50), Decimal("66.67"))


def test_formula_computed_after_the_kpi_it_uses(world: World) -> None:
    """The formula is defined (and read) before the KPI it uses: dependency order wins."""
    w = world
    twice = w.define(
        "Twice",
        "formula",
        {"type": "formula", "formula": "n * 2", "inputs": [{"variable": "n", "kpi": "Base"}]},
    )
    base = w.define("Base", "query", {"type": "database", "query": LEADS_SQL})
    t_ann, t_bob = w.assign(twice, w.ann, "6"), w.assign(twice, w.bob, "6")
    w.assign(base, w.ann, "3")
    w.assign(base, w.bob, "3")

    r = w.run()

    assert r.problems == []
    got = w.measurements()
    assert state(got[t_ann]) == (Decimal(6), Decimal(6), Decimal("100.00"))
    assert state(got[t_bob]) == (Decimal(2), Decimal(6), Decimal("33.33"))


def test_formula_input_kpi_without_a_value_is_a_problem(world: World) -> None:
    """Bob is not assigned the KPI the formula uses, and it is not stored for him."""
    w = world
    formula = w.define("Conversion", "formula", _conversion())
    f_ann, f_bob = w.assign(formula, w.ann, "50"), w.assign(formula, w.bob, "50")
    w.assign(w.kpi("Leads Generated"), w.ann, "4")

    r = w.run()

    assert r.problems == [CalcProblem("Conversion", "bob@example.com", "No value for b.")]
    got = w.measurements()
    assert f_ann in got and f_bob not in got


def test_formula_input_from_a_manual_kpi_takes_the_stored_value(world: World) -> None:
    """A formula may use any active KPI (definitions.py), a manual one too: its value for the
    person and period is the one entered."""
    w = world
    rating = w.define("Rating", "manual", {"type": "manual", "allowed_range": {"min": 1}})
    scaled = w.define(
        "Rating %",
        "formula",
        {"type": "formula", "formula": "r * 20", "inputs": [{"variable": "r", "kpi": "rating"}]},
    )
    r_ann = w.assign(rating, w.ann, "5")
    s_ann, s_bob = w.assign(scaled, w.ann, "100"), w.assign(scaled, w.bob, "100")
    w.office.add(
        KpiMeasurement(
            assignment_id=r_ann, period_start=MARCH[0], period_end=MARCH[1],
            actual_value=Decimal("4.5"), target_value=Decimal(5),
            achievement_pct=Decimal("90.00"), calculated_by=w.boss,
        )
    )  # fmt: skip

    r = w.run()

    assert r.problems == [CalcProblem("Rating %", "bob@example.com", "No value for r.")]
    got = w.measurements()
    assert state(got[s_ann]) == (Decimal(90), Decimal(100), Decimal("90.00"))
    assert s_bob not in got
    assert state(got[r_ann]) == (Decimal("4.5"), Decimal(5), Decimal("90.00"))


def test_formula_alone_uses_the_stored_value_of_its_kpi_input(world: World) -> None:
    """Run for the formula only (``kpi_ids``): the KPI it uses is not computed in this run,
    so its stored value for the period is taken."""
    w = world
    formula = w.define("Conversion", "formula", _conversion())
    leads = w.kpi("Leads Generated")
    f_ann = w.assign(formula, w.ann, "50")
    l_ann = w.assign(leads, w.ann, "4")
    w.run(kpi_ids=[leads])
    w.office.lead(w.ann, "2025-03-30T09:00")  # not measured yet: the stored 3 stands

    r = w.run(kpi_ids=[formula])

    assert r.problems == [] and counts(r) == (1, 0, 0)
    got = w.measurements()
    assert state(got[f_ann]) == (Decimal("33.3333"), Decimal(50), Decimal("66.67"))
    assert got[f_ann].calculation_metadata == {
        "method": "formula",
        "inputs": {"a": "1", "b": "3.0000"},  # as stored
    }
    assert state(got[l_ann]) == (Decimal(3), Decimal(4), Decimal("75.00"))


def test_formulas_in_a_circle_are_refused(world: World) -> None:
    w = world
    for name, other in (("X", "Y"), ("Y", "X")):
        kpi = w.define(
            name,
            "formula",
            {"type": "formula", "formula": "v + 1", "inputs": [{"variable": "v", "kpi": other}]},
        )
        w.assign(kpi, w.ann, "1")
    with pytest.raises(PerfDeskError, match="circle"):
        w.run()


# --------------------------------------------------------------------------- api KPIs


def test_api_kpi_fetches_per_person_and_names_who_failed(world: World) -> None:
    w = world
    source = {"type": "api", "provider": "aircall", "metric": "call_count"}
    calls = w.define("Calls", "api", source)
    c = {u: w.assign(calls, u, t) for u, t in ((w.ann, "100"), (w.bob, "50"), (w.cat, "10"))}
    asked: list[dict[str, Any]] = []
    tokens: list[str] = []
    answers = {"ann@example.com": Decimal(120), "cat@example.com": Decimal("7.12345")}

    def fetch(config: Any, **kw: Any) -> Decimal:
        asked.append({"config": dict(config), **kw})
        if kw["person_email"] == "bob@example.com":
            raise AdapterError("Aircall answered 500")
        return answers[kw["person_email"]]

    def token(provider: str) -> str:
        tokens.append(provider)
        return "tok"

    r = w.run(fetch=fetch, token=token)

    assert r.problems == [CalcProblem("Calls", "bob@example.com", "Aircall answered 500")]
    assert r.problems[0].describe() == "Calls for bob@example.com: Aircall answered 500"
    assert counts(r) == (2, 0, 1)
    assert tokens == ["aircall"]
    assert sorted(a["person_email"] for a in asked) == [
        "ann@example.com", "bob@example.com", "cat@example.com",
    ]  # fmt: skip
    for a in asked:
        assert (a["start"], a["end"], a["token"]) == (*MARCH, "tok")
        assert a["config"] == source
    got = w.measurements()
    assert state(got[c[w.ann]]) == (Decimal(120), Decimal(100), Decimal("120.00"))
    # 7.12345 kept as 7.1235 (half up); 71.235 % kept as 71.24
    assert state(got[c[w.cat]]) == (Decimal("7.1235"), Decimal(10), Decimal("71.24"))
    assert c[w.bob] not in got
    assert got[c[w.ann]].calculation_metadata == {"method": "api", "provider": "aircall"}


def test_api_failure_keeps_what_was_stored(world: World) -> None:
    w = world
    calls = w.define("Calls", "api", {"type": "api", "provider": "aircall", "metric": "call_count"})
    c_ann = w.assign(calls, w.ann, "100")
    w.run(fetch=lambda *_a, **_k: Decimal(80), token=lambda _p: "tok")

    def failing(*_a: Any, **_k: Any) -> Decimal:
        raise AdapterError("Aircall did not answer within 10 s")

    r = w.run(fetch=failing, token=lambda _p: "tok")

    assert r.problems == [
        CalcProblem("Calls", "ann@example.com", "Aircall did not answer within 10 s")
    ]
    assert counts(r) == (0, 0, 1)
    assert state(w.measurements()[c_ann]) == (Decimal(80), Decimal(100), Decimal("80.00"))


def test_api_kpi_without_a_token_is_one_problem_and_asks_nobody(world: World) -> None:
    w = world
    calls = w.define("Calls", "api", {"type": "api", "provider": "aircall", "metric": "call_count"})
    c_ann, c_bob = w.assign(calls, w.ann, "100"), w.assign(calls, w.bob, "100")
    asked: list[str] = []

    def fetch(_config: Any, **kw: Any) -> Decimal:
        asked.append(kw["person_email"])
        return Decimal(1)

    r = w.run(fetch=fetch, token=lambda _p: None)

    assert r.problems == [CalcProblem("Calls", None, "no Aircall token is saved on this computer")]
    assert asked == []
    assert counts(r) == (0, 0, 2)
    assert not {c_ann, c_bob} & set(w.measurements())


# --------------------------------------------------------------------------- manual values


def test_manual_kpis_and_manual_values_are_not_touched(world: World) -> None:
    w = world
    rating = w.define("Rating", "manual", {"type": "manual", "allowed_range": {"min": 1}})
    r_ann, r_bob = w.assign(rating, w.ann, "5"), w.assign(rating, w.bob, "5")
    leads = w.kpi("Leads Generated")
    l_ann, l_bob, l_cat = (w.assign(leads, u, "4") for u in (w.ann, w.bob, w.cat))

    def entered(assignment: int, value: str, meta: dict[str, Any] | None) -> None:
        w.office.add(
            KpiMeasurement(
                assignment_id=assignment, period_start=MARCH[0], period_end=MARCH[1],
                actual_value=Decimal(value), target_value=Decimal(4),
                achievement_pct=Decimal(value) * 25, calculation_metadata=meta,
                calculated_by=w.boss, notes="typed in",
            )
        )  # fmt: skip

    entered(r_ann, "4", None)
    entered(l_ann, "99", None)  # typed over a computed KPI
    entered(l_bob, "7", {"method": "manual"})
    before = w.measurements()

    r = w.run()

    assert counts(r) == (1, 2, 0)  # only cat's is written
    got = w.measurements()
    for aid in (r_ann, l_ann, l_bob):
        assert state(got[aid]) == state(before[aid])
        assert got[aid].version == before[aid].version
        assert got[aid].notes == "typed in"
    assert r_bob not in got  # a manual KPI gets nothing computed
    assert state(got[l_cat]) == (Decimal(0), Decimal(4), Decimal("0.00"))


def test_a_computed_value_is_updated_even_when_run_by_someone(world: World) -> None:
    """``calculated_by`` with a method is a computed value run by a person: not manual."""
    w = world
    l_bob = w.assign(w.kpi("Leads Generated"), w.bob, "2")
    w.run(acting_id=w.boss)
    w.office.lead(w.bob, "2025-03-20T09:00")

    r = w.run(acting_id=w.ann)

    assert counts(r) == (1, 0, 0)
    m = w.measurements()[l_bob]
    assert state(m) == (Decimal(2), Decimal(2), Decimal("100.00"))
    assert m.calculated_by == w.ann


# --------------------------------------------------------------------------- assignments


def test_only_active_assignments_overlapping_the_period(world: World) -> None:
    w = world
    office = w.office
    dan, eve = office.person("dan"), office.person("eve")
    leads = w.kpi("Leads Generated")
    starts_last_day = w.assign(leads, w.ann, "4", start=dt.date(2025, 3, 31))
    ends_first_day = w.assign(leads, w.bob, "2", end=dt.date(2025, 3, 1))
    inactive = w.assign(leads, w.cat, "2", active=False)
    ended = w.assign(leads, dan, "2", end=dt.date(2025, 2, 28))
    not_yet = w.assign(leads, eve, "2", start=dt.date(2025, 4, 1))

    r = w.run()

    assert counts(r) == (2, 0, 0)
    got = w.measurements()
    assert set(got) == {starts_last_day, ends_first_day}
    assert not {inactive, ended, not_yet} & set(got)


def test_of_two_assignments_in_one_period_the_later_stands(world: World) -> None:
    w = world
    leads = w.kpi("Leads Generated")
    earlier = w.assign(leads, w.ann, "4", end=dt.date(2025, 3, 10))
    later = w.assign(leads, w.ann, "6", start=dt.date(2025, 3, 11))

    assert counts(w.run()) == (1, 0, 0)
    got = w.measurements()
    assert set(got) == {later} and earlier not in got
    assert state(got[later]) == (Decimal(3), Decimal(6), Decimal("50.00"))


def test_user_ids_and_kpi_ids_restrict_the_run(world: World) -> None:
    w = world
    leads, show = w.kpi("Leads Generated"), w.kpi("Show Rate")
    l_ann, l_bob = w.assign(leads, w.ann, "4"), w.assign(leads, w.bob, "2")
    s_ann = w.assign(show, w.ann, "90")

    assert counts(w.run(user_ids=[w.bob])) == (1, 0, 0)
    assert set(w.measurements()) == {l_bob}

    assert counts(w.run(kpi_ids=[show])) == (1, 0, 0)
    assert set(w.measurements()) == {l_bob, s_ann}

    assert counts(w.run(user_ids=[])) == (0, 0, 0)
    assert counts(w.run(kpi_ids=[])) == (0, 0, 0)
    assert counts(w.run()) == (1, 2, 0)
    assert set(w.measurements()) == {l_ann, l_bob, s_ann}


def test_inactive_definitions_are_not_computed(world: World) -> None:
    w = world
    leads = w.kpi("Leads Generated")
    a = w.assign(leads, w.ann, "4")
    with w.db.session() as s:
        s.execute(sa.update(KpiDefinition).where(KpiDefinition.id == leads).values(is_active=False))

    assert counts(w.run()) == (0, 0, 0)
    assert a not in w.measurements()


# --------------------------------------------------------------------------- periods


@pytest.fixture
def per_period(world: World) -> Iterator[dict[str, int]]:
    w = world
    ids = {}
    for period in ("daily", "weekly", "quarterly", "yearly"):
        kpi = w.define(f"Leads {period}", "query", {"type": "builtin", "metric": "leads"}, period)
        ids[period] = w.assign(kpi, w.ann, "1")
    ids["monthly"] = w.assign(w.kpi("Leads Generated"), w.ann, "1")
    yield ids


def test_weekly_period_starts_on_monday(world: World, per_period: dict[str, int]) -> None:
    # Thursday 13 March 2025: the week of Monday 10 – Sunday 16 March holds one of ann's leads.
    r = world.run(PeriodType.WEEKLY, dt.date(2025, 3, 13))

    assert counts(r) == (1, 0, 0)
    got = world.measurements()
    assert set(got) == {per_period["weekly"]}
    m = got[per_period["weekly"]]
    assert (m.period_start, m.period_end) == (dt.date(2025, 3, 10), dt.date(2025, 3, 16))
    assert m.actual_value == Decimal(1)


def test_quarterly_period_starts_with_the_quarter(world: World, per_period: dict[str, int]) -> None:
    r = world.run(PeriodType.QUARTERLY, dt.date(2025, 2, 14))

    assert counts(r) == (1, 0, 0)
    got = world.measurements()
    assert set(got) == {per_period["quarterly"]}
    m = got[per_period["quarterly"]]
    assert (m.period_start, m.period_end) == (dt.date(2025, 1, 1), dt.date(2025, 3, 31))
    assert m.actual_value == Decimal(4)  # the three March leads and the one of 28 February


def test_daily_and_yearly_periods(world: World, per_period: dict[str, int]) -> None:
    world.run(PeriodType.DAILY, dt.date(2025, 3, 31))
    world.run(PeriodType.YEARLY, dt.date(2025, 7, 1))

    got = world.measurements()
    assert set(got) == {per_period["daily"], per_period["yearly"]}
    daily, yearly = got[per_period["daily"]], got[per_period["yearly"]]
    assert (daily.period_start, daily.period_end, daily.actual_value) == (
        dt.date(2025, 3, 31), dt.date(2025, 3, 31), Decimal(1),
    )  # fmt: skip
    assert (yearly.period_start, yearly.period_end, yearly.actual_value) == (
        dt.date(2025, 1, 1), dt.date(2025, 12, 31), Decimal(5),
    )  # fmt: skip


def test_last_whole_period_and_periods_due() -> None:
    as_of = dt.date(2025, 4, 2)  # a Wednesday
    assert last_whole_period(PeriodType.MONTHLY, as_of).start == dt.date(2025, 3, 1)
    assert last_whole_period(PeriodType.MONTHLY, dt.date(2025, 4, 1)).start == dt.date(2025, 3, 1)
    assert dict(periods_due(as_of)) == {
        PeriodType.DAILY: dt.date(2025, 4, 1),
        PeriodType.WEEKLY: dt.date(2025, 3, 24),
        PeriodType.MONTHLY: dt.date(2025, 3, 1),
        PeriodType.QUARTERLY: dt.date(2025, 1, 1),
        PeriodType.YEARLY: dt.date(2024, 1, 1),
    }


# --------------------------------------------------------------------------- storage limits


def test_a_value_too_large_to_keep_is_a_problem(world: World) -> None:
    """NUMERIC(16,4) holds less than 10^12: a bigger value (a query or an API gone wrong) is a
    stated problem on both backends, not a failed run."""
    w = world
    huge = w.define(
        "Huge",
        "query",
        {"type": "database", "query": LEADS_SQL.replace("COUNT(*)", "COUNT(*) * 1000000000000")},
    )
    h_ann, h_cat = w.assign(huge, w.ann, "1"), w.assign(huge, w.cat, "1")
    l_ann = w.assign(w.kpi("Leads Generated"), w.ann, "4")

    r = w.run()

    assert [(p.kpi, p.person) for p in r.problems] == [("Huge", "ann@example.com")]
    assert "too large" in r.problems[0].reason
    got = w.measurements()
    assert h_ann not in got
    assert state(got[h_cat]) == (Decimal(0), Decimal(1), Decimal("0.00"))
    assert state(got[l_ann]) == (Decimal(3), Decimal(4), Decimal("75.00"))


def test_an_achievement_too_large_to_keep_is_a_problem(world: World) -> None:
    """NUMERIC(9,2) holds less than 10^7 %."""
    w = world
    calls = w.define("Calls", "api", {"type": "api", "provider": "aircall", "metric": "call_count"})
    c_ann, c_bob = w.assign(calls, w.ann, "0.0001"), w.assign(calls, w.bob, "0.0001")
    values = {"ann@example.com": Decimal(10000), "bob@example.com": Decimal("9.9999")}

    r = w.run(fetch=lambda _c, **kw: values[kw["person_email"]], token=lambda _p: "tok")

    assert [(p.kpi, p.person) for p in r.problems] == [("Calls", "ann@example.com")]
    got = w.measurements()
    assert c_ann not in got
    assert state(got[c_bob]) == (Decimal("9.9999"), Decimal("0.0001"), Decimal("9999900.00"))
