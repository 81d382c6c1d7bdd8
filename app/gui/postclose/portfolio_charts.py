"""The Portfolio page's three charts (pyqtgraph): projected and actual cash flow by month, the
distribution of the latest DSCRs, and the grade distribution. Each plot item is created once;
a refresh only sets data. Colours follow the palette (light or dark); images for a printed
report are always drawn light.

Imports pyqtgraph (and numpy): the page imports this module when it first shows its charts,
never at start-up.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from pyqtgraph.exporters import ImageExporter
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QHBoxLayout, QWidget

from app.gui.postclose.portfolio_data import month_text
from app.gui.postclose.record_view import GRADE_COLORS, is_dark
from app.services.postclose.portfolio import MonthlyCashFlow, PortfolioSummary

#: The required DSCR of a property without a buy box (SPEC §9).
DEFAULT_MINIMUM = 1.25
GRADES = ("A", "B", "C", "D")
MAX_BINS = 40
BIN_STEPS = (0.05, 0.1, 0.25, 0.5, 1.0)

STYLES: dict[bool, dict[str, str]] = {
    False: {
        "background": "#ffffff", "text": "#3c4043", "axis": "#9aa0a6", "projected": "#7b8794",
        "actual": "#1c6dd0", "below_one": "#c92a2a", "below_min": "#e8890c",
        "above_min": "#2b8a3e", "ungraded": "#adb5bd", "legend": "#ffffffd0",
    },
    True: {
        "background": "#1e1f22", "text": "#dfe1e5", "axis": "#6f737a", "projected": "#9aa0a6",
        "actual": "#4dabf7", "below_one": "#ff8787", "below_min": "#ffc078",
        "above_min": "#8ce99a", "ungraded": "#6f737a", "legend": "#2b2d30d0",
    },
}  # fmt: skip


def grade_bar_color(grade: str, dark: bool) -> str:
    """The badge's strong colour in light; its bright text colour on a dark background."""
    background, text = GRADE_COLORS[dark][grade]
    return text if dark else background


def money_scale(values: Sequence[float]) -> tuple[float, str]:
    top = max((abs(v) for v in values), default=0.0)
    if top >= 1e6:
        return 1e6, "millions"
    if top >= 1e4:
        return 1e3, "thousands"
    return 1.0, ""


def tick_step(months: int) -> int:
    """Months between labels: every month, or every 2nd, 3rd, 6th or 12th from January, so
    that at most 9 labels show."""
    return next((step for step in (1, 2, 3, 6) if months / step <= 9), 12)


def dscr_bins(values: Sequence[float]) -> tuple[list[float], list[int], float]:
    """Bar centres, counts and width of the DSCR histogram. Edges fall on 1.25 (the default
    minimum); the range spans 1.0–1.5 at least and the middle 99 % of the values; the few
    beyond are counted in the edge bars."""
    if not values:
        return [], [], 0.1
    data = np.asarray(values, dtype=float)
    low_raw = min(float(np.percentile(data, 0.5)), 1.0)
    high_raw = max(float(np.percentile(data, 99.5)), 1.5)
    step = next((s for s in BIN_STEPS if (high_raw - low_raw) / s <= MAX_BINS), BIN_STEPS[-1])
    low = DEFAULT_MINIMUM - step * math.ceil((DEFAULT_MINIMUM - low_raw) / step - 1e-9)
    count = max(1, math.ceil((high_raw - low) / step - 1e-9))
    edges = low + step * np.arange(count + 1)
    counts, _ = np.histogram(np.clip(data, edges[0], edges[-1]), bins=edges)
    centres = (edges[:-1] + edges[1:]) / 2
    return [float(c) for c in centres], [int(n) for n in counts], step


def styled_plot(name: str, title: str, left: str) -> pg.PlotWidget:
    plot = pg.PlotWidget()
    plot.setObjectName(name)
    plot.setAccessibleName(title)
    plot.setProperty("chartTitle", title)
    plot.setLabel("left", left)
    plot.setMouseEnabled(x=False, y=False)
    plot.setMenuEnabled(False)
    plot.hideButtons()
    plot.showGrid(y=True, alpha=0.15)
    plot.setMinimumSize(240, 190)
    return plot


def apply_style(plot: pg.PlotWidget, dark: bool) -> None:
    style = STYLES[dark]
    plot.setBackground(style["background"])
    plot.setTitle(plot.property("chartTitle"), color=style["text"], size="10pt")
    for side in ("left", "bottom"):
        axis = plot.getAxis(side)
        axis.setPen(pg.mkPen(style["axis"]))
        axis.setTextPen(pg.mkPen(style["text"]))
    legend = plot.plotItem.legend
    if legend is not None:
        legend.setLabelTextColor(style["text"])
        legend.setBrush(pg.mkBrush(style["legend"]))


def plot_image(plot: pg.PlotWidget, scale: float) -> QImage:
    """The plot drawn ``scale`` times its size on screen."""
    # The legend ignores the exporter's scaling (it keeps its size in pixels): scale it.
    legend = plot.plotItem.legend
    if legend is not None:
        legend.setScale(scale)
    try:
        exporter = ImageExporter(plot.plotItem)
        exporter.parameters()["width"] = int(max(plot.width(), 240) * scale)
        image = exporter.export(toBytes=True)
    finally:
        if legend is not None:
            legend.setScale(1.0)
    assert isinstance(image, QImage)
    return image


class PortfolioCharts(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("portfolioCharts")
        self.scale = 1.0  # the cash-flow chart's unit (1, thousands or millions)

        self.cash_plot = styled_plot("cashFlowChart", "Cash flow by month", "cash flow")
        self.cash_plot.addLegend(offset=(8, 2), colCount=2)
        self.projected_line = self.cash_plot.plot([], [], name="Projected")
        self.actual_line = self.cash_plot.plot([], [], name="Actual")
        self.zero_line = pg.InfiniteLine(pos=0, angle=0)
        self.cash_plot.addItem(self.zero_line)

        self.dscr_plot = styled_plot("dscrChart", "DSCR distribution (latest month)", "properties")
        self.dscr_plot.setLabel("bottom", "DSCR")
        self.dscr_bars = pg.BarGraphItem(x=[], height=[], width=0.1)
        self.dscr_plot.addItem(self.dscr_bars)
        self.minimum_line = pg.InfiniteLine(
            pos=DEFAULT_MINIMUM,
            angle=90,
            label="default minimum {value:.2f}",
            labelOpts={"position": 0.92, "anchors": [(1, 0), (1, 0)]},
        )
        self.dscr_plot.addItem(self.minimum_line)

        self.grade_plot = styled_plot("gradeChart", "Grade distribution", "properties")
        self.grade_bars = pg.BarGraphItem(x=[], height=[], width=0.6)
        self.grade_plot.addItem(self.grade_bars)
        self.grade_labels = [pg.TextItem(anchor=(0.5, 1.0)) for _ in range(len(GRADES) + 1)]
        for label in self.grade_labels:
            self.grade_plot.addItem(label)

        self.empty_notes: dict[pg.PlotWidget, pg.TextItem] = {}
        for plot in self.plots():
            note = pg.TextItem("No data", anchor=(0.5, 0.5))
            note.setPos(0.5, 0.5)
            note.setVisible(False)
            plot.addItem(note, ignoreBounds=True)
            self.empty_notes[plot] = note

        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(10)
        layout.addWidget(self.cash_plot, 5)
        layout.addWidget(self.dscr_plot, 4)
        layout.addWidget(self.grade_plot, 3)

        self._monthly: list[MonthlyCashFlow] = []
        self._dscr: list[float] = []
        self._summary: PortfolioSummary | None = None
        self._currency = "USD"
        self.dark = is_dark(QApplication.palette())
        self.restyle(self.dark)

    def plots(self) -> tuple[pg.PlotWidget, pg.PlotWidget, pg.PlotWidget]:
        return (self.cash_plot, self.dscr_plot, self.grade_plot)

    # -- data ------------------------------------------------------------------------------

    def set_data(
        self,
        monthly: list[MonthlyCashFlow],
        dscr: list[float],
        summary: PortfolioSummary | None,
        currency: str,
    ) -> None:
        self._monthly, self._dscr, self._summary, self._currency = monthly, dscr, summary, currency
        self._set_cash_flow()
        self._set_dscr()
        self._set_grades()

    def _empty(self, plot: pg.PlotWidget, empty: bool) -> None:
        self.empty_notes[plot].setVisible(empty)
        if empty:
            plot.setXRange(0, 1, padding=0)
            plot.setYRange(0, 1, padding=0)
            plot.getAxis("bottom").setTicks(None)

    def _set_cash_flow(self) -> None:
        months = self._monthly
        projected = [float(m.projected_total) for m in months]
        actual = [float(m.actual_total) for m in months]
        scale, unit = money_scale(projected + actual)
        self.scale = scale
        x = list(range(len(months)))
        self.projected_line.setData(x, [v / scale for v in projected])
        self.actual_line.setData(x, [v / scale for v in actual])
        symbols = len(months) <= 24
        self.actual_line.setSymbol("o" if symbols else None)
        self.actual_line.setSymbolSize(5)
        self.cash_plot.setLabel("left", f"cash flow ({unit} {self._currency})".replace("( ", "("))
        self.zero_line.setVisible(bool(actual) and min(actual + projected) < 0)
        self._empty(self.cash_plot, not months)
        if not months:
            return
        ticks = [
            (i, month_text(m.year, m.month))
            for i, m in enumerate(months)
            if (m.month - 1) % tick_step(len(months)) == 0
        ]
        self.cash_plot.getAxis("bottom").setTicks([ticks])
        self.cash_plot.setXRange(-0.9, len(months) - 0.1, padding=0)
        values = [v / scale for v in projected + actual]
        low, high = min([0.0, *values]), max([0.0, *values])
        # Room above the lines for the legend.
        self.cash_plot.setYRange(low * 1.1, (high - low) * 1.3 + low or 1, padding=0)

    def _set_dscr(self) -> None:
        centres, counts, width = dscr_bins(self._dscr)
        style = STYLES[self.dark]
        brushes = [
            pg.mkBrush(
                style["below_one"] if c < 1.0
                else style["below_min"] if c < DEFAULT_MINIMUM
                else style["above_min"]
            )
            for c in centres
        ]  # fmt: skip
        self.dscr_bars.setOpts(x=centres, height=counts, width=width * 0.9, brushes=brushes,
                               pen=pg.mkPen(None))  # fmt: skip
        self.minimum_line.setVisible(bool(centres))
        self._empty(self.dscr_plot, not centres)
        if centres:
            self.dscr_plot.getAxis("bottom").setTicks(None)
            self.dscr_plot.setXRange(centres[0] - width, centres[-1] + width, padding=0)
            self.dscr_plot.setYRange(0, max(counts) * 1.15 or 1, padding=0)

    def _set_grades(self) -> None:
        summary = self._summary
        graded = summary is not None and summary.total_deals > 0
        self._empty(self.grade_plot, not graded)
        names = list(GRADES)
        counts = [summary.grade_distribution.get(g, 0) for g in GRADES] if summary else [0] * 4
        colors = [grade_bar_color(g, self.dark) for g in GRADES]
        if summary is not None and summary.ungraded:
            names.append("Not graded")
            counts.append(summary.ungraded)
            colors.append(STYLES[self.dark]["ungraded"])
        x = list(range(len(names))) if graded else []
        heights = counts if graded else []
        brushes = [pg.mkBrush(c) for c in colors[: len(x)]]
        self.grade_bars.setOpts(x=x, height=heights, brushes=brushes, pen=pg.mkPen(None))
        text = STYLES[self.dark]["text"]
        for i, label in enumerate(self.grade_labels):
            shown = graded and i < len(names)
            label.setVisible(shown)
            if shown:
                label.setText(f"{counts[i]:,}", color=text)
                label.setPos(i, counts[i])
        if graded:
            self.grade_plot.getAxis("bottom").setTicks([list(enumerate(names))])
            self.grade_plot.setXRange(-0.6, len(names) - 0.4, padding=0)
            self.grade_plot.setYRange(0, max(counts) * 1.2 or 1, padding=0)

    # -- colours and images ----------------------------------------------------------------

    def restyle(self, dark: bool) -> None:
        self.dark = dark
        style = STYLES[dark]
        for plot in self.plots():
            apply_style(plot, dark)
            self.empty_notes[plot].setColor(style["text"])
        self.projected_line.setPen(
            pg.mkPen(style["projected"], width=2, style=Qt.PenStyle.DashLine)
        )
        self.actual_line.setPen(pg.mkPen(style["actual"], width=2.5))
        self.actual_line.setSymbolBrush(style["actual"])
        self.actual_line.setSymbolPen(style["actual"])
        self.zero_line.setPen(pg.mkPen(style["axis"], width=1))
        self.minimum_line.setPen(pg.mkPen(style["text"], width=1.5, style=Qt.PenStyle.DashLine))
        self.minimum_line.label.setColor(style["text"])
        self._set_dscr()
        self._set_grades()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            dark = is_dark(QApplication.palette())
            if dark != self.dark:
                self.restyle(dark)

    def images(self, scale: float = 2.5) -> list[QImage]:
        """The three charts as images for a printed report, ``scale`` times their size on
        screen (one scale for all, so their lettering matches): light, whatever the screen
        shows (on the GUI thread; the page writes the PDF on a worker)."""
        was_dark = self.dark
        if was_dark:
            self.restyle(False)
        try:
            return [plot_image(plot, scale) for plot in self.plots()]
        finally:
            if was_dark:
                self.restyle(True)
