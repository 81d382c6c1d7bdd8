"""Beside the assignments: the selected assignment's KPI, the person's weights (which should add
up to 100) and the values measured so far. ``WeightsView`` is also the Assign dialog's preview.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING

from PySide6.QtCore import QSortFilterProxyModel, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHeaderView,
    QLabel,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.domain.errors import PerfDeskError
from app.domain.kpis import HUNDRED
from app.gui import theme
from app.gui.context import AppContext
from app.gui.form_fields import sentence
from app.gui.kpis.assignment_models import (
    HIST_NOTES,
    HIST_PERIOD,
    SORT_ROLE,
    AssignmentItem,
    HistoryModel,
    period_label,
    period_name,
    plain,
    target_name,
    with_unit,
)
from app.services.kpis.assignments import person_weights
from app.services.kpis.measurements import MeasurementRow, history
from app.services.records import Acting

if TYPE_CHECKING:
    from app.services.database import Database

PROMPT = "Select an assignment to see the person's weights and the values measured so far."


def hint(text: str = "") -> QLabel:
    label = QLabel(text)
    label.setProperty("role", "hint")
    label.setWordWrap(True)
    return label


class WeightsView(QWidget):
    """A person's active weights, one line per KPI, and their total — red, saying "not 100",
    when they do not add up to 100."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.lines = QLabel()
        self.lines.setObjectName("weightLines")
        self.lines.setWordWrap(True)
        self.lines.setTextFormat(Qt.TextFormat.PlainText)
        self.total_label = QLabel()
        self.total_label.setObjectName("weightTotal")
        self.total_label.setWordWrap(True)
        self.total: Decimal | None = None
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(2)
        box.addWidget(self.lines)
        box.addWidget(self.total_label)

    def say(self, text: str) -> None:
        """Instead of weights: reading them, or why there are none to show."""
        self.total = None
        self.lines.setText(text)
        self.lines.setProperty("role", "hint")
        self._repolish(self.lines)
        self.total_label.hide()

    def show_weights(
        self, weights: Sequence[tuple[str, Decimal]], extra: tuple[str, Decimal] | None = None
    ) -> None:
        """``extra``: the assignment being made, added to the total."""
        lines = [f"{name} — {plain(weight)}" for name, weight in weights]
        if extra is not None:
            lines.append(f"{extra[0]} — {plain(extra[1])} (this assignment)")
        total = sum((w for _n, w in weights), Decimal(0)) + (extra[1] if extra else Decimal(0))
        self.total = total
        self.lines.setText("\n".join(lines) if lines else "No active KPIs.")
        self.lines.setProperty("role", None if lines else "hint")
        self._repolish(self.lines)
        good = total == HUNDRED
        text = f"Total {plain(total)}"
        if not good:
            text += " — not 100"
        self.total_label.setText(text)
        color = theme.colors()["ok" if good else "error"]
        self.total_label.setStyleSheet(f"color: {color}; font-weight: 600;")
        self.total_label.setToolTip(
            ""
            if good
            else "A person's weights should add up to 100: the overall score weighs each KPI's "
            "achievement by its weight."
        )
        self.total_label.show()

    @property
    def adds_up(self) -> bool:
        return self.total is not None and self.total == HUNDRED

    @staticmethod
    def _repolish(widget: QWidget) -> None:
        widget.style().unpolish(widget)
        widget.style().polish(widget)


@dataclass(frozen=True)
class PanelData:
    weights: list[tuple[str, Decimal]]
    history: list[MeasurementRow]
    day: dt.date


def read_panel(db: Database, item: AssignmentItem, acting: Acting) -> PanelData:
    """Runs on a worker: the person's weights today and the assignment's history."""
    day = dt.date.today()
    return PanelData(person_weights(db, item.row.user_id, day), history(db, item.id, acting), day)


class AssignmentPanel(QFrame):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("assignmentPanel")
        self.ctx = ctx
        self.item: AssignmentItem | None = None
        self.data: PanelData | None = None
        self._generation = 0

        self.kpi_label = QLabel()
        self.kpi_label.setObjectName("kpiName")
        self.kpi_label.setStyleSheet("font-size: 13pt; font-weight: 600;")
        self.kpi_label.setWordWrap(True)
        self.person_label = hint()
        self.person_label.setObjectName("assignmentPerson")
        self.terms_label = QLabel()
        self.terms_label.setObjectName("assignmentTerms")
        self.terms_label.setWordWrap(True)
        self.weights = WeightsView()
        self.weights.setObjectName("panelWeights")
        self.weights_heading = QLabel("Their weights today")
        self.weights_heading.setStyleSheet("font-weight: 600;")

        self.history_model = HistoryModel(self)
        self.history_proxy = QSortFilterProxyModel(self)
        self.history_proxy.setSourceModel(self.history_model)
        self.history_proxy.setSortRole(SORT_ROLE)
        self.history_table = QTableView()
        self.history_table.setObjectName("historyTable")
        self.history_table.setModel(self.history_proxy)
        self.history_table.setSortingEnabled(True)
        self.history_table.sortByColumn(HIST_PERIOD, Qt.SortOrder.DescendingOrder)
        self.history_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.history_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.history_table.setAlternatingRowColors(True)
        self.history_table.setWordWrap(False)
        self.history_table.verticalHeader().hide()
        self.history_table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        header = self.history_table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(HIST_NOTES, QHeaderView.ResizeMode.Stretch)
        self.history_empty = hint()
        self.history_empty.setObjectName("historyEmpty")

        content = QWidget()
        box = QVBoxLayout(content)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.kpi_label)
        box.addWidget(self.person_label)
        box.addWidget(self.terms_label)
        box.addSpacing(8)
        box.addWidget(self.weights_heading)
        box.addWidget(self.weights)
        box.addSpacing(8)
        measured = QLabel("Measurements")
        measured.setStyleSheet("font-weight: 600;")
        box.addWidget(measured)
        box.addWidget(self.history_table, 1)
        box.addWidget(self.history_empty)

        self.message = hint(PROMPT)
        self.message.setObjectName("panelMessage")
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.message)
        self.stack.addWidget(content)
        self.content = content
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 0, 0, 0)
        layout.addWidget(self.stack)

    def show_assignment(
        self, db: Database | None, item: AssignmentItem | None, acting: Acting = None
    ) -> None:
        """Show the assignment at once; read its weights and history in the background."""
        self._generation += 1
        generation = self._generation
        self.item = item
        self.data = None
        if db is None or item is None:
            self.history_model.set_history([], "monthly", None)
            self.message.setText(PROMPT)
            self.stack.setCurrentWidget(self.message)
            return
        row = item.row
        self.kpi_label.setText(row.kpi_name)
        self.person_label.setText(f"{row.person} · {row.email}")
        end = f" to {row.end_date.isoformat()}" if row.end_date else ""
        self.terms_label.setText(
            f"{period_name(row.period)} · {target_name(row.target_type)} · "
            f"{item.calculation_label}\n"
            f"Target {with_unit(row.target_value, row.unit)} · weight {plain(row.weight)} · "
            f"from {row.start_date.isoformat()}{end}"
        )
        self.weights.say("Reading their weights…")
        self.history_model.set_history([], row.period, row.unit)
        self.history_table.hide()
        self.history_empty.setText("Reading the measurements…")
        self.history_empty.show()
        self.stack.setCurrentWidget(self.content)

        def failed(exc: BaseException) -> None:
            if generation != self._generation:
                return
            self.weights.say("")
            self.history_empty.setText(sentence(str(exc)))
            if not isinstance(exc, PerfDeskError):
                self.ctx.ops.present(exc, self)

        self.ctx.ops.run(
            partial(read_panel, db, item, acting),
            label="Reading the assignment…",
            on_success=partial(self._loaded, generation, item),
            on_error=failed,
            parent=self,
        )

    def _loaded(self, generation: int, item: AssignmentItem, data: PanelData) -> None:
        if generation != self._generation:
            return
        self.data = data
        self.weights.show_weights(data.weights)
        self.history_model.set_history(data.history, item.row.period, item.row.unit)
        self.history_table.setVisible(bool(data.history))
        if data.history:
            self.history_empty.hide()
        else:
            self.history_empty.setText(self._no_history(item, data.day))
            self.history_empty.show()

    @staticmethod
    def _no_history(item: AssignmentItem, day: dt.date) -> str:
        if item.manual:
            return (
                "No values yet. Enter one with Enter value… for "
                f"{period_label(item.row.period, day)} or an earlier period."
            )
        return "No values yet: PerfDesk records them when it computes the KPIs."
