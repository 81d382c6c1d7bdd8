"""The Portfolio page over a small demo office (SQLite): the summary equals the service's
report, filters narrow every table, the buy boxes below 60 % are listed, a property's history
opens, the exports write real files, the page follows a change made elsewhere and the dark
palette, and pyqtgraph stays out of start-up."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from app.db.models import BuyBox
from app.gui import events
from app.gui.main_window import MainWindow
from app.gui.postclose.portfolio_data import rate, ratio, signed_money
from app.gui.postclose.portfolio_models import (
    GRADE_COLUMN,
    NOT_GRADED_COLUMN,
    ROW_ROLE,
    below_the_line,
)
from app.gui.postclose.portfolio_page import (
    EMPTY_TEXT,
    NO_WARNINGS_TEXT,
    RECORDS_TAB,
    PortfolioPage,
)
from app.gui.targets import ExplicitUrl
from app.gui.theme import apply_scheme
from app.services.database import Database, open_database
from app.services.postclose.portfolio import (
    PortfolioFilters,
    portfolio_report,
    property_history,
)
from tests.gui.conftest import WindowFactory, wait_settled

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from app.services.demo import generate
    from app.services.schema import prepare

    path = tmp_path_factory.mktemp("demo") / "demo.sqlite3"
    db = open_database(f"sqlite:///{path}")
    try:
        prepare(db)
        generate(db, "small")
    finally:
        db.dispose()
    return path


@pytest.fixture
def office(demo_file: Path, tmp_path: Path) -> Path:
    path = tmp_path / "office.sqlite3"
    shutil.copy(demo_file, path)
    return path


def open_page(qtbot, make_window: WindowFactory, path: Path) -> PortfolioPage:
    window = make_window()
    window.resize(1500, 950)
    window.open_database(ExplicitUrl(f"sqlite:///{path}"))
    wait_settled(qtbot, window)
    assert window.show_page("portfolio")
    page = window.page_widget("portfolio")
    assert isinstance(page, PortfolioPage)
    settle(qtbot, page)
    return page


def db_of(page: PortfolioPage) -> Database:
    assert page._db is not None
    return page._db


def settle(qtbot, page: PortfolioPage) -> None:
    """Until no refresh is due or running."""
    qtbot.waitUntil(
        lambda: (
            page.data is not None
            and not page.is_loading()
            and not page.filter_bar.pending()
            and not page._refresh_timer.isActive()
            and not page.ctx.ops.active()
        ),
        timeout=10_000,
    )


def refreshed(qtbot, page: PortfolioPage, action) -> None:
    with qtbot.waitSignal(page.refreshed, timeout=10_000):
        action()
    settle(qtbot, page)


def test_the_page_shows_the_services_figures(qtbot, make_window, office, qtmodeltester) -> None:
    page = open_page(qtbot, make_window, office)
    report = portfolio_report(db_of(page))
    s = report.summary
    tiles = page.tiles
    assert tiles.deals.value.text() == f"{s.total_deals:,}" == "6"
    assert tiles.rate.value.text() == rate(s.performance_rate)
    assert tiles.cash_flow.value.text() == signed_money(s.average_cash_flow_variance, "USD")
    assert tiles.dscr.value.text() == ratio(s.average_dscr_variance)
    for grade, count in s.grade_distribution.items():
        assert tiles.grades.chips[grade].text().split()[-1] == f"{count:,}"
    assert page.status.text() == "All 6 properties"
    assert page.stack.currentWidget() is page.content

    assert [page.market_model.index(r, 0).data() for r in range(2)] == list(report.by_market)
    assert page.strategy_model.index(0, 0).data() == "Buy & hold"
    assert page.buyer_model.rowCount() == len(report.by_buyer)
    first = page.market_model.index(0, 0).data(ROW_ROLE)
    assert first.summary == report.by_market[first.key]
    assert page.market_table.isColumnHidden(NOT_GRADED_COLUMN)  # every property is graded
    assert page.records_model.rowCount() == len(report.records)
    assert page.tabs.tabText(RECORDS_TAB) == "Properties (6)"

    charts = page.charts
    assert charts is not None
    assert len(charts.actual_line.getData()[0]) == 12  # the demo's months
    assert charts.minimum_line.value() == 1.25
    assert "default minimum" in charts.minimum_line.label.toPlainText()
    assert list(charts.grade_bars.opts["height"]) == list(s.grade_distribution.values())

    for model in (page.market_model, page.strategy_model, page.buyer_model,
                  page.records_model, page.warnings_model):  # fmt: skip
        qtmodeltester.check(model)


def test_the_properties_sort_in_the_model(qtbot, make_window, office, qtmodeltester) -> None:
    page = open_page(qtbot, make_window, office)
    model = page.records_model
    page.tabs.setCurrentIndex(RECORDS_TAB)
    page.records_table.selectRow(0)
    selected = page.records_table.currentIndex().data(ROW_ROLE)
    cf_column = GRADE_COLUMN + 1
    page.records_table.sortByColumn(cf_column, Qt.SortOrder.DescendingOrder)
    values = [model.row(r).cash_flow_variance for r in range(model.rowCount())]
    assert values == sorted(values, reverse=True)
    # The selection follows its row.
    assert page.records_table.currentIndex().data(ROW_ROLE) == selected
    page.records_table.sortByColumn(GRADE_COLUMN, Qt.SortOrder.AscendingOrder)
    grades = [model.index(r, GRADE_COLUMN).data() for r in range(model.rowCount())]
    assert grades == sorted(grades)
    qtmodeltester.check(model)


def test_a_filter_narrows_every_table(qtbot, make_window, office) -> None:
    page = open_page(qtbot, make_window, office)
    bar = page.filter_bar
    index = bar.market_combo.findData("CA-SACRAMENTO")
    assert index > 0
    refreshed(qtbot, page, lambda: bar.market_combo.setCurrentIndex(index))
    expected = portfolio_report(db_of(page), PortfolioFilters(market="CA-SACRAMENTO"))
    assert page.data is not None and page.data.report.filters.market == "CA-SACRAMENTO"
    assert page.records_model.rowCount() == len(expected.records) == 3
    assert {page.records_model.row(r).market for r in range(3)} == {"CA-SACRAMENTO"}
    assert page.market_model.rowCount() == 1
    assert page.tiles.deals.value.text() == "3"
    assert page.status.text() == "3 properties match the filters"
    # Kept in the settings for the next time.
    assert page.ctx.settings.qsettings.value("portfolio/filters/market") == "CA-SACRAMENTO"

    buy_hold = bar.strategy_combo.findData("buy_hold")
    refreshed(qtbot, page, lambda: bar.strategy_combo.setCurrentIndex(buy_hold))
    assert page.records_model.rowCount() == 0
    assert page.stack.currentWidget() is page.content  # filtered to nothing: not the empty page
    assert "No property matches" in page.status.text()

    refreshed(qtbot, page, bar.reset)
    assert page.records_model.rowCount() == 6


def test_the_filters_are_kept_for_next_time(qtbot, make_window, office, ctx) -> None:
    qs = ctx.settings.qsettings
    qs.setValue("portfolio/filters/market", "CA-BAKERSFIELD")
    qs.setValue("portfolio/filters/from", "2025-11-05")
    page = open_page(qtbot, make_window, office)
    assert page.data is not None
    assert page.data.report.filters == PortfolioFilters(
        market="CA-BAKERSFIELD", closed_from=dt.date(2025, 11, 5)
    )
    assert page.filter_bar.market_combo.currentText() == "CA-BAKERSFIELD"
    assert page.filter_bar.from_edit.text() == "5 Nov 2025"
    assert page.filter_bar.to_edit.text() == "No limit"
    assert page.records_model.rowCount() == 2  # PF-00004 closed on 4 Nov


def test_a_breakdown_row_filters_on_itself(qtbot, make_window, office) -> None:
    page = open_page(qtbot, make_window, office)
    page.tabs.setCurrentIndex(2)  # by buyer
    index = page.buyer_model.index(1, 0)
    buyer = index.data(ROW_ROLE).key
    refreshed(qtbot, page, lambda: page.buyer_table.activated.emit(index))
    assert page.filter_bar.buyer_combo.currentText() == buyer
    assert {page.records_model.row(r).buyer for r in range(page.records_model.rowCount())} == {
        buyer
    }


def test_an_older_refresh_never_overwrites_a_newer_one(qtbot, make_window, office) -> None:
    page = open_page(qtbot, make_window, office)
    seen: list[int] = []
    page.refreshed.connect(lambda: seen.append(page._generation))
    page.reload()
    page.filter_bar.market_combo.setCurrentIndex(1)
    page.filter_bar.flush()  # the second refresh starts before the first is delivered
    settle(qtbot, page)
    assert len(seen) == 1
    assert page.data is not None and page.data.report.filters.market is not None


def test_the_warnings_panel_lists_boxes_below_60(qtbot, make_window, office) -> None:
    page = open_page(qtbot, make_window, office)
    assert page.warnings_model.rowCount() == 1  # the demo's BB-0002, CRITICAL at 0 %
    db = db_of(page)
    with db.session() as s:
        s.execute(
            sa.update(BuyBox)
            .where(BuyBox.ref == "BB-0004")
            .values(performance_rate=Decimal("55.00"), warning_level="WARNING")
        )
    refreshed(qtbot, page, lambda: page.ctx.events.changed("buy_boxes"))
    model = page.warnings_model
    assert [model.row(r).ref for r in range(model.rowCount())] == ["BB-0002", "BB-0004"]
    assert model.index(1, 1).data() == "55.00%"
    assert model.index(1, 2).data() == "Warning"
    assert model.index(1, 2).data(Qt.ItemDataRole.ForegroundRole) is not None  # coloured
    assert page.warnings_stack.currentWidget() is page.warnings_table

    with db.session() as s:
        s.execute(sa.update(BuyBox).values(warning_level=None))
    refreshed(qtbot, page, lambda: page.ctx.events.changed(events.ALL))
    assert page.warnings_stack.currentWidget() is page.warnings_empty
    assert page.warnings_empty.text() == NO_WARNINGS_TEXT


def test_below_the_line_puts_the_worst_first() -> None:
    from app.services.postclose.portfolio import BuyBoxFigures

    boxes = [
        BuyBoxFigures(1, "B1", "One", Decimal("55"), "WARNING"),
        BuyBoxFigures(2, "B2", "Two", Decimal("80"), None),
        BuyBoxFigures(3, "B3", "Three", Decimal("30"), "CRITICAL"),
        BuyBoxFigures(4, "B4", "Four", Decimal("45"), "WARNING"),
    ]
    assert [b.id for b in below_the_line(boxes)] == [3, 4, 1]


def test_a_propertys_history_opens_with_its_months(
    qtbot, make_window, office, qtmodeltester
) -> None:
    page = open_page(qtbot, make_window, office)
    page.tabs.setCurrentIndex(RECORDS_TAB)
    index = page.records_model.index(1, 0)
    record = index.data(ROW_ROLE)
    page.records_table.setFocus()
    page.records_table.setCurrentIndex(index)
    QTest.keyClick(page.records_table, Qt.Key.Key_Return)  # as a double-click does
    dialog = page.history_dialog
    assert dialog is not None and dialog.record == record
    qtbot.waitUntil(dialog.is_loaded, timeout=10_000)
    points = property_history(db_of(page), record.id)
    assert dialog.model.rowCount() == len(points) > 0
    newest = points[-1]
    assert dialog.model.index(0, 6).data() == newest.grade  # the newest month first
    assert len(dialog.actual_line.getData()[0]) == len(points)
    assert "months" in dialog.status.text()
    qtmodeltester.check(dialog.model)
    dialog.close()
    qtbot.waitUntil(lambda: page.history_dialog is None, timeout=5_000)


def test_xlsx_export_writes_numbers(qtbot, make_window, office, tmp_path) -> None:
    page = open_page(qtbot, make_window, office)
    target = tmp_path / "portfolio"
    page.choose_file = lambda *_args: str(target)
    path = page.export_xlsx()
    assert path == f"{target}.xlsx"
    qtbot.waitUntil(lambda: page.last_export == path, timeout=10_000)
    settle(qtbot, page)
    book = load_workbook(path)
    assert book.sheetnames == ["Summary", "By market", "By strategy", "By buyer", "Records",
                               "Buy boxes", "Monthly cash flow"]  # fmt: skip
    report = portfolio_report(db_of(page))
    mean_cf = report.summary.average_cash_flow_variance
    assert mean_cf is not None
    summary = {row[0]: row[1] for row in book["Summary"].iter_rows(min_row=5, values_only=True)}
    assert summary["Deals"] == 6
    assert summary["Mean cash-flow variance"] == float(mean_cf)
    assert summary["Grade D"] == report.summary.grade_distribution["D"]
    by_market = list(book["By market"].iter_rows(min_row=2, values_only=True))
    assert by_market[0][0] == "CA-BAKERSFIELD" and by_market[0][1] == 3
    assert isinstance(by_market[0][8], float)  # mean cash-flow variance, a number
    assert "#,##0.00" in book["By market"].cell(row=2, column=9).number_format
    records = list(book["Records"].iter_rows(min_row=2, values_only=True))
    assert len(records) == 6
    assert all(isinstance(r[7], float) for r in records)
    assert book["Buy boxes"].cell(row=2, column=1).value == "BB-0001"
    assert len(list(book["Monthly cash flow"].iter_rows(min_row=2))) == 12


def test_pdf_export_writes_a_report(qtbot, make_window, office, tmp_path) -> None:
    page = open_page(qtbot, make_window, office)
    page.choose_file = lambda *_args: str(tmp_path / "portfolio.pdf")
    path = page.export_pdf()
    assert path is not None
    qtbot.waitUntil(lambda: page.last_export == path, timeout=10_000)
    settle(qtbot, page)
    data = Path(path).read_bytes()
    assert data.startswith(b"%PDF")
    assert len(data) > 20_000  # the three charts are in it
    pages = len(re.findall(rb"/Type\s*/Page\b", data))
    assert pages == 2  # the summary and charts; then the breakdowns on a page of their own
    assert re.search(rb"/Count\s+2\b", data)
    assert page.status.text() == f"Saved {path}"


def test_a_change_elsewhere_is_read_when_shown(qtbot, make_window, office) -> None:
    page = open_page(qtbot, make_window, office)
    window = page.window()
    assert isinstance(window, MainWindow)
    assert window.show_page("rent_roll")
    page.ctx.events.changed("rent_roll")
    qtbot.wait(250)
    assert page._stale and not page.is_loading()
    refreshed(qtbot, page, lambda: window.show_page("portfolio"))
    assert not page._stale
    page.ctx.events.changed(events.COMMISSIONS)  # not what the page shows
    assert not page._refresh_timer.isActive()


def test_no_records_shows_where_they_come_from(qtbot, make_window, prepared_db_path) -> None:
    page = open_page(qtbot, make_window, prepared_db_path)
    assert page.stack.currentWidget() is page.empty_label
    assert page.empty_label.text() == EMPTY_TEXT
    assert not page.pdf_button.isEnabled() and not page.xlsx_button.isEnabled()


def test_the_charts_follow_a_dark_palette(qtbot, make_window, office) -> None:
    page = open_page(qtbot, make_window, office)
    charts = page.charts
    assert charts is not None and not charts.dark
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    palette, sheet = app.palette(), app.styleSheet()
    try:
        apply_scheme(app, dark=True)
        qtbot.waitUntil(lambda: charts.dark, timeout=5_000)
        assert charts.cash_plot.backgroundBrush().color().lightness() < 128
        images = charts.images()  # for print: always light
        assert images[0].pixelColor(2, 2).lightness() > 200
        assert charts.dark
        apply_scheme(app, dark=False)  # and back, as when the system turns light again
        qtbot.waitUntil(lambda: not charts.dark, timeout=5_000)
    finally:
        app.setStyleSheet(sheet)
        app.setPalette(palette)


def test_pyqtgraph_is_not_imported_at_start_up() -> None:
    code = (
        "import sys\n"
        "from app.gui.pages import load_builtin_pages\n"
        "load_builtin_pages()\n"
        "assert 'app.gui.postclose.portfolio_page' in sys.modules\n"
        "assert 'pyqtgraph' not in sys.modules, 'pyqtgraph imported at start-up'\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=60)
