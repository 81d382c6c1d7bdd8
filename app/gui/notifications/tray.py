"""New notifications as a desktop message (system tray) while the window is in the background.

Listens to the bell's lists: ids not in the previous list and still unread are new. The first
list after a database opens only sets the baseline, so old unread ones never flood in at start.
Clicking the message brings the window to front and opens the newest one as the bell does.

Where there is no system tray (offscreen, a desktop without one) nothing is shown and that is
logged once. ``tray_available`` and ``show_message`` are plain attributes so tests can replace
them; the tray icon itself joins the tray with the first message.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from PySide6.QtCore import QObject, Qt, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QSystemTrayIcon, QWidget

from app import APP_NAME
from app.gui.context import AppContext
from app.gui.icons import icon
from app.gui.notifications.bell import NotificationBell
from app.services.notifications import NotificationList, NotificationRow

log = logging.getLogger(__name__)

#: How many titles a message about several new notifications names.
TITLES_SHOWN = 3
MESSAGE_MS = 10_000


def message_text(new: Sequence[NotificationRow]) -> tuple[str, str]:
    """The title and body of the one message about ``new`` (newest first, not empty)."""
    if len(new) == 1:
        return new[0].title, new[0].body
    lines = [row.title for row in new[:TITLES_SHOWN]]
    if len(new) > TITLES_SHOWN:
        lines.append(f"…and {len(new) - TITLES_SHOWN} more")
    return f"{len(new)} new notifications", "\n".join(lines)


class TrayNotifier(QObject):
    def __init__(self, ctx: AppContext, bell: NotificationBell, window: QWidget) -> None:
        super().__init__(window)
        self.ctx = ctx
        self.bell = bell
        self.window = window
        self.tray_available: Callable[[], bool] = QSystemTrayIcon.isSystemTrayAvailable
        self.show_message: Callable[[str, str], None] = self._show_in_tray
        self.tray_icon: QSystemTrayIcon | None = None
        self._seen: set[int] | None = None  # None until the first list of this database
        self._newest: NotificationRow | None = None  # what a click on the message opens
        self._listed: dict[int, NotificationRow] = {}  # the last list, by id
        self._said_unavailable = False
        bell.listed.connect(self._on_listed)
        ctx.database.opened.connect(self._reset)
        ctx.database.closed.connect(self._reset)

    @Slot()
    def _reset(self) -> None:
        self._seen = None
        self._newest = None
        self._listed = {}

    def in_background(self) -> bool:
        w = self.window
        return not w.isVisible() or w.isMinimized() or not w.isActiveWindow()

    @Slot(object)
    def _on_listed(self, listed: NotificationList) -> None:
        self._listed = {row.id: row for row in listed.rows}
        if self._seen is None:
            self._seen = set(self._listed)
            return
        new = [row for row in listed.rows if row.id not in self._seen and not row.is_read]
        self._seen |= set(self._listed)
        wanted = self.ctx.settings.desktop_notifications
        if not wanted and self.tray_icon is not None:
            self.tray_icon.hide()
        if not new or not wanted or not self.in_background():
            return
        if not self.tray_available():
            if not self._said_unavailable:
                log.info("No system tray here: new notifications show only on the bell")
                self._said_unavailable = True
            return
        self._newest = new[0]
        self.show_message(*message_text(new))

    def _show_in_tray(self, title: str, body: str) -> None:
        if self.tray_icon is None:
            self.tray_icon = self._make_tray_icon()
        self.tray_icon.show()
        self.tray_icon.showMessage(title, body, icon("perfdesk"), MESSAGE_MS)

    def _make_tray_icon(self) -> QSystemTrayIcon:
        tray = QSystemTrayIcon(icon("perfdesk"), self)
        tray.setToolTip(APP_NAME)
        menu = QMenu(self.window)
        show = QAction(f"Show {APP_NAME}", menu)
        show.triggered.connect(self.bring_to_front)
        menu.addAction(show)
        tray.setContextMenu(menu)
        tray.activated.connect(self._on_activated)
        tray.messageClicked.connect(self.open_newest)
        return tray

    @Slot(QSystemTrayIcon.ActivationReason)
    def _on_activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason == QSystemTrayIcon.ActivationReason.Trigger:
            self.bring_to_front()

    @Slot()
    def bring_to_front(self) -> None:
        w = self.window
        if w.isMinimized():
            w.setWindowState(w.windowState() & ~Qt.WindowState.WindowMinimized)
        w.show()
        w.raise_()
        w.activateWindow()

    @Slot()
    def open_newest(self) -> None:
        """The message was clicked: the window to front, the newest notification opened."""
        self.bring_to_front()
        row, self._newest = self._newest, None
        if row is not None:
            # As listed last: it may have been read on the bell since the message.
            self.bell.open_notification(self._listed.get(row.id, row))
