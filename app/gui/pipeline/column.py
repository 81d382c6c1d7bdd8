"""One column of the board: its stage's header (figures from the database) and a list view
rooted at the stage's index in the board's one model."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPoint, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListView,
    QVBoxLayout,
    QWidget,
)

from app.domain.enums import DealStage
from app.domain.money import format_money
from app.domain.pipeline import CLOSED_STAGES, STAGE_LABELS
from app.gui.dashboard.format import short_money
from app.gui.pipeline.board_model import BoardModel
from app.gui.pipeline.card_delegate import DealCardDelegate
from app.services.pipeline.board import ColumnFigures

COLUMN_WIDTH = 264


class StageView(QListView):
    """A column's cards. Ctrl+Left / Ctrl+Right ask to move the current card a stage over."""

    step_requested = Signal(int)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        ctrl = event.modifiers() & Qt.KeyboardModifier.ControlModifier
        if ctrl and event.key() in (Qt.Key.Key_Left, Qt.Key.Key_Right):
            self.step_requested.emit(-1 if event.key() == Qt.Key.Key_Left else 1)
            event.accept()
            return
        super().keyPressEvent(event)


class StageColumn(QFrame):
    step_requested = Signal(object, int)  # the view, -1 or +1
    menu_requested = Signal(object, QPoint)  # the view, global position

    def __init__(
        self,
        stage: DealStage,
        model: BoardModel,
        delegate: DealCardDelegate,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.stage = stage
        self.model = model
        self.setObjectName(f"column_{stage.value}")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setFixedWidth(COLUMN_WIDTH)

        self.title = QLabel(f"<b>{STAGE_LABELS[stage]}</b>")
        self.count = QLabel("0")
        self.count.setObjectName("columnCount")
        self.count.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.totals = QLabel("—")
        self.totals.setObjectName("columnTotals")
        self.totals.setProperty("role", "hint")
        self.note = QLabel()
        self.note.setProperty("role", "hint")
        self.note.setWordWrap(True)
        self.note.hide()

        self.view = StageView()
        self.view.setObjectName(f"view_{stage.value}")
        self.view.setAccessibleName(f"{STAGE_LABELS[stage]} deals")
        self.view.setModel(model)
        self.view.setItemDelegate(delegate)
        self.view.setUniformItemSizes(True)
        self.view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.view.verticalScrollBar().setSingleStep(24)
        self.view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setDragEnabled(True)
        self.view.setAcceptDrops(True)
        self.view.setDropIndicatorShown(True)
        self.view.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        self.view.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(
            lambda pos: self.menu_requested.emit(self.view, self.view.viewport().mapToGlobal(pos))
        )
        self.view.step_requested.connect(lambda step: self.step_requested.emit(self.view, step))
        self.empty = QLabel("No deals")
        self.empty.setProperty("role", "hint")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)

        head = QVBoxLayout()
        head.setSpacing(2)
        top = QWidget()
        row = QHBoxLayout(top)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.title, 1)
        row.addWidget(self.count)
        head.addWidget(top)
        head.addWidget(self.totals)
        head.addWidget(self.note)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(head)
        layout.addWidget(self.view, 1)
        self.reroot()

    def reroot(self) -> None:
        """Point the view at its stage again (after the model was reset)."""
        root = self.model.stage_index(self.stage)
        self.view.setRootIndex(root if root.isValid() else QModelIndex())

    def set_figures(self, figures: ColumnFigures | None, drawn: int, currency: str) -> None:
        if figures is None:
            self.count.setText("0")
            self.totals.setText("—")
            return
        self.count.setText(f"{figures.count:,}")
        self.count.setToolTip(f"{figures.count:,} deals in {STAGE_LABELS[self.stage]}")
        self.totals.setText(
            f"{short_money(figures.total, currency)} · "
            f"{short_money(figures.weighted, currency)} weighted"
        )
        tip = [
            f"Total: {format_money(figures.total, currency)}",
            f"Weighted: {format_money(figures.weighted, currency)}",
        ]
        for code, (n, total, weighted) in sorted(figures.other.items()):
            tip.append(
                f"Also {n:,} in {code}: {format_money(total, code)} "
                f"({format_money(weighted, code)} weighted)"
            )
        self.totals.setToolTip("\n".join(tip))
        if figures.other:
            self.totals.setText(self.totals.text() + " +")
        if self.stage in CLOSED_STAGES and figures.count > drawn:
            self.note.setText(f"Showing the {drawn:,} most recent of {figures.count:,}")
            self.note.show()
        else:
            self.note.hide()
