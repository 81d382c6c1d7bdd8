"""A strip above the pages saying what is happening with the database, with what to do next."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

INFO = "info"
ERROR = "error"


class Banner(QFrame):
    retry_requested = Signal()
    settings_requested = Signal()

    def __init__(self, parent: QWidget | None = None, *, offers_settings: bool = True) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        self.setProperty("kind", INFO)
        self.label = QLabel()
        self.label.setObjectName("bannerText")
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.settings_button = QPushButton("Database &settings…")
        self.settings_button.clicked.connect(self.settings_requested)
        self.settings_button.setVisible(False)
        self._offers_settings = offers_settings
        self.retry_button = QPushButton("&Retry")
        self.retry_button.clicked.connect(self.retry_requested)
        self.retry_button.setVisible(False)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 8, 8, 8)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.settings_button)
        layout.addWidget(self.retry_button)
        self.hide()

    @property
    def kind(self) -> str:
        return str(self.property("kind"))

    def show_info(self, text: str) -> None:
        self._show(INFO, text, actions=False)

    def show_error(self, text: str) -> None:
        self._show(ERROR, text, actions=True)

    def _show(self, kind: str, text: str, *, actions: bool) -> None:
        self.setProperty("kind", kind)
        self.style().unpolish(self)
        self.style().polish(self)
        self.label.setText(text)
        self.settings_button.setVisible(actions and self._offers_settings)
        self.retry_button.setVisible(actions)
        self.show()
