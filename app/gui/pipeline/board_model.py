"""The board's one model: stages at the top level, each stage's cards as its children.

Each column is a list view rooted at its stage's index, so one model feeds every column and a
move between columns is one ``beginMoveRows``. Drag-and-drop carries deal ids (with the version
the card was drawn at) as MIME data; a drop asks for a move through ``move_requested`` and
changes nothing by itself: the page moves the deal in the database and then calls ``move_card``.
"""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QByteArray,
    QMimeData,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)

from app.domain.enums import DealStage
from app.domain.pipeline import STAGE_LABELS
from app.services.pipeline.board import Card

Index = QModelIndex | QPersistentModelIndex

MIME_TYPE = "application/x-perfdesk-deal-ids"
CARD_ROLE = Qt.ItemDataRole.UserRole + 1
DEAL_ID_ROLE = Qt.ItemDataRole.UserRole + 2
STAGE_ROLE = Qt.ItemDataRole.UserRole + 3
VERSION_ROLE = Qt.ItemDataRole.UserRole + 4

#: internalId of a stage item; a card's internalId is its stage's row + 1.
_STAGE_ID = 0


def encode_cards(cards: list[Card]) -> bytes:
    return json.dumps(
        [{"id": c.deal_id, "version": c.version, "stage": c.stage.value} for c in cards]
    ).encode("utf-8")


def decode_cards(data: bytes) -> list[tuple[int, int, DealStage]]:
    """(deal id, version, stage) of each dragged card; ValueError on anything else."""
    items = json.loads(data.decode("utf-8"))
    if not isinstance(items, list):
        raise ValueError("not a list of deals")
    return [(int(i["id"]), int(i["version"]), DealStage(i["stage"])) for i in items]


class BoardModel(QAbstractItemModel):
    #: deal ids with their versions, and the stage they were dropped on.
    move_requested = Signal(list, object)

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._stages: list[DealStage] = []
        self._cards: list[list[Card]] = []

    # -- contents -------------------------------------------------------------------------

    def set_board(self, stages: list[DealStage], cards: dict[DealStage, list[Card]]) -> None:
        self.beginResetModel()
        self._stages = list(stages)
        self._cards = [list(cards.get(st, [])) for st in stages]
        self.endResetModel()

    def stages(self) -> list[DealStage]:
        return list(self._stages)

    def stage_index(self, stage: DealStage) -> QModelIndex:
        if stage not in self._stages:
            return QModelIndex()
        return self.createIndex(self._stages.index(stage), 0, _STAGE_ID)

    def cards(self, stage: DealStage) -> list[Card]:
        return list(self._cards[self._stages.index(stage)]) if stage in self._stages else []

    def card_count(self) -> int:
        return sum(len(c) for c in self._cards)

    def find(self, deal_id: int) -> QModelIndex:
        for s, cards in enumerate(self._cards):
            for r, card in enumerate(cards):
                if card.deal_id == deal_id:
                    return self.createIndex(r, 0, s + 1)
        return QModelIndex()

    def card_at(self, index: Index) -> Card | None:
        if not index.isValid() or index.internalId() == _STAGE_ID:
            return None
        return self._cards[index.internalId() - 1][index.row()]

    def replace_card(self, card: Card) -> None:
        """Put ``card`` where its stage says: updated in place or moved to the top of its new
        column; dropped when its column is not on the board (a hidden closed stage)."""
        old = self.find(card.deal_id)
        if old.isValid():
            src = old.internalId() - 1
            if self._stages[src] is card.stage:
                self._cards[src][old.row()] = card
                self.dataChanged.emit(old, old)
                return
            if card.stage not in self._stages:
                self.beginRemoveRows(self.createIndex(src, 0, _STAGE_ID), old.row(), old.row())
                del self._cards[src][old.row()]
                self.endRemoveRows()
                return
            dst = self._stages.index(card.stage)
            self.beginMoveRows(
                self.createIndex(src, 0, _STAGE_ID), old.row(), old.row(),
                self.createIndex(dst, 0, _STAGE_ID), 0,
            )  # fmt: skip
            del self._cards[src][old.row()]
            self._cards[dst].insert(0, card)
            self.endMoveRows()
            return
        if card.stage in self._stages:
            dst = self._stages.index(card.stage)
            self.beginInsertRows(self.createIndex(dst, 0, _STAGE_ID), 0, 0)
            self._cards[dst].insert(0, card)
            self.endInsertRows()

    def append_cards(self, stage: DealStage, cards: list[Card]) -> None:
        """More of a column's cards, read after the first ones (those already here skipped)."""
        if stage not in self._stages:
            return
        s = self._stages.index(stage)
        have = {c.deal_id for column in self._cards for c in column}
        new = [c for c in cards if c.deal_id not in have]
        if not new:
            return
        first = len(self._cards[s])
        self.beginInsertRows(self.createIndex(s, 0, _STAGE_ID), first, first + len(new) - 1)
        self._cards[s].extend(new)
        self.endInsertRows()

    def remove_card(self, deal_id: int) -> None:
        old = self.find(deal_id)
        if old.isValid():
            src = old.internalId() - 1
            self.beginRemoveRows(self.createIndex(src, 0, _STAGE_ID), old.row(), old.row())
            del self._cards[src][old.row()]
            self.endRemoveRows()

    # -- QAbstractItemModel ---------------------------------------------------------------

    def index(self, row: int, column: int, parent: Index = QModelIndex()) -> QModelIndex:  # noqa: B008
        if column != 0 or row < 0:
            return QModelIndex()
        if not parent.isValid():
            if row < len(self._stages):
                return self.createIndex(row, 0, _STAGE_ID)
            return QModelIndex()
        if parent.internalId() != _STAGE_ID:
            return QModelIndex()
        s = parent.row()
        if row < len(self._cards[s]):
            return self.createIndex(row, 0, s + 1)
        return QModelIndex()

    def parent(self, child: Index = QModelIndex()) -> QModelIndex:  # type: ignore[override]  # noqa: B008
        if not child.isValid() or child.internalId() == _STAGE_ID:
            return QModelIndex()
        return self.createIndex(child.internalId() - 1, 0, _STAGE_ID)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        if not parent.isValid():
            return len(self._stages)
        if parent.column() != 0 or parent.internalId() != _STAGE_ID:
            return 0
        return len(self._cards[parent.row()])

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 1

    def hasChildren(self, parent: Index = QModelIndex()) -> bool:  # noqa: B008
        return self.rowCount(parent) > 0

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        if index.internalId() == _STAGE_ID:
            stage = self._stages[index.row()]
            if role == Qt.ItemDataRole.DisplayRole:
                return STAGE_LABELS[stage]
            if role == STAGE_ROLE:
                return stage
            return None
        card = self._cards[index.internalId() - 1][index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return card.title
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{card.ref or ''} {card.title}\n{card.agent_name} · {card.asset_type}"
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"{card.title}, {STAGE_LABELS[card.stage]}, {card.agent_name}"
        if role == CARD_ROLE:
            return card
        if role == DEAL_ID_ROLE:
            return card.deal_id
        if role == STAGE_ROLE:
            return card.stage
        if role == VERSION_ROLE:
            return card.version
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        base = Qt.ItemFlag.ItemIsEnabled
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags  # the invisible root (Qt's model contract)
        if index.internalId() == _STAGE_ID:
            return base | Qt.ItemFlag.ItemIsDropEnabled
        return (
            base
            | Qt.ItemFlag.ItemIsSelectable
            | Qt.ItemFlag.ItemIsDragEnabled
            | Qt.ItemFlag.ItemNeverHasChildren
        )

    # -- drag and drop --------------------------------------------------------------------

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def supportedDropActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def mimeTypes(self) -> list[str]:
        return [MIME_TYPE]

    def mimeData(self, indexes: list[QModelIndex]) -> QMimeData:  # type: ignore[override]
        cards = [c for c in (self.card_at(i) for i in indexes) if c is not None]
        mime = QMimeData()
        mime.setData(MIME_TYPE, QByteArray(encode_cards(cards)))
        mime.setText("\n".join(c.ref or str(c.deal_id) for c in cards))
        return mime

    def _drop_stage(self, parent: Index) -> DealStage | None:
        if not parent.isValid():
            return None
        if parent.internalId() == _STAGE_ID:
            return self._stages[parent.row()]
        return self._stages[parent.internalId() - 1]

    def canDropMimeData(
        self, data: QMimeData, action: Qt.DropAction, row: int, column: int, parent: Index
    ) -> bool:
        return data.hasFormat(MIME_TYPE) and self._drop_stage(parent) is not None

    def dropMimeData(
        self, data: QMimeData, action: Qt.DropAction, row: int, column: int, parent: Index
    ) -> bool:
        """Ask for the move; return False so the view never removes the dragged rows itself
        (the card moves once the database has the move)."""
        if action == Qt.DropAction.IgnoreAction or not data.hasFormat(MIME_TYPE):
            return False
        stage = self._drop_stage(parent)
        if stage is None:
            return False
        try:
            dragged = decode_cards(bytes(data.data(MIME_TYPE).data()))
        except (ValueError, KeyError, TypeError):
            return False
        moving = [
            (deal_id, version)
            for deal_id, version, from_stage in dragged
            if from_stage is not stage
        ]
        if moving:
            self.move_requested.emit(moving, stage)
        return False
