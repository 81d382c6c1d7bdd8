"""The side panel of the Buyers page: what a closer checks before sending a deal to a buyer —
their engagement score, how many of their properties hold each grade, and those past deals.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.domain.errors import ConflictError
from app.gui.context import AppContext
from app.gui.form_fields import sentence
from app.gui.postclose.catalog_models import (
    DEAL_BOX,
    DEAL_CLOSED,
    RowFilterProxy,
    band_color,
    grade_color,
    number,
    past_deals_model,
)
from app.services.postclose import catalog
from app.services.postclose.catalog import GRADES, BuyerDetail

if TYPE_CHECKING:
    from app.services.database import Database

PROMPT = "Select a buyer to see their engagement score and how their past deals perform."


def _hint(text: str = "") -> QLabel:
    label = QLabel(text)
    label.setProperty("role", "hint")
    label.setWordWrap(True)
    return label


class BuyerPanel(QFrame):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("buyerPanel")
        self.ctx = ctx
        self.detail: BuyerDetail | None = None
        self._generation = 0

        self.name_label = QLabel()
        self.name_label.setObjectName("buyerName")
        self.name_label.setStyleSheet("font-size: 13pt; font-weight: 600;")
        self.name_label.setWordWrap(True)
        self.contact_label = _hint()
        self.contact_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.score_label = QLabel()
        self.score_label.setObjectName("engagementScore")
        self.score_label.setToolTip(
            "From 0 to 100: the share of their properties graded A or B, with points for "
            "many properties and for cash flow above its pro forma (SPEC §9)"
        )
        self.score_hint = _hint()
        score_box = QVBoxLayout()
        score_box.setSpacing(0)
        score_box.addWidget(_hint("Engagement score"))
        score_box.addWidget(self.score_label)
        score_box.addWidget(self.score_hint)

        self.grade_labels: dict[str, QLabel] = {}
        chips = QHBoxLayout()
        chips.setSpacing(6)
        for grade in GRADES:
            chip = QLabel()
            chip.setObjectName(f"grade{grade}")
            chip.setAlignment(Qt.AlignmentFlag.AlignCenter)
            chip.setMinimumWidth(52)
            self.grade_labels[grade] = chip
            chips.addWidget(chip)
        chips.addStretch(1)
        self.grades_summary = _hint()
        self.grades_summary.setObjectName("gradesSummary")

        self.deals_model = past_deals_model(self)
        self.deals_table = QTableView()
        self.deals_table.setObjectName("pastDealsTable")
        self.deals_proxy = RowFilterProxy(self)
        self.deals_proxy.setSourceModel(self.deals_model)
        self.deals_table.setModel(self.deals_proxy)
        self.deals_table.setSortingEnabled(True)
        self.deals_table.sortByColumn(DEAL_CLOSED, Qt.SortOrder.DescendingOrder)
        self.deals_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.deals_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.deals_table.setAlternatingRowColors(True)
        self.deals_table.setWordWrap(False)
        self.deals_table.verticalHeader().hide()
        self.deals_table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        header = self.deals_table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(DEAL_BOX, QHeaderView.ResizeMode.Stretch)  # elided
        self.deals_empty = _hint("No past deals yet: nothing has closed with this buyer.")
        self.deals_empty.setObjectName("pastDealsEmpty")

        content = QWidget()
        box = QVBoxLayout(content)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.name_label)
        box.addWidget(self.contact_label)
        box.addSpacing(8)
        box.addLayout(score_box)
        box.addSpacing(8)
        box.addWidget(_hint("Grades of their properties (latest month)"))
        box.addLayout(chips)
        box.addWidget(self.grades_summary)
        box.addSpacing(8)
        past = QLabel("Past deals")
        past.setStyleSheet("font-weight: 600;")
        box.addWidget(past)
        box.addWidget(self.deals_table, 1)
        box.addWidget(self.deals_empty)

        self.message = _hint(PROMPT)
        self.message.setObjectName("panelMessage")
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.message)
        self.stack.addWidget(content)
        self.content = content
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 0, 0, 0)
        layout.addWidget(self.stack)

    # -- what it shows ----------------------------------------------------------------------

    def show_buyer(self, db: Database | None, buyer_id: int | None) -> None:
        """Read the buyer's detail in the background (None: nothing selected)."""
        self._generation += 1
        generation = self._generation
        if db is None or buyer_id is None:
            self._say(PROMPT)
            return
        if self.detail is None or self.detail.buyer.id != buyer_id:
            self._say("Reading the buyer…")

        def failed(exc: BaseException) -> None:
            if generation == self._generation:
                self._say(sentence(str(exc)))
                if not isinstance(exc, ConflictError):
                    self.ctx.ops.present(exc, self)

        self.ctx.ops.run(
            partial(catalog.buyer_detail, db, buyer_id),
            label="Reading the buyer…",
            on_success=partial(self._loaded, generation),
            on_error=failed,
            parent=self,
        )

    def _loaded(self, generation: int, detail: BuyerDetail) -> None:
        if generation == self._generation:
            self.show_detail(detail)

    def _say(self, text: str) -> None:
        self.detail = None
        self.deals_model.set_rows([])
        self.message.setText(text)
        self.stack.setCurrentWidget(self.message)

    def show_detail(self, detail: BuyerDetail) -> None:
        self.detail = detail
        buyer = detail.buyer
        self.name_label.setText(buyer.name)
        contact = " · ".join(x for x in (buyer.email, buyer.phone) if x)
        self.contact_label.setText(contact or "No email or phone")
        score = buyer.engagement_score
        self.score_label.setText(number(score) if score is not None else "—")
        color = band_color(score)
        self.score_label.setStyleSheet(
            "font-size: 30pt; font-weight: 700;" + (f" color: {color.name()};" if color else "")
        )
        self.score_hint.setText(
            "of 100" if score is not None else "No score yet: no property has a month entered."
        )
        for grade, chip in self.grade_labels.items():
            n = detail.grade_counts.get(grade, 0)
            chip.setText(f"{grade}  {n}")
            c = grade_color(grade)
            ink = c.name() if c is not None and n else "palette(placeholder-text)"
            chip.setStyleSheet(
                f"border: 1px solid {ink}; border-radius: 4px; padding: 3px 6px;"
                f" color: {ink}; font-weight: 600;"
            )
            chip.setToolTip(f"{n} {'property' if n == 1 else 'properties'} graded {grade}")
        self.grades_summary.setText(self._summary(detail))
        self.deals_model.set_rows(detail.deals)
        self.deals_table.setVisible(bool(detail.deals))
        self.deals_empty.setVisible(not detail.deals)
        self.stack.setCurrentWidget(self.content)

    @staticmethod
    def _summary(detail: BuyerDetail) -> str:
        graded = detail.graded
        parts: list[str] = []
        if graded:
            good = detail.grade_counts.get("A", 0) + detail.grade_counts.get("B", 0)
            parts.append(
                f"{good} of {graded} graded {'property is' if graded == 1 else 'properties are'}"
                f" A or B ({good * 100 / graded:.0f}%)."
            )
        if detail.ungraded:
            n = detail.ungraded
            parts.append(f"{n} {'has' if n == 1 else 'have'} no month entered yet.")
        return " ".join(parts) or "No graded properties yet."
