"""Fusion style following the system's light or dark colour scheme, plus a small stylesheet."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

_LIGHT = {
    "banner_info_bg": "#e8f0fe",
    "banner_info_fg": "#1a3d7c",
    "banner_error_bg": "#fdecea",
    "banner_error_fg": "#7a1c14",
    "banner_border": "#d0d7de",
    "ok": "#1e7b34",
    "error": "#b3261e",
}
_DARK = {
    "banner_info_bg": "#1f2f4a",
    "banner_info_fg": "#cfe0ff",
    "banner_error_bg": "#4a1f1c",
    "banner_error_fg": "#ffd9d4",
    "banner_border": "#3d444d",
    "ok": "#7ee787",
    "error": "#ff9b8f",
}

_STYLESHEET = """
QListView#navigation {{ border: none; font-size: 11pt; outline: 0; }}
QListView#navigation::item {{ padding: 7px 8px; border-radius: 4px; color: palette(text); }}
QListView#navigation::item:hover {{ background: palette(alternate-base); }}
QListView#navigation::item:selected {{
    background: palette(highlight); color: palette(highlighted-text);
}}
QFrame#banner[kind="info"] {{
    background: {banner_info_bg}; color: {banner_info_fg};
    border: 1px solid {banner_border}; border-radius: 4px;
}}
QFrame#banner[kind="error"] {{
    background: {banner_error_bg}; color: {banner_error_fg};
    border: 1px solid {banner_border}; border-radius: 4px;
}}
QFrame#banner QLabel {{ background: transparent; color: inherit; }}
QLabel[role="fieldError"], QLabel[role="error"] {{ color: {error}; }}
QLabel[role="ok"] {{ color: {ok}; }}
QLabel[role="hint"] {{ color: palette(placeholder-text); }}
QLabel[role="pageTitle"] {{ font-size: 16pt; font-weight: 600; }}
"""


def is_dark() -> bool:
    hints = QGuiApplication.styleHints()
    return hints is not None and hints.colorScheme() == Qt.ColorScheme.Dark


def colors(dark: bool | None = None) -> dict[str, str]:
    return _DARK if (is_dark() if dark is None else dark) else _LIGHT


def dark_palette() -> QPalette:
    p = QPalette()
    base, window, text = QColor("#1e1f22"), QColor("#2b2d30"), QColor("#dfe1e5")
    p.setColor(QPalette.ColorRole.Window, window)
    p.setColor(QPalette.ColorRole.WindowText, text)
    p.setColor(QPalette.ColorRole.Base, base)
    p.setColor(QPalette.ColorRole.AlternateBase, QColor("#26282b"))
    p.setColor(QPalette.ColorRole.ToolTipBase, window)
    p.setColor(QPalette.ColorRole.ToolTipText, text)
    p.setColor(QPalette.ColorRole.PlaceholderText, QColor("#8c9199"))
    p.setColor(QPalette.ColorRole.Text, text)
    p.setColor(QPalette.ColorRole.Button, window)
    p.setColor(QPalette.ColorRole.ButtonText, text)
    p.setColor(QPalette.ColorRole.BrightText, QColor("#ff6b6b"))
    p.setColor(QPalette.ColorRole.Link, QColor("#6ea8fe"))
    p.setColor(QPalette.ColorRole.Highlight, QColor("#2f65ca"))
    p.setColor(QPalette.ColorRole.HighlightedText, QColor("#ffffff"))
    disabled = QColor("#6f737a")
    for role in (
        QPalette.ColorRole.Text,
        QPalette.ColorRole.ButtonText,
        QPalette.ColorRole.WindowText,
    ):
        p.setColor(QPalette.ColorGroup.Disabled, role, disabled)
    return p


def apply_theme(app: QApplication) -> None:
    """Fusion, the palette of the system's colour scheme, and follow it when it changes."""
    app.setStyle("Fusion")
    apply_scheme(app)
    hints = QGuiApplication.styleHints()
    if hints is not None:
        hints.colorSchemeChanged.connect(lambda _scheme: apply_scheme(app))


def apply_scheme(app: QApplication, dark: bool | None = None) -> None:
    """The palette and stylesheet for the system's scheme (or the one asked for)."""
    dark = is_dark() if dark is None else dark
    app.setPalette(dark_palette() if dark else app.style().standardPalette())
    app.setStyleSheet(_STYLESHEET.format(**colors(dark)))
