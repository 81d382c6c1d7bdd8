"""A small donut chart painted with QPainter: one slice per category with a count, the total in
the middle, a legend beside it and a tooltip per slice. Its colours follow the light or dark
palette (re-chosen when the palette changes); text and the hole take the palette's own.

The Analytics page shows the deals by stage with it. Only categories with a count get a
slice (and a legend line); an empty donut says so in the middle.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QPoint, QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QHelpEvent, QPainter, QPalette, QPen
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

#: Categorical colours, in slice order: the same hues, strong on light, bright on dark.
LIGHT_COLORS = (
    "#4c6ef5", "#15aabf", "#12b886", "#82c91e", "#fab005",
    "#fd7e14", "#be4bdb", "#7950f2", "#2b8a3e", "#c92a2a",
)  # fmt: skip
DARK_COLORS = (
    "#748ffc", "#3bc9db", "#38d9a9", "#a9e34b", "#ffd43b",
    "#ffa94d", "#da77f2", "#9775fa", "#69db7c", "#ff8787",
)  # fmt: skip
HOLE = 0.58  # the hole's radius, as a share of the ring's
LEGEND_GAP = 14
SWATCH = 10


@dataclass(frozen=True)
class Slice:
    key: str
    label: str
    count: int
    color_index: int  # the category's place among all categories (a stable colour)


def is_dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


class DonutChart(QWidget):
    """``set_slices([(key, label, count), …])``; ``noun`` names what is counted ("deals")."""

    def __init__(
        self, noun: str = "items", noun_one: str = "item", parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("donutChart")
        self.noun, self.noun_one = noun, noun_one
        self.empty_text = f"No {noun}"
        self._slices: list[Slice] = []
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self._update_accessible()

    # -- data ------------------------------------------------------------------------------

    def set_slices(self, categories: Sequence[tuple[str, str, int]]) -> None:
        """Every category in order, with its count; those counting 0 get no slice."""
        self._slices = [
            Slice(key, label, count, i)
            for i, (key, label, count) in enumerate(categories)
            if count > 0
        ]
        self._update_accessible()
        self.updateGeometry()
        self.update()

    def slices(self) -> list[Slice]:
        return list(self._slices)

    @property
    def total(self) -> int:
        return sum(s.count for s in self._slices)

    def colors(self) -> tuple[str, ...]:
        return DARK_COLORS if is_dark(self.palette()) else LIGHT_COLORS

    def color_of(self, piece: Slice) -> QColor:
        colors = self.colors()
        return QColor(colors[piece.color_index % len(colors)])

    def _count_text(self, n: int) -> str:
        return f"{n:,} {self.noun_one if n == 1 else self.noun}"

    def slice_text(self, piece: Slice) -> str:
        share = piece.count * 100 / self.total if self.total else 0.0
        return f"{piece.label}: {self._count_text(piece.count)} ({share:.1f}%)"

    def _update_accessible(self) -> None:
        if not self._slices:
            self.setAccessibleName(self.empty_text)
            return
        parts = "; ".join(f"{s.label} {s.count:,}" for s in self._slices)
        self.setAccessibleName(f"{self._count_text(self.total)}: {parts}")

    # -- geometry --------------------------------------------------------------------------

    def _legend_width(self) -> int:
        fm = self.fontMetrics()
        widths = [fm.horizontalAdvance(f"{s.label}  {s.count:,}") for s in self._slices]
        return SWATCH + 6 + max(widths, default=0)

    def _ring(self) -> QRectF:
        """The square the ring is drawn in: left of the legend, as large as fits."""
        legend = self._legend_width() + LEGEND_GAP if self._slices else 0
        side = max(0, min(self.height() - 8, self.width() - legend - 8))
        return QRectF(4, (self.height() - side) / 2, side, side)

    def sizeHint(self) -> QSize:
        line = self.fontMetrics().height() + 4
        return QSize(160 + LEGEND_GAP + self._legend_width(), max(170, line * len(self._slices)))

    def minimumSizeHint(self) -> QSize:
        return QSize(220, 140)

    def slice_at(self, pos: QPoint | QPointF) -> Slice | None:
        """The slice under ``pos`` (widget coordinates), None over the hole or outside."""
        ring = self._ring()
        if not self._slices or ring.width() <= 0:
            return None
        centre = ring.center()
        dx, dy = pos.x() - centre.x(), centre.y() - pos.y()
        radius = ring.width() / 2
        distance = math.hypot(dx, dy)
        if distance > radius or distance < radius * HOLE:
            return None
        # Slices run clockwise from 12 o'clock.
        angle = (90 - math.degrees(math.atan2(dy, dx))) % 360
        start = 0.0
        for piece in self._slices:
            span = piece.count * 360 / self.total
            if start <= angle < start + span:
                return piece
            start += span
        return self._slices[-1]

    # -- painting --------------------------------------------------------------------------

    def paintEvent(self, _event: object) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        text = palette.color(QPalette.ColorRole.WindowText)
        ring = self._ring()
        total = self.total
        if total == 0 or ring.width() <= 0:
            painter.setPen(QPen(palette.color(QPalette.ColorRole.PlaceholderText)))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.empty_text)
            painter.end()
            return
        painter.setPen(QPen(palette.color(QPalette.ColorRole.Window), 1.5))
        start = 90 * 16  # Qt angles: 1/16 degree, counter-clockwise from 3 o'clock
        for piece in self._slices:
            span = -round(piece.count * 360 * 16 / total)
            painter.setBrush(self.color_of(piece))
            painter.drawPie(ring, start, span)
            start += span
        hole = ring.width() * HOLE
        painter.setBrush(palette.color(QPalette.ColorRole.Window))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.drawEllipse(ring.center(), hole / 2, hole / 2)
        # The total in the middle, what it counts below it.
        big = QFont(self.font())
        big.setPointSizeF(max(9.0, big.pointSizeF() * 1.5))
        big.setBold(True)
        painter.setPen(QPen(text))
        painter.setFont(big)
        big_height = QFontMetrics(big).height()
        middle = ring.center()
        painter.drawText(
            QRectF(middle.x() - hole / 2, middle.y() - big_height, hole, big_height),
            Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignBottom,
            f"{total:,}",
        )
        painter.setFont(self.font())
        painter.setPen(QPen(palette.color(QPalette.ColorRole.PlaceholderText)))
        painter.drawText(
            QRectF(middle.x() - hole / 2, middle.y(), hole, self.fontMetrics().height()),
            Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop,
            self.noun_one if total == 1 else self.noun,
        )
        self._paint_legend(painter, ring, text)
        painter.end()

    def _paint_legend(self, painter: QPainter, ring: QRectF, text: QColor) -> None:
        fm = self.fontMetrics()
        line = fm.height() + 4
        left = ring.right() + LEGEND_GAP
        top = max(0.0, (self.height() - line * len(self._slices)) / 2)
        painter.setPen(QPen(text))
        for i, piece in enumerate(self._slices):
            y = top + i * line
            painter.fillRect(
                QRectF(left, y + (line - SWATCH) / 2, SWATCH, SWATCH), self.color_of(piece)
            )
            painter.drawText(
                QRectF(left + SWATCH + 6, y, self.width() - left - SWATCH - 6, line),
                Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                f"{piece.label}  {piece.count:,}",
            )

    # -- events ----------------------------------------------------------------------------

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            piece = self.slice_at(event.pos())
            if piece is None:
                QToolTip.hideText()
                event.ignore()
            else:
                QToolTip.showText(event.globalPos(), self.slice_text(piece), self)
            return True
        return super().event(event)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self.update()
