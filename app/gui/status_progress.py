"""A progress bar with a Cancel button in the status bar, following background operations."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QToolButton, QWidget

from app.gui.operations import Operation


class StatusProgress(QWidget):
    """Shows the newest unfinished operation it was given; hidden when there is none."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("statusProgress")
        self.label = QLabel()
        self.bar = QProgressBar()
        self.bar.setMaximumWidth(160)
        self.bar.setMaximumHeight(14)
        self.bar.setTextVisible(False)
        self.cancel_button = QToolButton()
        self.cancel_button.setText("Cancel")
        self.cancel_button.setToolTip("Stop this operation")
        self.cancel_button.clicked.connect(self._cancel_current)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel_button)
        self._tracked: list[Operation[Any]] = []
        self.hide()

    def track(self, op: Operation[Any]) -> None:
        self._tracked.append(op)
        op.progressed.connect(self._on_progress)
        op.finished.connect(self._on_finished)
        self._show_current()

    def current(self) -> Operation[Any] | None:
        return self._tracked[-1] if self._tracked else None

    def _show_current(self) -> None:
        op = self.current()
        if op is None:
            self.hide()
            return
        self.label.setText(op.label)
        self.bar.setRange(0, 0)  # busy until the task reports a total
        self.cancel_button.setVisible(op.cancellable)
        self.cancel_button.setEnabled(not op.cancel_requested())
        self.show()

    @Slot(int, int, str)
    def _on_progress(self, done: int, total: int, text: str) -> None:
        if self.sender() is not self.current():
            return
        if total > 0:
            self.bar.setRange(0, total)
            self.bar.setValue(min(done, total))
        if text:
            self.label.setText(text)

    @Slot()
    def _on_finished(self) -> None:
        op = self.sender()
        self._tracked = [t for t in self._tracked if t is not op]
        self._show_current()

    @Slot()
    def _cancel_current(self) -> None:
        op = self.current()
        if op is not None:
            op.cancel()
            self.cancel_button.setEnabled(False)
            self.label.setText(f"{op.label.rstrip('….')} — cancelling…")
