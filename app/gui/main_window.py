"""The main window: navigation on the left, pages on the right, database state in the status bar."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt, QTimer, Slot
from PySide6.QtGui import QAction, QCloseEvent, QFont, QFontMetrics, QKeySequence
from PySide6.QtWidgets import (
    QLabel,
    QListView,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QStackedWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from app import APP_NAME
from app.gui import events
from app.gui.about import show_about
from app.gui.banner import Banner
from app.gui.context import AppContext
from app.gui.first_run import offer_first_run
from app.gui.icons import icon
from app.gui.live import LiveRelay
from app.gui.notifications.bell import NotificationBell
from app.gui.page_list_model import PageListModel
from app.gui.pages import SETTINGS_PAGE, PageSpec, load_builtin_pages
from app.gui.status_progress import StatusProgress
from app.gui.targets import DatabaseTarget

if TYPE_CHECKING:
    from app.services.database import Database
    from app.services.schema import SchemaStatus

log = logging.getLogger(__name__)

STATUS_MESSAGE_MS = 15_000
SHUTDOWN_WAIT_MS = 5_000


class MainWindow(QMainWindow):
    def __init__(
        self,
        ctx: AppContext,
        pages: Iterable[PageSpec] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("mainWindow")
        self.setWindowTitle(APP_NAME)
        self.setWindowIcon(icon("perfdesk"))
        ctx.ops.default_parent = self
        ctx.database.parent_widget = self

        self._pages: dict[str, QWidget] = {}
        specs = self._build_pages(list(pages) if pages is not None else list(load_builtin_pages()))
        self.page_model = PageListModel(specs, {s.key: icon(s.icon) for s in specs if s.icon})

        self.navigation = QListView()
        self.navigation.setObjectName("navigation")
        self.navigation.setModel(self.page_model)
        self.navigation.setEditTriggers(QListView.EditTrigger.NoEditTriggers)
        # Wide enough for the longest page title beside its icon (and a scroll bar).
        # (the stylesheet draws it at 11 pt, app/gui/theme.py).
        nav_font = QFont(self.navigation.font())
        nav_font.setPointSizeF(11)
        metrics = QFontMetrics(nav_font)
        widest = max((metrics.horizontalAdvance(s.title) for s in specs), default=0)
        self.navigation.setMinimumWidth(max(150, widest + 84))
        self.navigation.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.navigation.selectionModel().currentRowChanged.connect(self._on_nav_row)

        self.banner = Banner(offers_settings=SETTINGS_PAGE in self._pages)
        self.banner.retry_requested.connect(ctx.database.retry)
        self.banner.settings_requested.connect(self.show_database_settings)

        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(8, 8, 8, 0)
        right_layout.addWidget(self.banner)
        right_layout.addWidget(self.stack, 1)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("mainSplitter")
        self.splitter.addWidget(self.navigation)
        self.splitter.addWidget(right)
        self.splitter.setCollapsible(0, False)
        self.splitter.setStretchFactor(1, 1)
        self.setCentralWidget(self.splitter)

        self._build_actions(specs)
        self._build_status_bar()
        self._connect_database()
        ctx.events.status_message.connect(self._show_status_message)
        ctx.events.page_requested.connect(self.show_page)
        self._restore_layout()

    # -- construction -------------------------------------------------------------------

    def _build_pages(self, specs: list[PageSpec]) -> list[PageSpec]:
        self.stack = QStackedWidget()
        self.stack.setObjectName("pages")
        built: list[PageSpec] = []
        for spec in specs:
            try:
                widget = spec.build(self.ctx)
            except Exception:
                # A broken feature must not take the window down; it is left out and logged.
                log.exception("The %s page could not be built", spec.title)
                continue
            widget.setObjectName(widget.objectName() or f"page_{spec.key}")
            self.stack.addWidget(widget)
            self._pages[spec.key] = widget
            built.append(spec)
        return built

    def _build_actions(self, specs: list[PageSpec]) -> None:
        file_menu = self.menuBar().addMenu("&File")
        go_menu = self.menuBar().addMenu("&Go")
        help_menu = self.menuBar().addMenu("&Help")
        toolbar = QToolBar("Main toolbar")
        toolbar.setObjectName("mainToolbar")
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        toolbar.setMovable(False)
        self.addToolBar(toolbar)
        self.toolbar = toolbar

        self.refresh_action = QAction(icon("refresh"), "&Refresh", self)
        self.refresh_action.setShortcut(QKeySequence.StandardKey.Refresh)
        self.refresh_action.setStatusTip("Read everything shown again from the database")
        self.refresh_action.setEnabled(False)
        self.refresh_action.triggered.connect(lambda: self.ctx.events.changed(events.ALL))
        file_menu.addAction(self.refresh_action)
        toolbar.addAction(self.refresh_action)

        self.settings_action: QAction | None = None
        if SETTINGS_PAGE in self._pages:
            self.settings_action = QAction(icon("database"), "Database &settings…", self)
            self.settings_action.setShortcut(QKeySequence("Ctrl+,"))
            self.settings_action.setStatusTip("Choose the local file or a shared server")
            self.settings_action.triggered.connect(self.show_database_settings)
            file_menu.addAction(self.settings_action)
            toolbar.addAction(self.settings_action)
        self.notification_bell = NotificationBell(self.ctx, self)
        toolbar.addWidget(self.notification_bell)
        from app.gui.notifications.tray import TrayNotifier  # new ones, window in background

        self.tray_notifier = TrayNotifier(self.ctx, self.notification_bell, self)

        file_menu.addSeparator()
        self.quit_action = QAction("&Quit", self)
        self.quit_action.setShortcut(QKeySequence("Ctrl+Q"))
        self.quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        self.quit_action.triggered.connect(self.close)
        file_menu.addAction(self.quit_action)

        self.page_actions: list[QAction] = []
        for number, spec in enumerate(specs, start=1):
            action = QAction(spec.title, self)
            if spec.icon:
                action.setIcon(icon(spec.icon))
            if number <= 9:
                action.setShortcut(QKeySequence(f"Ctrl+{number}"))
            action.triggered.connect(lambda _checked=False, key=spec.key: self.show_page(key))
            go_menu.addAction(action)
            self.page_actions.append(action)

        self.about_action = QAction(icon("help"), f"&About {APP_NAME}", self)
        self.about_action.setShortcut(QKeySequence("F1"))
        self.about_action.setMenuRole(QAction.MenuRole.AboutRole)
        self.about_action.triggered.connect(self.show_about)
        help_menu.addAction(self.about_action)

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.status_progress = StatusProgress()
        self.ctx.ops.status_progress = self.status_progress
        self.mode_label = QLabel("No database")
        self.mode_label.setObjectName("modeLabel")
        self.mode_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        bar.addPermanentWidget(self.status_progress)
        bar.addPermanentWidget(self.mode_label)

    def _connect_database(self) -> None:
        holder = self.ctx.database
        holder.opening.connect(self._on_opening)
        holder.opened.connect(self._on_opened)
        holder.failed.connect(self._on_failed)
        holder.closed.connect(lambda: self.refresh_action.setEnabled(False))
        # Shared mode: a lost server connection shows the banner until the server answers.
        holder.watch.lost.connect(self._on_connection_lost)
        holder.watch.still_lost.connect(self.statusBar().showMessage)
        holder.watch.restored.connect(self._on_reconnected)
        # Shared mode: other workstations' changes (NOTIFY) into ctx.events; idle when local.
        self.live = LiveRelay(self.ctx, self)
        from app.gui.scheduler import JobScheduler  # due jobs (agent-kpis, deliveries)

        self.scheduler = JobScheduler(self.ctx, self)

    # -- pages ----------------------------------------------------------------------------

    def page_keys(self) -> list[str]:
        return [self.page_model.key_at(r) or "" for r in range(self.page_model.rowCount())]

    def page_widget(self, key: str) -> QWidget | None:
        return self._pages.get(key)

    def current_page_key(self) -> str | None:
        return self.page_model.key_at(self.navigation.currentIndex().row())

    @Slot(str)
    def show_page(self, key: str) -> bool:
        row = self.page_model.row_of(key)
        if row < 0:
            return False
        self.navigation.selectionModel().setCurrentIndex(
            self.page_model.index(row),
            QItemSelectionModel.SelectionFlag.ClearAndSelect,
        )
        return True

    @Slot(QModelIndex, QModelIndex)
    def _on_nav_row(self, current: QModelIndex, _previous: QModelIndex) -> None:
        key = self.page_model.key_at(current.row())
        widget = self._pages.get(key or "")
        if widget is not None:
            self.stack.setCurrentWidget(widget)

    @Slot()
    def show_database_settings(self) -> None:
        if self.show_page(SETTINGS_PAGE):
            reveal = getattr(self._pages[SETTINGS_PAGE], "reveal_database", None)
            if callable(reveal):
                reveal()

    @Slot()
    def show_about(self) -> QMessageBox:
        holder = self.ctx.database
        where = holder.db.describe() if holder.db is not None else holder.describe_target()
        if holder.db is None:
            where += " (not connected)"
        return show_about(self, where)

    # -- database -------------------------------------------------------------------------

    def open_database(self, target: DatabaseTarget) -> None:
        self.ctx.database.open(target)

    @Slot(str)
    def _on_opening(self, description: str) -> None:
        self.refresh_action.setEnabled(False)
        self.mode_label.setText(description)
        self.banner.show_info(f"Opening database… ({description})")
        self.statusBar().showMessage("Opening database…")

    @Slot(object, object)
    def _on_opened(self, db: Database, status: SchemaStatus) -> None:
        self.banner.hide()
        self.refresh_action.setEnabled(True)
        self.mode_label.setText(db.describe())
        self.statusBar().clearMessage()
        if status.state == "upgraded":
            where = (
                f" A copy of the file as it was is at {status.backup_path}."
                if status.backup_path
                else ""
            )
            self.statusBar().showMessage(f"The database was upgraded to this version.{where}")
        elif status.state == "created":
            self.statusBar().showMessage("A new, empty PerfDesk database was created.")
        if status.is_empty:
            # After this slot returns: the default chooser is a modal dialog.
            QTimer.singleShot(0, self, lambda: self._offer_first_run(db))

    def _offer_first_run(self, db: Database) -> None:
        if self.ctx.database.db is db:  # still the open database
            offer_first_run(self.ctx, self, db)

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self.refresh_action.setEnabled(False)
        self.mode_label.setText(f"{self.ctx.database.describe_target()} — not connected")
        self.banner.show_error(message)
        self.statusBar().showMessage(message)

    @Slot(str)
    def _on_connection_lost(self, message: str) -> None:
        self.refresh_action.setEnabled(False)
        self.banner.show_error(message)  # its Retry pings at once (DatabaseHolder.retry)
        self.statusBar().showMessage(message)

    @Slot()
    def _on_reconnected(self) -> None:
        self.banner.hide()
        self.refresh_action.setEnabled(True)
        self.statusBar().showMessage(
            f"Reconnected to {self.ctx.database.describe_target()}.", STATUS_MESSAGE_MS
        )
        self.ctx.events.changed(events.ALL)  # changes made meanwhile were not seen

    @Slot(str)
    def _show_status_message(self, text: str) -> None:
        self.statusBar().showMessage(text, STATUS_MESSAGE_MS)

    # -- layout ---------------------------------------------------------------------------

    def _restore_layout(self) -> None:
        settings = self.ctx.settings
        geometry = settings.geometry
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(1100, 720)
        state = settings.window_state
        if state is not None:
            self.restoreState(state)
        splitter = settings.splitter_state
        if splitter is None or not self.splitter.restoreState(splitter):
            self.splitter.setSizes([190, 910])
        last = settings.last_page
        if not (last and self.show_page(last)) and self.page_model.rowCount():
            self.show_page(self.page_model.key_at(0) or "")

    def save_layout(self) -> None:
        self.ctx.settings.save_layout(
            self.saveGeometry(),
            self.saveState(),
            self.splitter.saveState(),
            self.current_page_key(),
        )

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_layout()
        ops = self.ctx.ops
        ops.cancel_all()
        self.ctx.database.close()
        if not ops.wait_for_done(SHUTDOWN_WAIT_MS):
            log.warning("Background work still running after %d ms at close", SHUTDOWN_WAIT_MS)
        super().closeEvent(event)
