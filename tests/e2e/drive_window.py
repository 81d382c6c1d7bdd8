"""Run by tests/e2e/test_real_window.py in its own process, on a real X server (Xvfb).

Opens the real main window on the database given by PERFDESK_DB_URL, waits until the
database is open, visits every page through the navigation, saves a screenshot of each page
named in the second argument (comma-separated keys), then one of the X screen (what a person
would see, not an offscreen render) and prints a JSON report.
"""

from __future__ import annotations

import json
import sys

from PySide6.QtCore import QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest

from app.gui.app import build_window

TIMEOUT_MS = 30_000


def main(screenshot: str, page_keys: list[str]) -> int:
    app, window = build_window()
    report: dict[str, object] = {"platform": QGuiApplication.platformName()}

    def finish(opened_ok: bool, message: str = "") -> None:
        report["opened"] = opened_ok
        report["message"] = message
        model = window.navigation.model()
        pages = [model.index(r, 0).data() for r in range(model.rowCount())]
        report["pages"] = pages
        for row in range(model.rowCount()):
            window.navigation.setCurrentIndex(model.index(row, 0))
            QTest.qWait(150)
        shots: dict[str, bool] = {}
        for key in page_keys:  # each page as a person sees it, once its data are in
            window.show_page(key)
            QTest.qWait(1200)
            path = screenshot.replace(".png", f"_{key}.png")
            shots[key] = window.screen().grabWindow(0).save(path)
        report["page_shots"] = shots
        window.navigation.setCurrentIndex(model.index(0, 0))
        QTest.qWait(400)
        report["window_exposed"] = window.windowHandle().isExposed()
        report["title"] = window.windowTitle()
        report["mode"] = window.mode_label.text()
        shot = window.screen().grabWindow(0)
        report["screenshot_saved"] = shot.save(screenshot)
        report["screenshot_size"] = [shot.width(), shot.height()]
        print(json.dumps(report), flush=True)
        window.close()

    window.ctx.database.opened.connect(lambda *_: QTimer.singleShot(300, lambda: finish(True)))
    window.ctx.database.failed.connect(lambda msg: finish(False, msg))
    QTimer.singleShot(TIMEOUT_MS, lambda: finish(False, "timed out opening the database"))
    return int(app.exec())


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2].split(",") if len(sys.argv) > 2 else []))
