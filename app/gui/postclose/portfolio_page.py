"""The Portfolio page (SPEC §9, portfolio analytics): how the properties perform after close,
filtered by market, strategy, buyer, buy box and closing days — the summary, three charts, the
breakdowns by market, strategy and buyer, every property (double-click or Enter: its history),
the buy boxes below 60 %, and export to PDF and XLSX.

A refresh reads everything in one background task (``portfolio_data.read_page``) and applies it
on the GUI thread cheaply: models are reset, never sorted by a proxy; an older refresh that
ends after a newer one started is ignored (generation counter). The page reads itself when
shown if something changed meanwhile. pyqtgraph is imported when the charts are first shown,
not at start-up.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QByteArray, QEvent, QModelIndex, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QKeySequence, QPalette, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.gui import events
from app.gui.context import AppContext
from app.gui.dashboard.card_delegate import mix
from app.gui.pages import page
from app.gui.postclose.portfolio_data import PageData, read_page
from app.gui.postclose.portfolio_delegate import GradeChipDelegate
from app.gui.postclose.portfolio_filters import PortfolioFilterBar
from app.gui.postclose.portfolio_models import (
    GRADE_COLUMN,
    NOT_GRADED_COLUMN,
    ROW_ROLE,
    BreakdownModel,
    Group,
    RecordsModel,
    SortedRowsModel,
    WarningsModel,
)
from app.gui.postclose.portfolio_summary import SummaryTiles
from app.services.postclose.portfolio import BuyBoxFigures, PortfolioRecord

if TYPE_CHECKING:
    from app.gui.postclose.portfolio_charts import PortfolioCharts
    from app.gui.postclose.portfolio_history import PropertyHistoryDialog
    from app.services.database import Database
    from app.services.schema import SchemaStatus

#: The data_changed kinds this page shows.
KINDS = ("rent_roll", "buyers", "buy_boxes", "performance_records")
REFRESH_DEBOUNCE_MS = 150
SETTINGS = "portfolio"
EMPTY_TEXT = "No performance records yet — they are created at close on the Rent roll page."
NO_DATABASE_TEXT = "Open a database to see how the properties perform."
NO_WARNINGS_TEXT = "No buy box is below 60 %"
MARKET_TAB, STRATEGY_TAB, BUYER_TAB, RECORDS_TAB = range(4)

#: ``choose(parent, caption, suggested_path, name_filter) -> path or None``: tests replace it.
FileChooser = Callable[[QWidget, str, str, str], str | None]

_STYLE = """
QFrame[role="tile"], QFrame[role="panel"] {{
    background: palette(base);
    border: 1px solid {line};
    border-radius: 8px;
}}
QFrame[role="tile"] QLabel, QFrame[role="panel"] QLabel {{ background: transparent; border: none; }}
QLabel[role="tileCaption"] {{ color: palette(placeholder-text); font-weight: 600; }}
QLabel[role="tileValue"] {{ font-size: 17pt; font-weight: 600; }}
QLabel[role="sectionTitle"] {{ font-size: 11pt; font-weight: 600; }}
QLabel#portfolioEmpty {{ font-size: 12pt; }}
"""


def choose_save_path(parent: QWidget, caption: str, suggested: str, name_filter: str) -> str | None:
    path, _ = QFileDialog.getSaveFileName(parent, caption, suggested, name_filter)
    return path or None


def _table(name: str, accessible: str, model: SortedRowsModel, sortable: bool) -> QTableView:
    view = QTableView()
    view.setObjectName(name)
    view.setAccessibleName(accessible)
    view.setModel(model)
    view.setAlternatingRowColors(True)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setWordWrap(False)
    rows = view.verticalHeader()
    rows.hide()
    rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    rows.setDefaultSectionSize(view.fontMetrics().height() + 10)
    header = view.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    header.setStretchLastSection(True)
    header.setResizeContentsPrecision(200)  # size columns from the first rows, not 5,000
    header.setHighlightSections(False)
    if sortable:
        header.setSortIndicator(0, Qt.SortOrder.AscendingOrder)
        view.setSortingEnabled(True)
    return view


class PortfolioPage(QWidget):
    #: The data of a refresh has been applied (tests and the timing wait on it).
    refreshed = Signal()

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("portfolioPage")
        self.ctx = ctx
        self.choose_file: FileChooser = choose_save_path
        self._db: Database | None = None
        self._generation = 0
        self._stale = True
        self._choices_stale = True
        self._loading = False
        self._style_key = ""
        self._sized: set[str] = set()
        self.data: PageData | None = None
        self.charts: PortfolioCharts | None = None
        self.history_dialog: PropertyHistoryDialog | None = None
        self.last_refresh_ms: float | None = None
        self.last_export: str | None = None

        # -- top: title, status and exports ------------------------------------------------
        title = QLabel("Portfolio")
        title.setProperty("role", "pageTitle")
        self.status = QLabel()
        self.status.setObjectName("portfolioStatus")
        self.status.setProperty("role", "hint")
        self.pdf_button = QPushButton("Export &PDF…")
        self.pdf_button.setObjectName("exportPdf")
        self.pdf_button.setToolTip("The summary, charts and breakdowns as a PDF report")
        self.pdf_button.clicked.connect(self.export_pdf)
        self.xlsx_button = QPushButton("Export &XLSX…")
        self.xlsx_button.setObjectName("exportXlsx")
        self.xlsx_button.setToolTip("Every figure and property in an Excel workbook")
        self.xlsx_button.clicked.connect(self.export_xlsx)
        top = QHBoxLayout()
        top.addWidget(title)
        top.addSpacing(12)
        top.addWidget(self.status, 1)
        top.addWidget(self.pdf_button)
        top.addWidget(self.xlsx_button)

        self.filter_bar = PortfolioFilterBar()
        self.filter_bar.changed.connect(self._filters_changed)
        self.tiles = SummaryTiles()

        # -- charts (built when first shown) --------------------------------------------------
        self.charts_holder = QWidget()
        self.charts_holder.setObjectName("chartsHolder")
        self.charts_holder.setMinimumHeight(200)
        self._charts_layout = QVBoxLayout(self.charts_holder)
        self._charts_layout.setContentsMargins(0, 0, 0, 0)

        # -- tables -------------------------------------------------------------------------
        self.market_model = BreakdownModel("Market", self)
        self.strategy_model = BreakdownModel("Strategy", self)
        self.buyer_model = BreakdownModel("Buyer", self)
        self.records_model = RecordsModel(self)
        self.warnings_model = WarningsModel(self)
        self.market_table = _table("byMarketTable", "By market", self.market_model, True)
        self.strategy_table = _table("byStrategyTable", "By strategy", self.strategy_model, True)
        self.buyer_table = _table("byBuyerTable", "By buyer", self.buyer_model, True)
        self.records_table = _table("recordsTable", "Properties", self.records_model, True)
        self.records_table.setItemDelegateForColumn(
            GRADE_COLUMN, GradeChipDelegate(self.records_table)
        )
        self.records_table.setToolTip("Double-click or press Enter: the property's history")
        self.records_table.activated.connect(self._record_activated)
        for view, field in (
            (self.market_table, "market"),
            (self.strategy_table, "strategy"),
            (self.buyer_table, "buyer"),
        ):
            view.setToolTip("Double-click or press Enter: show only this one")
            view.activated.connect(partial(self._group_activated, field))
        self.tabs = QTabWidget()
        self.tabs.setObjectName("portfolioTabs")
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.market_table, "By market")
        self.tabs.addTab(self.strategy_table, "By strategy")
        self.tabs.addTab(self.buyer_table, "By buyer")
        self.tabs.addTab(self.records_table, "Properties")

        self.warnings_table = _table("warningsTable", "Buy boxes below 60 %",
                                     self.warnings_model, False)  # fmt: skip
        self.warnings_table.setToolTip("Double-click or press Enter: show only this buy box")
        self.warnings_table.activated.connect(self._box_activated)
        warnings_header = self.warnings_table.horizontalHeader()
        warnings_header.setStretchLastSection(False)
        warnings_header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        warnings_header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.warnings_empty = QLabel(NO_WARNINGS_TEXT)
        self.warnings_empty.setObjectName("warningsEmpty")
        self.warnings_empty.setProperty("role", "ok")
        self.warnings_empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.warnings_empty.setWordWrap(True)
        self.warnings_stack = QStackedWidget()
        self.warnings_stack.addWidget(self.warnings_table)
        self.warnings_stack.addWidget(self.warnings_empty)
        warnings_title = QLabel("Buy boxes below 60 %")
        warnings_title.setProperty("role", "sectionTitle")
        self.warnings_note = QLabel("Share of graded properties at A or B; below 40 % is critical")
        self.warnings_note.setProperty("role", "hint")
        self.warnings_note.setWordWrap(True)
        self.warnings_panel = QFrame()
        self.warnings_panel.setObjectName("warningsPanel")
        self.warnings_panel.setProperty("role", "panel")
        panel = QVBoxLayout(self.warnings_panel)
        panel.setContentsMargins(10, 8, 10, 10)
        panel.addWidget(warnings_title)
        panel.addWidget(self.warnings_note)
        panel.addWidget(self.warnings_stack, 1)

        self.bottom_splitter = QSplitter(Qt.Orientation.Horizontal)
        self.bottom_splitter.setObjectName("portfolioBottomSplitter")
        self.bottom_splitter.addWidget(self.tabs)
        self.bottom_splitter.addWidget(self.warnings_panel)
        self.bottom_splitter.setStretchFactor(0, 3)
        self.bottom_splitter.setStretchFactor(1, 1)
        self.bottom_splitter.setSizes([880, 380])
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setObjectName("portfolioSplitter")
        self.splitter.addWidget(self.charts_holder)
        self.splitter.addWidget(self.bottom_splitter)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 3)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setSizes([300, 420])

        content = QWidget()
        body = QVBoxLayout(content)
        body.setContentsMargins(0, 0, 0, 0)
        body.setSpacing(10)
        body.addWidget(self.tiles)
        body.addWidget(self.splitter, 1)
        self.empty_label = QLabel(NO_DATABASE_TEXT)
        self.empty_label.setObjectName("portfolioEmpty")
        self.empty_label.setProperty("role", "hint")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setWordWrap(True)
        self.stack = QStackedWidget()
        self.stack.addWidget(content)
        self.stack.addWidget(self.empty_label)
        self.content = content

        layout = QVBoxLayout(self)
        layout.setSpacing(10)
        layout.addLayout(top)
        layout.addWidget(self.filter_bar)
        layout.addWidget(self.stack, 1)

        QShortcut(QKeySequence.StandardKey.Refresh, self, self.reload)
        self._refresh_timer = QTimer(self, singleShot=True, interval=REFRESH_DEBOUNCE_MS)
        self._refresh_timer.timeout.connect(self._refresh_when_shown)
        self._restore_settings()
        self.splitter.splitterMoved.connect(self._save_splitters)
        self.bottom_splitter.splitterMoved.connect(self._save_splitters)

        ctx.database.opened.connect(self._on_opened)
        ctx.database.closed.connect(self._on_closed)
        ctx.database.failed.connect(self._on_closed)
        ctx.events.data_changed.connect(self._on_data_changed)
        if ctx.database.db is not None:
            self._db = ctx.database.db
        self._apply_style()
        self._show_state()

    # -- style and settings --------------------------------------------------------------------

    def _apply_style(self) -> None:
        pal = self.palette()
        base = pal.color(QPalette.ColorRole.Base)
        text = pal.color(QPalette.ColorRole.Text)
        line = mix(base, text, 0.16).name()
        if line != self._style_key:
            self._style_key = line
            self.setStyleSheet(_STYLE.format(line=line))

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._apply_style()

    def _restore_settings(self) -> None:
        qs = self.ctx.settings.qsettings
        state = {
            key: str(qs.value(f"{SETTINGS}/filters/{key}", "") or "")
            for key in ("market", "strategy", "buyer", "box", "from", "to")
        }
        self.filter_bar.restore(state)
        for splitter, key in ((self.splitter, "splitter"), (self.bottom_splitter, "bottom")):
            saved = qs.value(f"{SETTINGS}/{key}")
            if isinstance(saved, QByteArray):
                splitter.restoreState(saved)

    def _save_filters(self) -> None:
        qs = self.ctx.settings.qsettings
        for key, value in self.filter_bar.state().items():
            qs.setValue(f"{SETTINGS}/filters/{key}", value)

    @Slot()
    def _save_splitters(self, *_args: object) -> None:
        qs = self.ctx.settings.qsettings
        qs.setValue(f"{SETTINGS}/splitter", self.splitter.saveState())
        qs.setValue(f"{SETTINGS}/bottom", self.bottom_splitter.saveState())

    # -- the charts, built on first use (pyqtgraph is imported then) --------------------------

    def ensure_charts(self) -> PortfolioCharts:
        if self.charts is None:
            from app.gui.postclose.portfolio_charts import PortfolioCharts

            self.charts = PortfolioCharts()
            self._charts_layout.addWidget(self.charts)
            if self.data is not None:
                self._set_charts(self.data)
        return self.charts

    def _set_charts(self, data: PageData) -> None:
        if self.charts is not None:
            report = data.report
            self.charts.set_data(data.monthly, data.dscr, report.summary, data.currency)

    # -- the database and refreshing ------------------------------------------------------------

    @Slot(object, object)
    def _on_opened(self, db: Database, _status: SchemaStatus) -> None:
        self._db = db
        self._choices_stale = True
        self._stale = True
        self.data = None
        self._sized.clear()
        self._clear()
        self._show_state()
        self._refresh_when_shown()

    @Slot()
    def _on_closed(self, *_args: object) -> None:
        self._db = None
        self._generation += 1  # whatever is still being read belongs to the old database
        self._loading = False
        self.data = None
        self._clear()
        self._show_state()

    @Slot(str)
    def _on_data_changed(self, kind: str) -> None:
        if events.concerns(kind, *KINDS):
            self._choices_stale = True
            self._stale = True
            self._refresh_timer.start()

    @Slot()
    def _refresh_when_shown(self) -> None:
        if self.isVisible():
            self.reload()
        else:
            self._stale = True

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.ensure_charts()
        if self._stale and self._db is not None:
            self.reload()

    @Slot()
    def _filters_changed(self) -> None:
        self._save_filters()
        self.reload()

    def is_loading(self) -> bool:
        return self._loading

    def reload(self) -> None:
        """Read the portfolio for the filters shown (the previous read, if any, is ignored)."""
        db = self._db
        if db is None:
            return
        self._refresh_timer.stop()
        problem = self.filter_bar.problem()
        if problem is not None:
            self._say(problem, error=True)
            return
        self._stale = False
        self._generation += 1
        generation = self._generation
        started = time.perf_counter()
        with_choices = self._choices_stale
        self._loading = True
        self._say("Reading…")
        self.ctx.ops.run(
            partial(read_page, db, self.filter_bar.filters(), with_choices),
            label="Reading the portfolio…",
            on_success=partial(self._loaded, generation, started),
            on_error=partial(self._failed, generation),
            parent=self,
        )

    def _loaded(self, generation: int, started: float, data: PageData) -> None:
        if generation != self._generation:
            return  # a newer refresh has started since
        self._loading = False
        if data.choices is not None:
            self._choices_stale = False
            self.filter_bar.set_choices(data.choices)
        self.show_data(data)
        self.last_refresh_ms = (time.perf_counter() - started) * 1000
        self.refreshed.emit()

    def _failed(self, generation: int, exc: BaseException) -> None:
        if generation != self._generation:
            return
        self._loading = False
        self._stale = True
        self._say("The portfolio could not be read.", error=True)
        self.ctx.ops.present(exc, self)

    # -- showing -------------------------------------------------------------------------------

    def show_data(self, data: PageData) -> None:
        self.data = data
        report, currency = data.report, data.currency
        summary = report.summary
        self.tiles.show_summary(summary, currency)
        self.ensure_charts()
        self._set_charts(data)
        self.market_model.set_groups(report.by_market, currency, strategy=False)
        self.strategy_model.set_groups(report.by_strategy, currency, strategy=True)
        self.buyer_model.set_groups(report.by_buyer, currency, strategy=False)
        for view in self.breakdown_tables():
            view.setColumnHidden(NOT_GRADED_COLUMN, summary.ungraded == 0)
        self.records_model.set_rows(report.records, currency)
        self.tabs.setTabText(RECORDS_TAB, f"Properties ({len(report.records):,})")
        self.warnings_model.set_boxes(report.buy_boxes)
        flagged = self.warnings_model.rowCount() > 0
        self.warnings_stack.setCurrentWidget(
            self.warnings_table if flagged else self.warnings_empty
        )
        self._size_columns()
        self._show_state()

    def breakdown_tables(self) -> tuple[QTableView, QTableView, QTableView]:
        return (self.market_table, self.strategy_table, self.buyer_table)

    def _size_columns(self) -> None:
        """Once per database, to the first figures read; afterwards the person's widths stay."""
        for view in (*self.breakdown_tables(), self.records_table):
            name = view.objectName()
            if name in self._sized or view.model().rowCount() == 0:
                continue
            self._sized.add(name)
            view.resizeColumnsToContents()
            last = view.model().columnCount() - 1
            for column in range(last):
                width = view.columnWidth(column)
                view.setColumnWidth(column, min(max(width + 6, 60), 220))

    def _clear(self) -> None:
        self.tiles.show_summary(None)
        if self.charts is not None:
            self.charts.set_data([], [], None, "USD")
        for model in (self.market_model, self.strategy_model, self.buyer_model):
            model.set_rows([])
        self.records_model.set_rows([])
        self.tabs.setTabText(RECORDS_TAB, "Properties")
        self.warnings_model.set_rows([])
        self.warnings_stack.setCurrentWidget(self.warnings_empty)

    def _show_state(self) -> None:
        data = self.data
        self._enable_exports()
        self.filter_bar.setEnabled(self._db is not None)
        if self._db is None:
            self.empty_label.setText(NO_DATABASE_TEXT)
            self.stack.setCurrentWidget(self.empty_label)
            self._say("")
            return
        if data is None:
            self.stack.setCurrentWidget(self.content)
            return
        summary, filtered = data.report.summary, not data.report.filters.is_empty
        if summary.total_deals == 0 and not filtered:
            self.empty_label.setText(EMPTY_TEXT)
            self.stack.setCurrentWidget(self.empty_label)
            self._say("")
            return
        self.stack.setCurrentWidget(self.content)
        n = summary.total_deals
        if n == 0:
            self._say("No property matches these filters; Reset shows them all.")
        elif filtered:
            self._say(f"{n:,} propert{'y matches' if n == 1 else 'ies match'} the filters")
        else:
            self._say(f"All {n:,} propert{'y' if n == 1 else 'ies'}")

    @Slot()
    def _enable_exports(self) -> None:
        data = self.data
        ready = data is not None and not (
            data.report.summary.total_deals == 0 and data.report.filters.is_empty
        )
        self.pdf_button.setEnabled(ready)
        self.xlsx_button.setEnabled(ready)

    def _say(self, text: str, error: bool = False) -> None:
        self.status.setText(text)
        role = "error" if error else "hint"
        if self.status.property("role") != role:
            self.status.setProperty("role", role)
            self.status.style().unpolish(self.status)
            self.status.style().polish(self.status)

    # -- drilling down ---------------------------------------------------------------------------

    @Slot(QModelIndex)
    def _record_activated(self, index: QModelIndex) -> None:
        record = index.data(ROW_ROLE)
        if isinstance(record, PortfolioRecord):
            self.open_history(record)

    def open_history(self, record: PortfolioRecord) -> PropertyHistoryDialog | None:
        db = self._db
        if db is None:
            return None
        from app.gui.postclose.portfolio_history import PropertyHistoryDialog

        currency = self.data.currency if self.data is not None else "USD"
        dialog = PropertyHistoryDialog(self.ctx, db, record, currency, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.destroyed.connect(self._history_closed)
        self.history_dialog = dialog
        dialog.show()
        return dialog

    @Slot()
    def _history_closed(self, *_args: object) -> None:
        self.history_dialog = None

    def _group_activated(self, field: str, index: QModelIndex) -> None:
        group = index.data(ROW_ROLE)
        if not isinstance(group, Group):
            return
        if field == "market":
            self.filter_bar.choose(market=group.key)
        elif field == "strategy":
            self.filter_bar.choose(strategy=group.key)
        elif field == "buyer":
            combo = self.filter_bar.buyer_combo
            index_of = combo.findText(group.key, Qt.MatchFlag.MatchExactly)
            if index_of > 0:
                combo.setCurrentIndex(index_of)

    @Slot(QModelIndex)
    def _box_activated(self, index: QModelIndex) -> None:
        box = index.data(ROW_ROLE)
        if isinstance(box, BuyBoxFigures):
            self.filter_bar.choose(buy_box_id=box.id)

    # -- export ----------------------------------------------------------------------------------

    def _suggested(self, extension: str) -> str:
        return f"portfolio-{dt.date.today().isoformat()}.{extension}"

    def _path(self, kind: str, extension: str, name_filter: str) -> str | None:
        path = self.choose_file(
            self, f"Export the portfolio as {kind}", self._suggested(extension), name_filter
        )
        if not path:
            return None
        return path if path.lower().endswith(f".{extension}") else f"{path}.{extension}"

    def export_xlsx(self) -> str | None:
        data = self.data
        if data is None:
            return None
        path = self._path("XLSX", "xlsx", "Excel workbook (*.xlsx)")
        if path is None:
            return None
        from app.gui.postclose.portfolio_export import write_xlsx

        self._export(partial(write_xlsx, data, path), path)
        return path

    def export_pdf(self) -> str | None:
        data = self.data
        if data is None:
            return None
        path = self._path("PDF", "pdf", "PDF document (*.pdf)")
        if path is None:
            return None
        from app.gui.postclose.portfolio_export import write_pdf

        images = self.ensure_charts().images()  # widgets are drawn on the GUI thread
        self._export(partial(write_pdf, data, images, path), path)
        return path

    def _export(self, task: Callable[[], Any], path: str) -> None:
        self._say("Exporting…")
        self.pdf_button.setEnabled(False)
        self.xlsx_button.setEnabled(False)
        self.ctx.ops.run(
            task,
            label="Exporting the portfolio…",
            progress="status",
            cancellable=False,
            on_success=partial(self._exported, path),
            on_finished=self._enable_exports,
            parent=self,
        )

    def _exported(self, path: str, _result: object) -> None:
        self.last_export = path
        self.ctx.events.say(f"Portfolio exported to {path}")
        self._say(f"Saved {path}")


@page(
    "portfolio", "Portfolio", order=154, icon="portfolio",
    tooltip="How the properties perform after close: grades, variances, buy boxes below 60 %",
)  # fmt: skip
def build_portfolio_page(ctx: AppContext) -> QWidget:
    return PortfolioPage(ctx)
