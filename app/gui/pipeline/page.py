"""The pipeline board: a column per stage (SPEC §4), filters, moves by drag-and-drop, by
Ctrl+Left / Ctrl+Right or "Move to…", Ctrl+Z to take the last move back, the selected deal's
panel beside the board, and "Verify history" (SPEC §5).

The board reads itself when first shown and whenever deals change (here or, in shared mode,
on another workstation: NOTIFY ``deals`` arrives through ``data_changed``), keeping each
column's scroll position and the selected card. After a move of its own it only reads the
column figures again; the card has already moved.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QEvent, QModelIndex, QObject, QPoint, Qt, QTimer, Slot
from PySide6.QtGui import QAction, QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QMenu,
    QPushButton,
    QScrollArea,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.domain.enums import DealStage
from app.domain.errors import PermissionDenied
from app.domain.pipeline import CLOSED_STAGES, STAGE_LABELS, STAGES, neighbour
from app.gui import events
from app.gui.context import AppContext
from app.gui.pages import page
from app.gui.pipeline.board_model import BoardModel
from app.gui.pipeline.card_delegate import DealCardDelegate
from app.gui.pipeline.column import StageColumn
from app.gui.pipeline.detail import DealDetailPanel
from app.gui.pipeline.moves import MoveController
from app.gui.pipeline.verify import VerifyHistory
from app.services import office
from app.services.pipeline.board import (
    Board,
    BoardChoices,
    BoardFilters,
    Card,
    ColumnFigures,
    board_choices,
    load_board,
    load_figures,
    load_more,
)

if TYPE_CHECKING:
    from app.services.database import Database
    from app.services.schema import SchemaStatus

#: Remote changes arriving close together are read once.
RELOAD_DEBOUNCE_MS = 250
#: Cards per column read before the first paint (a tall screen shows ~10); the rest follow.
FIRST_CARDS = 60
#: The rest of the cards are read after the first paint, or after this long without one.
PAINT_FALLBACK_MS = 100
#: The deal panel beside the board: its narrowest and its first width (then as the person left
#: it, kept in QSettings).
DETAIL_MIN_WIDTH = 360
DETAIL_WIDTH = 440
SPLITTER_KEY = "pipeline/splitter"
SETTINGS = "pipeline"


@dataclass(frozen=True)
class Loaded:
    board: Board
    choices: BoardChoices | None  # None: not read again (the filters already offer them)
    now: dt.datetime


def read_board(db: Database, filters: BoardFilters, choices: bool = True) -> Loaded:
    """Runs on a worker: the figures and each column's first cards (the rest follow)."""
    currency = office.get_currency(db)
    board = load_board(db, filters, currency, first=FIRST_CARDS)
    offered = board_choices(db) if choices else None
    return Loaded(board, offered, dt.datetime.now(dt.UTC))


class PipelinePage(QWidget):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("pipelinePage")
        self.ctx = ctx
        self._db: Database | None = None
        self._loaded: Loaded | None = None
        self._stale = False
        self._generation = 0
        self._selected: int | None = None
        self._choices_set = False
        self._own_changes = 0

        self.model = BoardModel(self)
        self.model.move_requested.connect(self._dropped)
        self.delegate = DealCardDelegate(self)
        self.moves = MoveController(ctx, self)
        self.moves.moved.connect(self._moved)
        self.moves.conflicted.connect(lambda _id: self.reload())
        self.moves.undone_offboard.connect(self._undone_offboard)
        self.verifier = VerifyHistory(ctx, self)

        title = QLabel("Pipeline")
        title.setProperty("role", "pageTitle")
        self.agent_combo = QComboBox()
        self.agent_combo.setObjectName("pipelineAgent")
        self.agent_combo.setToolTip("Show only this agent's deals")
        self.asset_combo = QComboBox()
        self.asset_combo.setObjectName("pipelineAsset")
        self.asset_combo.setToolTip("Show only deals of this asset type")
        self.type_combo = QComboBox()
        self.type_combo.setObjectName("pipelineDealType")
        self.type_combo.setToolTip("Show only deals of this type")
        for combo, everyone in (
            (self.agent_combo, "All agents"),
            (self.asset_combo, "All asset types"),
            (self.type_combo, "All deal types"),
        ):
            combo.addItem(everyone, None)
            combo.currentIndexChanged.connect(self._filters_changed)
        self.search = QLineEdit()
        self.search.setObjectName("pipelineSearch")
        self.search.setPlaceholderText("Search title or ref (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self._search_timer = QTimer(self, singleShot=True, interval=300)
        self._search_timer.timeout.connect(self._filters_changed)
        self.search.textChanged.connect(lambda _t: self._search_timer.start())
        self.hide_closed = QCheckBox("Hide closed")
        self.hide_closed.setObjectName("pipelineHideClosed")
        self.hide_closed.setToolTip("Hide the Closed won and Closed lost columns")
        self.hide_closed.toggled.connect(self._filters_changed)

        self.move_button = QToolButton()
        self.move_button.setText("Move to…")
        self.move_button.setToolTip("Move the selected deal to another stage (Ctrl+M)")
        self.move_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.move_menu = QMenu(self.move_button)
        self.move_menu.aboutToShow.connect(lambda: self._fill_move_menu(self.move_menu))
        self.move_button.setMenu(self.move_menu)
        self.undo_button = QPushButton("Undo move")
        self.undo_button.setToolTip("Move the last moved deal back (Ctrl+Z)")
        self.undo_button.setEnabled(False)
        self.undo_button.clicked.connect(self.undo)
        self.moves.undo_available.connect(self.undo_button.setEnabled)
        self.more_button = QToolButton()
        self.more_button.setText("⋯")
        self.more_button.setToolTip("More")
        self.more_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        more = QMenu(self.more_button)
        self.note_action = QAction("Ask for a note on each move", self, checkable=True)
        self.note_action.setChecked(self.moves.ask_note)
        self.note_action.toggled.connect(self.moves.set_ask_note)
        more.addAction(self.note_action)
        self.verify_action = QAction("Verify history…", self)
        self.verify_action.setToolTip("Recompute every audit chain (SPEC §5)")
        self.verify_action.triggered.connect(self.verify_history)
        more.addAction(self.verify_action)
        refresh = QAction("Refresh", self)
        refresh.setShortcut(QKeySequence.StandardKey.Refresh)
        refresh.triggered.connect(self.reload)
        self.addAction(refresh)
        more.addAction(refresh)
        self.more_button.setMenu(more)
        self.status_label = QLabel()
        self.status_label.setObjectName("pipelineStatus")
        self.status_label.setProperty("role", "hint")

        bar = QHBoxLayout()
        bar.addWidget(title)
        bar.addSpacing(12)
        bar.addWidget(self.agent_combo)
        bar.addWidget(self.asset_combo)
        bar.addWidget(self.type_combo)
        bar.addWidget(self.search, 1)
        bar.addWidget(self.hide_closed)
        bar.addWidget(self.move_button)
        bar.addWidget(self.undo_button)
        bar.addWidget(self.more_button)

        self.columns: dict[DealStage, StageColumn] = {}
        strip = QWidget()
        strip.setObjectName("pipelineColumns")
        row = QHBoxLayout(strip)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(8)
        for stage in STAGES:
            column = StageColumn(stage, self.model, self.delegate)
            column.step_requested.connect(self._step)
            column.menu_requested.connect(self._context_menu)
            column.view.selectionModel().currentChanged.connect(
                partial(self._current_changed, column.view)
            )
            column.view.clicked.connect(partial(self._current_changed, column.view))
            self.columns[stage] = column
            row.addWidget(column)
        row.addStretch(1)
        self.board_area = QScrollArea()
        self.board_area.setWidget(strip)
        self.board_area.setWidgetResizable(True)
        self.board_area.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

        self.detail = DealDetailPanel(ctx, self)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("pipelineSplitter")
        self.splitter.addWidget(self.board_area)
        self.splitter.addWidget(self.detail)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 0)
        self.splitter.setCollapsible(0, False)
        self.detail.setMinimumWidth(DETAIL_MIN_WIDTH)
        self._splitter_sized = False
        self.splitter.splitterMoved.connect(self._save_splitter)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.status_label)
        layout.addWidget(self.splitter, 1)

        QShortcut(QKeySequence.StandardKey.Undo, self, self.undo)
        QShortcut(QKeySequence.StandardKey.Find, self, self.search.setFocus)
        QShortcut(QKeySequence("Ctrl+M"), self, self._move_menu_at_card)
        self._rest_pending: Callable[[], None] | None = None
        self._rest_fallback = QTimer(self, singleShot=True, interval=PAINT_FALLBACK_MS)
        self._rest_fallback.timeout.connect(self._start_the_rest)  # a board never painted
        for column in self.columns.values():
            column.view.viewport().installEventFilter(self)
        self._reload_timer = QTimer(self, singleShot=True, interval=RELOAD_DEBOUNCE_MS)
        self._reload_timer.timeout.connect(self._refresh_when_shown)

        self.hide_closed.setChecked(
            bool(ctx.settings.qsettings.value(f"{SETTINGS}/hide_closed", False, type=bool))
        )
        ctx.database.opened.connect(self._on_opened)
        ctx.database.closed.connect(self._on_closed)
        ctx.database.failed.connect(self._on_closed)
        ctx.events.data_changed.connect(self._on_data_changed)
        self._on_closed()

    # -- the database ---------------------------------------------------------------------

    @Slot(object, object)
    def _on_opened(self, db: Database, _status: SchemaStatus) -> None:
        self._db = db
        self.moves.db = db
        self.verifier.db = db
        self.moves.clear()
        self._choices_set = False
        self._refresh_when_shown()

    @Slot()
    def _on_closed(self) -> None:
        self._db = None
        self.moves.db = None
        self.verifier.db = None
        self._generation += 1
        self._loaded = None
        self.model.set_board(list(STAGES), {})
        for column in self.columns.values():
            column.reroot()
            column.set_figures(None, 0, "USD")
        self.status_label.setText("No database is open.")

    @Slot(str)
    def _on_data_changed(self, kind: str) -> None:
        if kind == events.DEALS and self._own_changes:
            self._own_changes -= 1  # a move of this board's: the card has moved already
            return
        if events.concerns(kind, events.DEALS, events.PEOPLE, events.OFFICE):
            self._reload_timer.start()

    def _refresh_when_shown(self) -> None:
        if self.isVisible():
            self.reload()
        else:
            self._stale = True

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._splitter_sized:
            self._splitter_sized = True
            state = self.ctx.settings.qsettings.value(SPLITTER_KEY)
            if not (isinstance(state, QByteArray) and self.splitter.restoreState(state)):
                width = max(self.splitter.width(), DETAIL_WIDTH * 3)
                self.splitter.setSizes([width - DETAIL_WIDTH, DETAIL_WIDTH])
        if self._stale or (self._loaded is None and self._db is not None):
            self.reload()

    def filters(self) -> BoardFilters:
        return BoardFilters(
            agent_id=self.agent_combo.currentData(),
            asset_type=self.asset_combo.currentData(),
            deal_type=self.type_combo.currentData(),
            text=self.search.text(),
            hide_closed=self.hide_closed.isChecked(),
        )

    def reload(self) -> None:
        db = self._db
        if db is None:
            return
        self._stale = False
        self._generation += 1
        generation = self._generation
        if self._loaded is None:
            self.status_label.setText("Reading the pipeline…")

        def loaded(result: Loaded) -> None:
            if generation == self._generation:
                self._show(result)

        def failed(exc: BaseException) -> None:
            if generation != self._generation:
                return
            if isinstance(exc, PermissionDenied):
                self.status_label.setText(str(exc))
            else:
                self.ctx.ops.present(exc, self)

        self.ctx.ops.run(
            partial(read_board, db, self.filters(), not self._choices_set),
            label="Reading the pipeline…",
            on_success=loaded,
            on_error=failed,
            parent=self,
        )

    def _show(self, result: Loaded) -> None:
        scroll = {s: c.view.verticalScrollBar().value() for s, c in self.columns.items()}
        self._loaded = result
        if result.choices is not None:
            self._set_choices(result.choices)
        self.delegate.set_now(result.now)
        board = result.board
        self.model.set_board(list(STAGES), board.cards)
        shown = set(board.filters.stages())
        for stage, column in self.columns.items():
            column.reroot()
            column.setVisible(stage in shown)
            column.set_figures(board.figures(stage), len(board.cards.get(stage, [])),
                               board.currency)  # fmt: skip
            column.view.verticalScrollBar().setValue(scroll[stage])
        self._update_status()
        if self._selected is not None:
            self.select_deal(self._selected)
        # The rest is read once the first cards are on screen: a worker running Python while the
        # window paints would share the interpreter with the paint (the dashboard's lesson).
        self._rest_pending = partial(self._read_the_rest, board, scroll)
        self._rest_fallback.start()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint and self._rest_pending is not None:
            QTimer.singleShot(0, self._start_the_rest)
        return super().eventFilter(watched, event)

    def _start_the_rest(self) -> None:
        start, self._rest_pending = self._rest_pending, None
        self._rest_fallback.stop()
        if start is not None:
            start()

    def _read_the_rest(self, board: Board, scroll: dict[DealStage, int]) -> None:
        """After the first paint: the cards beyond each column's first ones."""
        db = self._db
        more = {
            stage: len(cards)
            for stage, cards in board.cards.items()
            if (f := board.figures(stage)) is not None and f.count > len(cards)
            and len(cards) >= FIRST_CARDS
        }  # fmt: skip
        if db is None or not more:
            return
        generation = self._generation

        def arrived(rest: dict[DealStage, list[Card]]) -> None:
            if generation != self._generation:
                return
            for stage, cards in rest.items():
                self.model.append_cards(stage, cards)
                column = self.columns[stage]
                figures = board.figures(stage)
                column.set_figures(figures, len(self.model.cards(stage)), board.currency)
                column.view.verticalScrollBar().setValue(scroll[stage])
            if self._selected is not None and self.current_card() is not None:
                self.select_deal(self._selected)

        self.ctx.ops.run(
            partial(load_more, db, board.filters, more),
            label="Reading the rest of the pipeline…",
            on_success=arrived,
            parent=self,
        )

    def _update_status(self) -> None:
        result = self._loaded
        if result is None:
            return
        total = sum(f.count for f in result.board.columns)
        if total == 0:
            everything = BoardFilters()
            if self.filters() == everything:
                text = (
                    "No deals yet: import them (python main.py import deals FILE) "
                    "or fill the database with demo data."
                )
            elif self.filters() == BoardFilters(hide_closed=True):
                text = "Every deal is closed: untick Hide closed to see them."
            else:
                text = "No deal matches these filters."
            self.status_label.setText(text)
        else:
            noun = "deal" if total == 1 else "deals"
            self.status_label.setText(
                f"{total:,} {noun} · drag a card to another column, or select it and press "
                "Ctrl+Left / Ctrl+Right · Ctrl+Z takes the last move back"
            )

    def _set_choices(self, choices: BoardChoices) -> None:
        if self._choices_set:
            return
        self._choices_set = True
        for combo, items in (
            (self.agent_combo, choices.agents),
            (self.asset_combo, [(a, a.replace("_", " ")) for a in choices.asset_types]),
            (self.type_combo, [(t, t.replace("_", " ")) for t in choices.deal_types]),
        ):
            combo.blockSignals(True)
            current = combo.currentData()
            while combo.count() > 1:
                combo.removeItem(1)
            for value, text in items:
                combo.addItem(text, value)
            found = combo.findData(current)
            combo.setCurrentIndex(max(found, 0))
            combo.blockSignals(False)

    def _filters_changed(self) -> None:
        self.ctx.settings.qsettings.setValue(
            f"{SETTINGS}/hide_closed", self.hide_closed.isChecked()
        )
        if self._db is not None:
            self.reload()

    # -- selection ------------------------------------------------------------------------

    def current_card(self) -> Card | None:
        if self._selected is None:
            return None
        index = self.model.find(self._selected)
        card = self.model.card_at(index)
        return card

    def _current_changed(self, view: QListView, current: QModelIndex, *_: object) -> None:
        card = self.model.card_at(current)
        if card is None:
            return
        for column in self.columns.values():
            if column.view is not view:
                column.view.selectionModel().clearSelection()
        self._selected = card.deal_id
        self.detail.show_deal(card.deal_id)

    def select_deal(self, deal_id: int) -> bool:
        index = self.model.find(deal_id)
        card = self.model.card_at(index)
        if card is None:
            return False
        view = self.columns[card.stage].view
        view.setCurrentIndex(index)
        view.scrollTo(index)
        self._selected = deal_id
        return True

    # -- moving ---------------------------------------------------------------------------

    def move_card(self, card: Card, to: DealStage) -> None:
        self.moves.move(card, to)

    def _dropped(self, moving: list[tuple[int, int]], stage: DealStage) -> None:
        for deal_id, version in moving:
            card = self.model.card_at(self.model.find(deal_id))
            if card is not None and card.version == version:
                self.moves.move(card, stage)

    def _step(self, view: QListView, step: int) -> None:
        card = self.model.card_at(view.currentIndex())
        if card is None:
            return
        to = neighbour(card.stage, step)
        if to is None or (to in CLOSED_STAGES and self.hide_closed.isChecked()):
            return
        self.moves.move(card, to)

    def _fill_move_menu(self, menu: QMenu) -> None:
        menu.clear()
        card = self.current_card()
        if card is None:
            menu.addAction("Select a deal first").setEnabled(False)
            return
        for stage in STAGES:
            action = menu.addAction(STAGE_LABELS[stage])
            action.setEnabled(stage is not card.stage)
            action.triggered.connect(partial(self.move_card, card, stage))

    def _context_menu(self, view: QListView, pos: QPoint) -> None:
        index = view.indexAt(view.viewport().mapFromGlobal(pos))
        card = self.model.card_at(index)
        if card is None:
            return
        view.setCurrentIndex(index)
        menu = QMenu(self)
        sub = menu.addMenu("Move to")
        self._fill_move_menu(sub)
        menu.exec(pos)

    def _move_menu_at_card(self) -> None:
        card = self.current_card()
        if card is None:
            return
        view = self.columns[card.stage].view
        rect = view.visualRect(self.model.find(card.deal_id))
        self._fill_move_menu(self.move_menu)
        self.move_menu.popup(view.viewport().mapToGlobal(rect.center()))

    def undo(self) -> None:
        self.moves.undo(lambda deal_id: self.model.card_at(self.model.find(deal_id)))

    def _moved(self, card: Card) -> None:
        result = self._loaded
        if result is not None and card.stage not in result.board.filters.stages():
            self.model.remove_card(card.deal_id)  # into a hidden (closed) column: off the board
        else:
            self.model.replace_card(card)
        if card.deal_id == self._selected:
            self.select_deal(card.deal_id)
        self._refresh_figures()
        self._own_changes += 1
        self.ctx.events.changed(events.DEALS)

    def _save_splitter(self, *_: object) -> None:
        self.ctx.settings.qsettings.setValue(SPLITTER_KEY, self.splitter.saveState())

    def _undone_offboard(self, _deal_id: int) -> None:
        """A deal the filters hide went back: read the board (the 'deals' change that follows
        is this one)."""
        self._own_changes += 1
        self.reload()

    def _refresh_figures(self) -> None:
        db, result = self._db, self._loaded
        if db is None or result is None:
            return
        filters, currency = result.board.filters, result.board.currency
        generation = self._generation

        def shown(figures: list[ColumnFigures]) -> None:
            if generation != self._generation:
                return
            by_stage = {f.stage: f for f in figures}
            for stage, column in self.columns.items():
                column.set_figures(by_stage.get(stage), len(self.model.cards(stage)), currency)

        self.ctx.ops.run(
            partial(load_figures, db, filters, currency),
            label="Adding up the columns…",
            on_success=shown,
            parent=self,
        )

    # -- history --------------------------------------------------------------------------

    def verify_history(self) -> None:
        self.verifier.run()


@page("pipeline", "Pipeline", order=15, icon="pipeline", tooltip="Deals by stage")
def build_pipeline_page(ctx: AppContext) -> QWidget:
    return PipelinePage(ctx)
