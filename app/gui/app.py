"""Start the window: ``run_window(db_url)`` is what ``main.py`` calls with no command."""

from __future__ import annotations

import logging
import os
import sys
from types import TracebackType

from PySide6.QtCore import QEvent, QObject, QSettings, QTimer
from PySide6.QtWidgets import QApplication

from app import APP_NAME, ORG_NAME, __version__
from app.gui.app_settings import AppSettings
from app.gui.context import AppContext
from app.gui.errors import describe_error
from app.gui.icons import icon
from app.gui.main_window import MainWindow
from app.gui.responsiveness import ResponsivenessTuning
from app.gui.targets import initial_target
from app.gui.theme import apply_theme

log = logging.getLogger(__name__)

#: Set to 1 by the start-up benchmark: report the first paint and close.
FIRST_PAINT_ENV = "PERFDESK_EXIT_AFTER_FIRST_PAINT"


def _install_excepthook(ctx: AppContext, window: MainWindow) -> None:
    """An exception escaping a slot is logged and shown; the window keeps running."""

    def hook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, exc, tb)
            return
        log.error("Unhandled error in the window", exc_info=(kind, exc, tb))
        ctx.prompts.present_error(window, describe_error(exc))

    sys.excepthook = hook


class _FirstPaintProbe(QObject):
    """For bench/bench_startup.py: say "first-paint" on stdout at the first paint, then close."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._window = window
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._window and event.type() == QEvent.Type.Paint:
            self._window.removeEventFilter(self)
            print("first-paint", flush=True)
            QTimer.singleShot(0, self._window.close)
        return False


def build_window(db_url: str | None = None) -> tuple[QApplication, MainWindow]:
    """The application and its shown main window; the database opens once the loop runs.

    ``db_url`` wins, else PERFDESK_DB_URL, the saved server, the local file.
    """
    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )
    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    app.setOrganizationName(ORG_NAME)
    app.setApplicationName(APP_NAME)
    app.setApplicationVersion(__version__)
    app.setWindowIcon(icon("perfdesk"))
    apply_theme(app)

    settings = AppSettings(QSettings())
    ctx = AppContext.create(settings)
    window = MainWindow(ctx)
    ResponsivenessTuning(ctx, window)
    _install_excepthook(ctx, window)
    if os.environ.get(FIRST_PAINT_ENV) == "1":
        _FirstPaintProbe(window)
    window.show()
    target = initial_target(db_url, settings.chosen_server())
    # Opened once the event loop runs: the window paints first, then fills in.
    QTimer.singleShot(0, window, lambda: window.open_database(target))
    return app, window


def run_window(db_url: str | None = None) -> int:
    """Show the window and run until it closes. Returns the application's exit code."""
    app, _window = build_window(db_url)
    return int(app.exec())
