"""The Lead sources page (issue 7): what each lead source cost over a range of days and what it
brought in — leads, closed deals, commission — with the cost per lead, per closed deal and the
commission per unit of money spent; below, the same by person for the source selected above
(or every source).

The range is a preset (This month, Last month, This quarter, Year to date, Last 12 months) or
custom From/To days, kept between sessions. "Lead costs…" (Ctrl+L) opens the month's spend.
Everything is read in the background, again when the range changes and when spend, deals,
commissions, leads, people or the office's currency change. Who is counted is what the acting
person may see (the service decides, SPEC §1).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QItemSelection, Qt, Slot
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.domain.roi import (
    CUSTOM,
    LAST_MONTH,
    PRESETS,
    RoiReport,
    first_of_month,
    preset_range,
)
from app.gui import events
from app.gui.analytics.date_range import DateRange
from app.gui.analytics.lead_cost_dialog import LeadCostDialog
from app.gui.analytics.roi_models import (
    AGENT_COLUMNS,
    AGENT_NAME,
    KEY_ROLE,
    ROW_ROLE,
    SOURCE_COLUMNS,
    SOURCE_COST,
    RoiSortProxy,
    RoiTableModel,
    totals_text,
)
from app.gui.context import AppContext
from app.gui.page_loading import BackgroundPage, BackgroundRead
from app.gui.pages import page
from app.gui.table_page import fit_columns, make_body, make_empty_label, make_table, show_empty
from app.services.analytics.lead_costs import SPEND_KIND
from app.services.analytics.roi import roi_report
from app.services.records import Acting

if TYPE_CHECKING:
    from app.services.database import Database

#: ``AppEvents.data_changed`` kinds the page shows.
ROI_KINDS = (
    SPEND_KIND, events.DEALS, events.COMMISSIONS, events.LEADS, events.PEOPLE, events.OFFICE,
)  # fmt: skip
RANGE_KEY = "roi/range"
FROM_KEY = "roi/from"
TO_KEY = "roi/to"
SPLITTER_KEY = "roi/splitter"
#: Rows a column's width is fitted to: thousands of rows by person would take a second.
FIT_ROWS = 50
SHARED_SPEND_NOTE = (
    "Office-wide spend is not shared out to people: a person's spend is only what was bought "
    "for them (e.g. their Zillow leads), and their ratios use only that."
)


def short_date(day: dt.date) -> str:
    return f"{day.day} {day.strftime('%b')} {day.year}"


def range_text(start: dt.date, end: dt.date) -> str:
    days = (end - start).days + 1
    return f"{short_date(start)} to {short_date(end)} ({days:,} day{'s' if days != 1 else ''})"


@dataclass(frozen=True)
class RoiLoaded:
    report: RoiReport


def load_roi(db: Database, start: dt.date, end: dt.date, acting: Acting = None) -> RoiLoaded:
    """Runs on a worker."""
    return RoiLoaded(roi_report(db, start, end, acting))


def _caption(text: str) -> QLabel:
    label = QLabel(text)
    label.setStyleSheet("font-weight: 600; font-size: 11pt;")
    return label


class RoiPage(BackgroundPage):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.setObjectName("roiPage")
        #: Whose rules apply: None is the login (shared) or the one local person.
        self.acting: Acting = None
        #: Today, for the presets and the dialog's month (tests pin it).
        self.today: Callable[[], dt.date] = dt.date.today
        self._loaded: RoiLoaded | None = None
        self._problem: str | None = None
        self._fitted: set[QTableView] = set()  # fitted to their first rows; widths then stay
        self._read = BackgroundRead(
            self,
            "Reading lead-source ROI…",
            self._task,
            self._set_loaded,
            kinds=ROI_KINDS,
            refused=self._set_refused,
            delay_ms=150,
        )

        heading = QLabel("Lead sources")
        heading.setProperty("role", "pageTitle")
        self._range = DateRange(
            self,
            ctx.settings.qsettings,
            presets=PRESETS,
            preset_range=preset_range,
            default=LAST_MONTH,
            custom=CUSTOM,
            keys=(RANGE_KEY, FROM_KEY, TO_KEY),
            today=lambda: self.today(),  # looked up each time: tests pin it
            shown=self._show_range_label,
            changed=self._read.refresh_when_shown,
            focus_custom=True,
        )
        self.range_combo = self._range.combo
        self.range_combo.setToolTip("The days counted (UTC), both included")
        self.from_edit = self._range.from_edit
        self.from_edit.setToolTip("The first day counted")
        self.to_edit = self._range.to_edit
        self.to_edit.setToolTip("The last day counted")
        self.costs_button = QPushButton("Lead &costs…")
        self.costs_button.setObjectName("leadCostsButton")
        self.costs_button.setToolTip("What each source cost, month by month (Ctrl+L)")
        self.costs_button.clicked.connect(self._costs_clicked)
        top = QHBoxLayout()
        top.addWidget(heading)
        top.addStretch(1)
        for text, field in (
            ("&Range:", self.range_combo),
            ("&From", self.from_edit),
            ("&to", self.to_edit),
        ):
            buddy = QLabel(text)
            buddy.setBuddy(field)
            top.addWidget(buddy)
            top.addWidget(field)
        top.addSpacing(12)
        top.addWidget(self.costs_button)
        self.range_label = QLabel()
        self.range_label.setObjectName("rangeLabel")
        self.range_label.setProperty("role", "hint")
        self.currency_note = QLabel()
        self.currency_note.setObjectName("currencyNote")
        self.currency_note.setProperty("role", "hint")
        self.currency_note.setWordWrap(True)
        self.currency_note.hide()

        # by source
        metrics = self.fontMetrics()
        self.source_model = RoiTableModel(SOURCE_COLUMNS, self)
        self.source_proxy = RoiSortProxy(self)
        self.source_proxy.setSourceModel(self.source_model)
        self.source_table = make_table(
            "sourceTable", self.source_proxy, SOURCE_COST, metrics, Qt.SortOrder.DescendingOrder
        )
        self.source_table.setAccessibleName("Lead sources: cost and return")
        self.source_table.selectionModel().selectionChanged.connect(self._source_selected)
        self.source_empty = make_empty_label("sourceEmpty")
        self.source_body = make_body(self.source_table, self.source_empty)
        self.totals_label = QLabel()
        self.totals_label.setObjectName("totalsLabel")
        self.totals_label.setWordWrap(True)
        self.totals_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        sources = QWidget()
        sources_box = QVBoxLayout(sources)
        sources_box.setContentsMargins(0, 0, 0, 0)
        sources_box.addWidget(_caption("By source"))
        sources_box.addWidget(self.source_body, 1)
        sources_box.addWidget(self.totals_label)

        # by person
        self.agent_model = RoiTableModel(AGENT_COLUMNS, self)
        self.agent_proxy = RoiSortProxy(self)
        self.agent_proxy.setSourceModel(self.agent_model)
        self.agent_table = make_table("agentTable", self.agent_proxy, AGENT_NAME, metrics)
        self.agent_table.setAccessibleName("Lead sources by person")
        for table in (self.source_table, self.agent_table):
            table.horizontalHeader().setResizeContentsPrecision(FIT_ROWS)
        self.agent_empty = make_empty_label("agentEmpty")
        self.agent_body = make_body(self.agent_table, self.agent_empty)
        self.agent_caption = _caption("By person — every source")
        self.agent_caption.setObjectName("agentCaption")
        self.all_button = QPushButton("&All sources")
        self.all_button.setObjectName("allSourcesButton")
        self.all_button.setToolTip("Show every source's rows by person (or select a source above)")
        self.all_button.clicked.connect(self.show_all_sources)
        self.agent_note = QLabel(SHARED_SPEND_NOTE)
        self.agent_note.setObjectName("agentNote")
        self.agent_note.setProperty("role", "hint")
        self.agent_note.setWordWrap(True)
        agents = QWidget()
        agents_box = QVBoxLayout(agents)
        agents_box.setContentsMargins(0, 0, 0, 0)
        agent_bar = QHBoxLayout()
        agent_bar.addWidget(self.agent_caption)
        agent_bar.addStretch(1)
        agent_bar.addWidget(self.all_button)
        agents_box.addLayout(agent_bar)
        agents_box.addWidget(self.agent_body, 1)
        agents_box.addWidget(self.agent_note)

        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setObjectName("roiSplitter")
        self.splitter.addWidget(sources)
        self.splitter.addWidget(agents)
        self.splitter.setChildrenCollapsible(False)
        state = ctx.settings.qsettings.value(SPLITTER_KEY)
        if not (isinstance(state, QByteArray) and self.splitter.restoreState(state)):
            self.splitter.setSizes([320, 380])
        self.splitter.splitterMoved.connect(self._save_splitter)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.range_label)
        layout.addWidget(self.currency_note)
        layout.addWidget(self.splitter, 1)

        QShortcut(QKeySequence("Ctrl+L"), self, self._costs_clicked)

        self._range.restore()
        self.database_closed()
        self.watch_database()

    # -- the range ------------------------------------------------------------------------

    def preset(self) -> str:
        return self._range.preset()

    def date_range(self) -> tuple[dt.date, dt.date]:
        return self._range.dates()

    def set_preset(self, preset: str) -> None:
        """Choose a preset (as the person would in the combo)."""
        self._range.set_preset(preset)

    def set_dates(self, start: dt.date, end: dt.date) -> None:
        """A custom range (as the person would type it); the page reads at once."""
        self._range.set_dates(start, end)

    def _show_range_label(self) -> None:
        start, end = self.date_range()
        if start > end:
            self.range_label.setText("The first day is after the last: choose the range again.")
        else:
            self.range_label.setText(range_text(start, end) + ", UTC days")

    def _save_splitter(self, *_args: object) -> None:
        self.ctx.settings.qsettings.setValue(SPLITTER_KEY, self.splitter.saveState())

    # -- the database ---------------------------------------------------------------------

    def database_opened(self) -> None:
        self._fitted.clear()
        self.database_closed()  # nothing of the last database shows

    def database_closed(self) -> None:
        self._set_loaded(None)

    def _task(self, db: Database) -> Callable[[], RoiLoaded] | None:
        start, end = self.date_range()
        if start > end:  # the range label says so
            return None
        return partial(load_roi, db, start, end, self.acting)

    def _set_refused(self, text: str) -> None:
        self._set_loaded(None, text)

    def _set_loaded(self, loaded: RoiLoaded | None, problem: str | None = None) -> None:
        self._loaded = loaded
        self._problem = problem
        self._show()

    def report(self) -> RoiReport | None:
        return self._loaded.report if self._loaded is not None else None

    # -- showing --------------------------------------------------------------------------

    def _show(self) -> None:
        report = self.report()
        keep = self.selected_source()
        currency = report.currency if report is not None else "USD"
        self.source_model.set_rows(report.sources if report is not None else [], currency)
        self.agent_model.set_rows(report.agents if report is not None else [], currency)
        self.costs_button.setEnabled(self._db is not None)
        if report is None:
            waiting = (
                "Open a database to see what each lead source cost and brought in."
                if self._db is None
                else "Reading…"
            )
            text = self._problem or waiting
            show_empty(self.source_body, self.source_table, self.source_empty, text)
            show_empty(self.agent_body, self.agent_table, self.agent_empty, text)
            self.totals_label.clear()
            self.currency_note.hide()
            return
        if report.is_empty:
            start, end = report.start, report.end
            show_empty(
                self.source_body,
                self.source_table,
                self.source_empty,
                f"Nothing to show for {short_date(start)} to {short_date(end)}: no lead-source "
                "spend, no leads and no closed deals.\nEnter what each source cost with Lead "
                "costs… (Ctrl+L), or choose another range.",
            )
            self.totals_label.clear()
        else:
            show_empty(self.source_body, self.source_table, self.source_empty, None)
            self.totals_label.setText(totals_text(report))
            self._fit(self.source_table)
        if report.agents:
            show_empty(self.agent_body, self.agent_table, self.agent_empty, None)
            self._fit(self.agent_table)
        else:
            show_empty(
                self.agent_body,
                self.agent_table,
                self.agent_empty,
                "Nobody in view had leads, closed deals or spend of their own in this range.",
            )
        foreign = report.other_currency_closed
        self.currency_note.setText(
            f"{foreign:,} closed deal{'s' if foreign != 1 else ''} in a currency other than "
            f"{report.currency} count as closed; their commission is not added in."
        )
        self.currency_note.setVisible(foreign > 0)
        if keep is not RoiSortProxy.ALL and not self.select_source(keep):
            self.show_all_sources()
        elif keep is RoiSortProxy.ALL:
            self._filter_agents(RoiSortProxy.ALL)

    def _fit(self, table: QTableView) -> None:
        """Size the columns once, to the first rows shown; the person's widths stay after."""
        if table not in self._fitted:
            self._fitted.add(table)
            fit_columns(table, 220)

    def selected_source(self) -> object:
        """The key of the source selected above (None: no source), or ``RoiSortProxy.ALL``."""
        rows = self.source_table.selectionModel().selectedRows()
        return rows[0].data(KEY_ROLE) if rows else RoiSortProxy.ALL

    def select_source(self, key: object) -> bool:
        """Select the source ``key`` above (the rows by person follow); False if not listed."""
        for row in range(self.source_proxy.rowCount()):
            index = self.source_proxy.index(row, 0)
            if index.data(KEY_ROLE) == key and index.data(ROW_ROLE) is not None:
                self.source_table.selectRow(row)
                return True
        return False

    @Slot()
    def show_all_sources(self) -> None:
        self.source_table.clearSelection()
        self._filter_agents(RoiSortProxy.ALL)

    @Slot(QItemSelection, QItemSelection)
    def _source_selected(self, *_args: object) -> None:
        self._filter_agents(self.selected_source())

    def _filter_agents(self, key: object) -> None:
        self.agent_proxy.set_source(key)
        self.all_button.setEnabled(key is not RoiSortProxy.ALL)
        if key is RoiSortProxy.ALL:
            self.agent_caption.setText("By person — every source")
        else:
            rows = self.source_table.selectionModel().selectedRows()
            row = rows[0].data(ROW_ROLE) if rows else None
            self.agent_caption.setText(f"By person — {row.source if row is not None else ''}")

    # -- Lead costs… ----------------------------------------------------------------------

    @Slot()
    def _costs_clicked(self) -> None:
        self.open_costs()

    def open_costs(self) -> LeadCostDialog | None:
        db = self._db
        if db is None:
            self.ctx.events.say("Open a database first.")
            return None
        existing = self.findChild(LeadCostDialog)
        if existing is not None and existing.isVisible():
            existing.raise_()
            existing.activateWindow()
            return existing
        _start, end = self.date_range()
        month = first_of_month(min(end, self.today()))
        dialog = LeadCostDialog(self.ctx, db, month, self.acting, parent=self)
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()
        return dialog


@page("roi", "Lead sources", order=191, icon="leads",
      tooltip="What each lead source cost and brought in")  # fmt: skip
def build_roi_page(ctx: AppContext) -> QWidget:
    return RoiPage(ctx)
