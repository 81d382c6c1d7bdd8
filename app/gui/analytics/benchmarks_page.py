"""The Benchmarks page (SPEC §10): the industry and internal reference figures the analytics
page compares with, each with whether it is in force today, superseded by a newer row of its
series, or not yet effective.

Filters: a search over metric and source (Ctrl+F), a cohort, and "Current only" (on by
default; kept between sessions). Admins, brokers and managers import a CSV file (SPEC §11,
Import CSV… Ctrl+I: checked in the background with a progress dialog; every problem is listed
with its file, row and column, and nothing is written unless every row is valid) and delete the
selected rows (Delete…, the Delete key, after a confirmation naming how many); the buttons say
why when the acting person may not. The page reads again when the window says benchmarks
changed (``data_changed("benchmarks")``, which it sends after its own import or delete) and
each time it is shown after that. (No NOTIFY trigger carries "benchmarks" from another
workstation yet: migration 0006's table list does not name the table.)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app import APP_NAME
from app.domain.benchmarks import COHORT_LABELS
from app.gui import icons, table_page
from app.gui.analytics.benchmark_models import (
    METRIC,
    ROW_ROLE,
    SOURCE,
    VALUE,
    BenchmarkFilterProxy,
    BenchmarkTableModel,
)
from app.gui.context import AppContext
from app.gui.page_loading import BackgroundPage, BackgroundRead
from app.gui.pages import page
from app.gui.row_models import Column, RowTableModel
from app.services.analytics.benchmarks import (
    BenchmarkItem,
    delete_benchmarks,
    list_benchmarks,
    may_write_benchmarks,
)
from app.services.importing import ImportFailed, ImportResult, RowError, import_file

if TYPE_CHECKING:
    from app.services.database import Database

#: ``AppEvents.data_changed`` kind of benchmarks (emitted after an import or a delete).
BENCHMARKS = "benchmarks"
KIND = "benchmarks"  # the import kind (SPEC §11)
SETTINGS = "benchmarks"
MAX_COLUMN_WIDTH = 300
VALUE_WIDTH = 160  # a long text value is elided; its tooltip shows it whole
SOURCE_WIDTH = 240
SAMPLE = "resources/samples/benchmarks.csv"
NOT_WRITER = "Only a broker, manager or admin may import or delete benchmarks."
EMPTY = f"No benchmarks yet — import a CSV (a sample ships in {SAMPLE})"

#: ``confirm(parent, title, text, action) -> bool``: tests replace it.
Confirm = Callable[[QWidget, str, str, str], bool]
#: ``choose_file(parent, caption, folder, name_filter) -> path or None``: tests replace it.
FileChooser = Callable[[QWidget, str, str, str], str | None]


def ask(parent: QWidget, title: str, text: str, action: str) -> bool:
    box = QMessageBox(QMessageBox.Icon.Question, APP_NAME, text, parent=parent)
    box.setObjectName("confirmBox")
    box.setWindowTitle(title)
    yes = box.addButton(action, QMessageBox.ButtonRole.DestructiveRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    box.exec()
    return box.clickedButton() is yes


def choose_open_path(parent: QWidget, caption: str, folder: str, name_filter: str) -> str | None:
    path, _ = QFileDialog.getOpenFileName(parent, caption, folder, name_filter)
    return path or None


def plural(n: int, noun: str = "benchmark") -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def delete_text(items: Sequence[BenchmarkItem]) -> str:
    n = len(items)
    what = (
        f"the benchmark {items[0].metric_key} ({items[0].effective_date.isoformat()})"
        if n == 1
        else plural(n)
    )
    current = sum(1 for i in items if i.current)
    note = (
        "\n\nWhere a current figure goes, the analytics page compares with the newest row "
        "left of its series, if any."
        if current
        else ""
    )
    return f"Delete {what}? They are removed for everyone.{note}"


@dataclass(frozen=True)
class Loaded:
    items: list[BenchmarkItem]
    may_write: bool
    as_of: dt.date


def load_page(db: Database, acting: str | None, as_of: dt.date) -> Loaded:
    """Runs on a worker: every benchmark (everyone reads them) and whether the acting person
    may import and delete them."""
    return Loaded(list_benchmarks(db, as_of), may_write_benchmarks(db, acting), as_of)


# -- the errors of a refused file ----------------------------------------------------------------


@dataclass(frozen=True)
class ErrorLine:
    id: int
    error: RowError


ERROR_COLUMNS: tuple[Column, ...] = (
    Column("File", lambda e: e.error.file),
    Column(
        "Row",
        lambda e: "" if e.error.row is None else str(e.error.row),
        sort_key=lambda e: float(e.error.row or 0),
        numeric=True,
    ),
    Column("Column", lambda e: e.error.column or ""),
    Column("Problem", lambda e: e.error.reason, tooltip=lambda e: e.error.reason),
)


class ImportErrorsDialog(QDialog):
    """Every problem of a refused file: file, row, column, reason (nothing was imported)."""

    def __init__(self, failure: ImportFailed, path: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("importErrorsDialog")
        self.setWindowTitle("Benchmarks not imported")
        self.failure = failure
        n = len(failure.errors)
        self.summary = QLabel(
            f"{path} has {plural(n, 'problem')}; nothing was imported. Correct the file and "
            "import it again."
        )
        self.summary.setObjectName("importErrorsSummary")
        self.summary.setWordWrap(True)
        self.model = RowTableModel(ERROR_COLUMNS, self)
        self.model.set_rows([ErrorLine(n, e) for n, e in enumerate(failure.errors)])
        self.table = QTableView()
        self.table.setObjectName("importErrorsTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.resizeColumnsToContents()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.copy_button = buttons.addButton("&Copy", QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button.setToolTip("Copy every problem, one per line")
        self.copy_button.clicked.connect(self.copy)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)
        self.resize(820, 420)

    def text(self) -> str:
        return "\n".join(str(e) for e in self.failure.errors)

    @Slot()
    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.text())


# -- the page ------------------------------------------------------------------------------------


class BenchmarksPage(BackgroundPage):
    def __init__(
        self,
        ctx: AppContext,
        parent: QWidget | None = None,
        *,
        acting: str | None = None,
        confirm: Confirm = ask,
        choose_file: FileChooser = choose_open_path,
    ) -> None:
        super().__init__(ctx, parent)
        self.setObjectName("benchmarksPage")
        #: Whose rules apply: None is the login (shared) or the one local person.
        self.acting = acting
        self.confirm = confirm
        self.choose_file = choose_file
        self._loaded: Loaded | None = None
        self._problem: str | None = None
        self._columns_sized = False
        self._busy = False
        self.errors_dialog: ImportErrorsDialog | None = None
        self._read = BackgroundRead(
            self,
            "Reading benchmarks…",
            lambda db: partial(load_page, db, self.acting, dt.datetime.now(dt.UTC).date()),
            self._show,
            kinds=(BENCHMARKS,),
            refused=self._refused,
        )

        self.model = BenchmarkTableModel(self)
        self.proxy = BenchmarkFilterProxy(self)
        self.proxy.setSourceModel(self.model)

        heading = QLabel("Benchmarks")
        heading.setProperty("role", "pageTitle")
        self.import_button = QPushButton("&Import CSV…")
        self.import_button.setObjectName("importBenchmarksButton")
        self.import_button.clicked.connect(self.import_csv)
        self.delete_button = QPushButton("&Delete…")
        self.delete_button.setObjectName("deleteBenchmarksButton")
        self.delete_button.clicked.connect(self.delete_selected)

        self.filter_edit = table_page.make_filter_edit(
            "benchmarksFilter", "Filter by metric or source (Ctrl+F)", self._filter
        )
        self.cohort_combo = QComboBox()
        self.cohort_combo.setObjectName("benchmarksCohort")
        self.cohort_combo.setToolTip("Show one cohort only")
        self.cohort_combo.addItem("All cohorts", None)
        for cohort, label in COHORT_LABELS.items():
            self.cohort_combo.addItem(label, cohort)
        self.cohort_combo.currentIndexChanged.connect(self._cohort_chosen)
        self.current_check = QCheckBox("&Current only")
        self.current_check.setObjectName("benchmarksCurrentOnly")
        self.current_check.setToolTip(
            "Only the rows in force today: the newest of each metric, asset type, deal type and "
            "cohort (untick to see superseded and future rows too)"
        )
        qs = ctx.settings.qsettings
        self.current_check.setChecked(bool(qs.value(f"{SETTINGS}/current_only", True, bool)))
        self.proxy.set_current_only(self.current_check.isChecked())
        self.current_check.toggled.connect(self._current_only)
        self.count_label = table_page.make_count_label()
        table_page.add_find_shortcut(self, self._focus_filter)
        QShortcut(QKeySequence("Ctrl+I"), self, self.import_csv)

        self.table = table_page.make_table(
            "benchmarksTable", self.proxy, METRIC, self.fontMetrics()
        )
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        QShortcut(
            QKeySequence.StandardKey.Delete,
            self.table,
            self.delete_selected,
            context=Qt.ShortcutContext.WidgetWithChildrenShortcut,
        )
        self.empty_label = table_page.make_empty_label()
        self.body = table_page.make_body(self.table, self.empty_label)

        top = QHBoxLayout()
        top.addWidget(heading)
        top.addStretch(1)
        top.addWidget(self.import_button)
        top.addWidget(self.delete_button)
        bar = QHBoxLayout()
        bar.addWidget(self.filter_edit, 1)
        bar.addWidget(self.cohort_combo)
        bar.addWidget(self.current_check)
        bar.addWidget(self.count_label)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(bar)
        layout.addWidget(self.body, 1)

        self.database_closed()
        self.watch_database()

    # -- the database -------------------------------------------------------------------------

    def database_opened(self) -> None:
        self._columns_sized = False
        self._clear()

    def database_closed(self) -> None:
        self._clear()
        self._update_state()

    def _refused(self, problem: str) -> None:
        self._clear(problem)
        self._update_state()

    def _clear(self, problem: str | None = None) -> None:
        self._loaded = None
        self._problem = problem
        self.model.set_rows([])

    def _show(self, result: Loaded) -> None:
        keep = self.selected_ids()
        self._loaded = result
        self._problem = None
        self.model.set_rows(result.items)
        if result.items and not self._columns_sized:
            self._columns_sized = True  # once, to the first data; then the person's widths
            table_page.fit_columns(self.table, MAX_COLUMN_WIDTH)
            header = self.table.horizontalHeader()
            header.resizeSection(VALUE, min(header.sectionSize(VALUE), VALUE_WIDTH))
            # The source gives way so the status column stays in view on a 1280-pixel screen.
            header.resizeSection(SOURCE, min(header.sectionSize(SOURCE), SOURCE_WIDTH))
        if keep:
            self.select_ids(keep)
        self._update_state()

    # -- filters and state --------------------------------------------------------------------

    @Slot()
    def _focus_filter(self) -> None:
        table_page.focus_filter(self.filter_edit)

    @Slot(str)
    def _filter(self, text: str) -> None:
        self.proxy.set_search(text)
        self._update_state()

    @Slot()
    def _cohort_chosen(self) -> None:
        data = self.cohort_combo.currentData()
        self.proxy.set_cohort(data if isinstance(data, str) else None)
        self._update_state()

    @Slot(bool)
    def _current_only(self, on: bool) -> None:
        self.ctx.settings.qsettings.setValue(f"{SETTINGS}/current_only", on)
        self.proxy.set_current_only(on)
        self._update_state()

    @property
    def may_write(self) -> bool:
        return self._loaded is not None and self._loaded.may_write

    def _update_state(self) -> None:
        self._update_buttons()
        loaded = self._loaded
        shown, total = self.proxy.rowCount(), self.model.rowCount()
        count = ""
        empty: str | None
        if self._db is None:
            empty = "Open a database to see benchmarks."
        elif self._problem is not None:
            empty = self._problem
        elif loaded is None:
            empty = "Reading benchmarks…"
        else:
            count = table_page.count_text(shown, total, "benchmark", "benchmarks")
            text = self.filter_edit.text().strip()
            if total == 0:
                empty = EMPTY
            elif shown == 0:
                empty = f"No benchmarks match “{text}”." if text else "No benchmarks match."
                if self.proxy.current_only:
                    empty += "\nUntick Current only to see superseded and future rows too."
            else:
                empty = None
        self.count_label.setText(count)
        table_page.show_empty(self.body, self.table, self.empty_label, empty)

    def _update_buttons(self) -> None:
        loaded = self._loaded
        may = self.may_write
        refused = NOT_WRITER if loaded is not None and not may else ""
        n = len(self.selected_items())
        self.import_button.setEnabled(may and not self._busy)
        self.import_button.setToolTip(
            refused or "Add benchmarks from a CSV file (SPEC columns; Ctrl+I)"
        )
        self.delete_button.setEnabled(may and n > 0 and not self._busy)
        self.delete_button.setToolTip(
            refused
            or (f"Delete the {plural(n)} selected (Delete)" if n else "Select the rows to delete")
        )

    # -- selection ----------------------------------------------------------------------------

    def selected_items(self) -> list[BenchmarkItem]:
        rows = self.table.selectionModel().selectedRows()
        items = [r.data(ROW_ROLE) for r in rows]
        return [i for i in items if isinstance(i, BenchmarkItem)]

    def selected_ids(self) -> list[int]:
        return [i.id for i in self.selected_items()]

    def select_ids(self, ids: Sequence[int]) -> int:
        """Select the rows ``ids`` that the filters show; returns how many were selected."""
        selection = self.table.selectionModel()
        selection.clearSelection()
        done = 0
        for item_id in ids:
            row = self.model.row_of_id(item_id)
            if row < 0:
                continue
            index = self.proxy.mapFromSource(self.model.index(row, 0))
            if index.isValid():
                selection.select(
                    index, selection.SelectionFlag.Select | selection.SelectionFlag.Rows
                )
                done += 1
        return done

    @Slot()
    def _selection_changed(self) -> None:
        self._update_buttons()

    # -- Import CSV… --------------------------------------------------------------------------

    def _start_folder(self) -> str:
        saved = str(self.ctx.settings.qsettings.value(f"{SETTINGS}/last_folder", "", str) or "")
        if saved and Path(saved).is_dir():
            return saved
        samples = icons.RESOURCES / "samples"
        return str(samples) if samples.is_dir() else str(Path.home())

    @Slot()
    def import_csv(self) -> bool:
        """Ask for a file and import it in the background; False when nothing was started."""
        db, loaded = self._db, self._loaded
        if db is None or loaded is None or self._busy:
            return False
        if not loaded.may_write:
            self.ctx.events.say(NOT_WRITER)
            return False
        path = self.choose_file(
            self, "Import benchmarks", self._start_folder(), "CSV files (*.csv);;All files (*)"
        )
        if not path:
            return False
        self.ctx.settings.qsettings.setValue(f"{SETTINGS}/last_folder", str(Path(path).parent))
        self._busy = True
        self._update_buttons()
        acting = self.acting

        def task(
            progress: Callable[[int, int, str], None], cancelled: Callable[[], bool]
        ) -> ImportResult:
            def checked(done: int, total: int) -> None:
                progress(done, total, f"Checking row {done:,} of {total:,}…")

            return import_file(db, KIND, path, progress=checked, cancelled=cancelled, acting=acting)

        self.ctx.ops.run(
            task,
            label="Importing benchmarks…",
            progress="dialog",
            on_success=self._imported,
            on_error=partial(self._import_failed, path),
            on_cancelled=self._import_cancelled,
            on_finished=self._done,
            parent=self,
        )
        return True

    def _imported(self, result: ImportResult) -> None:
        text = f"Imported {plural(result.rows)}"
        self.ctx.events.say(f"{text} from {Path(result.file).name}.")
        self.ctx.prompts.notice(self, f"{text}.")
        self.ctx.events.changed(BENCHMARKS)

    def _import_failed(self, path: str, exc: BaseException) -> None:
        if not isinstance(exc, ImportFailed):
            self.ctx.ops.present(exc, self)
            return
        if self.errors_dialog is not None:
            self.errors_dialog.close()
        dialog = ImportErrorsDialog(exc, path, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.destroyed.connect(self._errors_dialog_gone)
        self.errors_dialog = dialog
        dialog.open()
        self.ctx.events.say(
            f"{Path(path).name}: {plural(len(exc.errors), 'problem')}; nothing imported."
        )

    @Slot()
    def _errors_dialog_gone(self) -> None:
        self.errors_dialog = None

    def _import_cancelled(self) -> None:
        self.ctx.events.say("Import cancelled; nothing was imported.")

    def _done(self) -> None:
        self._busy = False
        self._update_buttons()

    # -- Delete… ------------------------------------------------------------------------------

    @Slot()
    def delete_selected(self) -> bool:
        """Ask, then delete the selected rows in the background; False when nothing started."""
        db, items = self._db, self.selected_items()
        if db is None or not items or self._busy:
            return False
        if not self.may_write:
            self.ctx.events.say(NOT_WRITER)
            return False
        title = "Delete benchmark" if len(items) == 1 else "Delete benchmarks"
        if not self.confirm(self, title, delete_text(items), "Delete"):
            return False
        self._busy = True
        self._update_buttons()
        ids = [i.id for i in items]

        def deleted(n: int) -> None:
            self.ctx.events.say(f"Deleted {plural(n)}.")
            self.ctx.events.changed(BENCHMARKS)

        def failed(exc: BaseException) -> None:
            self.ctx.ops.present(exc, self)
            self.reload()

        self.ctx.ops.run(
            partial(delete_benchmarks, db, ids, self.acting),
            label="Deleting benchmarks…",
            on_success=deleted,
            on_error=failed,
            on_finished=self._done,
            parent=self,
        )
        return True


@page("benchmarks", "Benchmarks", order=192, icon="portfolio",
      tooltip="Industry and internal reference figures")  # fmt: skip
def build_benchmarks_page(ctx: AppContext) -> QWidget:
    return BenchmarksPage(ctx)
