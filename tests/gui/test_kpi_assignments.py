"""KPI assignments page (SPEC §1, §7): every model through qtmodeltester; over a real SQLite
office (an admin, a team North managed by Mia with agents Al and Bea) assigning through the
dialog with the weights warning, a refused target, a team assignment, entering a manual value
(stored for the whole period, shown in the history), a value out of range, ending an
assignment, and what an agent may not do."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from PySide6.QtCore import Qt

from app.db.models import Team, User
from app.domain.enums import PeriodType
from app.domain.periods import period_of
from app.gui.context import AppContext
from app.gui.kpis import assignments_page as page_module
from app.gui.kpis.assignment_dialog import AssignmentDialog
from app.gui.kpis.assignment_models import (
    COL_ACTIVE,
    COL_TARGET,
    COL_TEAM,
    COL_WEIGHT,
    HIST_ACHIEVEMENT,
    HIST_HOW,
    HIST_PERIOD,
    ROW_ROLE,
    AssignmentFilterProxy,
    AssignmentItem,
    HistoryModel,
    assignments_model,
    period_label,
)
from app.gui.kpis.assignments_page import AssignmentsPage
from app.gui.kpis.measurement_dialog import MeasurementDialog
from app.gui.pages import PAGES
from app.gui.targets import ExplicitUrl
from app.services.audit import chain_entries
from app.services.database import Database, open_database
from app.services.kpis.assignments import (
    AssignmentRow,
    assign,
    list_assignments,
    update_assignment,
)
from app.services.kpis.definitions import list_definitions, save_definition
from app.services.kpis.measurements import MeasurementRow, enter_value, history
from app.services.users import add_user
from tests.gui.conftest import FakePrompts

ADA, MIA, AL, BEA = (
    "ada@office.example", "mia@office.example", "al@office.example", "bea@office.example",
)  # fmt: skip
TODAY = dt.date.today()
MONTH = period_of(PeriodType.MONTHLY, TODAY)


# -- models -----------------------------------------------------------------------------------


def _row(i: int, person: str, kpi: str, **kw: object) -> AssignmentRow:
    values: dict[str, object] = dict(
        id=i, version=1, kpi_id=i, kpi_name=kpi, unit="calls", target_type="higher_better",
        period="monthly", calculation_type="manual", user_id=i, person=person,
        email=f"{person.lower()}@x.example", team_id=None, target_value=Decimal("120.0000"),
        weight=Decimal("40.00"), start_date=dt.date(2026, 1, 1), end_date=None, is_active=True,
    )  # fmt: skip
    values.update(kw)
    return AssignmentRow(**values)  # type: ignore[arg-type]


ITEMS = [
    AssignmentItem(_row(1, "Al", "Calls made"), "", True, None),
    AssignmentItem(_row(2, "Bea", "Revenue", unit="$", team_id=3), "North", False, None),
    AssignmentItem(
        _row(3, "Cy", "Show Rate", unit="%", is_active=False, end_date=dt.date(2026, 2, 1)),
        "", True, None,
    ),
]  # fmt: skip
HISTORY = [
    MeasurementRow(1, 1, dt.date(2026, 10, 1), dt.date(2026, 10, 31), Decimal("90"),
                   Decimal("120"), Decimal("75.00"), "manual",
                   dt.datetime(2026, 10, 5, 9, tzinfo=dt.UTC), "Mia Manager", "late start"),
    MeasurementRow(2, 1, dt.date(2026, 9, 1), dt.date(2026, 9, 30), Decimal("130"),
                   Decimal("120"), Decimal("108.33"), "builtin",
                   dt.datetime(2026, 10, 1, 2, tzinfo=dt.UTC), None, None),
]  # fmt: skip


def test_the_assignments_model_and_its_proxy_pass_qtmodeltester(qtmodeltester) -> None:
    model = assignments_model()
    model.set_rows(ITEMS)
    qtmodeltester.check(model)
    proxy = AssignmentFilterProxy()
    proxy.setSourceModel(model)
    qtmodeltester.check(proxy)
    assert proxy.rowCount() == 2  # the ended one is hidden
    proxy.set_show_ended(True)
    assert proxy.rowCount() == 3
    proxy.set_person(2)
    assert proxy.rowCount() == 1
    qtmodeltester.check(proxy)
    proxy.set_person(None)
    proxy.setFilterFixedString("north")
    assert proxy.rowCount() == 1 and proxy.index(0, 0).data(ROW_ROLE) is ITEMS[1]
    model.set_rows([])
    qtmodeltester.check(model)


def test_the_assignments_model_says_target_unit_team_and_active() -> None:
    model = assignments_model()
    model.set_rows(ITEMS)
    assert model.index(0, COL_TARGET).data() == "120 calls"
    assert model.index(1, COL_TARGET).data() == "$120"
    assert model.index(2, COL_TARGET).data() == "120%"
    assert model.index(0, COL_WEIGHT).data() == "40"
    assert [model.index(r, COL_TEAM).data() for r in range(3)] == ["", "North", ""]
    assert [model.index(r, COL_ACTIVE).data() for r in range(3)] == ["Yes", "Yes", "No"]


def test_the_history_model_passes_qtmodeltester_and_names_periods(qtmodeltester) -> None:
    model = HistoryModel()
    model.set_history(HISTORY, "monthly", "calls")
    qtmodeltester.check(model)
    assert model.index(0, HIST_PERIOD).data() == "October 2026"
    assert model.index(0, HIST_ACHIEVEMENT).data() == "75.00%"
    assert [model.index(r, HIST_HOW).data() for r in range(2)] == ["Manual", "Built-in"]
    model.set_history([], "weekly", None)
    qtmodeltester.check(model)


@pytest.mark.parametrize(
    ("kind", "label"),
    [
        ("daily", "Mon 5 Oct 2026"),
        ("weekly", "Week of 5 Oct 2026"),
        ("monthly", "October 2026"),
        ("quarterly", "Q4 2026"),
        ("yearly", "2026"),
    ],
)
def test_periods_are_named_as_people_say_them(kind: str, label: str) -> None:
    assert period_label(kind, dt.date(2026, 10, 7 if kind != "daily" else 5)) == label


# -- the page over a real office ----------------------------------------------------------------


@pytest.fixture
def office(prepared_db_path: Path) -> Path:
    db = open_database(f"sqlite:///{prepared_db_path}")
    try:
        add_user(db, ADA, "admin", "Ada", "Admin")
        add_user(db, MIA, "manager", "Mia", "Manager")
        add_user(db, AL, "agent", "Al", "Agent", team="North")
        add_user(db, BEA, "agent", "Bea", "Baker", team="North")
        with db.session() as s:
            mia = s.scalar(sa.select(User.id).where(User.email == MIA))
            s.execute(sa.update(Team).where(Team.name == "North").values(manager_id=mia))
        save_definition(
            db,
            {"name": "Calls made", "calculation_type": "manual", "aggregation_period": "monthly",
             "target_type": "higher_better", "unit": "calls", "min_value": "0",
             "max_value": "500"},
        )  # fmt: skip
        save_definition(
            db,
            {"name": "Complaints", "calculation_type": "manual", "aggregation_period": "monthly",
             "target_type": "lower_better"},
        )  # fmt: skip
    finally:
        db.dispose()
    return prepared_db_path


@pytest.fixture
def db(office: Path):
    database = open_database(f"sqlite:///{office}")
    yield database
    database.dispose()


def _ids(db: Database) -> dict[str, int]:
    with db.read() as s:
        return {e: i for i, e in s.execute(sa.select(User.id, User.email))}


def _kpi(page: AssignmentsPage, name: str) -> int:
    assert page._loaded is not None
    return next(d.id for d in page._loaded.definitions if d.name == name)


def settle(qtbot, page: AssignmentsPage) -> None:
    qtbot.waitUntil(lambda: not page.ctx.ops.active(), timeout=5000)


def open_page(qtbot, ctx: AppContext, path: Path, acting: str | None = None) -> AssignmentsPage:
    page = AssignmentsPage(ctx)
    qtbot.addWidget(page)
    page.acting = acting
    page.show()
    ctx.database.open(ExplicitUrl(f"sqlite:///{path}"))
    qtbot.waitUntil(lambda: page._loaded is not None and not ctx.ops.active(), timeout=10_000)
    return page


def _say(ctx: AppContext) -> list[str]:
    said: list[str] = []
    ctx.events.status_message.connect(said.append)
    return said


def test_the_page_registers_itself(qtbot, ctx: AppContext) -> None:
    spec = next(s for s in PAGES if s.key == "kpi_assignments")
    assert (spec.title, spec.order, spec.icon) == ("KPI assignments", 186, "people")
    page = spec.build(ctx)
    qtbot.addWidget(page)
    assert isinstance(page, AssignmentsPage)
    assert page.empty_label.text() == "Open a database to see KPI assignments."
    assert not page.assign_button.isEnabled() and page.assign() is None


def test_assigning_a_builtin_kpi_to_a_person_stores_it_with_its_audit_entry_and_warns(
    qtbot, ctx: AppContext, office: Path, db: Database, prompts: FakePrompts
) -> None:
    said = _say(ctx)
    page = open_page(qtbot, ctx, office)
    assert page.empty_label.text().startswith("No KPIs assigned yet.")
    assert page.assign_button.isEnabled()
    page.setFocus()
    qtbot.keyClick(page, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    (dialog,) = page.findChildren(AssignmentDialog)
    assert dialog.windowTitle() == "Assign a KPI"
    names = [dialog.kpi_combo.itemText(i) for i in range(dialog.kpi_combo.count())]
    assert "Deals Closed — Monthly, higher is better" in names
    assert "Complaints — Monthly, lower is better" in names

    dialog.kpi_combo.setCurrentIndex(dialog.kpi_combo.findData(_kpi(page, "Deals Closed")))
    assert dialog.start_date() == MONTH.start  # the first day of the KPI's current period
    al = _ids(db)[AL]
    dialog.person_combo.setCurrentIndex(dialog.person_combo.findData(al))
    dialog.target_edit.setText("4")
    dialog.weight_edit.setText("40")
    qtbot.waitUntil(lambda: dialog.weights.total == Decimal(40), timeout=5000)
    assert "Deals Closed — 40 (this assignment)" in dialog.weights.lines.text()
    assert dialog.weights.total_label.text() == "Total 40 — not 100"
    assert "Al Agent's weights would add up to 40, not 100" in dialog.weights_note.text()
    dialog.weight_edit.setText("100")
    assert dialog.weights.total_label.text() == "Total 100"
    assert dialog.weights_note.text() == "Their weights add up to 100."
    dialog.weight_edit.setText("40")

    with qtbot.waitSignal(dialog.saved, timeout=5000) as blocker:
        dialog.ok_button.click()
    (new_id,) = blocker.args[0].ids
    qtbot.waitUntil(lambda: page.model.rowCount() == 1, timeout=5000)
    settle(qtbot, page)

    (stored,) = list_assignments(db, user_id=al)
    assert (stored.id, stored.kpi_name, stored.target_value, stored.weight) == (
        new_id, "Deals Closed", Decimal(4), Decimal(40)
    )  # fmt: skip
    assert stored.start_date == MONTH.start and stored.team_id is None
    entries = chain_entries(db, f"kpi_assignment:{new_id}")
    assert [e.event_type for e, _ok in entries] == ["kpi.assigned"]
    assert all(ok for _e, ok in entries)
    # the weights that do not add up are said after saving
    assert any("Weights add up to 40, not 100" in n for n in prompts.notices)
    assert any(s.startswith("Assigned Deals Closed to Al Agent.") for s in said)
    assert page.current_id() == new_id
    qtbot.waitUntil(lambda: page.panel.data is not None, timeout=5000)
    assert page.panel.kpi_label.text() == "Deals Closed"
    assert page.panel.weights.total_label.text() == "Total 40 — not 100"
    assert "No values yet" in page.panel.history_empty.text()
    assert not page.value_button.isEnabled()  # built in: computed, not entered
    assert "computed by PerfDesk" in page.value_button.toolTip()
    assert prompts.errors == []


def test_a_target_of_0_for_a_lower_is_better_kpi_is_refused_under_target(
    qtbot, ctx: AppContext, office: Path, db: Database, prompts: FakePrompts
) -> None:
    page = open_page(qtbot, ctx, office)
    dialog = page.assign()
    assert isinstance(dialog, AssignmentDialog)
    dialog.kpi_combo.setCurrentIndex(dialog.kpi_combo.findData(_kpi(page, "Complaints")))
    dialog.person_combo.setCurrentIndex(dialog.person_combo.findData(_ids(db)[BEA]))
    dialog.target_edit.setText("0")
    dialog.weight_edit.setText("20")
    dialog.ok_button.click()
    qtbot.waitUntil(lambda: dialog.field_error("target_value") != "", timeout=5000)
    assert dialog.field_error("target_value") == (
        "A target of 0 cannot be scored for a lower-is-better KPI."
    )
    assert dialog.target_edit.property("invalid") is True
    assert dialog.isVisible() and dialog.ok_button.isEnabled()
    assert list_assignments(db, active_only=False) == []
    settle(qtbot, page)
    dialog.reject()
    assert prompts.errors == []


def test_a_team_assignment_makes_one_per_member(
    qtbot, ctx: AppContext, office: Path, db: Database, prompts: FakePrompts
) -> None:
    page = open_page(qtbot, ctx, office, acting=MIA)  # the team's manager
    assert page._loaded is not None
    assert [p[1] for p in page._loaded.people] == ["Al Agent", "Bea Baker"]
    dialog = page.assign()
    assert isinstance(dialog, AssignmentDialog)
    dialog.kpi_combo.setCurrentIndex(dialog.kpi_combo.findData(_kpi(page, "Calls made")))
    dialog.team_radio.setChecked(True)
    assert dialog.team_combo.currentText() == "North" and not dialog.person_combo.isEnabled()
    assert "Each member gets their own assignment" in dialog.weights.lines.text()
    dialog.target_edit.setText("120")
    dialog.weight_edit.setText("100")
    with qtbot.waitSignal(dialog.saved, timeout=5000) as blocker:
        dialog.ok_button.click()
    assert len(blocker.args[0].ids) == 2
    qtbot.waitUntil(lambda: page.model.rowCount() == 2, timeout=5000)
    settle(qtbot, page)
    rows = list_assignments(db, kpi_id=_kpi(page, "Calls made"))
    assert sorted(r.person for r in rows) == ["Al Agent", "Bea Baker"]
    assert len({r.team_id for r in rows}) == 1 and rows[0].team_id is not None
    assert [page.proxy.index(r, COL_TEAM).data() for r in range(2)] == ["North", "North"]
    assert prompts.notices == []  # 100 each: nothing to warn about
    assert prompts.errors == []


def _assign_calls(db: Database, email: str, target: str = "120") -> int:
    kpi = next(r.id for r in _definitions(db) if r.name == "Calls made")
    result = assign(
        db,
        {"kpi_id": kpi, "user_id": _ids(db)[email], "target_value": target, "weight": "100",
         "start_date": MONTH.start},
    )  # fmt: skip
    return result.ids[0]


def _definitions(db: Database):
    return list_definitions(db)


def test_entering_a_manual_value_stores_it_for_the_period_and_shows_it_in_the_history(
    qtbot, ctx: AppContext, office: Path, db: Database, prompts: FakePrompts
) -> None:
    said = _say(ctx)
    assignment = _assign_calls(db, AL)
    page = open_page(qtbot, ctx, office)
    assert page.current_id() == assignment
    assert page.value_button.isEnabled()
    dialog = page.enter_value()
    assert isinstance(dialog, MeasurementDialog)
    assert dialog.period_label.text() == period_label("monthly", TODAY)
    assert not dialog.next_button.isEnabled()  # the next period has not started
    assert dialog.range_label.text() == "Allowed: 0 calls to 500 calls"
    qtbot.waitUntil(lambda: dialog.history is not None, timeout=5000)
    assert dialog.existing_label.text().startswith("Nothing entered for")

    dialog.value_edit.setText("90")
    assert dialog.preview_label.text() == "75.00% of the target"
    dialog.notes_edit.setPlainText("a slow start")
    with qtbot.waitSignal(dialog.saved, timeout=5000) as blocker:
        dialog.ok_button.click()
    entered = blocker.args[0]
    assert (entered.period.start, entered.period.end) == (MONTH.start, MONTH.end)

    (stored,) = history(db, assignment)
    assert (stored.period_start, stored.period_end) == (MONTH.start, MONTH.end)
    assert (stored.actual_value, stored.achievement_pct) == (Decimal(90), Decimal("75.00"))
    assert stored.method == "manual" and stored.notes == "a slow start"
    panel = page.panel
    qtbot.waitUntil(lambda: panel.history_model.rowCount() == 1, timeout=5000)
    settle(qtbot, page)
    assert panel.history_proxy.index(0, HIST_PERIOD).data() == period_label("monthly", TODAY)
    assert panel.history_proxy.index(0, HIST_ACHIEVEMENT).data() == "75.00%"
    assert panel.history_proxy.index(0, HIST_HOW).data() == "Manual"
    assert any(s.startswith("Saved Calls made for Al Agent") for s in said)

    # the same period again: shown, and saving replaces it
    again = page.enter_value()
    assert isinstance(again, MeasurementDialog)
    qtbot.waitUntil(lambda: again.existing is not None, timeout=5000)
    assert "Saving replaces it." in again.existing_label.text()
    assert again.value_edit.text() == "90"
    again.value_edit.setText("150")
    with qtbot.waitSignal(again.saved, timeout=5000):
        again.ok_button.click()
    (replaced,) = history(db, assignment)
    assert replaced.actual_value == Decimal(150) and replaced.version == stored.version + 1
    settle(qtbot, page)
    assert prompts.errors == []


def test_a_value_outside_the_allowed_range_is_refused_under_value(
    qtbot, ctx: AppContext, office: Path, db: Database, prompts: FakePrompts
) -> None:
    assignment = _assign_calls(db, BEA)
    page = open_page(qtbot, ctx, office)
    dialog = page.enter_value()
    assert isinstance(dialog, MeasurementDialog)
    qtbot.waitUntil(lambda: dialog.ok_button.isEnabled(), timeout=5000)
    dialog.value_edit.setText("501")
    dialog.ok_button.click()
    qtbot.waitUntil(lambda: dialog.field_error("value") != "", timeout=5000)
    assert dialog.field_error("value") == "501 is above the allowed maximum 500."
    assert history(db, assignment) == []
    settle(qtbot, page)
    dialog.reject()
    assert prompts.errors == []


def test_editing_and_ending_an_assignment(
    qtbot, ctx: AppContext, office: Path, db: Database, prompts: FakePrompts
) -> None:
    assignment = _assign_calls(db, AL)
    page = open_page(qtbot, ctx, office)
    page.table.setFocus()
    qtbot.keyClick(page.table, Qt.Key.Key_Return)
    (dialog,) = page.findChildren(AssignmentDialog)
    assert dialog.windowTitle() == "Edit KPI assignment"
    assert dialog.target_edit.text() == "120" and dialog.weight_edit.text() == "100"
    qtbot.waitUntil(lambda: dialog.weights.total == Decimal(100), timeout=5000)
    dialog.weight_edit.setText("60")
    assert "not 100" in dialog.weights.total_label.text()
    with qtbot.waitSignal(dialog.saved, timeout=5000) as blocker:
        dialog.ok_button.click()
    assert any("not 100" in w for w in blocker.args[0])

    def saved_again() -> bool:
        item = page.current_item()
        return item is not None and item.row.version == 2

    qtbot.waitUntil(saved_again, timeout=5000)
    assert any("Weights add up to 60" in n for n in prompts.notices)

    asked: list[str] = []
    page.confirm = lambda _p, _t, text, _a: asked.append(text) or True
    page.end_current()
    qtbot.waitUntil(lambda: page.model.rowCount() == 1 and page.proxy.rowCount() == 0, timeout=5000)
    settle(qtbot, page)
    assert "End Calls made for Al Agent?" in asked[0]
    (ended,) = list_assignments(db, active_only=False)
    assert ended.id == assignment and not ended.is_active
    assert "Tick Show ended" in page.empty_label.text()
    page.ended_check.setChecked(True)
    assert page.proxy.rowCount() == 1
    assert page.proxy.index(0, COL_ACTIVE).data() == "No"
    events = [e.event_type for e, _ok in chain_entries(db, f"kpi_assignment:{assignment}")]
    assert events == ["kpi.assigned", "kpi.assignment_changed", "kpi.assignment_changed"]
    assert prompts.errors == []


def test_an_agent_reads_their_own_and_may_not_assign(
    qtbot, ctx: AppContext, office: Path, db: Database, prompts: FakePrompts
) -> None:
    _assign_calls(db, AL)
    _assign_calls(db, BEA)
    page = open_page(qtbot, ctx, office, acting=AL)
    assert [i.row.person for i in page.model.rows()] == ["Al Agent"]
    assert not page.assign_button.isEnabled()
    assert page.assign_button.toolTip() == page_module.NOT_ASSIGNER
    assert page.assign() is None
    assert page.current_item() is not None
    for button in (page.edit_button, page.end_button, page.value_button):
        assert not button.isEnabled()
        assert (
            button.toolTip()
            == "Only the manager of Al Agent's team or an admin may change their KPIs."
        )
    assert page.edit_current() is None and page.enter_value() is None
    assert page.findChildren(AssignmentDialog) == []
    settle(qtbot, page)
    assert prompts.errors == []


def test_the_person_filter_narrows_to_one_person(
    qtbot, ctx: AppContext, office: Path, db: Database
) -> None:
    _assign_calls(db, AL)
    _assign_calls(db, BEA)
    page = open_page(qtbot, ctx, office)
    combo = page.person_combo
    assert [combo.itemText(i) for i in range(combo.count())] == [
        "Everyone", "Al Agent", "Bea Baker"
    ]  # fmt: skip
    assert page.count_label.text() == "2 assignments"
    combo.setCurrentIndex(2)
    assert page.proxy.rowCount() == 1 and page.count_label.text() == "1 of 2 assignments"
    page.filter_edit.setText("nothing like it")
    assert page.empty_label.text() == "No assignments match “nothing like it”."
    settle(qtbot, page)


def test_an_end_before_the_start_is_said_under_end_and_a_stale_edit_offers_a_reload(
    qtbot, ctx: AppContext, office: Path, db: Database, prompts: FakePrompts
) -> None:
    assignment = _assign_calls(db, AL)
    page = open_page(qtbot, ctx, office)
    dialog = page.edit_current()
    assert isinstance(dialog, AssignmentDialog)
    dialog.end_check.setChecked(True)
    dialog.end_edit.setDate(dialog.start_edit.date().addDays(-1))
    dialog.ok_button.click()
    qtbot.waitUntil(lambda: dialog.field_error("end_date") != "", timeout=5000)
    assert dialog.field_error("end_date") == "The end is before the start."
    dialog.end_check.setChecked(False)

    (row,) = list_assignments(db)
    update_assignment(db, assignment, {"target_value": "150"}, row.version)  # elsewhere
    dialog.weight_edit.setText("90")
    dialog.ok_button.click()
    qtbot.waitUntil(dialog.conflict_bar.isVisible, timeout=5000)
    assert "Someone else changed this assignment" in dialog.conflict_message.text()
    dialog.reload_button.click()
    qtbot.waitUntil(lambda: not dialog.conflict_bar.isVisible(), timeout=5000)
    assert dialog.target_edit.text() == "150" and dialog.weight_edit.text() == "100"
    assert "saved on the other workstation" in dialog.form_message.text()
    dialog.weight_edit.setText("90")
    with qtbot.waitSignal(dialog.saved, timeout=5000):
        dialog.ok_button.click()
    (saved,) = list_assignments(db)
    assert (saved.target_value, saved.weight) == (Decimal(150), Decimal(90))
    settle(qtbot, page)
    assert prompts.errors == []


def test_a_value_entered_meanwhile_elsewhere_is_not_overwritten_unseen(
    qtbot, ctx: AppContext, office: Path, db: Database, prompts: FakePrompts
) -> None:
    assignment = _assign_calls(db, AL)
    enter_value(db, assignment, TODAY, "10")
    page = open_page(qtbot, ctx, office)
    dialog = page.enter_value()
    assert isinstance(dialog, MeasurementDialog)
    qtbot.waitUntil(lambda: dialog.existing is not None, timeout=5000)
    enter_value(db, assignment, TODAY, "20", version=dialog.existing.version)  # elsewhere
    dialog.value_edit.setText("30")
    dialog.ok_button.click()
    qtbot.waitUntil(dialog.conflict_bar.isVisible, timeout=5000)
    assert "Someone else entered a value for this period" in dialog.conflict_message.text()
    assert history(db, assignment)[0].actual_value == Decimal(20)
    dialog.reload_button.click()
    qtbot.waitUntil(lambda: not dialog.conflict_bar.isVisible(), timeout=5000)
    assert dialog.value_edit.text() == "20"
    assert "20 calls already" in dialog.existing_label.text()
    dialog.value_edit.setText("30")
    with qtbot.waitSignal(dialog.saved, timeout=5000):
        dialog.ok_button.click()
    assert history(db, assignment)[0].actual_value == Decimal(30)
    settle(qtbot, page)
    assert prompts.errors == []


def test_the_previous_period_button_moves_a_whole_period(
    qtbot, ctx: AppContext, office: Path, db: Database
) -> None:
    kpi = next(r.id for r in _definitions(db) if r.name == "Calls made")
    start = dt.date(TODAY.year - 1, 1, 1)
    assign(
        db,
        {"kpi_id": kpi, "user_id": _ids(db)[BEA], "target_value": "10", "weight": "100",
         "start_date": start},
    )  # fmt: skip
    page = open_page(qtbot, ctx, office)
    dialog = page.enter_value()
    assert isinstance(dialog, MeasurementDialog)
    dialog.previous_button.click()
    before = period_of(PeriodType.MONTHLY, MONTH.start - dt.timedelta(days=1))
    assert dialog.period() == before
    assert dialog.period_label.text() == period_label("monthly", before.start)
    assert dialog.next_button.isEnabled()
    dialog.next_button.click()
    assert dialog.period() == MONTH
    settle(qtbot, page)
    dialog.reject()


def test_a_notification_selects_the_assignment_it_is_about(
    qtbot, ctx: AppContext, office: Path, db: Database
) -> None:
    _assign_calls(db, AL)
    wanted = _assign_calls(db, BEA)
    page = open_page(qtbot, ctx, office)
    page.filter_edit.setText("Al Agent")  # the row asked for is filtered out
    ctx.events.open_record("kpi_assignments", wanted)
    qtbot.waitUntil(lambda: page.current_id() == wanted, timeout=10_000)
    assert page.filter_edit.text() == ""
