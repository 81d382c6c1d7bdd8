"""The navigation list's model: one row per registered page."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QIcon

from app.gui.pages import PageSpec

PAGE_KEY_ROLE = Qt.ItemDataRole.UserRole + 1

Index = QModelIndex | QPersistentModelIndex


class PageListModel(QAbstractListModel):
    def __init__(self, specs: list[PageSpec], icons: dict[str, QIcon] | None = None) -> None:
        super().__init__()
        self._specs = list(specs)
        self._icons = icons or {}

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._specs)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._specs):
            return None
        spec = self._specs[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return spec.title
        if role == Qt.ItemDataRole.ToolTipRole:
            shortcut = f" (Ctrl+{index.row() + 1})" if index.row() < 9 else ""
            return (spec.tooltip or spec.title) + shortcut
        if role == Qt.ItemDataRole.DecorationRole:
            return self._icons.get(spec.key)
        if role == PAGE_KEY_ROLE:
            return spec.key
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return (
            Qt.ItemFlag.ItemIsEnabled
            | Qt.ItemFlag.ItemIsSelectable
            | Qt.ItemFlag.ItemNeverHasChildren
        )

    def row_of(self, key: str) -> int:
        for row, spec in enumerate(self._specs):
            if spec.key == key:
                return row
        return -1

    def key_at(self, row: int) -> str | None:
        return self._specs[row].key if 0 <= row < len(self._specs) else None
