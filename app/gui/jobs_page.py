"""The job log: every run of the scheduled jobs (the window's scheduler, the command line's
``jobs run``, and Run now here), newest first, with its status, the rows it wrote and, for a
failure or a partial run, why. Run now… runs a job at once in the background; on a server the
job's lock keeps it from running twice at the same time on two workstations."""

from __future__ import annotations

import datetime as dt
from functools import partial
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, QTimer
from PySide6.QtGui import QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.domain.enums import JobStatus, JobTrigger
from app.gui.context import AppContext
from app.gui.errors import describe_error
from app.gui.page_loading import BackgroundPage, BackgroundRead
from app.gui.pages import page
from app.services.jobs.log import RunRow, job_descriptions, list_runs
from app.services.jobs.runner import describe, run_jobs

if TYPE_CHECKING:
    from app.services.database import Database

Index = QModelIndex | QPersistentModelIndex
HEADER = ("Job", "Started", "Took", "Status", "Rows", "How", "Workstation", "Message")
STATUS_COLORS = {
    JobStatus.FAILED.value: "#b3261e",
    JobStatus.SKIPPED.value: "#9a6700",
    JobStatus.RUNNING.value: "#1a5fb4",
}
#: Jobs a person may start from here (the others run on their own).
RUNNABLE = ("kpis", "goals", "achievements", "agent-kpis", "feedback", "snapshots")
ALL = ""
#: While shown, the log is read again this often (other workstations write to it too).
POLL_MS = 30_000


class RunsModel(QAbstractTableModel):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows: list[RunRow] = []

    def set_rows(self, rows: list[RunRow]) -> None:
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(HEADER)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        r = self.rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            started = r.started_at.astimezone().strftime("%d %b %Y %H:%M:%S")
            took = "—" if r.seconds is None else f"{r.seconds:.1f} s"
            rows = "—" if r.rows_affected is None else f"{r.rows_affected:,}"
            cells = (r.job, started, took, r.status, rows, r.triggered_by, r.host, r.message or "")
            return cells[col]
        if role == Qt.ItemDataRole.ToolTipRole and col == len(HEADER) - 1 and r.message:
            return r.message
        if role == Qt.ItemDataRole.ForegroundRole and col == 3 and r.status in STATUS_COLORS:
            return QColor(STATUS_COLORS[r.status])
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (2, 4):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return HEADER[section]
        return None


def run_now(db: Database, name: str, progress: Any, cancelled: Any) -> list[str]:
    """Runs on a worker: the job as of today (UTC); the log lines it gives. Jobs that report
    progress (snapshots) show it in the status bar."""
    results = run_jobs(
        db,
        [name],
        dt.datetime.now(dt.UTC).date(),
        JobTrigger.WINDOW,
        progress=progress,
        cancelled=cancelled,
    )
    return describe(results)


class JobsPage(BackgroundPage):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.setObjectName("jobsPage")
        self.running: str | None = None
        self._read = BackgroundRead(
            self,
            "Reading the job log…",
            lambda db: partial(list_runs, db, self.filter.currentData() or None),
            self._loaded,
            kinds=("jobs",),
        )

        heading = QLabel("Job log")
        heading.setProperty("role", "pageTitle")
        self.filter = QComboBox()
        self.filter.setObjectName("jobFilter")
        self.filter.addItem("All jobs", ALL)
        self.job = QComboBox()
        self.job.setObjectName("jobToRun")
        for name, text in job_descriptions().items():
            self.filter.addItem(name, name)
            if name in RUNNABLE:
                self.job.addItem(name, name)
                self.job.setItemData(self.job.count() - 1, text, Qt.ItemDataRole.ToolTipRole)
        self.filter.activated.connect(lambda _i: self.reload())
        self.run_button = QPushButton("&Run now")
        self.run_button.setObjectName("runNow")
        self.run_button.clicked.connect(self.run_selected)
        self.status = QLabel()
        self.status.setProperty("role", "hint")
        top = QHBoxLayout()
        top.addWidget(heading)
        top.addSpacing(16)
        top.addWidget(QLabel("Show"))
        top.addWidget(self.filter)
        top.addStretch(1)
        top.addWidget(self.status)
        top.addWidget(self.job)
        top.addWidget(self.run_button)

        self.model = RunsModel(self)
        self.table = QTableView()
        self.table.setObjectName("jobRuns")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.empty = QLabel()
        self.empty.setProperty("role", "hint")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.empty)
        layout.addWidget(self.table, 1)

        QShortcut(QKeySequence.StandardKey.Refresh, self, self.reload)
        self._poll = QTimer(self, interval=POLL_MS)
        self._poll.timeout.connect(self._poll_when_shown)
        self._poll.start()
        self.watch_database()
        self._show_state()

    @property
    def loading(self) -> bool:
        return self.is_loading()

    def _show_state(self) -> None:
        has_db = self._db is not None
        self.run_button.setEnabled(has_db and self.running is None)
        self.job.setEnabled(has_db)
        if not has_db:
            self.empty.setText("No database is open.")
        elif not self.model.rows and not self.loading:
            self.empty.setText("No job has run yet. The scheduler runs them while the window "
                               "is open; Run now runs one at once.")  # fmt: skip
        else:
            self.empty.setText("")
        self.empty.setVisible(bool(self.empty.text()))
        self.table.setVisible(has_db and bool(self.model.rows))

    def database_opened(self) -> None:
        self._show_state()

    def database_closed(self) -> None:
        self.model.set_rows([])
        self._show_state()

    def _poll_when_shown(self) -> None:
        if self.isVisible() and not self.loading:
            self.reload()

    def _loaded(self, rows: list[RunRow]) -> None:
        self.model.set_rows(rows)
        failed = sum(1 for r in rows if r.status == JobStatus.FAILED.value)
        self.status.setText(f"{len(rows):,} runs" + (f", {failed} failed" if failed else ""))
        self._show_state()

    def run_selected(self) -> None:
        db, name = self._db, self.job.currentData()
        if db is None or not name or self.running is not None:
            return
        self.running = name
        self.status.setText(f"Running {name}…")
        self._show_state()
        self.ctx.ops.run(
            partial(run_now, db, name),
            label=f"Running {name}…",
            progress="status",
            cancellable=False,
            on_success=self._ran,
            on_error=self._run_failed,
            on_finished=self._run_finished,
            parent=self,
        )

    def _ran(self, lines: list[str]) -> None:
        self.ctx.events.say("; ".join(lines))
        for kind in ("jobs", "kpi_measurements", "goals", "achievements", "snapshots"):
            self.ctx.events.changed(kind)

    def _run_failed(self, error: BaseException) -> None:
        self.ctx.events.say(describe_error(error).text)

    def _run_finished(self) -> None:
        self.running = None
        self._show_state()
        self.reload()


@page("jobs", "Job log", order=880, icon="refresh", tooltip="What the scheduled jobs did")
def build_jobs_page(ctx: AppContext) -> QWidget:
    return JobsPage(ctx)
