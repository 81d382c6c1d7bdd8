"""Icons from resources/icons/*.svg, drawn in the palette's text colour (light or dark)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from PySide6.QtCore import QByteArray, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer

RESOURCES = Path(__file__).resolve().parents[2] / "resources"
ICONS = RESOURCES / "icons"
SIZES = (16, 20, 24, 32, 48)


@cache
def _svg(name: str) -> str | None:
    path = ICONS / f"{name}.svg"
    return path.read_text(encoding="utf-8") if path.is_file() else None


def icon(name: str, color: QColor | None = None) -> QIcon:
    """The named icon with ``currentColor`` replaced by ``color``; empty if there is none."""
    svg = _svg(name)
    if svg is None:
        return QIcon()
    if color is not None:
        svg = svg.replace("currentColor", color.name())
    renderer = QSvgRenderer(QByteArray(svg.encode("utf-8")))
    result = QIcon()
    for size in SIZES:
        pixmap = QPixmap(size, size)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        renderer.render(painter, QRectF(0, 0, size, size))
        painter.end()
        result.addPixmap(pixmap)
    return result
