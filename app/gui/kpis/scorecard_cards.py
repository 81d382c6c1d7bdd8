"""A KPI card of My KPIs: the KPI, its latest actual against the target, the achievement in
colour, the weight, and a sparkline of the last 6 periods' achievements with the 100 % line."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPaintEvent, QPalette, QPen
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from app.services.kpis.scorecards import Card, Point

GREEN, AMBER, RED = "#1e7b34", "#b26a00", "#b3261e"
DARK_GREEN, DARK_AMBER, DARK_RED = "#7ee787", "#f2c14e", "#ff9b8f"


def period_name(period: str, start: dt.date) -> str:
    """ "November 2026", "Q3 2026", "week of 5 Oct 2026", "5 Oct 2026", "2026"."""
    if period == "monthly":
        return f"{start:%B %Y}"
    if period == "quarterly":
        return f"Q{(start.month - 1) // 3 + 1} {start.year}"
    if period == "yearly":
        return str(start.year)
    if period == "weekly":
        return f"week of {start.day} {start:%b %Y}"
    return f"{start.day} {start:%b %Y}"


def is_dark(widget: QWidget) -> bool:
    return widget.palette().color(QPalette.ColorRole.Base).lightness() < 128


def pct_color(value: Decimal | None, dark: bool) -> QColor | None:
    """Green at target or better, amber from 75 %, red below; None when not scored."""
    if value is None:
        return None
    if value >= 100:
        return QColor(DARK_GREEN if dark else GREEN)
    if value >= 75:
        return QColor(DARK_AMBER if dark else AMBER)
    return QColor(DARK_RED if dark else RED)


def plain(value: Decimal | None, unit: str | None = None) -> str:
    if value is None:
        return "—"
    if unit == "$":
        return f"${value:,.2f}"
    text = f"{value.normalize():f}" if value == value.to_integral() else f"{value:,.2f}"
    if value == value.to_integral():
        text = f"{int(value):,}"
    suffix = {"%": " %", None: "", "count": ""}.get(unit, f" {unit}")
    return f"{text}{suffix}"


def pct_text(value: Decimal | None) -> str:
    return "not scored" if value is None else f"{value:,.2f} %"


class Sparkline(QWidget):
    """Achievements over the last periods; the dashed line is 100 %."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.points: tuple[Point, ...] = ()
        self.setMinimumSize(QSize(120, 36))
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set_points(self, points: tuple[Point, ...]) -> None:
        self.points = points
        tips = [f"{p.period_start.isoformat()}: {pct_text(p.achievement)}" for p in points]
        self.setToolTip("\n".join(tips) if tips else "No measurement yet")
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(160, 40)

    def paintEvent(self, event: QPaintEvent) -> None:
        values = [float(p.achievement) for p in self.points if p.achievement is not None]
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        area = QRectF(self.rect()).adjusted(3, 4, -3, -4)
        text = self.palette().color(QPalette.ColorRole.Text)
        if not values:
            painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(area, int(Qt.AlignmentFlag.AlignCenter), "no history yet")
            return
        top = max(120.0, *values)

        def y(v: float) -> float:
            return area.bottom() - (min(v, top) / top) * area.height()

        guide = QPen(QColor(text))
        guide.setStyle(Qt.PenStyle.DashLine)
        guide.setColor(QColor(text.red(), text.green(), text.blue(), 90))
        painter.setPen(guide)
        painter.drawLine(QPointF(area.left(), y(100)), QPointF(area.right(), y(100)))
        n = len(self.points)
        step = area.width() / max(1, n - 1)
        path = QPainterPath()
        started = False
        dots: list[tuple[QPointF, Decimal | None]] = []
        for i, p in enumerate(self.points):
            if p.achievement is None:
                continue
            pt = QPointF(area.left() + i * step if n > 1 else area.center().x(),
                         y(float(p.achievement)))  # fmt: skip
            if started:
                path.lineTo(pt)
            else:
                path.moveTo(pt)
                started = True
            dots.append((pt, p.achievement))
        pen = QPen(self.palette().color(QPalette.ColorRole.Highlight), 1.6)
        painter.setPen(pen)
        painter.drawPath(path)
        dark = is_dark(self)
        for pt, pct in dots:
            color = pct_color(pct, dark) or text
            painter.setBrush(color)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.drawEllipse(pt, 2.6, 2.6)


class KpiCard(QFrame):
    def __init__(self, card: Card, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.card = card
        self.setObjectName("kpiCard")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setMinimumWidth(250)
        dark = is_dark(self)
        name = QLabel(card.kpi)
        name.setObjectName("kpiName")
        name.setStyleSheet("font-weight: 600; font-size: 11pt;")
        name.setWordWrap(True)
        latest = card.latest
        when = period_name(card.period, latest.period_start) if latest else "not measured yet"
        sub = QLabel(f"{card.period.capitalize()} · {when}")
        sub.setProperty("role", "hint")
        target = card.latest_target if card.latest_target is not None else card.target
        actual = QLabel(plain(latest.actual if latest else None, card.unit))
        actual.setObjectName("kpiActual")
        actual.setStyleSheet("font-size: 18pt; font-weight: 600;")
        target_label = QLabel(f"target {plain(target, card.unit)}")
        target_label.setProperty("role", "hint")
        pct = QLabel(pct_text(card.achievement))
        pct.setObjectName("kpiAchievement")
        color = pct_color(card.achievement, dark)
        style = "font-size: 12pt; font-weight: 600;"
        if color is not None:
            style += f" color: {color.name()};"
        pct.setStyleSheet(style)
        weight = QLabel(f"weight {plain(card.weight)}")
        weight.setProperty("role", "hint")
        self.spark = Sparkline()
        self.spark.set_points(card.history)
        how = {"lower_better": "lower is better", "exact": "on target is best"}.get(
            card.target_type, "higher is better"
        )
        self.setToolTip(f"{card.kpi}: {how}; {card.calculation_type} KPI")

        grid = QGridLayout()
        grid.addWidget(actual, 0, 0)
        grid.addWidget(pct, 0, 1, Qt.AlignmentFlag.AlignRight)
        grid.addWidget(target_label, 1, 0)
        grid.addWidget(weight, 1, 1, Qt.AlignmentFlag.AlignRight)
        layout = QVBoxLayout(self)
        layout.addWidget(name)
        layout.addWidget(sub)
        layout.addLayout(grid)
        layout.addWidget(self.spark)
