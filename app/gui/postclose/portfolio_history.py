"""One property's history, opened from the Portfolio page's properties table: its actual and
projected monthly cash flow over time (each month's dot in its grade's colour) and its months
with their grade and flags. The months are read on a worker. Imports pyqtgraph: the page
imports this module when a history is first opened."""

from __future__ import annotations

import html
from functools import partial
from typing import TYPE_CHECKING

import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.domain.errors import PerfDeskError
from app.gui.context import AppContext
from app.gui.postclose.portfolio_charts import (
    STYLES,
    apply_style,
    grade_bar_color,
    money_scale,
    styled_plot,
    tick_step,
)
from app.gui.postclose.portfolio_data import day_text, flags_text, month_text, strategy_text
from app.gui.postclose.portfolio_delegate import GradeChipDelegate
from app.gui.postclose.portfolio_models import MONTH_GRADE_COLUMN, MonthsModel
from app.gui.postclose.record_view import GradeBadge, is_dark
from app.services.postclose.portfolio import HistoryPoint, PortfolioRecord, property_history

if TYPE_CHECKING:
    from app.services.database import Database


class PropertyHistoryDialog(QDialog):
    def __init__(
        self,
        ctx: AppContext,
        db: Database,
        record: PortfolioRecord,
        currency: str = "USD",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.record = record
        self.currency = currency
        self.points: list[HistoryPoint] | None = None
        self.setObjectName("propertyHistory")
        label = record.ref or f"#{record.id}"
        self.setWindowTitle(f"{label}: history")
        self.setWindowFlag(Qt.WindowType.WindowMaximizeButtonHint, True)
        self.resize(980, 720)

        title = QLabel(f"<b>{html.escape(label)}</b>")
        title.setProperty("role", "pageTitle")
        title.setTextFormat(Qt.TextFormat.RichText)
        details = QLabel(
            f"{record.market} · {strategy_text(record.strategy)} · {record.buyer}"
            + (f" · buy box {record.buy_box_ref}" if record.buy_box_ref else "")
            + f" · closed {day_text(record.closed_date)}"
        )
        details.setProperty("role", "hint")
        self.badge = GradeBadge()
        self.badge.set_grade(record.grade)
        self.flags_label = QLabel(
            ("Flags now: " + flags_text(record.flags)) if record.flags else "No flags now."
        )
        self.flags_label.setObjectName("historyFlags")
        self.flags_label.setWordWrap(True)
        self.status = QLabel("Reading the months…")
        self.status.setObjectName("historyStatus")
        self.status.setProperty("role", "hint")
        head = QHBoxLayout()
        names = QVBoxLayout()
        names.setSpacing(2)
        names.addWidget(title)
        names.addWidget(details)
        head.addLayout(names, 1)
        head.addWidget(self.badge, 0, Qt.AlignmentFlag.AlignTop)

        self.plot = styled_plot("historyChart", "Monthly cash flow: actual and projected", "")
        self.plot.addLegend(offset=(8, 2), colCount=2)
        self.projected_line = self.plot.plot([], [], name="Projected (locked at close)")
        self.actual_line = self.plot.plot([], [], name="Actual", symbol="o", symbolSize=8)
        self.zero_line = pg.InfiniteLine(pos=0, angle=0)
        self.plot.addItem(self.zero_line)

        self.model = MonthsModel(self)
        self.table = QTableView()
        self.table.setObjectName("historyMonths")
        self.table.setAccessibleName("Months")
        self.table.setModel(self.model)
        self.table.setItemDelegateForColumn(MONTH_GRADE_COLUMN, GradeChipDelegate(self.table))
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 10)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.plot)
        splitter.addWidget(self.table)
        splitter.setChildrenCollapsible(False)
        splitter.setSizes([380, 260])
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        foot = QHBoxLayout()
        foot.addWidget(self.status, 1)
        foot.addWidget(buttons)

        layout = QVBoxLayout(self)
        layout.addLayout(head)
        layout.addWidget(self.flags_label)
        layout.addWidget(splitter, 1)
        layout.addLayout(foot)

        self.dark = is_dark(QApplication.palette())
        self._restyle()
        ctx.ops.run(
            partial(property_history, db, record.id),
            label=f"Reading the history of {label}…",
            on_success=self.show_points,
            on_error=self._failed,
            parent=self,
        )

    def is_loaded(self) -> bool:
        return self.points is not None

    def _failed(self, exc: BaseException) -> None:
        if isinstance(exc, PerfDeskError):
            self.status.setText(str(exc))
        else:
            self.status.setText("The months could not be read.")
            self.ctx.ops.present(exc, self)

    def show_points(self, points: list[HistoryPoint]) -> None:
        self.points = points
        self.model.set_points(points, self.currency)
        n = len(points)
        if n:
            first, last = points[0], points[-1]
            self.status.setText(
                f"{n} month{'s' if n != 1 else ''}, {month_text(first.year, first.month)} to "
                f"{month_text(last.year, last.month)}; the newest first in the table"
            )
        else:
            self.status.setText("No month entered yet.")
        self._set_chart()

    def _set_chart(self) -> None:
        points = self.points or []
        projected = [float(p.projected_cash_flow) for p in points]
        actual = [float(p.actual_cash_flow) for p in points]
        scale, unit = money_scale(projected + actual)
        x = list(range(len(points)))
        self.projected_line.setData(x, [v / scale for v in projected])
        self.actual_line.setData(
            x,
            [v / scale for v in actual],
            symbolBrush=[pg.mkBrush(grade_bar_color(p.grade, self.dark)) for p in points],
        )
        self.plot.setLabel("left", f"cash flow ({unit} {self.currency})".replace("( ", "("))
        self.zero_line.setVisible(bool(points) and min(projected + actual) < 0)
        if points:
            step = tick_step(len(points))
            ticks = [
                (i, month_text(p.year, p.month))
                for i, p in enumerate(points)
                if (p.month - 1) % step == 0
            ]
            self.plot.getAxis("bottom").setTicks([ticks])
            self.plot.setXRange(-0.7, len(points) - 0.3, padding=0)
            values = [v / scale for v in projected + actual]
            low, high = min([0.0, *values]), max([0.0, *values])
            # Room above the lines for the legend.
            self.plot.setYRange(low * 1.1, (high - low) * 1.3 + low or 1, padding=0)

    def _restyle(self) -> None:
        style = STYLES[self.dark]
        apply_style(self.plot, self.dark)
        self.projected_line.setPen(
            pg.mkPen(style["projected"], width=2, style=Qt.PenStyle.DashLine)
        )
        self.actual_line.setPen(pg.mkPen(style["actual"], width=2.5))
        self.actual_line.setSymbolPen(pg.mkPen(style["background"], width=1))
        self.zero_line.setPen(pg.mkPen(style["axis"], width=1))
        if self.points is not None:
            self._set_chart()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            dark = is_dark(QApplication.palette())
            if dark != self.dark:
                self.dark = dark
                self._restyle()
