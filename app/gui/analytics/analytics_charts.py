"""The Analytics page's trend charts (pyqtgraph): the weighted pipeline and the closed-won volume
within the range, the conversion rate, and the commission confirmed beside the disputed, one
point per day of the range.

A day without snapshots is a gap in the line (NaN, drawn with ``connect="finite"``), never a
drop to 0; each point also has a dot, so a day standing alone between gaps still shows. The
x axis counts days from the range's first; its labels are dates ("10 Mar", a month's first
day as "Apr 26" on long ranges). Each plot item is created once; a refresh only sets data.
Colours follow the palette (light or dark).

Imports pyqtgraph (and numpy): the page imports this module when it first shows its charts,
never at start-up.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from decimal import Decimal

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import QApplication, QGridLayout, QWidget

from app.gui.analytics.donut import is_dark
from app.services.analytics.overview import AnalyticsOverview, DayPoint

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
MAX_LABELS = 8

STYLES: dict[bool, dict[str, str]] = {
    False: {
        "background": "#ffffff", "text": "#3c4043", "axis": "#9aa0a6", "legend": "#ffffffd0",
        "weighted": "#1c6dd0", "volume": "#2b8a3e", "conversion": "#7048e8",
        "confirmed": "#2b8a3e", "disputed": "#c92a2a",
    },
    True: {
        "background": "#1e1f22", "text": "#dfe1e5", "axis": "#6f737a", "legend": "#2b2d30d0",
        "weighted": "#4dabf7", "volume": "#8ce99a", "conversion": "#b197fc",
        "confirmed": "#8ce99a", "disputed": "#ff8787",
    },
}  # fmt: skip


def day_label(day: dt.date, with_year: bool = False) -> str:
    text = f"{day.day} {MONTHS[day.month - 1]}"
    return f"{text} {day.year}" if with_year else text


def date_ticks(start: dt.date, days: int) -> list[tuple[float, str]]:
    """Readable labels for ``days`` days from ``start``: every day, every few days (Mondays
    on ranges of up to about two months), or month starts on longer ones; at most
    ``MAX_LABELS``."""
    if days <= 0:
        return []
    dates = [start + dt.timedelta(days=i) for i in range(days)]
    if days <= MAX_LABELS:
        return [(float(i), day_label(d)) for i, d in enumerate(dates)]
    if days <= 62:
        mondays = [i for i, d in enumerate(dates) if d.weekday() == 0]
        step = max(1, math.ceil(len(mondays) / MAX_LABELS))
        picked = mondays[::step] or [0]
        return [(float(i), day_label(dates[i])) for i in picked]
    firsts = [i for i, d in enumerate(dates) if d.day == 1]
    step = next((s for s in (1, 2, 3, 6) if len(firsts) / s <= MAX_LABELS), 12)
    picked = [i for i in firsts if (dates[i].month - 1) % step == 0] or [0]
    ticks: list[tuple[float, str]] = []
    for i in picked:
        d = dates[i]
        ticks.append((float(i), f"{MONTHS[d.month - 1]} {d.year % 100:02d}"))
    return ticks


def money_scale(values: Sequence[float]) -> tuple[float, str]:
    top = max((abs(v) for v in values if math.isfinite(v)), default=0.0)
    if top >= 1e6:
        return 1e6, "millions"
    if top >= 1e4:
        return 1e3, "thousands"
    return 1.0, ""


def daily(overview: AnalyticsOverview, value: Callable[[DayPoint], Decimal | None]) -> list[float]:
    """One value per day of the range (NaN where the day has no snapshots or no value)."""
    by_day = {p.day: p for p in overview.points}
    out: list[float] = []
    for i in range(overview.days):
        point = by_day.get(overview.start + dt.timedelta(days=i))
        found = None if point is None else value(point)
        out.append(math.nan if found is None else float(found))
    return out


def _plot(name: str, title: str) -> pg.PlotWidget:
    plot = pg.PlotWidget()
    plot.setObjectName(name)
    plot.setAccessibleName(title)
    plot.setProperty("chartTitle", title)
    plot.setMouseEnabled(x=False, y=False)
    plot.setMenuEnabled(False)
    plot.hideButtons()
    plot.showGrid(y=True, alpha=0.15)
    plot.setMinimumSize(240, 150)
    return plot


class AnalyticsCharts(QWidget):
    """The three trend charts: pipeline and volume on top, conversion and commission below."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("analyticsCharts")
        self.money_unit = 1.0  # the pipeline chart's (1, thousands or millions)
        self.commission_unit = 1.0

        self.pipeline_plot = _plot("pipelineChart", "Weighted pipeline and closed-won volume")
        self.pipeline_plot.addLegend(offset=(8, 2), colCount=2)
        self.weighted_line = self.pipeline_plot.plot([], [], name="Weighted pipeline")
        self.volume_line = self.pipeline_plot.plot([], [], name="Won in the range")

        self.conversion_plot = _plot("conversionChart", "Conversion rate")
        self.conversion_plot.setLabel("left", "won ÷ closed (%)")
        self.conversion_line = self.conversion_plot.plot([], [])

        self.commission_plot = _plot("commissionChart", "Commission: confirmed and disputed")
        self.commission_plot.addLegend(offset=(8, 2), colCount=2)
        self.confirmed_line = self.commission_plot.plot([], [], name="Confirmed")
        self.disputed_line = self.commission_plot.plot([], [], name="Disputed")

        self.empty_notes: dict[pg.PlotWidget, pg.TextItem] = {}
        for plot in self.plots():
            note = pg.TextItem("No snapshots", anchor=(0.5, 0.5))
            note.setPos(0.5, 0.5)
            note.setVisible(False)
            plot.addItem(note, ignoreBounds=True)
            self.empty_notes[plot] = note

        layout = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(10)
        layout.addWidget(self.pipeline_plot, 0, 0, 1, 2)
        layout.addWidget(self.conversion_plot, 1, 0)
        layout.addWidget(self.commission_plot, 1, 1)

        self._overview: AnalyticsOverview | None = None
        self._currency = "USD"
        self._series: dict[str, list[float]] = {}
        self.dark = is_dark(QApplication.palette())
        self.restyle(self.dark)

    def plots(self) -> tuple[pg.PlotWidget, pg.PlotWidget, pg.PlotWidget]:
        return (self.pipeline_plot, self.conversion_plot, self.commission_plot)

    def lines(self) -> dict[str, pg.PlotDataItem]:
        return {
            "weighted": self.weighted_line,
            "volume": self.volume_line,
            "conversion": self.conversion_line,
            "confirmed": self.confirmed_line,
            "disputed": self.disputed_line,
        }

    def series(self, name: str) -> list[float]:
        """What a line was given, one value per day of the range (NaN: a gap), in its axis's
        unit."""
        return list(self._series.get(name, []))

    # -- data ------------------------------------------------------------------------------

    def set_overview(self, overview: AnalyticsOverview | None, currency: str = "USD") -> None:
        self._overview, self._currency = overview, currency
        if overview is None or not overview.points:
            self._series = {}
            for line in self.lines().values():
                line.setData([], [])
            for plot in self.plots():
                self._empty(plot, True)
            return
        weighted = daily(overview, lambda p: p.weighted_pipeline)
        volume = daily(overview, lambda p: p.volume_in_range)
        scale, unit = money_scale(weighted + volume)
        self.money_unit = scale
        self._set_line("weighted", [v / scale for v in weighted])
        self._set_line("volume", [v / scale for v in volume])
        self.pipeline_plot.setLabel("left", _unit_label(unit, currency))

        self._set_line("conversion", daily(overview, lambda p: p.conversion_rate))

        confirmed = daily(overview, lambda p: p.confirmed_commission)
        disputed = daily(overview, lambda p: p.disputed_commission)
        scale, unit = money_scale(confirmed + disputed)
        self.commission_unit = scale
        self._set_line("confirmed", [v / scale for v in confirmed])
        self._set_line("disputed", [v / scale for v in disputed])
        self.commission_plot.setLabel("left", _unit_label(unit, currency))

        ticks = date_ticks(overview.start, overview.days)
        for plot in self.plots():
            self._empty(plot, False)
            plot.getAxis("bottom").setTicks([ticks])
            plot.setXRange(-0.5, overview.days - 0.5, padding=0.02)
        self._fit(self.pipeline_plot, ("weighted", "volume"), legend=True)
        self._fit(self.conversion_plot, ("conversion",), legend=False, top=100.0)
        self._fit(self.commission_plot, ("confirmed", "disputed"), legend=True)

    def _set_line(self, name: str, values: list[float]) -> None:
        self._series[name] = values
        line = self.lines()[name]
        if not any(math.isfinite(v) for v in values):
            line.setData([], [])  # nothing to draw (pyqtgraph cannot bound all-NaN data)
            return
        x = np.arange(len(values), dtype=float)
        line.setData(x, np.asarray(values, dtype=float), connect="finite")

    def _fit(
        self, plot: pg.PlotWidget, names: tuple[str, ...], legend: bool, top: float | None = None
    ) -> None:
        values = [v for n in names for v in self._series.get(n, []) if math.isfinite(v)]
        low, high = min([0.0, *values]), max([0.0, *values])
        if top is not None and values:
            high = max(high, min(top, high * 1.15 if high > 0 else top))
        if high <= low:
            high = low + 1
        room = 1.45 if legend else 1.1  # room above the lines for the legend
        plot.setYRange(low, low + (high - low) * room, padding=0)

    def _empty(self, plot: pg.PlotWidget, empty: bool) -> None:
        self.empty_notes[plot].setVisible(empty)
        if empty:
            plot.getAxis("bottom").setTicks(None)
            plot.setXRange(0, 1, padding=0)
            plot.setYRange(0, 1, padding=0)

    # -- colours ---------------------------------------------------------------------------

    def restyle(self, dark: bool) -> None:
        self.dark = dark
        style = STYLES[dark]
        for plot in self.plots():
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
            self.empty_notes[plot].setColor(style["text"])
        for name, line in self.lines().items():
            color = style[name]
            dashed = name in ("volume", "disputed")
            line.setPen(
                pg.mkPen(
                    color,
                    width=2.5 if not dashed else 2,
                    style=Qt.PenStyle.DashLine if dashed else Qt.PenStyle.SolidLine,
                )
            )
            line.setSymbol("o")
            line.setSymbolSize(4)
            line.setSymbolBrush(color)
            line.setSymbolPen(color)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            dark = is_dark(QApplication.palette())
            if dark != self.dark:
                self.restyle(dark)


def _unit_label(unit: str, currency: str) -> str:
    return f"({unit} {currency})".replace("( ", "(")
