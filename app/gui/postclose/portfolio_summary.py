"""The Portfolio page's summary: deals, performance rate, the mean variances and the grade
distribution, as tiles (the dashboard's ``StatTile``), coloured as the rest of the page."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import QApplication, QFrame, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from app.gui.dashboard.overview import StatTile
from app.gui.postclose.catalog_models import band_color
from app.gui.postclose.portfolio_data import DASH, rate, ratio, signed_money
from app.gui.postclose.portfolio_models import GRADES, negative_color
from app.gui.postclose.record_view import GRADE_COLORS, GRADE_MEANING, is_dark
from app.services.postclose.portfolio import PortfolioSummary


def _color_value(tile: StatTile, color: str | None) -> None:
    tile.value.setStyleSheet(f"color: {color};" if color else "")


class GradeTile(QFrame):
    """A chip per grade with its count, in the grade's colours."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("tile_grades")
        self.setProperty("role", "tile")
        self.caption = QLabel("Grade distribution")
        self.caption.setProperty("role", "tileCaption")
        self.chips: dict[str, QLabel] = {}
        row = QHBoxLayout()
        row.setSpacing(6)
        row.setContentsMargins(0, 2, 0, 2)
        for grade in GRADES:
            chip = QLabel()
            chip.setObjectName(f"gradeChip{grade}")
            chip.setAlignment(Qt.AlignmentFlag.AlignCenter)
            chip.setToolTip(f"Grade {grade}: {GRADE_MEANING[grade]}")
            self.chips[grade] = chip
            row.addWidget(chip, 1)
        self.note = QLabel(" ")
        self.note.setObjectName("ungradedNote")
        self.note.setProperty("role", "hint")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        layout.setSpacing(2)
        layout.addWidget(self.caption)
        layout.addLayout(row)
        layout.addWidget(self.note)
        self.counts: dict[str, int] = dict.fromkeys(GRADES, 0)
        self.ungraded = 0
        self._known = False
        self._paint()

    def set_counts(self, counts: dict[str, int] | None, ungraded: int) -> None:
        self.counts = {g: (counts or {}).get(g, 0) for g in GRADES}
        self.ungraded = ungraded
        self._known = counts is not None
        self._paint()

    def _paint(self) -> None:
        colors = GRADE_COLORS[is_dark(QApplication.palette())]
        known = self._known
        for grade, chip in self.chips.items():
            background, text = colors[grade]
            count = f"{self.counts[grade]:,}" if known else DASH
            chip.setText(f"{grade}  {count}")
            chip.setStyleSheet(
                f"background: {background}; color: {text}; border-radius: 6px;"
                " padding: 4px 6px; font-size: 12pt; font-weight: 600;"
            )
        self.note.setText(f"{self.ungraded:,} not graded yet" if self.ungraded else " ")
        self.setAccessibleName(
            "Grades: "
            + ", ".join(f"{g} {self.counts[g]}" for g in GRADES)
            + (f", {self.ungraded} not graded" if self.ungraded else "")
        )

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._paint()


class SummaryTiles(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("portfolioSummary")
        self.deals = StatTile("deals", "Deals")
        self.rate = StatTile("rate", "Performance rate")
        self.cash_flow = StatTile("cashFlowVariance", "Mean cash-flow variance")
        self.dscr = StatTile("dscrVariance", "Mean DSCR variance")
        self.grades = GradeTile()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(10)
        for tile in (self.deals, self.rate, self.cash_flow, self.dscr):
            layout.addWidget(tile, 2)
        layout.addWidget(self.grades, 4)
        self.summary: PortfolioSummary | None = None
        self.currency = "USD"

    def show_summary(self, summary: PortfolioSummary | None, currency: str = "USD") -> None:
        self.summary, self.currency = summary, currency
        if summary is None:
            for tile in (self.deals, self.rate, self.cash_flow, self.dscr):
                tile.clear()
                _color_value(tile, None)
            self.grades.set_counts(None, 0)
            return
        graded = summary.total_deals - summary.ungraded
        self.deals.set(
            f"{summary.total_deals:,}",
            f"{graded:,} graded" if summary.ungraded else "all graded",
            "Properties followed after close that match the filters",
        )
        self.rate.set(
            rate(summary.performance_rate),
            "graded A or B",
            "Share of the graded properties whose latest month is graded A or B "
            "(a buy box below 60 % is flagged)",
        )
        band = band_color(summary.performance_rate)
        _color_value(self.rate, band.name() if band is not None else None)
        cf = summary.average_cash_flow_variance
        self.cash_flow.set(
            signed_money(cf, currency),
            "per month vs the pro forma",
            "Mean of actual − projected monthly cash flow over each property's latest month",
        )
        cf_color = negative_color(cf)
        _color_value(self.cash_flow, cf_color.name() if cf_color is not None else None)
        dscr = summary.average_dscr_variance
        self.dscr.set(
            ratio(dscr),
            "DSCR points vs the pro forma",
            "Mean of actual − projected DSCR over each property's latest month",
        )
        dscr_color = negative_color(dscr)
        _color_value(self.dscr, dscr_color.name() if dscr_color is not None else None)
        self.grades.set_counts(summary.grade_distribution, summary.ungraded)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and self.summary is not None:
            self.show_summary(self.summary, self.currency)
