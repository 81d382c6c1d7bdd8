"""The top of the Goals page: one person's sales this month (SPEC §8 figures: revenue,
conversion rate, win rate) and the badges they have earned, as tiles, and their revenue and
orders over the last 12 months as a chart.

``read_performance`` runs on a worker (one ``sales_figures`` call per month, polling the cancel
check between months). The chart imports pyqtgraph when it is built: the page builds it when it
first shows it, never at start-up. Its plot items are created once; a refresh only sets data.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QHBoxLayout, QVBoxLayout, QWidget

from app.domain.enums import PeriodType
from app.domain.errors import PermissionDenied
from app.domain.money import format_money
from app.domain.periods import Period, period_of
from app.gui.dashboard.format import plural, short_money
from app.gui.dashboard.overview import StatTile
from app.gui.kpis.assignment_models import MONTHS
from app.gui.kpis.goal_models import is_dark, pct_text
from app.gui.operations import OperationCancelled
from app.services.database import Database
from app.services.kpis.access import kpi_scope
from app.services.kpis.achievements import timeline
from app.services.kpis.sales import SalesFigures, sales_figures
from app.services.office import get_currency
from app.services.records import Acting, resolve_actor

TREND_MONTHS = 12
BADGE_LIMIT = 10_000


@dataclass(frozen=True)
class MonthPoint:
    year: int
    month: int
    revenue: Decimal
    orders: int


@dataclass(frozen=True)
class Performance:
    user_id: int
    name: str
    month: Period  # the current month
    figures: SalesFigures  # of the current month
    badges: int
    latest_badge: str | None
    trend: tuple[MonthPoint, ...]  # oldest first, ending with the current month
    currency: str


def months_back(month: Period, count: int) -> list[Period]:
    """The ``count`` months ending with ``month``, oldest first."""
    out = [month]
    while len(out) < count:
        out.insert(0, period_of(PeriodType.MONTHLY, out[0].start - dt.timedelta(days=1)))
    return out


def read_performance(
    db: Database,
    acting: Acting,
    user_id: int,
    name: str,
    today: dt.date,
    cancelled: Callable[[], bool] | None = None,
) -> Performance:
    """Runs on a worker: ``user_id``'s figures this month, badges and 12-month trend."""
    stop = cancelled or (lambda: False)
    month = period_of(PeriodType.MONTHLY, today)
    points: list[MonthPoint] = []
    with db.read() as s:
        scope = kpi_scope(s, resolve_actor(s, db, acting))
        if not scope.may_read(user_id):
            raise PermissionDenied("You may not see that person's sales figures.")
        current = SalesFigures(user_id)
        for p in months_back(month, TREND_MONTHS):
            if stop():
                raise OperationCancelled
            figures = sales_figures(s, p.start, p.end, [user_id]).get(user_id)
            figures = figures or SalesFigures(user_id)
            points.append(MonthPoint(p.start.year, p.start.month, figures.revenue, figures.orders))
            if p == month:
                current = figures
    badges = timeline(db, acting, user_id, limit=BADGE_LIMIT)
    return Performance(
        user_id, name, month, current, len(badges), badges[0].badge if badges else None,
        tuple(points), get_currency(db),
    )  # fmt: skip


# -- the tiles ------------------------------------------------------------------------------------


class SummaryTiles(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("goalsSummary")
        self.revenue = StatTile("revenue", "Revenue this month")
        self.conversion = StatTile("conversion", "Conversion rate this month")
        self.win_rate = StatTile("winRate", "Win rate this month")
        self.badges = StatTile("badges", "Badges earned")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(10)
        for tile in self.tiles():
            layout.addWidget(tile)

    def tiles(self) -> tuple[StatTile, ...]:
        return (self.revenue, self.conversion, self.win_rate, self.badges)

    def clear(self, note: str = "") -> None:
        for tile in self.tiles():
            tile.set("—", note)

    def show_performance(self, perf: Performance) -> None:
        f, cur = perf.figures, perf.currency
        month = f"{MONTHS[perf.month.start.month - 1]} {perf.month.start.year}"
        self.revenue.set(
            short_money(f.revenue, cur),
            plural(f.orders, "order"),
            f"{format_money(f.revenue, cur)}: {perf.name}'s revenue in {month} — commission "
            "of the escrows closed and earned commission of the deals won",
        )
        self.conversion.set(
            pct_text(f.conversion_rate),
            f"{plural(f.orders, 'order')} from {plural(f.leads, 'lead')}",
            f"Orders ÷ leads created in {month}; none when there were no leads",
        )
        self.win_rate.set(
            pct_text(f.win_rate),
            f"{f.deals_won:,} won, {f.deals_lost:,} lost",
            f"Deals won ÷ deals closed (won or lost) in {month}; none when none closed",
        )
        self.badges.set(
            f"{perf.badges:,}",
            f"latest: {perf.latest_badge}" if perf.latest_badge else "none yet",
            f"Badges {perf.name} has earned, by the office's badge rules or awarded by hand",
        )


# -- the chart ------------------------------------------------------------------------------------

STYLES: dict[bool, dict[str, str]] = {
    False: {"background": "#ffffff", "text": "#3c4043", "axis": "#9aa0a6",
            "revenue": "#74a9e8", "orders": "#c2410c", "legend": "#ffffffd0"},
    True: {"background": "#1e1f22", "text": "#dfe1e5", "axis": "#6f737a",
           "revenue": "#2f6fb3", "orders": "#ffa94d", "legend": "#2b2d30d0"},
}  # fmt: skip


def money_scale(values: list[float]) -> tuple[float, str]:
    top = max((abs(v) for v in values), default=0.0)
    if top >= 1e6:
        return 1e6, "millions"
    if top >= 1e4:
        return 1e3, "thousands"
    return 1.0, ""


def month_tick(year: int, month: int) -> str:
    """'Oct'; January with its year: 'Jan 27'."""
    name = MONTHS[month - 1][:3]
    return f"{name} {year % 100:02d}" if month == 1 else name


class TrendChart(QWidget):
    """Revenue (bars, left axis) and orders (a line, right axis) by month."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        import pyqtgraph as pg

        self._pg = pg
        self.setObjectName("goalsTrend")
        self.scale = 1.0
        self.plot = pg.PlotWidget()
        self.plot.setObjectName("trendChart")
        self.plot.setAccessibleName("Revenue and orders, last 12 months")
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.showGrid(y=True, alpha=0.15)
        self.plot.setMinimumSize(260, 170)
        item = self.plot.plotItem
        legend = self.plot.addLegend(offset=(8, 2), colCount=2)
        self.revenue_bars = pg.BarGraphItem(x=[], height=[], width=0.6)
        item.addItem(self.revenue_bars)
        legend.addItem(self.revenue_bars, "Revenue")

        # Orders on their own axis, on the right: a second view box following the first.
        self.orders_view = pg.ViewBox()
        self.orders_view.setMouseEnabled(x=False, y=False)
        self.orders_view.setMenuEnabled(False)
        item.showAxis("right")
        # A child of the plot item (not a loose item of the scene): it goes when the plot goes,
        # so a page collected late never leaves the scene painting a deleted view.
        self.orders_view.setParentItem(item)
        item.getAxis("right").linkToView(self.orders_view)
        item.getAxis("right").setLabel("orders")
        self.orders_view.setXLink(item)
        self.orders_line = pg.PlotDataItem([], [], symbol="o", symbolSize=6)
        self.orders_view.addItem(self.orders_line)
        legend.addItem(self.orders_line, "Orders")
        item.vb.sigResized.connect(self._follow)

        self.empty_note = pg.TextItem("No data", anchor=(0.5, 0.5))
        self.empty_note.setPos(0.5, 0.5)
        self.empty_note.setVisible(False)
        item.addItem(self.empty_note, ignoreBounds=True)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot)
        self.points: tuple[MonthPoint, ...] = ()
        self.currency = "USD"
        self.dark = is_dark()
        self.restyle(self.dark)
        self.set_points((), "USD")

    def _follow(self) -> None:
        item = self.plot.plotItem
        self.orders_view.setGeometry(item.vb.geometry())
        self.orders_view.linkedViewChanged(item.vb, self.orders_view.XAxis)

    def set_points(self, points: tuple[MonthPoint, ...], currency: str) -> None:
        self.points, self.currency = points, currency
        revenue = [float(p.revenue) for p in points]
        orders = [float(p.orders) for p in points]
        scale, unit = money_scale(revenue)
        self.scale = scale
        x = list(range(len(points)))
        style = STYLES[self.dark]
        pg = self._pg
        self.revenue_bars.setOpts(
            x=x, height=[v / scale for v in revenue], width=0.6,
            brush=pg.mkBrush(style["revenue"]), pen=pg.mkPen(None),
        )  # fmt: skip
        self.orders_line.setData(x, orders)
        self.plot.setLabel("left", f"revenue ({unit} {currency})".replace("( ", "("))
        empty = not points or not any(revenue + orders)
        self.empty_note.setVisible(not points)
        if not points:
            self.plot.setXRange(0, 1, padding=0)
            self.plot.setYRange(0, 1, padding=0)
            self.orders_view.setYRange(0, 1, padding=0)
            self.plot.getAxis("bottom").setTicks(None)
            return
        ticks = [(i, month_tick(p.year, p.month)) for i, p in enumerate(points)]
        self.plot.getAxis("bottom").setTicks([ticks])
        self.plot.setXRange(-0.6, len(points) - 0.4, padding=0)
        top = max([v / scale for v in revenue], default=0.0)
        # Room above the bars for the legend.
        self.plot.setYRange(0, top * 1.3 if not empty and top > 0 else 1, padding=0)
        most = max(orders, default=0.0)
        self.orders_view.setYRange(0, most * 1.3 if most > 0 else 1, padding=0)

    def restyle(self, dark: bool) -> None:
        self.dark = dark
        pg = self._pg
        style = STYLES[dark]
        self.plot.setBackground(style["background"])
        for side in ("left", "bottom", "right"):
            axis = self.plot.getAxis(side)
            axis.setPen(pg.mkPen(style["axis"]))
            axis.setTextPen(pg.mkPen(style["text"]))
        legend = self.plot.plotItem.legend
        if legend is not None:
            legend.setLabelTextColor(style["text"])
            legend.setBrush(pg.mkBrush(style["legend"]))
        self.orders_line.setPen(pg.mkPen(style["orders"], width=2.5))
        self.orders_line.setSymbolBrush(style["orders"])
        self.orders_line.setSymbolPen(style["orders"])
        self.empty_note.setColor(style["text"])
        self.set_points(self.points, self.currency)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            dark = is_dark()
            if dark != self.dark:
                self.restyle(dark)

    def bar_heights(self) -> list[float]:
        """The revenue bars as drawn (in the axis's unit), for tests."""
        heights: Any = self.revenue_bars.opts.get("height")
        return [float(h) for h in heights] if heights is not None else []
