"""The toolbar bell: the unread count, and a popup list with "Mark all read" and the settings.

Activating an entry marks it read and opens its record (``ctx.events.open_record``). The
count is read again when the database opens and whenever escrows, clients, listings or
notifications change; each list read is also announced (``listed``) for the tray notifier.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPoint, Qt, Signal, Slot
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QListView,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.gui import events
from app.gui.context import AppContext
from app.gui.icons import icon
from app.gui.notifications.model import NotificationDelegate, NotificationModel
from app.services import notifications as service
from app.services.database import Database
from app.services.notifications import NotificationList, NotificationRow

#: The data_changed kind this feature emits when notifications are marked read.
NOTIFICATIONS = "notifications"
_WATCHED = (events.ESCROWS, events.CLIENTS, events.LISTINGS, NOTIFICATIONS)


def bell_text(unread: int) -> str:
    """Beside the bell icon: the unread count, or nothing."""
    return str(unread) if unread else ""


class NotificationPanel(QFrame):
    """The list under the bell, floating over the window: newest first, unread in bold; Esc or a
    second click on the bell hides it."""

    activated = Signal(object)  # NotificationRow
    mark_all_requested = Signal()
    settings_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAutoFillBackground(True)
        self.setFrameShadow(QFrame.Shadow.Raised)
        self.setObjectName("notificationPanel")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.model = NotificationModel(self)
        header = QHBoxLayout()
        self.heading = QLabel("<b>Notifications</b>")
        self.mark_all_button = QPushButton("Mark all read")
        self.mark_all_button.setObjectName("markAllRead")
        self.mark_all_button.clicked.connect(self.mark_all_requested)
        self.settings_button = QPushButton("Notification settings…")
        self.settings_button.setObjectName("notificationSettings")
        self.settings_button.clicked.connect(self.settings_requested)
        header.addWidget(self.heading, 1)
        header.addWidget(self.mark_all_button)
        header.addWidget(self.settings_button)
        self.view = QListView()
        self.view.setObjectName("notificationList")
        self.view.setModel(self.model)
        self.view.setItemDelegate(NotificationDelegate(self.view))
        self.view.setUniformItemSizes(True)
        self.view.setEditTriggers(QListView.EditTrigger.NoEditTriggers)
        self.view.activated.connect(self._on_activated)
        self.view.clicked.connect(self._on_activated)
        self.empty = QLabel("No notifications yet.")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.empty)
        self.resize(440, 360)
        hide = QShortcut(QKeySequence(Qt.Key.Key_Escape), self)
        hide.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        hide.activated.connect(self.hide)
        self.hide()

    def set_list(self, listed: NotificationList) -> None:
        self.model.set_rows(listed.rows)
        self.mark_all_button.setEnabled(listed.unread > 0)
        self.empty.setVisible(not listed.rows)
        self.view.setVisible(bool(listed.rows))

    @Slot(QModelIndex)
    def _on_activated(self, index: QModelIndex) -> None:
        row = self.model.row_at(index.row())
        if row is not None:
            self.activated.emit(row)


class NotificationBell(QToolButton):
    """A bell icon with the acting person's unread count; a click shows the list."""

    #: Each list read from the open database (NotificationList), after the bell shows it.
    listed = Signal(object)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("notificationBell")
        self.setIcon(icon("bell"))
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.setToolTip("Notifications")
        self.setAccessibleName("Notifications")
        self.unread = 0
        self.setText(bell_text(0))
        self.setEnabled(False)
        self.panel = NotificationPanel(self.window())
        self.panel.activated.connect(self.open_notification)
        self.panel.mark_all_requested.connect(self.mark_all_read)
        self.panel.settings_requested.connect(self.show_settings)
        self.clicked.connect(self.show_panel)
        ctx.events.data_changed.connect(self._on_data_changed)
        ctx.database.opened.connect(lambda *_args: self.refresh())
        ctx.database.closed.connect(self._on_closed)
        if ctx.database.db is not None:
            self.refresh()

    def _db(self) -> Database | None:
        return self.ctx.database.db

    @Slot(str)
    def _on_data_changed(self, kind: str) -> None:
        if events.concerns(kind, *_WATCHED):
            self.refresh()

    @Slot()
    def _on_closed(self) -> None:
        self.panel.hide()
        self._show(NotificationList((), 0))
        self.setEnabled(False)

    @Slot()
    def refresh(self) -> None:
        db = self._db()
        if db is None:
            return
        self.ctx.ops.run(
            lambda: service.list_notifications(db),
            label="Reading notifications…",
            on_success=lambda listed: self._listed(db, listed),
            on_error=lambda _exc: self.setEnabled(False),
            parent=self,
        )

    def _listed(self, db: Database, listed: NotificationList) -> None:
        if self._db() is not db:
            return  # read from a database since closed or replaced
        self._show(listed)
        self.listed.emit(listed)

    def _show(self, listed: NotificationList) -> None:
        self.unread = listed.unread
        self.setText(bell_text(listed.unread))
        self.setToolTip(f"Notifications: {listed.unread} unread")
        self.setEnabled(self._db() is not None)
        self.panel.set_list(listed)

    @Slot()
    def show_panel(self) -> None:
        """Show the list under the bell (a second click hides it)."""
        if self.panel.isVisible():
            self.panel.hide()
            return
        host = self.panel.parentWidget()
        below = self.mapTo(host, QPoint(0, self.height())) if host is not None else QPoint()
        if host is not None:
            below.setX(max(0, min(below.x(), host.width() - self.panel.width())))
        self.panel.move(below)
        self.panel.raise_()
        self.panel.show()
        self.panel.view.setFocus()
        self.refresh()

    @Slot(object)
    def open_notification(self, row: NotificationRow) -> None:
        db = self._db()
        self.panel.hide()
        if db is not None and not row.is_read:
            self.panel.model.mark_read_locally(row.id)
            self.ctx.ops.run(
                lambda: service.mark_read(db, row.id),
                label="Marking read…",
                on_success=lambda _n: self.ctx.events.changed(NOTIFICATIONS),
                parent=self,
            )
        self.ctx.events.open_record(row.page, row.entity_id)

    @Slot()
    def mark_all_read(self) -> None:
        db = self._db()
        if db is None:
            return
        self.panel.model.mark_read_locally()
        self.ctx.ops.run(
            lambda: service.mark_all_read(db),
            label="Marking all read…",
            on_success=lambda _n: self.ctx.events.changed(NOTIFICATIONS),
            parent=self,
        )

    @Slot()
    def show_settings(self) -> None:
        from app.gui.notifications.settings_dialog import NotificationSettingsDialog

        self.panel.hide()
        dialog = NotificationSettingsDialog(self.ctx, self.window())
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
