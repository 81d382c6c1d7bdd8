"""The month-end grid (SPEC §9): one row per property for a chosen month, typed like a
spreadsheet, saved at once — every changed row or none.

The page reads the month when first shown, when the database opens and when the month is
changed; with changes not saved yet, changing the month or reloading asks first. A refused save
lists each problem under the table (a click selects its cell) and keeps everything typed; a
save that succeeds reads the month again and tells the other pages the rent roll changed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from PySide6.QtCore import QDate, QItemSelectionModel, QModelIndex, Qt, QTimer, Slot
from PySide6.QtGui import QFont, QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QDateEdit,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.domain.errors import ConflictError
from app.gui import events
from app.gui.context import AppContext
from app.gui.pages import page
from app.gui.postclose.month_grid_lines import EMPTIED, GridLine
from app.gui.postclose.month_grid_model import (
    BUYER,
    COLUMNS,
    FIELD_COLUMNS,
    MARKET,
    NOTES,
    PROPERTY,
    MonthGridFilter,
    MonthGridModel,
)
from app.gui.postclose.month_grid_view import GridView
from app.services.postclose.periods import (
    GridErrors,
    MonthSaved,
    RowProblem,
    month_label,
    month_sheet,
    save_month,
)

if TYPE_CHECKING:
    from app.services.database import Database
    from app.services.schema import SchemaStatus

#: The kind of data this page changes and shows (AppEvents.data_changed).
RENT_ROLL = "rent_roll"
PROBLEM_ROLE = Qt.ItemDataRole.UserRole + 1  # a problem line's RowProblem
RELOAD_DEBOUNCE_MS = 250

#: ``confirm(parent, title, text) -> bool``: tests replace it.
Confirm = Callable[[QWidget, str, str], bool]


def ask(parent: QWidget, title: str, text: str) -> bool:
    answer = QMessageBox.question(
        parent,
        title,
        text,
        QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
        QMessageBox.StandardButton.Cancel,
    )
    return answer == QMessageBox.StandardButton.Discard


def read_month(db: Database, year: int, month: int) -> list[GridLine]:
    """Runs on a worker: the month's rows, each checked and graded (thousands of rows would
    take a noticeable moment on the GUI thread)."""
    return [GridLine.read(row) for row in month_sheet(db, year, month)]


def previous_month(today: dt.date) -> tuple[int, int]:
    return (today.year - 1, 12) if today.month == 1 else (today.year, today.month - 1)


class MonthGridPage(QWidget):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("monthGridPage")
        self.ctx = ctx
        self.confirm: Confirm = ask
        self.today: Callable[[], dt.date] = dt.date.today
        self._db: Database | None = None
        self._generation = 0
        self._loaded: tuple[int, int] | None = None  # the month the grid holds
        self._loading = False
        self._saving = False
        self._stale = False
        self._own_changes = 0
        self._columns_sized = False
        self._problems: list[RowProblem] = []

        self.model = MonthGridModel(self)
        self.model.changed_count.connect(self._update_state)
        self.model.dataChanged.connect(self._recheck_problems)
        self.proxy = MonthGridFilter(self)
        self.proxy.setSourceModel(self.model)

        title = QLabel("Month end")
        title.setProperty("role", "pageTitle")
        self.month_edit = QDateEdit()
        self.month_edit.setObjectName("monthEdit")
        self.month_edit.setDisplayFormat("MMMM yyyy")
        self.month_edit.setToolTip("The month to enter; months that have not begun cannot be")
        self.month_edit.setMinimumDate(QDate(2000, 1, 1))
        self.month_edit.setMinimumWidth(self.fontMetrics().horizontalAdvance("September 2026") + 48)
        self.earlier_button = QToolButton()
        self.earlier_button.setArrowType(Qt.ArrowType.LeftArrow)
        self.earlier_button.setToolTip("The month before")
        self.earlier_button.clicked.connect(partial(self.step_month, -1))
        self.later_button = QToolButton()
        self.later_button.setArrowType(Qt.ArrowType.RightArrow)
        self.later_button.setToolTip("The month after")
        self.later_button.clicked.connect(partial(self.step_month, 1))
        self.reload_button = QPushButton("&Reload")
        self.reload_button.setObjectName("reloadButton")
        self.reload_button.setToolTip("Read the month again (F5)")
        self.reload_button.clicked.connect(self.ask_reload)
        self.save_button = QPushButton("&Save month")
        self.save_button.setObjectName("saveButton")
        self.save_button.setToolTip("Write every changed row, or none if any is wrong (Ctrl+S)")
        self.save_button.clicked.connect(self.save)
        self.filter_edit = QLineEdit()
        self.filter_edit.setObjectName("monthGridFilter")
        self.filter_edit.setPlaceholderText("Filter by property, market or buyer (Ctrl+F)")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.textChanged.connect(self._filter)
        self.count_label = QLabel()
        self.count_label.setObjectName("countLabel")
        self.count_label.setProperty("role", "hint")

        self.table = GridView()
        self.table.setObjectName("monthGrid")
        self.table.setModel(self.proxy)
        self.table.setAlternatingRowColors(True)
        rows = self.table.verticalHeader()
        rows.setDefaultSectionSize(self.fontMetrics().height() + 10)
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        rows.setDefaultAlignment(Qt.AlignmentFlag.AlignCenter)
        rows.setMinimumWidth(self.fontMetrics().horizontalAdvance("●") + 14)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(NOTES, QHeaderView.ResizeMode.Stretch)
        header.setStretchLastSection(False)
        header.setHighlightSections(True)

        self.empty_label = QLabel()
        self.empty_label.setObjectName("emptyState")
        self.empty_label.setProperty("role", "hint")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setWordWrap(True)
        self.body = QStackedWidget()
        self.body.addWidget(self.table)
        self.body.addWidget(self.empty_label)

        self.problems_heading = QLabel()
        self.problems_heading.setObjectName("problemsHeading")
        self.problems_heading.setProperty("role", "error")
        self.problems_list = QListWidget()
        self.problems_list.setObjectName("problemsList")
        self.problems_list.setToolTip("Click a problem to go to its cell")
        self.problems_list.setMaximumHeight(self.fontMetrics().height() * 7)
        self.problems_list.itemClicked.connect(self._go_to_problem)
        self.problems_list.itemActivated.connect(self._go_to_problem)
        self.problems_panel = QFrame()
        self.problems_panel.setObjectName("problemsPanel")
        panel = QVBoxLayout(self.problems_panel)
        panel.setContentsMargins(0, 4, 0, 0)
        panel.addWidget(self.problems_heading)
        panel.addWidget(self.problems_list)
        self.problems_panel.hide()

        top = QHBoxLayout()
        top.addWidget(title)
        top.addSpacing(16)
        top.addWidget(self.earlier_button)
        top.addWidget(self.month_edit)
        top.addWidget(self.later_button)
        top.addStretch(1)
        top.addWidget(self.reload_button)
        top.addWidget(self.save_button)
        bar = QHBoxLayout()
        bar.addWidget(self.filter_edit, 1)
        bar.addWidget(self.count_label)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(bar)
        layout.addWidget(self.body, 1)
        layout.addWidget(self.problems_panel)

        QShortcut(QKeySequence.StandardKey.Save, self, self.save)
        QShortcut(QKeySequence.StandardKey.Find, self, self._focus_filter)
        QShortcut(QKeySequence.StandardKey.Refresh, self, self.ask_reload)
        self._reload_timer = QTimer(self, singleShot=True, interval=RELOAD_DEBOUNCE_MS)
        self._reload_timer.timeout.connect(self._refresh_when_shown)

        self._set_month(*previous_month(self.today()))
        self.month_edit.dateChanged.connect(self._month_picked)
        ctx.database.opened.connect(self._on_opened)
        ctx.database.closed.connect(self._on_closed)
        ctx.database.failed.connect(self._on_closed)
        ctx.events.data_changed.connect(self._on_data_changed)
        if ctx.database.is_open and ctx.database.db is not None:
            self._db = ctx.database.db
        self._update_state()

    # -- the month ------------------------------------------------------------------------

    def month(self) -> tuple[int, int]:
        date = self.month_edit.date()
        return date.year(), date.month()

    def set_month(self, year: int, month: int) -> bool:
        """Show another month (asking first when changes would be lost); False if kept."""
        self.month_edit.setDate(QDate(year, month, 1))
        return self.month() == (year, month)

    def step_month(self, months: int) -> None:
        self.month_edit.setDate(self.month_edit.date().addMonths(months))

    def _set_month(self, year: int, month: int) -> None:
        today = self.today()
        self.month_edit.blockSignals(True)
        self.month_edit.setMaximumDate(QDate(today.year, today.month, 1))
        self.month_edit.setDate(QDate(year, month, 1))
        self.month_edit.blockSignals(False)
        self._update_month_buttons()

    def _update_month_buttons(self) -> None:
        date = self.month_edit.date()
        self.earlier_button.setEnabled(date > self.month_edit.minimumDate())
        self.later_button.setEnabled(date.addMonths(1) <= self.month_edit.maximumDate())

    @Slot(QDate)
    def _month_picked(self, date: QDate) -> None:
        wanted = (date.year(), date.month())
        if date.day() != 1:
            self._set_month(*wanted)
        if wanted == self._loaded:
            self._update_month_buttons()
            return
        if not self._may_discard(f"Show {month_label(*wanted)}"):
            if self._loaded is not None:
                self._set_month(*self._loaded)
            return
        self._update_month_buttons()
        self.load()

    def _may_discard(self, doing: str) -> bool:
        self.table.commit_editing()
        count = len(self.model.changed_rows())
        if not count or self._loaded is None:
            return True
        rows = f"{count} changed row{'s' if count != 1 else ''}"
        return self.confirm(
            self,
            "Discard changes",
            f"{doing} and discard {rows} of {month_label(*self._loaded)} not saved yet?",
        )

    # -- the database ---------------------------------------------------------------------

    @Slot(object, object)
    def _on_opened(self, db: Database, _status: SchemaStatus) -> None:
        self._db = db
        self._loaded = None
        self._columns_sized = False
        self._refresh_when_shown()

    @Slot()
    def _on_closed(self, *_args: object) -> None:
        self._db = None
        self._generation += 1  # whatever is still being read belongs to the old database
        self._loaded = None
        self._loading = self._saving = False
        self.model.load([])
        self._show_problems([], "")
        self._update_state()

    @Slot(str)
    def _on_data_changed(self, kind: str) -> None:
        if kind == RENT_ROLL and self._own_changes:
            self._own_changes -= 1  # this page's own save: it reads the month itself
            return
        if events.concerns(kind, RENT_ROLL):
            self._reload_timer.start()

    def _refresh_when_shown(self) -> None:
        if not self.isVisible():
            self._stale = True
        elif self.model.has_changes():
            self._stale = True  # never throw away typing; the next reload asks
        else:
            self.load()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        today = self.today()  # the window may stay open into a new month
        self.month_edit.setMaximumDate(QDate(today.year, today.month, 1))
        stale = self._loaded is None or self._stale
        if self._db is not None and stale and not self.model.has_changes():
            self.load()

    # -- reading --------------------------------------------------------------------------

    @Slot()
    def ask_reload(self) -> None:
        if self._may_discard("Read the month again"):
            self.load()

    def load(self) -> None:
        """Read the chosen month (whatever is typed is dropped: ask before calling)."""
        db = self._db
        if db is None:
            return
        self._stale = False
        self._reload_timer.stop()
        self._generation += 1
        generation = self._generation
        year, month = self.month()
        self._loading = True
        self._update_state()

        def loaded(rows: list[GridLine]) -> None:
            if generation == self._generation:
                self._show_month(year, month, rows)

        def failed(exc: BaseException) -> None:
            if generation == self._generation:
                self._loading = False
                self._update_state()
                self.ctx.ops.present(exc, self)

        self.ctx.ops.run(
            partial(read_month, db, year, month),
            label=f"Reading {month_label(year, month)}…",
            on_success=loaded,
            on_error=failed,
            parent=self,
        )

    def _show_month(self, year: int, month: int, rows: list[GridLine]) -> None:
        keep = self.table.currentIndex()
        row, column = keep.row(), keep.column()
        self._loading = False
        self._loaded = (year, month)
        self.model.load(rows)
        self._show_problems([], "")
        if rows and not self._columns_sized:
            self._columns_sized = True
            self._size_columns()
        if self.proxy.rowCount():
            target = self.proxy.index(
                min(max(row, 0), self.proxy.rowCount() - 1),
                column if column >= 0 else FIELD_COLUMNS["actual_rent_collected"],
            )
            self.table.setCurrentIndex(target)
        self._update_state()

    def _size_columns(self) -> None:
        """Once per database, to the first month read; afterwards the person's widths stay."""
        table = self.table
        metrics = table.fontMetrics()
        table.resizeColumnsToContents()
        figure = metrics.horizontalAdvance("00,000.00") + 14
        limits = {PROPERTY: (80, 200), MARKET: (90, 160), BUYER: (110, 180), NOTES: (120, 400)}
        for column, spec in enumerate(COLUMNS):
            low, high = limits.get(column, (figure if spec.numeric else 40, 130))
            table.setColumnWidth(column, min(max(table.columnWidth(column), low), high))

    # -- saving ---------------------------------------------------------------------------

    @Slot()
    def save(self) -> None:
        db, loaded = self._db, self._loaded
        if db is None or loaded is None or self._saving or self._loading:
            return
        self.table.commit_editing()
        when = month_label(*loaded)
        changed = [self.model.line(r) for r in self.model.changed_rows()]
        if not changed:
            self.ctx.events.say(f"{when}: nothing to save.")
            return
        emptied = [
            RowProblem(
                line.performance_id,
                f"{line.sheet.label} ({line.sheet.market_key})",
                "month",
                EMPTIED,
            )
            for line in changed
            if line.is_empty() and line.entered
        ]
        if emptied:
            self._refused(emptied, when)
            return
        rows = [line.grid_row() for line in changed]
        self._saving = True
        self._update_state()
        self.ctx.ops.run(
            partial(save_month, db, *loaded, rows),
            label=f"Saving {when}…",
            on_success=partial(self._saved, when),
            on_error=partial(self._save_failed, when),
            on_finished=self._save_finished,
            progress="status",
            cancellable=False,
            parent=self,
        )

    def _save_finished(self) -> None:
        self._saving = False
        self._update_state()

    def _saved(self, when: str, result: MonthSaved) -> None:
        text = f"Saved {when}: {result.added} added, {result.updated} updated"
        if result.alerts:  # as the rent-roll page says them
            text += ". " + " ".join(a.title + "." for a in result.alerts)
        self.ctx.events.say(text)
        self._show_problems([], "")
        self.load()  # what was typed is stored: read the month back (grades and versions)
        self._own_changes += 1
        self.ctx.events.changed(RENT_ROLL)

    def _save_failed(self, when: str, exc: BaseException) -> None:
        if isinstance(exc, GridErrors):
            self._refused(exc.problems, when)
            return
        if isinstance(exc, ConflictError):
            self._stale = True  # Reload (which asks) brings the other workstation's figures
        self.ctx.ops.present(exc, self)

    def _refused(self, problems: list[RowProblem], when: str) -> None:
        self.model.set_refused(problems)
        self._show_problems(problems, when)
        if problems:
            self.select_problem(problems[0])

    # -- the problems panel ---------------------------------------------------------------

    def problems(self) -> list[str]:
        return [self.problems_list.item(i).text() for i in range(self.problems_list.count())]

    def _show_problems(self, problems: list[RowProblem], when: str) -> None:
        self._problems = list(problems)
        self.problems_list.clear()
        if not problems:
            self.problems_panel.hide()
            return
        rows = len({p.performance_id for p in problems})
        self.problems_heading.setText(
            f"{when}: {rows} row{'s' if rows != 1 else ''} to correct; nothing was saved. "
            "Click a problem to go to its cell."
        )
        for problem in problems:
            item = QListWidgetItem(str(problem))
            item.setData(PROBLEM_ROLE, problem)
            self.problems_list.addItem(item)
        self.problems_panel.show()
        self._recheck_problems()

    @Slot()
    def _recheck_problems(self, *_args: object) -> None:
        """Problems put right since the save are struck through."""
        for i in range(self.problems_list.count()):
            item = self.problems_list.item(i)
            problem = item.data(PROBLEM_ROLE)
            if not isinstance(problem, RowProblem):
                continue
            fixed = not self.model.is_open(problem)
            font = QFont(self.problems_list.font())
            font.setStrikeOut(fixed)
            item.setFont(font)
            item.setToolTip("Put right; save again" if fixed else "Click to go to the cell")

    @Slot(QListWidgetItem)
    def _go_to_problem(self, item: QListWidgetItem) -> None:
        problem = item.data(PROBLEM_ROLE)
        if isinstance(problem, RowProblem):
            self.select_problem(problem)

    def select_problem(self, problem: RowProblem) -> bool:
        """Select the cell a problem is about (showing its row if the filter hides it)."""
        row = self.model.row_of(problem.performance_id)
        if row < 0:
            return False
        column = FIELD_COLUMNS.get(problem.field, PROPERTY)
        index = self.proxy.mapFromSource(self.model.index(row, column))
        if not index.isValid():
            self.filter_edit.clear()
            index = self.proxy.mapFromSource(self.model.index(row, column))
        self.table.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect
        )
        self.table.scrollTo(index)
        self.table.setFocus()
        return True

    # -- state ----------------------------------------------------------------------------

    @Slot(str)
    def _filter(self, text: str) -> None:
        self.proxy.set_text(text)
        self._update_state()

    def _focus_filter(self) -> None:
        self.filter_edit.setFocus()
        self.filter_edit.selectAll()

    @Slot()
    def _update_state(self, *_args: object) -> None:
        open_ = self._db is not None
        busy = self._saving or self._loading
        self.model.read_only = busy  # typing now would be lost to what is being read
        changed = len(self.model.changed_rows())
        self.save_button.setText(f"&Save month ({changed})" if changed else "&Save month")
        self.save_button.setEnabled(open_ and changed > 0 and not busy)
        self.reload_button.setEnabled(open_ and not self._saving)
        self.month_edit.setEnabled(open_ and not self._saving)
        self.earlier_button.setEnabled(open_ and not self._saving)
        self.later_button.setEnabled(open_ and not self._saving)
        if open_ and not self._saving:
            self._update_month_buttons()
        self._update_count(changed)
        self._update_body()

    def _update_count(self, changed: int) -> None:
        total, shown = self.model.rowCount(), self.proxy.rowCount()
        if self._db is None or self._loaded is None or total == 0:
            self.count_label.setText("Saving…" if self._saving else "")
            return
        noun = "property" if total == 1 else "properties"
        parts = [f"{shown} of {total} {noun}" if shown != total else f"{total} {noun}"]
        parts.append(f"{self.model.entered_count()} entered")
        if changed:
            parts.append(f"{changed} changed")
        if self._saving:
            parts.append("saving…")
        self.count_label.setText(" · ".join(parts))

    def _update_body(self) -> None:
        empty: str | None = None
        if self._db is None:
            empty = "Open a database to enter month-end figures."
        elif self._loaded is None:
            empty = "Reading…" if self._loading else ""
        elif self.model.rowCount() == 0:
            empty = (
                f"No properties to enter for {month_label(*self._loaded)}.\n"
                "A property appears here from the month its purchase closed, once its "
                "performance record (with the locked pro forma) exists."
            )
        elif self.proxy.rowCount() == 0:
            empty = (
                f"No property, market or buyer matches “{self.filter_edit.text().strip()}”.\n"
                "Clear the filter to see every property."
            )
        if empty is None:
            self.body.setCurrentWidget(self.table)
        else:
            self.empty_label.setText(empty)
            self.body.setCurrentWidget(self.empty_label)

    def current_cell(self) -> tuple[int, int] | None:
        """(model row, column) of the current cell."""
        index: QModelIndex = self.proxy.mapToSource(self.table.currentIndex())
        return (index.row(), index.column()) if index.isValid() else None


@page(
    "month_end", "Month end", order=152, icon="month_end",
    tooltip="Enter a month's rent roll for every property at once",
)  # fmt: skip
def build_month_grid_page(ctx: AppContext) -> QWidget:
    return MonthGridPage(ctx)
