"""Run by tests/e2e/test_board_dnd.py in its own process, on a real X server (Xvfb).

Opens the real main window (``build_window``) on the database given by PERFDESK_DB_URL, shows
the Pipeline page and drags a card with the mouse from one column to the next: a QTest press on
the card, moves in steps well beyond QApplication.startDragDistance(), into the other column's
viewport, and a release there. The first move past the drag distance starts QDrag.exec, which
runs a nested event loop until the button is released, so every step after the press is
scheduled on QTimers before the press (the moves and the release arrive inside that loop).

Nothing waits with QTest.qWait: the move is written on a worker thread, and qWait would keep
the GIL from it. Waiting is done by polling on a QTimer from the event loop.

Prints one JSON line: what was dragged where, which drag events the target column saw, where
the card is drawn afterwards, and whether the screenshots were saved. The test checks the
database itself.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from functools import partial
from typing import Any

from PySide6.QtCore import QEvent, QObject, QPoint, Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QAbstractItemView, QApplication, QWidget

from app.domain.pipeline import OPEN_STAGES, STAGES
from app.gui.app import build_window
from app.gui.pipeline.page import PipelinePage

TIMEOUT_MS = 60_000
STEP_MS = 40  # between two mouse moves
STEPS_OUT = 6  # moves inside the source column, past the drag distance
STEPS_ACROSS = 10  # moves to the target column
LEFT = Qt.MouseButton.LeftButton
NO_MODS = Qt.KeyboardModifier.NoModifier


class DragWatch(QObject):
    """Records the drag-and-drop events a column's viewport receives."""

    KINDS = {
        QEvent.Type.DragEnter: "enter",
        QEvent.Type.DragMove: "move",
        QEvent.Type.DragLeave: "leave",
        QEvent.Type.Drop: "drop",
    }

    def __init__(self, target: QWidget) -> None:
        super().__init__(target)
        self.seen: list[str] = []
        target.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = self.KINDS.get(event.type())
        if kind is not None and (not self.seen or self.seen[-1] != kind):
            self.seen.append(kind)
        return False


def poll(
    condition: Callable[[], bool],
    then: Callable[[], None],
    every_ms: int = 50,
    give_up_ms: int | None = None,
) -> None:
    """Call ``then`` once ``condition`` holds (or ``give_up_ms`` have passed), checking from
    the event loop."""
    left = [None if give_up_ms is None else give_up_ms // every_ms]

    def check() -> None:
        if condition() or left[0] == 0:
            then()
            return
        if left[0] is not None:
            left[0] -= 1
        QTimer.singleShot(every_ms, check)

    QTimer.singleShot(every_ms, check)


def main(screenshot: str) -> int:
    app, window = build_window()
    window.resize(1260, 780)
    window.move(0, 0)
    ctx = window.ctx
    report: dict[str, Any] = {
        "platform": QGuiApplication.platformName(),
        "drag_distance": QApplication.startDragDistance(),
    }
    state: dict[str, Any] = {}

    def emit_report() -> None:
        print(json.dumps(report, default=str), flush=True)

    def give_up() -> None:
        # QDrag.exec may still be running its nested loop: leave without unwinding it.
        report.setdefault("error", "timed out")
        if "watch" in state:
            report["drag_events"] = state["watch"].seen
        emit_report()
        os._exit(3)

    def idle(page: PipelinePage) -> bool:
        return page._loaded is not None and not ctx.ops.active()

    def on_opened(*_: object) -> None:
        assert window.show_page("pipeline")
        page = window.page_widget("pipeline")
        assert isinstance(page, PipelinePage)
        state["page"] = page
        poll(lambda: idle(page), lambda: QTimer.singleShot(300, start_drag))

    def start_drag() -> None:
        page: PipelinePage = state["page"]
        model = page.model
        source = next(s for s in OPEN_STAGES if model.cards(s))
        target = STAGES[STAGES.index(source) + 1]
        card = model.cards(source)[0]
        src_view, dst_view = page.columns[source].view, page.columns[target].view
        page.board_area.ensureWidgetVisible(page.columns[target])
        page.board_area.ensureWidgetVisible(page.columns[source])
        report.update(
            deal_id=card.deal_id,
            version=card.version,
            title=card.title,
            from_stage=source.value,
            to_stage=target.value,
            source_cards=len(model.cards(source)),
            target_cards=len(model.cards(target)),
        )
        src_vp, dst_vp = src_view.viewport(), dst_view.viewport()
        report["columns_on_screen"] = all(
            window.rect().contains(w.mapTo(window, w.rect().center())) for w in (src_vp, dst_vp)
        )
        watch = DragWatch(dst_vp)
        state["watch"] = watch
        model.move_requested.connect(
            lambda moving, stage: report.setdefault("move_requested", [moving, stage.value])
        )

        start = src_view.visualRect(model.find(card.deal_id)).center()
        # the path, in window coordinates: down the card past the drag distance, then across
        start_w = src_vp.mapTo(window, start)
        away = QApplication.startDragDistance() * 3
        out_w = start_w + QPoint(away // 2, away)
        end = QPoint(dst_vp.width() // 2, dst_vp.height() - 30)  # below the target's cards
        end_w = dst_vp.mapTo(window, end)
        path = [start_w + (out_w - start_w) * (i / STEPS_OUT) for i in range(1, STEPS_OUT + 1)]
        path += [out_w + (end_w - out_w) * (i / STEPS_ACROSS) for i in range(1, STEPS_ACROSS + 1)]
        report["path"] = [[start_w.x(), start_w.y()], [end_w.x(), end_w.y()]]

        # Everything after the press is queued now: the drag's own loop will run these.
        # QTest sends a widget's mouse events to that widget only, so the moves go to the
        # pressed viewport (which starts the drag), given in its coordinates even when they
        # lie over the other column: once QDrag runs, it follows their global position.
        t = 50
        for i, point in enumerate(path):
            t += STEP_MS
            QTimer.singleShot(t, partial(move, src_vp, src_vp.mapFrom(window, point), i))
            if i == len(path) - 3:
                QTimer.singleShot(t + 5, partial(grab, "during"))
        t += STEP_MS
        QTimer.singleShot(t, partial(move, dst_vp, end, len(path)))  # settle on the target
        t += 2 * STEP_MS
        QTimer.singleShot(t, partial(release, dst_vp, end))
        QTest.mousePress(src_vp, LEFT, NO_MODS, start)
        report["pressed"] = True

    def move(widget: QWidget, pos: QPoint, step: int) -> None:
        page: PipelinePage = state["page"]
        view = page.columns[next(s for s in STAGES if s.value == report["from_stage"])].view
        if view.state() == QAbstractItemView.State.DraggingState:
            report.setdefault("dragging_from_step", step)
        QTest.mouseMove(widget, pos)

    def grab(name: str) -> None:
        shot = window.screen().grabWindow(0)
        path = screenshot if name == "after" else screenshot.replace(".png", f"_{name}.png")
        report[f"screenshot_{name}"] = shot.save(path)

    def release(widget: QWidget, pos: QPoint) -> None:
        QTest.mouseRelease(widget, LEFT, NO_MODS, pos)
        report["released"] = True
        page: PipelinePage = state["page"]
        # a drop that never asks for a move is reported, not waited for
        poll(lambda: idle(page) and "move_requested" in report, finish, give_up_ms=10_000)

    def finish() -> None:
        page: PipelinePage = state["page"]
        model = page.model
        deal_id = report["deal_id"]
        index = model.find(deal_id)
        card = model.card_at(index)
        report["drag_events"] = state["watch"].seen
        report["card_stage"] = None if card is None else card.stage.value
        report["card_version"] = None if card is None else card.version
        report["card_column"] = (
            model.stages()[index.parent().row()].value if index.isValid() else None
        )
        source, target = (next(s for s in STAGES if s.value == report[k]) for k in
                          ("from_stage", "to_stage"))  # fmt: skip
        report["source_cards_after"] = len(model.cards(source))
        report["target_cards_after"] = len(model.cards(target))
        report["errors_shown"] = state.get("errors", [])
        report["status"] = window.statusBar().currentMessage()
        QTimer.singleShot(300, lambda: (grab("after"), emit_report(), window.close()))

    def on_failed(message: str) -> None:
        report["error"] = f"the database did not open: {message}"
        emit_report()
        window.close()

    errors: list[str] = []
    state["errors"] = errors
    show_error = ctx.prompts.present_error
    ctx.prompts.present_error = lambda parent, msg: (errors.append(msg.text),
                                                     show_error(parent, msg))  # fmt: skip
    ctx.ops.present_error = ctx.prompts.present_error
    ctx.database.opened.connect(on_opened)
    ctx.database.failed.connect(on_failed)
    QTimer.singleShot(TIMEOUT_MS, give_up)
    return int(app.exec())


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
