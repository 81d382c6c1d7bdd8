"""A one-line message under a form field or a form: an error, a success, or nothing (hidden)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget

ERROR = "fieldError"
OK = "ok"


class FieldMessage(QLabel):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setProperty("role", ERROR)
        self.hide()

    def show_error(self, text: str | None) -> None:
        self._set(ERROR, text)

    def show_ok(self, text: str) -> None:
        self._set(OK, text)

    def clear_message(self) -> None:
        self._set(ERROR, None)

    def _set(self, role: str, text: str | None) -> None:
        if self.property("role") != role:
            self.setProperty("role", role)
            self.style().unpolish(self)
            self.style().polish(self)
        self.setText(text or "")
        self.setVisible(bool(text))

    @property
    def is_error(self) -> bool:
        return bool(self.text()) and self.property("role") == ERROR
