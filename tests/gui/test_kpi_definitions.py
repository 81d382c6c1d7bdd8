"""KPI definitions page (SPEC §7, who may define them SPEC §1): the models through
qtmodeltester, the built-in library of a fresh database, New KPI… through the dialog with the
service's per-field problems (query, formula, API), "Test query", deactivation, and that only
admins may change definitions."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from app.domain.kpi_sources import FormulaInput
from app.gui.kpis import definitions_page as page_module
from app.gui.kpis.definition_dialog import DefinitionDialog, plain_number
from app.gui.kpis.definition_inputs import KPI, InputLine, InputsModel
from app.gui.kpis.definition_model import (
    ACTIVE,
    ASSIGNED,
    CALCULATION,
    NAME,
    PERIOD,
    ROW_ROLE,
    SORT_ROLE,
    DefinitionsModel,
    DefinitionsProxy,
    inactive_color,
)
from app.gui.kpis.definitions_page import ADMINS_ONLY, KpiDefinitionsPage
from app.gui.pages import PAGES
from app.gui.targets import ExplicitUrl
from app.services.database import open_database
from app.services.delivery import settings as delivery_settings
from app.services.kpis import adapters, definitions
from app.services.kpis.definitions import DefinitionRow
from app.services.users import add_user
from tests.gui.conftest import FakePrompts, MemoryKeyring, WindowFactory, wait_settled

ADA, AL = "ada@office.example", "al@office.example"


def _row(id_: int, name: str, **kw: object) -> DefinitionRow:
    values: dict[str, object] = {
        "id": id_, "version": 1, "name": name, "description": None, "category": "sales",
        "calculation_type": "manual", "unit": "count", "aggregation_period": "monthly",
        "target_type": "higher_better", "min_value": None, "max_value": None,
        "data_source": {"type": "manual", "allowed_range": {}}, "is_active": True,
        "is_builtin": False, "assignments": 0,
    }  # fmt: skip
    values.update(kw)
    return DefinitionRow(**values)  # type: ignore[arg-type]


ROWS = [
    _row(1, "Calls made", assignments=12, aggregation_period="weekly"),
    _row(2, "Deals Closed", calculation_type="query", is_builtin=True,
         data_source={"type": "builtin", "metric": "deals_won"}, description="Won deals"),
    _row(3, "Old score", is_active=False, category=None, unit=None, assignments=1),
]  # fmt: skip


# -- models -----------------------------------------------------------------------------------


def test_the_definitions_model_passes_qtmodeltester(qtmodeltester) -> None:
    model = DefinitionsModel()
    model.set_rows(ROWS)
    qtmodeltester.check(model)
    model.set_rows([])
    qtmodeltester.check(model)


def test_the_definitions_proxy_passes_qtmodeltester_while_filtering(qtmodeltester) -> None:
    model = DefinitionsModel()
    proxy = DefinitionsProxy()
    proxy.setSourceModel(model)
    model.set_rows(ROWS)
    proxy.sort(ASSIGNED, Qt.SortOrder.DescendingOrder)
    qtmodeltester.check(proxy)
    assert [proxy.index(r, NAME).data() for r in range(3)] == [
        "Calls made", "Old score", "Deals Closed"
    ]  # fmt: skip
    proxy.setFilterFixedString("BUILT-IN")
    qtmodeltester.check(proxy)
    assert proxy.rowCount() == 1
    proxy.setFilterFixedString("")
    assert proxy.rowCount() == 3


def test_the_inputs_model_passes_qtmodeltester_and_edits_its_lines(qtmodeltester) -> None:
    model = InputsModel()
    model.set_lines([InputLine("a", sql="SELECT 1"), InputLine("b", KPI, kpi="Revenue")])
    qtmodeltester.check(model)
    assert model.index(0, 1).data() == "Query" and model.index(1, 1).data() == "KPI"
    assert model.index(1, 2).data() == "Revenue"
    assert model.setData(model.index(0, 1), KPI)
    assert model.setData(model.index(0, 2), "Calls made")
    assert not model.setData(model.index(0, 1), "neither")
    assert model.lines()[0].value() == {"variable": "a", "kpi": "Calls made"}
    model.add_line(InputLine("c"))
    model.remove_line(1)
    qtmodeltester.check(model)
    assert [line.name for line in model.lines()] == ["a", "c"]
    assert InputLine.of(FormulaInput("x", sql="SELECT 2")).value() == {
        "variable": "x",
        "query": "SELECT 2",
    }


def test_the_model_shows_built_in_and_greys_inactive_rows() -> None:
    model = DefinitionsModel()
    model.set_rows(ROWS)
    assert model.index(0, CALCULATION).data() == "Manual"
    assert model.index(1, CALCULATION).data() == "Built-in"
    assert model.index(0, PERIOD).data() == "Weekly"
    assert model.index(0, ASSIGNED).data() == "12"
    assert model.index(0, ASSIGNED).data(SORT_ROLE) == 12.0
    assert model.index(1, NAME).data(Qt.ItemDataRole.ToolTipRole) == "Won deals"
    assert [model.index(r, ACTIVE).data() for r in range(3)] == ["Active", "Active", "Inactive"]
    fg = Qt.ItemDataRole.ForegroundRole
    assert model.index(0, NAME).data(fg) is None
    assert model.index(2, NAME).data(fg) == inactive_color()
    assert "not computed" in model.index(2, NAME).data(Qt.ItemDataRole.ToolTipRole)
    assert model.index(2, 0).data(ROW_ROLE) is ROWS[2]


# -- the page over a real file -------------------------------------------------------------------


@pytest.fixture
def office_db(prepared_db_path: Path) -> Path:
    db = open_database(f"sqlite:///{prepared_db_path}")
    try:
        add_user(db, ADA, "admin", "Ada", "Admin")
        add_user(db, AL, "agent", "Al", "Moss")
    finally:
        db.dispose()
    return prepared_db_path


def stored(path: Path) -> list[DefinitionRow]:
    db = open_database(f"sqlite:///{path}")
    try:
        return definitions.list_definitions(db)
    finally:
        db.dispose()


def settle(qtbot, page: KpiDefinitionsPage) -> None:
    qtbot.waitUntil(lambda: not page.ctx.ops.active(), timeout=10_000)


def open_page(qtbot, make_window: WindowFactory, path: Path):
    window = make_window()
    window.open_database(ExplicitUrl(f"sqlite:///{path}"))
    wait_settled(qtbot, window)
    assert window.show_page("kpi_definitions")
    page = window.page_widget("kpi_definitions")
    assert isinstance(page, KpiDefinitionsPage)
    qtbot.waitUntil(lambda: page._loaded is not None, timeout=10_000)
    settle(qtbot, page)
    return window, page


def new_dialog(qtbot, page: KpiDefinitionsPage) -> DefinitionDialog:
    dialog = page.new_definition()
    assert isinstance(dialog, DefinitionDialog)
    qtbot.waitExposed(dialog)
    return dialog


def choose(combo, value: str) -> None:
    at = combo.findData(value)
    assert at >= 0, value
    combo.setCurrentIndex(at)


def test_the_page_is_registered() -> None:
    spec = next(s for s in PAGES.specs() if s.key == "kpi_definitions")
    assert (spec.title, spec.order, spec.icon) == ("KPI definitions", 185, "dashboard")
    assert spec.build is page_module.build_kpi_definitions_page


def test_a_fresh_database_lists_the_built_in_library(
    qtbot, make_window: WindowFactory, prepared_db_path: Path, prompts: FakePrompts
) -> None:
    _window, page = open_page(qtbot, make_window, prepared_db_path)
    assert page.model.rowCount() == 8
    assert page.count_label.text() == "8 KPI definitions"
    assert {page.proxy.index(r, CALCULATION).data() for r in range(8)} == {"Built-in"}
    assert page.proxy.index(0, NAME).data() == "Appointments Completed"  # by name
    assert page.body.currentWidget() is page.table
    assert page.new_button.isEnabled()  # locally, the one person does everything
    assert not page.edit_button.isEnabled()  # nothing selected yet
    page.filter_edit.setText("revenue")
    assert page.count_label.text() == "1 of 8 KPI definitions"
    page.filter_edit.setText("nothing like it")
    assert page.body.currentWidget() is page.empty_label
    assert page.empty_label.text() == "No KPI definitions match “nothing like it”."

    page.filter_edit.clear()
    assert page.select_id(next(r.id for r in page.model.rows() if r.name == "Deals Closed"))
    dialog = page.edit_current()
    assert isinstance(dialog, DefinitionDialog)
    assert not dialog.calculation_combo.isEnabled()
    assert dialog.stack.currentWidget() is dialog.pages["builtin"]
    assert dialog.builtin_label.text() == (
        "Computed by PerfDesk from its own records: Deals moved to closed won."
    )
    dialog.unit_edit.setText("deals")
    with qtbot.waitSignal(dialog.saved, timeout=10_000):
        dialog.ok_button.click()
    qtbot.waitUntil(lambda: any(r.unit == "deals" for r in page.model.rows()), timeout=10_000)
    settle(qtbot, page)
    saved = next(r for r in stored(prepared_db_path) if r.name == "Deals Closed")
    assert saved.is_builtin and saved.data_source == {"type": "builtin", "metric": "deals_won"}
    assert prompts.errors == []


def test_an_empty_database_says_so(
    qtbot, make_window: WindowFactory, prepared_db_path: Path
) -> None:
    db = open_database(f"sqlite:///{prepared_db_path}")
    try:
        with db.session() as s:
            from app.db.models import KpiDefinition

            for row in s.query(KpiDefinition).all():
                s.delete(row)
    finally:
        db.dispose()
    _window, page = open_page(qtbot, make_window, prepared_db_path)
    assert page.body.currentWidget() is page.empty_label
    assert page.empty_label.text() == (
        "No KPI definitions yet.\nAdd the first with New KPI… (Ctrl+N)."
    )
    assert page.count_label.text() == "0 KPI definitions"


def test_a_manual_kpi_made_in_the_dialog_is_stored(
    qtbot, make_window: WindowFactory, office_db: Path, prompts: FakePrompts
) -> None:
    window, page = open_page(qtbot, make_window, office_db)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=2000)
    qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: bool(page.findChildren(DefinitionDialog)), timeout=2000)
    (dialog,) = page.findChildren(DefinitionDialog)
    assert dialog.windowTitle() == "New KPI definition"
    assert dialog.stack.currentWidget() is dialog.pages["manual"]

    dialog.min_edit.setText("ten")
    dialog.ok_button.click()
    qtbot.waitUntil(lambda: dialog.field_error("name") != "", timeout=10_000)
    assert dialog.field_error("name") == "Required."
    assert dialog.field_error("min_value") == "'ten' is not a number."
    assert dialog.isVisible()
    assert dialog.min_edit.text() == "ten"  # what was typed stays

    qtbot.keyClicks(dialog.name_edit, "Calls made")
    assert dialog.field_error("name") == ""
    dialog.category_combo.setCurrentText("activity")
    dialog.unit_edit.setText("calls")
    choose(dialog.period_combo, "weekly")
    dialog.min_edit.setText("0")
    dialog.max_edit.setText("500")
    with qtbot.waitSignal(dialog.saved, timeout=10_000) as blocker:
        dialog.ok_button.click()
    new_id = blocker.args[0].id
    qtbot.waitUntil(lambda: page.model.rowCount() == 9, timeout=10_000)
    settle(qtbot, page)
    assert page.current_id() == new_id
    calls = next(r for r in stored(office_db) if r.name == "Calls made")
    assert (calls.calculation_type, calls.aggregation_period, calls.unit) == (
        "manual",
        "weekly",
        "calls",
    )
    assert (calls.category, calls.min_value, calls.max_value) == (
        "activity",
        Decimal(0),
        Decimal(500),
    )
    assert "Saved the KPI “Calls made”." in window.statusBar().currentMessage()

    dialog = page.edit_current()
    assert isinstance(dialog, DefinitionDialog)
    assert (dialog.min_edit.text(), dialog.max_edit.text()) == ("0", "500")
    assert dialog.category_combo.currentText() == "activity"
    assert not dialog.is_dirty()
    dialog.reject()  # nothing changed: it closes without asking
    assert not dialog.isVisible()
    assert prompts.errors == []


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        ("DELETE FROM users", "must start with SELECT or WITH"),
        ("SELECT 1; SELECT 2", "more than one statement"),
    ],
    ids=["write", "two_statements"],
)
def test_a_query_that_writes_or_has_two_statements_is_refused_under_the_query(
    qtbot, make_window: WindowFactory, office_db: Path, sql: str, reason: str
) -> None:
    _window, page = open_page(qtbot, make_window, office_db)
    before = stored(office_db)
    dialog = new_dialog(qtbot, page)
    dialog.name_edit.setText("Sneaky")
    choose(dialog.calculation_combo, "query")
    assert dialog.stack.currentWidget() is dialog.pages["query"]
    assert ":end_date" in dialog.findChild(type(dialog.builtin_label), "queryHint").text()
    dialog.query_edit.setPlainText(sql)
    dialog.ok_button.click()
    qtbot.waitUntil(lambda: dialog.field_error("query") != "", timeout=10_000)
    assert reason in dialog.field_error("query")
    assert dialog.query_edit.property("invalid") is True
    assert dialog.isVisible() and dialog.query_edit.toPlainText() == sql
    settle(qtbot, page)
    assert stored(office_db) == before


def test_test_query_shows_the_value_for_a_valid_query_and_the_refusal_otherwise(
    qtbot, make_window: WindowFactory, office_db: Path, prompts: FakePrompts
) -> None:
    _window, page = open_page(qtbot, make_window, office_db)
    dialog = new_dialog(qtbot, page)
    choose(dialog.calculation_combo, "query")
    message = dialog.query_fields.messages["query"]
    dialog.query_edit.setPlainText(
        "SELECT count(*) + 41 FROM users WHERE id = :user_id AND :start_date < :end_date"
    )
    dialog.test_button.click()
    qtbot.waitUntil(lambda: message.text() != "", timeout=10_000)
    assert message.text().startswith("The query gives 42 for ada@office.example, ")
    assert not message.is_error
    settle(qtbot, page)

    dialog.query_edit.setPlainText("SELECT id FROM users WHERE id >= :user_id - 1000")
    assert message.text() == ""  # the old result goes as the text changes
    dialog.test_button.click()
    qtbot.waitUntil(lambda: dialog.field_error("query") != "", timeout=10_000)
    assert "rows" in dialog.field_error("query")
    settle(qtbot, page)
    assert prompts.errors == []


def test_a_formula_with_an_unknown_name_is_refused_under_the_formula(
    qtbot, make_window: WindowFactory, office_db: Path
) -> None:
    _window, page = open_page(qtbot, make_window, office_db)
    dialog = new_dialog(qtbot, page)
    dialog.name_edit.setText("Win share")
    choose(dialog.calculation_combo, "formula")
    assert dialog.stack.currentWidget() is dialog.pages["formula"]
    editor = dialog.inputs_editor
    assert "Revenue" in editor.delegate.kpis
    editor.add_input()
    editor.add_input()
    model = editor.model
    model.setData(model.index(0, 2), "SELECT count(*) FROM users WHERE id = :user_id")
    model.setData(model.index(1, 1), KPI)
    model.setData(model.index(1, 2), "Revenue")
    assert editor.values() == [
        {"variable": "a", "query": "SELECT count(*) FROM users WHERE id = :user_id"},
        {"variable": "b", "kpi": "Revenue"},
    ]
    dialog.formula_edit.setText("a / b * wins")
    dialog.ok_button.click()
    qtbot.waitUntil(lambda: dialog.field_error("formula") != "", timeout=10_000)
    assert dialog.field_error("formula") == "Unknown name in the formula: wins."
    settle(qtbot, page)

    dialog.formula_edit.setText("a / b * 100")
    with qtbot.waitSignal(dialog.saved, timeout=10_000):
        dialog.ok_button.click()
    settle(qtbot, page)
    saved = next(r for r in stored(office_db) if r.name == "Win share")
    assert [i.kpi for i in definitions.input_rows(saved)] == [None, "Revenue"]


def test_an_api_kpi_fills_metrics_per_provider_and_saves_the_token(
    qtbot,
    make_window: WindowFactory,
    office_db: Path,
    prompts: FakePrompts,
    memory_keyring: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _window, page = open_page(qtbot, make_window, office_db)
    dialog = new_dialog(qtbot, page)
    dialog.name_edit.setText("Web calls")
    choose(dialog.calculation_combo, "api")
    box = dialog.api_box
    choose(box.provider_combo, "aircall")
    metrics = [box.metric_combo.itemData(i) for i in range(box.metric_combo.count())]
    assert metrics == ["call_count", "talk_time"]
    assert box.url_edit.isHidden()
    choose(box.provider_combo, "http_json")
    assert not box.metric_combo.isEnabled() and not box.url_edit.isHidden()
    dialog.ok_button.click()
    qtbot.waitUntil(lambda: dialog.field_error("api") != "", timeout=10_000)
    assert "needs the URL" in dialog.field_error("api")
    settle(qtbot, page)

    prompts.passwords = ["secret-token"]
    box.token_button.click()
    qtbot.waitUntil(lambda: box.token_message.text() != "", timeout=10_000)
    assert box.token_message.text() == (
        "The HTTP JSON token is saved in this computer's system keyring."
    )
    assert adapters.load_token("http_json") == "secret-token"
    settle(qtbot, page)

    monkeypatch.setattr(delivery_settings, "keyring_available", lambda: False)
    prompts.passwords = ["another"]
    box.token_button.click()
    qtbot.waitUntil(lambda: box.token_message.is_error, timeout=10_000)
    assert "no system keyring" in box.token_message.text()
    settle(qtbot, page)

    box.url_edit.setText("https://stats.example/{user_email}")
    box.json_path_edit.setText("data.total")
    with qtbot.waitSignal(dialog.saved, timeout=10_000):
        dialog.ok_button.click()
    settle(qtbot, page)
    saved = next(r for r in stored(office_db) if r.name == "Web calls")
    assert saved.data_source == {
        "type": "api",
        "provider": "http_json",
        "url": "https://stats.example/{user_email}",
        "json_path": "data.total",
    }


def test_esc_asks_before_discarding_what_was_typed(
    qtbot, make_window: WindowFactory, office_db: Path
) -> None:
    _window, page = open_page(qtbot, make_window, office_db)
    dialog = new_dialog(qtbot, page)
    asked: list[str] = []
    answer = [False]

    def confirm(_parent, title: str, _text: str) -> bool:
        asked.append(title)
        return answer[0]

    dialog.confirm = confirm
    dialog.name_edit.setText("Half typed")
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert asked == ["Discard your changes?"] and dialog.isVisible()
    answer[0] = True
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert not dialog.isVisible()


def test_deactivate_asks_then_greys_the_row_and_reactivate_brings_it_back(
    qtbot, make_window: WindowFactory, office_db: Path, prompts: FakePrompts
) -> None:
    window, page = open_page(qtbot, make_window, office_db)
    asked: list[tuple[str, str]] = []
    answer = [False]

    def confirm(_parent, _title: str, text: str, action: str) -> bool:
        asked.append((action, text))
        return answer[0]

    page.confirm = confirm
    revenue = next(r for r in page.model.rows() if r.name == "Revenue")
    page.select_id(revenue.id)
    assert page.active_button.text() == "&Deactivate…"
    assert not page.toggle_active()  # asked, and answered no
    action, text = asked[0]
    assert action == "Deactivate"
    assert "assignments and measurements are kept" in text
    assert "will not be computed or newly assigned" in text
    assert stored(office_db) == page.model.rows()

    answer[0] = True
    assert page.toggle_active()
    qtbot.waitUntil(
        lambda: any(r.name == "Revenue" and not r.is_active for r in page.model.rows()),
        timeout=10_000,
    )
    settle(qtbot, page)
    row = page.model.row_of_id(revenue.id)
    index = page.proxy.mapFromSource(page.model.index(row, NAME))
    assert index.data(Qt.ItemDataRole.ForegroundRole) == inactive_color()
    assert index.siblingAtColumn(ACTIVE).data() == "Inactive"
    assert page.current_id() == revenue.id
    assert page.active_button.text() == "&Reactivate…"
    assert "Deactivated the KPI “Revenue”." in window.statusBar().currentMessage()
    assert not next(r for r in stored(office_db) if r.name == "Revenue").is_active

    assert page.toggle_active()
    assert asked[-1][0] == "Reactivate"
    qtbot.waitUntil(
        lambda: any(r.name == "Revenue" and r.is_active for r in page.model.rows()),
        timeout=10_000,
    )
    settle(qtbot, page)
    assert prompts.errors == []


def test_someone_not_an_admin_sees_new_and_edit_disabled(
    qtbot, make_window: WindowFactory, office_db: Path
) -> None:
    window = make_window()
    window.open_database(ExplicitUrl(f"sqlite:///{office_db}"))
    wait_settled(qtbot, window)
    page = KpiDefinitionsPage(window.ctx, acting=AL)
    qtbot.addWidget(page)
    page.show()
    qtbot.waitUntil(lambda: page._loaded is not None, timeout=10_000)
    settle(qtbot, page)
    assert page.model.rowCount() == 8  # everyone reads them
    page.select_id(page.model.rows()[0].id)
    for button in (page.new_button, page.edit_button, page.active_button):
        assert not button.isEnabled()
        assert button.toolTip() == ADMINS_ONLY
    assert page.new_definition() is None
    assert page.edit_current() is None
    assert not page.toggle_active()
    assert page.findChildren(DefinitionDialog) == []
    assert ADMINS_ONLY in window.statusBar().currentMessage()

    admin = KpiDefinitionsPage(window.ctx, acting=ADA)
    qtbot.addWidget(admin)
    admin.show()
    qtbot.waitUntil(lambda: admin._loaded is not None, timeout=10_000)
    settle(qtbot, admin)
    assert admin.new_button.isEnabled()


def test_a_page_without_a_database_says_so(qtbot, ctx) -> None:
    page = KpiDefinitionsPage(ctx)
    qtbot.addWidget(page)
    assert page.empty_label.text() == "Open a database to see the KPI definitions."
    assert not page.new_button.isEnabled() and page.new_definition() is None


def test_stored_bounds_show_as_typed() -> None:
    assert plain_number(Decimal("100.0000")) == "100"
    assert plain_number(Decimal("2.5000")) == "2.5"
    assert plain_number(None) == ""
