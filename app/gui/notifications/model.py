"""The notifications list: model (newest first) and delegate (unread in bold)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, QSize, Qt
from PySide6.QtGui import QFont, QFontMetrics, QPainter
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from app.domain.agent_kpis import time_ago
from app.domain.money import format_money
from app.services.notifications import NotificationRow

ROW_ROLE = Qt.ItemDataRole.UserRole + 1  # the NotificationRow
UNREAD_ROLE = Qt.ItemDataRole.UserRole + 2  # bool

Index = QModelIndex | QPersistentModelIndex


def describe(row: NotificationRow, now: dt.datetime) -> tuple[str, str]:
    """The first line (title) and the second (agent · price · "2 h ago")."""
    price = format_money(row.price) if row.price is not None else ""
    parts = [p for p in (row.agent_name, price) if p]
    parts.append(time_ago(row.created_at, now))
    return row.title, " · ".join(parts)


class NotificationModel(QAbstractListModel):
    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[NotificationRow] = []
        self.now = dt.datetime.now(dt.UTC)

    def set_rows(self, rows: Sequence[NotificationRow], now: dt.datetime | None = None) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.now = now or dt.datetime.now(dt.UTC)
        self.endResetModel()

    def row_at(self, row: int) -> NotificationRow | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.parent().isValid():
            return None
        note = self.row_at(index.row())
        if note is None:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            title, detail = describe(note, self.now)
            return f"{title}\n{detail}"
        if role == Qt.ItemDataRole.ToolTipRole:
            return note.body or note.title
        if role == Qt.ItemDataRole.FontRole:
            font = QFont()
            font.setBold(not note.is_read)
            return font
        if role == Qt.ItemDataRole.AccessibleTextRole:
            title, detail = describe(note, self.now)
            return f"{'Unread: ' if not note.is_read else ''}{title}, {detail}"
        if role == ROW_ROLE:
            return note
        if role == UNREAD_ROLE:
            return not note.is_read
        return None

    def mark_read_locally(self, notification_id: int | None = None) -> None:
        """Show one (or every) notification as read before the list is read again."""
        now = dt.datetime.now(dt.UTC)
        for i, note in enumerate(self._rows):
            if not note.is_read and notification_id in (None, note.id):
                self._rows[i] = _read(note, now)
                idx = self.index(i)
                self.dataChanged.emit(idx, idx)


def _read(note: NotificationRow, when: dt.datetime) -> NotificationRow:
    return replace(note, read_at=when)


class NotificationDelegate(QStyledItemDelegate):
    """Two lines: the title (bold while unread), then agent, price and age in a lighter tone."""

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        metrics = QFontMetrics(option.font)
        return QSize(320, metrics.height() * 2 + 12)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        note = index.data(ROW_ROLE)
        if not isinstance(note, NotificationRow):
            super().paint(painter, option, index)
            return
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        model = index.model()
        now = model.now if isinstance(model, NotificationModel) else dt.datetime.now(dt.UTC)
        title, detail = describe(note, now)
        opt.text = ""
        widget = opt.widget
        style = widget.style() if widget is not None else None
        painter.save()
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)
        rect = opt.rect.adjusted(8, 4, -8, -4)
        font = QFont(opt.font)
        font.setBold(not note.is_read)
        line = QFontMetrics(font).height()
        painter.setFont(font)
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        palette = opt.palette
        painter.setPen(palette.highlightedText().color() if selected else palette.text().color())
        painter.drawText(rect.adjusted(0, 0, 0, -line), Qt.AlignmentFlag.AlignLeft, title)
        small = QFont(opt.font)
        painter.setFont(small)
        if not selected:
            painter.setPen(palette.placeholderText().color())
        painter.drawText(rect.adjusted(0, line, 0, 0), Qt.AlignmentFlag.AlignLeft, detail)
        painter.restore()
