"""The month-end grid (app/gui/postclose/month_grid_*.py), offscreen over the small demo office
(six properties with a rent roll through February 2026): reading a month, typing with live
checks and grades, the spreadsheet keys (Enter, Delete, Ctrl+C, Ctrl+V), a save that writes
every row or none, the discard question, empty states, and the model through qtmodeltester."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QWidget

from app.domain.enums import Grade
from app.domain.postclose import Projection, assess
from app.domain.rentroll import PERIOD_FIELDS, FieldErrors, parse_period
from app.gui.context import AppContext
from app.gui.postclose.month_grid_clipboard import format_block, parse_block
from app.gui.postclose.month_grid_lines import EMPTIED
from app.gui.postclose.month_grid_model import (
    CHANGED_MARK,
    CHANGED_ROLE,
    COLUMNS,
    FIELD_COLUMNS,
    GRADE,
    NOTES,
    PERFORMANCE_ID_ROLE,
    PROBLEM_ROLE,
    PROPERTY,
    MonthGridFilter,
    MonthGridModel,
)
from app.gui.postclose.month_grid_page import RENT_ROLL, MonthGridPage, previous_month
from app.gui.targets import ExplicitUrl
from app.services.database import Database, open_database
from app.services.demo import generate
from app.services.postclose.periods import SheetRow, month_sheet
from app.services.schema import prepare
from tests.gui.conftest import FakePrompts

AS_OF = dt.date(2026, 3, 2)  # the demo's rent roll runs through February 2026
ENTERED = (2026, 2)
EMPTY = (2026, 3)
F = FIELD_COLUMNS
RENT, VACANCY, NOI, CASH_FLOW, DSCR = (
    F["actual_rent_collected"], F["actual_vacancy_rate"], F["actual_noi"],
    F["actual_monthly_cash_flow"], F["actual_dscr"],
)  # fmt: skip
MAINTENANCE, MGMT, TAXES, TOTAL = (
    F["maintenance"], F["property_management"], F["taxes"], F["expenses_total"],
)  # fmt: skip


# -- the data -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("month_grid") / "demo.sqlite3"
    db = open_database(f"sqlite:///{path}")
    try:
        prepare(db)
        generate(db, scale="small", seed=3, as_of=AS_OF)
    finally:
        db.dispose()
    return path


@pytest.fixture
def demo_path(demo_template: Path, tmp_path: Path) -> Path:
    path = tmp_path / "office.sqlite3"
    shutil.copyfile(demo_template, path)
    return path


@pytest.fixture
def store(demo_path: Path) -> Iterator[Database]:
    """The test's own connection (what another workstation would see)."""
    db = open_database(f"sqlite:///{demo_path}")
    yield db
    db.dispose()


def settle(qtbot, page: MonthGridPage) -> None:
    qtbot.waitUntil(
        lambda: (
            page._loaded is not None
            and not page._loading
            and not page._saving
            and not page.ctx.ops.active()
        ),
        timeout=10_000,
    )


def open_grid(qtbot, ctx: AppContext, path: Path, month: tuple[int, int] | None) -> MonthGridPage:
    page = MonthGridPage(ctx)
    qtbot.addWidget(page)
    page.resize(1400, 800)
    page.show()
    qtbot.waitExposed(page)
    ctx.database.open(ExplicitUrl(f"sqlite:///{path}"))
    settle(qtbot, page)
    if month is not None:
        assert page.set_month(*month)
        settle(qtbot, page)
    page.activateWindow()
    page.table.setFocus()
    return page


@pytest.fixture
def grid(qtbot, ctx: AppContext, demo_path: Path) -> MonthGridPage:
    return open_grid(qtbot, ctx, demo_path, EMPTY)


def cell(page: MonthGridPage, row: int, column: int) -> QModelIndex:
    return page.proxy.index(row, column)


def text(page: MonthGridPage, row: int, column: int) -> str:
    return page.proxy.index(row, column).data(Qt.ItemDataRole.EditRole)


def go(page: MonthGridPage, row: int, column: int) -> None:
    page.table.selectionModel().setCurrentIndex(
        cell(page, row, column), QItemSelectionModel.SelectionFlag.ClearAndSelect
    )


def ctrl(qtbot, widget: QWidget, key: Qt.Key) -> None:
    """Ctrl+key, then let go of Ctrl (else Qt keeps Ctrl as held for the next test)."""
    qtbot.keyClick(widget, key, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyRelease(widget, Qt.Key.Key_Control, Qt.KeyboardModifier.NoModifier)


def type_into(qtbot, page: MonthGridPage, row: int, column: int, typed: str) -> None:
    """Go to a cell, type (the first key opens the editor) and press Enter."""
    go(page, row, column)
    qtbot.keyClick(page.table, typed[0])
    editor = page.table.delegate.open_editor()
    assert editor is not None, "typing did not start editing"
    qtbot.keyClicks(editor, typed[1:])
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not page.table.is_editing())


def good_texts(sheet: SheetRow) -> dict[str, str]:
    """A month that reads well for the property: its projection, met exactly."""
    p = sheet.projection
    return {
        "actual_rent_collected": str(p.rent), "actual_vacancy_rate": "0",
        "expenses_total": str(p.rent - p.noi), "actual_noi": str(p.noi),
        "actual_monthly_cash_flow": str(p.cash_flow), "actual_dscr": str(p.dscr),
    }  # fmt: skip


def sheet_row(pid: int, entered: bool = False, loan: str | None = "conventional") -> SheetRow:
    texts = dict.fromkeys(PERIOD_FIELDS, "")
    if entered:
        texts.update(
            actual_rent_collected="2000.00", actual_vacancy_rate="5%", expenses_total="700.00",
            actual_noi="1300.00", actual_monthly_cash_flow="330.00", actual_dscr="1.30",
        )  # fmt: skip
    return SheetRow(
        pid, f"PF-{pid:05d}", "CA-BAKERSFIELD", "Golden State Rentals LP", loan,
        Projection(Decimal(2100), Decimal(1400), Decimal(350), Decimal("1.35")),
        Decimal("1.25"), 100 + pid if entered else None, 1 if entered else None, texts,
    )  # fmt: skip


# -- pure parts ------------------------------------------------------------------------------


def test_blocks_read_and_write_like_a_spreadsheet() -> None:
    assert parse_block("1\t2\t3\r\n4\t5\t6\r\n") == [["1", "2", "3"], ["4", "5", "6"]]
    assert parse_block("7") == [["7"]]
    assert parse_block("") == []
    assert parse_block('a\t"two\nlines"\tc\n') == [["a", "two\nlines", "c"]]
    assert parse_block("a\t\tc") == [["a", "", "c"]]
    rows = [["1,200.00", "5%"], ["note\twith tab", ""]]
    assert parse_block(format_block(rows)) == rows


def test_the_model_passes_qtmodeltester(qtmodeltester) -> None:
    model = MonthGridModel()
    model.load([sheet_row(1, entered=True), sheet_row(2), sheet_row(3)])
    qtmodeltester.check(model)
    assert model.set_texts([(1, RENT, "-5"), (2, VACANCY, "5"), (0, GRADE, "A"), (9, RENT, "1")])
    qtmodeltester.check(model)
    proxy = MonthGridFilter()
    proxy.setSourceModel(model)
    proxy.set_text("pf-00002")
    qtmodeltester.check(proxy)
    model.load([])
    qtmodeltester.check(model)


def test_the_model_checks_each_row_as_it_is_typed() -> None:
    model = MonthGridModel()
    model.load([sheet_row(1, entered=True), sheet_row(2)])
    counts: list[int] = []
    model.changed_count.connect(counts.append)
    assert model.index(0, GRADE).data() == "B"  # 330 of 350 projected, DSCR 1.30 ≥ 1.25
    assert model.index(0, RENT).data() == "2,000.00"  # shown with separators
    assert model.index(0, RENT).data(Qt.ItemDataRole.EditRole) == "2000.00"
    assert model.index(0, VACANCY).data() == "5%"
    assert model.index(1, GRADE).data() == "" and model.index(1, RENT).data(PROBLEM_ROLE) is None
    assert model.index(0, RENT).data(Qt.ItemDataRole.TextAlignmentRole) & int(
        Qt.AlignmentFlag.AlignRight
    )
    assert not model.index(0, PROPERTY).flags() & Qt.ItemFlag.ItemIsEditable
    assert not model.index(0, GRADE).flags() & Qt.ItemFlag.ItemIsEditable
    assert model.index(0, NOTES).flags() & Qt.ItemFlag.ItemIsEditable

    # The same value typed another way is no change.
    assert model.setData(model.index(0, RENT), "2,000")
    assert model.setData(model.index(0, VACANCY), "0.05")
    assert not model.has_changes() and counts == []

    assert model.setData(model.index(1, RENT), "abc")
    assert model.index(1, RENT).data(PROBLEM_ROLE) == "'abc' is not a number"
    assert model.index(1, RENT).data(Qt.ItemDataRole.BackgroundRole) is not None
    assert "Rent collected: 'abc' is not a number" in model.index(1, RENT).data(
        Qt.ItemDataRole.ToolTipRole
    )
    assert model.index(1, NOI).data(PROBLEM_ROLE) == "required"  # the row is begun
    assert model.index(1, RENT).data(CHANGED_ROLE)
    assert model.index(1, RENT).data(Qt.ItemDataRole.FontRole).bold()
    assert model.headerData(1, Qt.Orientation.Vertical) == CHANGED_MARK
    assert counts == [1]

    # A breakdown without a total: the total is the sum, shown greyed.
    model.set_texts(
        [(1, RENT, "2100"), (1, VACANCY, "0"), (1, MAINTENANCE, "400"), (1, TAXES, "300"),
         (1, NOI, "1400"), (1, CASH_FLOW, "350"), (1, DSCR, "1.35")]
    )  # fmt: skip
    assert model.index(1, TOTAL).data() == "700.00"
    assert model.index(1, TOTAL).data(Qt.ItemDataRole.EditRole) == ""
    assert model.index(1, GRADE).data() == "A"
    assert model.rows_to_save()[0].performance_id == 2
    assert model.rows_to_save()[0].texts["maintenance"] == "400"

    # Emptying a month that was entered is refused on the property's cell.
    model.set_texts((0, c, "") for c in FIELD_COLUMNS.values())
    assert model.index(0, PROPERTY).data(PROBLEM_ROLE) == EMPTIED
    assert model.index(0, GRADE).data() == ""


# -- the page ---------------------------------------------------------------------------------


def test_the_grid_reads_the_chosen_month(
    qtbot, ctx: AppContext, demo_path: Path, store: Database, prompts: FakePrompts
) -> None:
    page = open_grid(qtbot, ctx, demo_path, None)
    today = dt.date.today()
    assert page.month() == previous_month(today)  # the default: the month before this one
    maximum = page.month_edit.maximumDate()
    assert (maximum.year(), maximum.month()) == (today.year, today.month)
    assert page.month_edit.displayFormat() == "MMMM yyyy"

    assert page.set_month(*ENTERED)
    settle(qtbot, page)
    sheet = month_sheet(store, *ENTERED)
    assert page.model.rowCount() == len(sheet) == 6
    assert page.count_label.text() == "6 properties · 6 entered"
    assert not page.save_button.isEnabled()
    for row, stored in enumerate(sheet):
        assert page.model.index(row, PROPERTY).data() == stored.label
        assert page.model.index(row, PROPERTY).data(PERFORMANCE_ID_ROLE) == (stored.performance_id)
        for name, column in FIELD_COLUMNS.items():
            assert (
                page.model.index(row, column).data(Qt.ItemDataRole.EditRole) == (stored.texts[name])
            )
        try:
            values = parse_period(stored.texts, stored.loan_type)
        except FieldErrors as exc:  # the demo stores what the rules refuse (a DSCR below 0)
            assert page.model.line(row).errors == exc.errors
            assert page.model.index(row, GRADE).data() == ""
            continue
        expected = assess(stored.projection, values.actuals(), stored.required_dscr).grade
        assert page.model.index(row, GRADE).data() == expected.value

    page.step_month(1)  # March: nobody has entered it yet
    settle(qtbot, page)
    assert page.month() == EMPTY
    assert page.count_label.text() == "6 properties · 0 entered"
    assert all(page.model.index(r, GRADE).data() == "" for r in range(6))

    market = page.model.line(5).sheet.market_key
    in_market = sum(1 for line in page.model.lines() if line.sheet.market_key == market)
    qtbot.keyClicks(page.filter_edit, market.lower())
    assert page.proxy.rowCount() == in_market < 6
    assert page.count_label.text() == f"{in_market} of 6 properties · 0 entered"
    page.filter_edit.setText("no such place")
    assert page.body.currentWidget() is page.empty_label
    assert "No property, market or buyer matches" in page.empty_label.text()
    page.filter_edit.clear()
    assert page.body.currentWidget() is page.table
    assert prompts.errors == []


def test_typing_marks_bad_cells_and_grades_good_rows(qtbot, grid: MonthGridPage) -> None:
    page = grid
    type_into(qtbot, page, 0, RENT, "-5")
    assert page.current_cell() == (1, RENT)  # Enter commits and moves down
    bad = cell(page, 0, RENT)
    assert bad.data(PROBLEM_ROLE) == "must not be negative (got -5)"
    assert bad.data(Qt.ItemDataRole.BackgroundRole) is not None
    assert bad.data(Qt.ItemDataRole.ToolTipRole).startswith("Rent collected: must not be")
    assert cell(page, 0, GRADE).data() == ""
    assert page.save_button.text() == "&Save month (1)"

    sheet = page.model.line(1).sheet
    good = good_texts(sheet)
    for name in ("actual_rent_collected", "actual_vacancy_rate", "expenses_total"):
        type_into(qtbot, page, 1, F[name], good[name])
    assert cell(page, 1, GRADE).data() == ""  # NOI, cash flow and DSCR still missing
    assert cell(page, 1, NOI).data(PROBLEM_ROLE) == "required"
    for name in ("actual_noi", "actual_monthly_cash_flow", "actual_dscr"):
        type_into(qtbot, page, 1, F[name], good[name])
    assert cell(page, 1, NOI).data(PROBLEM_ROLE) is None
    assert cell(page, 1, GRADE).data() == "A"  # the projection met exactly
    assert cell(page, 1, GRADE).data(Qt.ItemDataRole.ToolTipRole).startswith("Grade A")
    type_into(qtbot, page, 1, CASH_FLOW, "-10")
    assert cell(page, 1, GRADE).data() == "D"  # a negative cash flow
    assert cell(page, 1, CASH_FLOW).data(Qt.ItemDataRole.FontRole).bold()  # changed
    assert page.save_button.text() == "&Save month (2)"
    assert page.count_label.text() == "6 properties · 0 entered · 2 changed"

    # Escape leaves the cell as it was; F2 edits it.
    go(page, 2, RENT)
    qtbot.keyClick(page.table, "9")
    editor = page.table.delegate.open_editor()
    assert editor is not None
    qtbot.keyClick(editor, Qt.Key.Key_Escape)
    assert text(page, 2, RENT) == ""
    # Enter on a cell that is not being edited moves down; Shift+Enter up.
    go(page, 2, RENT)
    qtbot.keyClick(page.table, Qt.Key.Key_Return)
    assert page.current_cell() == (3, RENT)
    qtbot.keyClick(page.table, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    assert page.current_cell() == (2, RENT)
    qtbot.keyClick(page.table, Qt.Key.Key_Tab)
    assert page.current_cell() == (2, VACANCY)


def test_paste_fills_a_block_from_the_current_cell(qtbot, grid: MonthGridPage) -> None:
    page = grid
    QGuiApplication.clipboard().setText(
        "2,100\t5%\t300\t120\n2200\t0\t310\t125\n2300\t0.1\t320\t130\n"
    )
    go(page, 1, RENT)
    ctrl(qtbot, page.table, Qt.Key.Key_V)
    typed = [[text(page, r, c) for c in (RENT, VACANCY, MAINTENANCE, MGMT)] for r in (1, 2, 3)]
    assert typed == [
        ["2,100", "5%", "300", "120"],
        ["2200", "0", "310", "125"],
        ["2300", "0.1", "320", "130"],
    ]
    assert [text(page, r, RENT) for r in (0, 4)] == ["", ""]  # nothing around the block
    assert text(page, 1, TAXES) == ""
    assert cell(page, 1, VACANCY).data() == "5%" and cell(page, 3, VACANCY).data() == "10%"
    assert len(page.table.selectionModel().selectedIndexes()) == 12  # the block is selected
    assert page.model.changed_rows() == [1, 2, 3]

    # A block running onto read-only and missing columns: those cells are ignored.
    page.table.clearSelection()
    go(page, 4, NOTES)
    assert page.table.paste("Boiler replaced\tA\tZ") == 1
    assert text(page, 4, NOTES) == "Boiler replaced"
    assert cell(page, 4, GRADE).data() == ""
    # One copied cell fills every selected cell.
    go(page, 0, DSCR)
    page.table.selectionModel().select(
        cell(page, 5, DSCR), page.table.selectionModel().SelectionFlag.Select
    )
    page.table.selectionModel().select(
        cell(page, 0, NOI), page.table.selectionModel().SelectionFlag.Select
    )
    assert page.table.paste("1.4\n") == 3
    assert [text(page, 0, DSCR), text(page, 5, DSCR), text(page, 0, NOI)] == ["1.4"] * 3

    # Pasting with a filter fills the rows as they are seen.
    markets = [line.sheet.market_key for line in page.model.lines()]
    page.filter_edit.setText(max(markets, key=markets.count))
    assert 2 <= page.proxy.rowCount() < 6
    shown = [page.proxy.mapToSource(cell(page, r, 0)).row() for r in range(2)]
    page.table.clearSelection()
    go(page, 0, TAXES)
    page.table.paste("11\n22")
    assert [page.model.line(r).texts["taxes"] for r in shown] == ["11", "22"]


def test_delete_clears_and_ctrl_c_copies_the_selected_block(
    qtbot, ctx: AppContext, demo_path: Path, store: Database
) -> None:
    page = open_grid(qtbot, ctx, demo_path, ENTERED)
    before = [[text(page, r, c) for c in (RENT, VACANCY)] for r in (0, 1)]
    go(page, 0, RENT)
    selection = page.table.selectionModel()
    for r, c in ((0, VACANCY), (1, RENT), (1, VACANCY)):
        selection.select(cell(page, r, c), selection.SelectionFlag.Select)
    ctrl(qtbot, page.table, Qt.Key.Key_C)
    assert parse_block(QGuiApplication.clipboard().text()) == before

    qtbot.keyClick(page.table, Qt.Key.Key_Delete)
    assert [[text(page, r, c) for c in (RENT, VACANCY)] for r in (0, 1)] == [["", ""], ["", ""]]
    assert cell(page, 0, RENT).data(PROBLEM_ROLE) == "required"
    assert cell(page, 0, RENT).data(Qt.ItemDataRole.ToolTipRole).startswith("Rent collected:")
    assert page.model.changed_rows() == [0, 1]
    assert text(page, 0, MAINTENANCE) != ""  # only the selected cells

    # Read-only cells are left alone; the property's cell copies as shown.
    page.table.clearSelection()
    go(page, 2, PROPERTY)
    qtbot.keyClick(page.table, Qt.Key.Key_Delete)
    assert cell(page, 2, PROPERTY).data() == month_sheet(store, *ENTERED)[2].label
    assert page.table.copy_selection() == f"{cell(page, 2, PROPERTY).data()}\n"


def test_save_writes_every_row_or_none(
    qtbot, grid: MonthGridPage, store: Database, prompts: FakePrompts
) -> None:
    page = grid
    said: list[str] = []
    changed: list[str] = []
    page.ctx.events.status_message.connect(said.append)
    page.ctx.events.data_changed.connect(changed.append)
    sheet = month_sheet(store, *EMPTY)
    order = [FIELD_COLUMNS[n] for n in PERIOD_FIELDS]
    assert order == list(range(order[0], order[0] + len(order)))  # typed columns side by side
    rows = []
    for s in sheet[:4]:
        texts = good_texts(s)
        rows.append([texts.get(n, "") for n in PERIOD_FIELDS])
    rows[2][0] = "-5"  # PF's rent collected: never negative
    rows[3][-1] = "New roof"
    bad = sheet[2]
    go(page, 0, RENT)
    page.table.paste(format_block(rows))
    assert page.model.changed_rows() == [0, 1, 2, 3]

    ctrl(qtbot, page.table, Qt.Key.Key_S)
    qtbot.waitUntil(lambda: page.problems_panel.isVisible() and not page.ctx.ops.active())
    assert all(r.period_id is None for r in month_sheet(store, *EMPTY))  # nothing written
    line = f"{bad.label} ({bad.market_key}): Rent collected: must not be negative (got -5)"
    assert page.problems() == [line]
    assert page.problems_heading.text().startswith("March 2026: 1 row to correct; nothing was")
    assert text(page, 0, RENT) == rows[0][0] and text(page, 2, RENT) == "-5"  # kept
    assert page.model.changed_rows() == [0, 1, 2, 3]
    assert page.current_cell() == (2, RENT)  # the first problem's cell
    assert said == [] and RENT_ROLL not in changed and prompts.errors == []

    go(page, 5, NOTES)
    item = page.problems_list.item(0)
    page.problems_list.itemClicked.emit(item)
    assert page.current_cell() == (2, RENT)
    assert not item.font().strikeOut()
    type_into(qtbot, page, 2, RENT, str(bad.projection.rent))
    assert page.problems_list.item(0).font().strikeOut()  # put right since

    ctrl(qtbot, page.table, Qt.Key.Key_S)
    settle(qtbot, page)
    assert said == ["Saved March 2026: 4 added, 0 updated"]
    assert changed == [RENT_ROLL]
    assert not page.problems_panel.isVisible()
    stored = month_sheet(store, *EMPTY)
    assert [r.period_id is not None for r in stored] == [True] * 4 + [False] * 2
    assert stored[3].texts["notes"] == "New roof"
    assert page.count_label.text() == "6 properties · 4 entered"
    assert not page.model.has_changes() and not page.save_button.isEnabled()
    assert page.model.index(0, GRADE).data() == Grade.A.value

    # A change to an entered month is an update.
    type_into(qtbot, page, 1, CASH_FLOW, "-25")
    page.save()
    settle(qtbot, page)
    assert said[-1].startswith("Saved March 2026: 0 added, 1 updated")  # then any alerts
    assert month_sheet(store, *EMPTY)[1].texts["actual_monthly_cash_flow"] == "-25.00"
    assert page.model.index(1, GRADE).data() == "D"
    assert prompts.errors == []


def test_a_month_entered_elsewhere_meanwhile_is_refused_by_row(
    qtbot, grid: MonthGridPage, store: Database
) -> None:
    from app.services.postclose.periods import add_period

    page = grid
    first = page.model.line(0).sheet
    add_period(store, first.performance_id, *EMPTY, good_texts(first))  # another workstation
    page.model.set_texts((0, F[n], t) for n, t in good_texts(first).items())
    page.save()
    qtbot.waitUntil(lambda: page.problems_panel.isVisible() and not page.ctx.ops.active())
    assert page.problems()[0].endswith(
        "Month: entered already on another workstation; reload the month"
    )
    assert cell(page, 0, PROPERTY).data(PROBLEM_ROLE).startswith("entered already")
    assert page.current_cell() == (0, PROPERTY)


def test_emptying_an_entered_month_is_refused_before_saving(
    qtbot, ctx: AppContext, demo_path: Path, store: Database
) -> None:
    page = open_grid(qtbot, ctx, demo_path, ENTERED)
    page.model.set_texts((0, c, "") for c in FIELD_COLUMNS.values())
    page.save()
    assert not page.ctx.ops.active()  # nothing was sent
    label = f"{page.model.line(0).sheet.label} ({page.model.line(0).sheet.market_key})"
    assert page.problems() == [f"{label}: Month: {EMPTIED}"]
    assert month_sheet(store, *ENTERED)[0].period_id is not None


def test_changing_month_or_reloading_asks_before_discarding(
    qtbot, grid: MonthGridPage, store: Database
) -> None:
    page = grid
    asked: list[str] = []
    answer = [False]

    def confirm(_parent, _title: str, question: str) -> bool:
        asked.append(question)
        return answer[0]

    page.confirm = confirm
    page.step_month(-1)  # nothing typed: no question
    settle(qtbot, page)
    assert page.month() == ENTERED and asked == []
    page.step_month(1)
    settle(qtbot, page)

    type_into(qtbot, page, 0, RENT, "1000")
    page.step_month(-1)
    assert asked == ["Show February 2026 and discard 1 changed row of March 2026 not saved yet?"]
    assert page.month() == EMPTY and text(page, 0, RENT) == "1000"  # kept
    page.ask_reload()
    assert len(asked) == 2 and asked[1].startswith("Read the month again and discard 1")
    assert text(page, 0, RENT) == "1000"

    answer[0] = True
    page.ask_reload()
    settle(qtbot, page)
    assert text(page, 0, RENT) == "" and not page.model.has_changes()
    type_into(qtbot, page, 0, RENT, "1000")
    page.step_month(-1)
    settle(qtbot, page)
    assert page.month() == ENTERED and page.model.line(0).entered


def test_a_remote_change_reloads_unless_something_is_typed(
    qtbot, grid: MonthGridPage, store: Database
) -> None:
    from app.services.postclose.periods import add_period

    page = grid
    first = page.model.line(0).sheet
    add_period(store, first.performance_id, *EMPTY, good_texts(first))
    page.ctx.events.changed(RENT_ROLL)
    qtbot.waitUntil(lambda: page.model.line(0).entered)
    settle(qtbot, page)
    type_into(qtbot, page, 1, RENT, "5")
    second = page.model.line(2).sheet
    add_period(store, second.performance_id, *EMPTY, good_texts(second))
    page.ctx.events.changed(RENT_ROLL)
    qtbot.wait(400)
    assert not page.model.line(2).entered and text(page, 1, RENT) == "5"  # typing kept


def test_empty_states(qtbot, ctx: AppContext, prepared_db_path: Path) -> None:
    page = MonthGridPage(ctx)
    qtbot.addWidget(page)
    page.show()
    assert page.body.currentWidget() is page.empty_label
    assert page.empty_label.text() == "Open a database to enter month-end figures."
    assert not page.save_button.isEnabled() and not page.month_edit.isEnabled()
    ctx.database.open(ExplicitUrl(f"sqlite:///{prepared_db_path}"))
    settle(qtbot, page)
    assert page.body.currentWidget() is page.empty_label
    assert page.empty_label.text().startswith("No properties to enter for ")
    assert page.month_edit.isEnabled()


def test_the_page_is_registered() -> None:
    from app.gui.pages import PAGES

    spec = next(s for s in PAGES if s.key == "month_end")
    assert (spec.title, spec.order, spec.icon) == ("Month end", 152, "month_end")
    assert len(COLUMNS) == 3 + len(PERIOD_FIELDS) + 1
    assert QApplication.instance() is not None


def test_a_row_changed_elsewhere_is_a_conflict_and_the_typing_stays(
    qtbot, ctx: AppContext, demo_path: Path, store: Database, prompts: FakePrompts
) -> None:
    from app.services.postclose.periods import update_period

    page = open_grid(qtbot, ctx, demo_path, ENTERED)
    row = next(i for i, line in enumerate(page.model.lines()) if line.grade is not None)
    first = page.model.line(row).sheet
    assert first.period_id is not None and first.version is not None
    update_period(store, first.period_id, {**first.texts, "notes": "elsewhere"}, first.version)
    type_into(qtbot, page, row, NOTES, "here")
    page.save()
    qtbot.waitUntil(lambda: bool(prompts.errors) and not page.ctx.ops.active())
    assert "was changed on another workstation" in prompts.errors[0].text
    assert text(page, row, NOTES) == "here" and page.model.has_changes()
    assert month_sheet(store, *ENTERED)[row].texts["notes"] == "elsewhere"


def test_the_month_is_read_when_the_page_is_first_shown(
    qtbot, ctx: AppContext, demo_path: Path
) -> None:
    page = MonthGridPage(ctx)
    qtbot.addWidget(page)
    ctx.database.open(ExplicitUrl(f"sqlite:///{demo_path}"))
    qtbot.waitUntil(lambda: ctx.database.is_open and not ctx.ops.active())
    assert page._loaded is None and page.model.rowCount() == 0  # hidden: nothing read
    page.show()
    settle(qtbot, page)
    assert page.model.rowCount() == 6 and page.month() == previous_month(dt.date.today())
