"""The Goals page's table: one row per goal (SPEC §8), the proxy that filters it (text, and
finished goals hidden unless asked for), the progress bar its Progress column is painted
with, coloured by status, and how goal values and periods are said.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRectF, Qt
from PySide6.QtGui import QColor, QGuiApplication, QPainter, QPalette
from PySide6.QtWidgets import QApplication, QStyle, QStyledItemDelegate, QStyleOptionViewItem

from app.domain.enums import GoalStatus, GoalType, PeriodType
from app.domain.money import format_money
from app.gui.kpis.assignment_models import MONTHS, period_label, plain
from app.gui.row_models import (
    ID_ROLE,
    ROW_ROLE,
    SORT_ROLE,
    Column,
    Index,
    RowFilterProxy,
    RowTableModel,
)
from app.services.kpis.goals import GOAL_LABELS, STATUS_LABELS, GoalRow

__all__ = ["ID_ROLE", "ROW_ROLE", "SORT_ROLE"]

PROGRESS_ROLE = Qt.ItemDataRole.UserRole + 10  # 0–1, for the bar
STATUS_ROLE = Qt.ItemDataRole.UserRole + 11  # the status's value ("on_track", …)

_LIGHT = {
    GoalStatus.ACHIEVED.value: "#2b8a3e",
    GoalStatus.ON_TRACK.value: "#1c6dd0",
    GoalStatus.BEHIND.value: "#d98a00",
    GoalStatus.AT_RISK.value: "#c92a2a",
    GoalStatus.MISSED.value: "#868e96",
    "track": "#e9ecef",
}
_DARK = {
    GoalStatus.ACHIEVED.value: "#69db7c",
    GoalStatus.ON_TRACK.value: "#4dabf7",
    GoalStatus.BEHIND.value: "#ffc078",
    GoalStatus.AT_RISK.value: "#ff8787",
    GoalStatus.MISSED.value: "#909296",
    "track": "#3a3d42",
}
STATUS_MEANING = {
    GoalStatus.ACHIEVED.value: "100% of the target or more",
    GoalStatus.ON_TRACK.value: "75% to under 100% of the target so far",
    GoalStatus.BEHIND.value: "50% to under 75% of the target so far",
    GoalStatus.AT_RISK.value: "under 50% of the target so far",
    GoalStatus.MISSED.value: "the period ended under 100% of the target",
}


def is_dark() -> bool:
    window = QGuiApplication.palette().color(QPalette.ColorRole.Window)
    return window.lightness() < 128


def status_color(status: str, dark: bool | None = None) -> QColor:
    palette = _DARK if (is_dark() if dark is None else dark) else _LIGHT
    return QColor(palette.get(status, palette[GoalStatus.MISSED.value]))


def track_color(dark: bool | None = None) -> QColor:
    return QColor((_DARK if (is_dark() if dark is None else dark) else _LIGHT)["track"])


# -- words and numbers ------------------------------------------------------------------------


def goal_label(goal_type: str) -> str:
    return GOAL_LABELS.get(goal_type, goal_type)


def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status)


def goal_value(goal_type: str, value: Decimal | None, currency: str = "USD") -> str:
    """A goal's target or current value as its kind is said: money in the office currency,
    a rate as a percentage, counts and custom figures as plain numbers."""
    if value is None:
        return "—"
    if goal_type == GoalType.REVENUE.value:
        return format_money(value, currency)
    if goal_type == GoalType.CONVERSION_RATE.value:
        return f"{value:,.2f}%"
    return plain(value)


def goal_unit(goal_type: str, currency: str = "USD") -> str:
    """What a target is counted in, for the dialog's label ("" for a custom goal)."""
    if goal_type == GoalType.REVENUE.value:
        return currency
    if goal_type == GoalType.CONVERSION_RATE.value:
        return "%"
    if goal_type == GoalType.CUSTOM.value:
        return ""
    return goal_label(goal_type).lower()


def span_text(start: dt.date, end: dt.date) -> str:
    """'1 Oct – 31 Dec 2026'; '29 Dec 2025 – 4 Jan 2026'; '5 Oct 2026' for one day."""

    def day(d: dt.date, year: bool) -> str:
        text = f"{d.day} {MONTHS[d.month - 1][:3]}"
        return f"{text} {d.year}" if year else text

    if start == end:
        return day(start, True)
    return f"{day(start, start.year != end.year)} – {day(end, True)}"


def pct_text(value: Decimal | None) -> str:
    return "—" if value is None else f"{value:,.2f}%"


def owner_text(row: GoalRow) -> str:
    return row.owner if row.user_id is not None else f"{row.owner} (team)"


def _owner_tip(row: GoalRow) -> str:
    if row.user_id is None:
        return f"A goal of the whole team {row.owner}: its members' figures summed"
    return row.email or row.owner


def _period_text(row: GoalRow) -> str:
    return period_label(PeriodType(row.period_type), row.period_start)


def _current_tip(row: GoalRow) -> str:
    if row.goal_type == GoalType.CUSTOM.value:
        return "Entered by hand"
    if row.finalized:
        return "Final: computed when the period ended"
    return "Computed from PerfDesk's records, up to today"


def _status_tip(row: GoalRow) -> str:
    meaning = STATUS_MEANING.get(row.status, "")
    final = " (final: the period has ended)" if row.finalized else ""
    return f"{status_label(row.status)}{final}: {meaning}" if meaning else status_label(row.status)


def _float(value: Decimal | None) -> float:
    return -1.0 if value is None else float(value)


# -- the table --------------------------------------------------------------------------------


class GoalTableModel(RowTableModel):
    """GoalRows, their values said in the office currency (``set_goals``)."""

    def __init__(self, parent: Any = None) -> None:
        self.currency = "USD"
        cur = self._currency
        columns = (
            Column("Owner", owner_text, tooltip=_owner_tip),
            Column("Goal", lambda r: goal_label(r.goal_type), tooltip=lambda r: r.description),
            Column(
                "Period",
                _period_text,
                sort_key=lambda r: r.period_start.isoformat(),
                tooltip=lambda r: span_text(r.period_start, r.period_end),
            ),
            Column(
                "Target",
                lambda r: goal_value(r.goal_type, r.target_value, cur()),
                sort_key=lambda r: float(r.target_value),
                numeric=True,
            ),
            Column(
                "Current",
                lambda r: goal_value(r.goal_type, r.current_value, cur()),
                sort_key=lambda r: float(r.current_value),
                numeric=True,
                tooltip=_current_tip,
            ),
            Column(
                "Progress",
                lambda r: pct_text(r.achievement_pct),
                sort_key=lambda r: _float(r.achievement_pct),
                tooltip=lambda r: f"{pct_text(r.achievement_pct)} of the target",
            ),
            Column(
                "Status",
                lambda r: status_label(r.status),
                color=lambda r: status_color(r.status),
                tooltip=_status_tip,
            ),
        )
        super().__init__(columns, parent)

    def _currency(self) -> str:
        return self.currency

    def set_goals(self, rows: Sequence[GoalRow], currency: str = "USD") -> None:
        self.currency = currency
        self.set_rows(rows)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role in (PROGRESS_ROLE, STATUS_ROLE):
            row = super().data(index, ROW_ROLE)
            if not isinstance(row, GoalRow):
                return None
            return row.progress if role == PROGRESS_ROLE else row.status
        return super().data(index, role)


(COL_OWNER, COL_GOAL, COL_PERIOD, COL_TARGET, COL_CURRENT, COL_PROGRESS, COL_STATUS) = range(7)


class GoalFilterProxy(RowFilterProxy):
    """Case-insensitive text over every column; finished (finalised) goals only on request."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.show_finished = False

    def set_show_finished(self, show: bool) -> None:
        if show != self.show_finished:
            self.refilter(lambda: setattr(self, "show_finished", show))

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        model = self.sourceModel()
        if model is None:
            return False
        row = model.index(source_row, 0, source_parent).data(ROW_ROLE)
        if not self.show_finished and isinstance(row, GoalRow) and row.finalized:
            return False
        return super().filterAcceptsRow(source_row, source_parent)


class ProgressDelegate(QStyledItemDelegate):
    """A bar filled to the goal's progress (capped at 100 %) in its status's colour, with the
    achievement written beside it."""

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        progress = index.data(PROGRESS_ROLE)
        status = index.data(STATUS_ROLE)
        if progress is None or status is None:
            super().paint(painter, option, index)
            return
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        text = opt.text
        opt.text = ""
        widget = opt.widget
        style = widget.style() if widget is not None else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)

        metrics = opt.fontMetrics
        rect = opt.rect.adjusted(6, 0, -6, 0)
        text_width = metrics.horizontalAdvance("100.00%") + 8
        bar_width = max(0.0, float(rect.width() - text_width))
        height = min(float(rect.height() - 8), float(metrics.height() - 2))
        top = rect.center().y() - height / 2 + 0.5
        track = QRectF(rect.left(), top, bar_width, height)
        fill = QRectF(rect.left(), top, bar_width * max(0.0, min(1.0, float(progress))), height)
        dark = is_dark()
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        if bar_width > 0:
            painter.setBrush(track_color(dark))
            painter.drawRoundedRect(track, height / 2, height / 2)
            if fill.width() > 0:
                painter.setBrush(status_color(str(status), dark))
                painter.drawRoundedRect(fill, height / 2, height / 2)
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        painter.setPen(opt.palette.color(role))
        painter.setFont(opt.font)
        area = QRectF(rect.left() + bar_width, rect.top(), float(text_width), float(rect.height()))
        painter.drawText(
            area, int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter), text
        )
        painter.restore()
