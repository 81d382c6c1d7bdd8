"""The Settings page: the Database and Office sections in a scrollable column."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QScrollArea, QVBoxLayout, QWidget

from app.gui.context import AppContext
from app.gui.pages import SETTINGS_PAGE, page
from app.gui.settings.database_section import DatabaseSection
from app.gui.settings.office_section import OfficeSection


class SettingsPage(QScrollArea):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("settingsPage")
        self.setWidgetResizable(True)
        self.setFrameShape(QScrollArea.Shape.NoFrame)
        title = QLabel("Settings")
        title.setProperty("role", "pageTitle")
        self.database_section = DatabaseSection(ctx)
        self.office_section = OfficeSection(ctx)
        body = QWidget()
        body.setMaximumWidth(760)
        layout = QVBoxLayout(body)
        layout.addWidget(title)
        layout.addWidget(self.database_section)
        layout.addWidget(self.office_section)
        layout.addStretch(1)
        self.setWidget(body)
        self.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)

    def reveal_database(self) -> None:
        self.ensureWidgetVisible(self.database_section)
        self.database_section.reveal()


@page(SETTINGS_PAGE, "Settings", order=900, icon="settings", tooltip="Database and office")
def build_settings_page(ctx: AppContext) -> QWidget:
    return SettingsPage(ctx)
