"""Recent activity: escrows opened, clients added and properties listed, newest first; Enter or
a double-click opens the record on its page."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QPersistentModelIndex,
    QRect,
    QSize,
    Qt,
    Signal,
    Slot,
)
from PySide6.QtGui import QFont, QFontMetrics, QIcon, QPainter, QPalette, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLabel,
    QListView,
    QStackedWidget,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from app.domain.agent_kpis import time_ago
from app.gui.dashboard.card_delegate import mix
from app.gui.dashboard.format import full_money
from app.gui.icons import icon
from app.services.dashboard import ActivityEntry
from app.services.records import RecordKind

ENTRY_ROLE = Qt.ItemDataRole.UserRole + 1  # the ActivityEntry
KIND_ROLE = Qt.ItemDataRole.UserRole + 2  # "escrows", "clients" or "listings" (a page key)
RECORD_ID_ROLE = Qt.ItemDataRole.UserRole + 3  # int
LINE_ROLE = Qt.ItemDataRole.UserRole + 4  # FeedLine, what the delegate paints

Index = QModelIndex | QPersistentModelIndex

_VERB = {
    RecordKind.ESCROWS: "opened an escrow",
    RecordKind.CLIENTS: "added a client",
    RecordKind.LISTINGS: "listed a property",
}


@dataclass(frozen=True)
class FeedLine:
    agent: str
    verb: str
    subject: str  # "123 Main St" or "Sarah Johnson · Referral"
    price: str  # "$450,000.00"; "" for a client
    when: str  # "2 h ago"
    kind: RecordKind

    @property
    def sentence(self) -> str:
        price = f", {self.price}" if self.price else ""
        return f"{self.agent} {self.verb}: {self.subject}{price}, {self.when}"


def feed_line(entry: ActivityEntry, currency: str, now: dt.datetime) -> FeedLine:
    subject = f"{entry.subject} · {entry.detail}" if entry.detail else entry.subject
    return FeedLine(
        entry.agent_name,
        _VERB[entry.kind],
        subject,
        full_money(entry.price, currency) if entry.price is not None else "",
        time_ago(entry.created_at, now),
        entry.kind,
    )


class FeedModel(QAbstractListModel):
    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._entries: list[ActivityEntry] = []
        self._lines: list[FeedLine] = []

    def set_entries(
        self,
        entries: Sequence[ActivityEntry],
        currency: str = "USD",
        now: dt.datetime | None = None,
    ) -> None:
        now = now or dt.datetime.now(dt.UTC)
        self.beginResetModel()
        self._entries = list(entries)
        self._lines = [feed_line(e, currency, now) for e in self._entries]
        self.endResetModel()

    def entries(self) -> list[ActivityEntry]:
        return list(self._entries)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._entries)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.column() != 0 or not 0 <= index.row() < len(self._entries):
            return None
        entry, line = self._entries[index.row()], self._lines[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{line.agent} {line.verb}"
        if role in (Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.AccessibleTextRole):
            return f"{line.sentence}. Enter opens it."
        if role == LINE_ROLE:
            return line
        if role == ENTRY_ROLE:
            return entry
        if role == KIND_ROLE:
            return str(entry.kind)
        if role == RECORD_ID_ROLE:
            return entry.record_id
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return (
            Qt.ItemFlag.ItemIsEnabled
            | Qt.ItemFlag.ItemIsSelectable
            | Qt.ItemFlag.ItemNeverHasChildren
        )


class FeedDelegate(QStyledItemDelegate):
    """Two lines: "<b>Agent</b> opened an escrow" and when; the thing and its price below."""

    ICON = 18

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._icons: dict[tuple[RecordKind, str], QIcon] = {}

    def _icon(self, kind: RecordKind, pal: QPalette) -> QIcon:
        color = mix(
            pal.color(QPalette.ColorRole.Base), pal.color(QPalette.ColorRole.Highlight), 0.85
        )
        key = (kind, color.name())
        if key not in self._icons:
            self._icons[key] = icon(str(kind), color)
        return self._icons[key]

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        fm = QFontMetrics(option.font)
        return QSize(200, fm.height() * 2 + 16)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        line = index.data(LINE_ROLE)
        if not isinstance(line, FeedLine):
            super().paint(painter, option, index)
            return
        painter.save()
        try:
            self._paint(painter, option, line)
        finally:
            painter.restore()

    def _paint(self, p: QPainter, option: QStyleOptionViewItem, line: FeedLine) -> None:
        pal: QPalette = option.palette
        rect: QRect = option.rect
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        hovered = bool(option.state & QStyle.StateFlag.State_MouseOver)
        base = pal.color(QPalette.ColorRole.Base)
        accent = pal.color(QPalette.ColorRole.Highlight)
        text_color = pal.color(QPalette.ColorRole.Text)
        muted = pal.color(QPalette.ColorRole.PlaceholderText)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        if selected or hovered:
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(mix(base, accent, 0.16 if selected else 0.07))
            p.drawRoundedRect(rect.adjusted(2, 1, -2, -1), 5, 5)
        if option.state & QStyle.StateFlag.State_HasFocus:
            p.setPen(QPen(accent, 1.0))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRoundedRect(rect.adjusted(2, 1, -3, -2), 5, 5)
        p.setPen(QPen(mix(base, text_color, 0.1), 1.0))
        p.drawLine(rect.left() + 36, rect.bottom(), rect.right() - 6, rect.bottom())

        fm = QFontMetrics(option.font)
        top = rect.top() + 8
        self._icon(line.kind, pal).paint(p, QRect(rect.left() + 10, top + 1, self.ICON, self.ICON))
        left = rect.left() + 38
        right = rect.right() - 8
        when_w = fm.horizontalAdvance(line.when)
        bold = QFont(option.font)
        bold.setWeight(QFont.Weight.DemiBold)
        bold_fm = QFontMetrics(bold)
        room = right - left - when_w - 10
        name = bold_fm.elidedText(line.agent, Qt.TextElideMode.ElideRight, room)
        p.setFont(bold)
        p.setPen(text_color)
        p.drawText(left, top + fm.ascent(), name)
        used = bold_fm.horizontalAdvance(name + " ")
        p.setFont(option.font)
        p.drawText(
            left + used,
            top + fm.ascent(),
            fm.elidedText(line.verb, Qt.TextElideMode.ElideRight, max(room - used, 0)),
        )
        p.setPen(muted)
        p.drawText(right - when_w, top + fm.ascent(), line.when)
        second = top + fm.height() + 2 + fm.ascent()
        price_w = fm.horizontalAdvance(line.price) if line.price else 0
        if price_w:
            p.setPen(text_color)
            p.drawText(right - price_w, second, line.price)
            p.setPen(muted)
        room = right - left - (price_w + 12 if price_w else 0)
        p.drawText(left, second, fm.elidedText(line.subject, Qt.TextElideMode.ElideRight, room))


class FeedSection(QWidget):
    """The feed's title, list and empty state; ``open_requested(kind, id)`` on activation."""

    open_requested = Signal(str, object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("feedSection")
        self.model = FeedModel(self)
        title = QLabel("Recent activity")
        title.setProperty("role", "sectionTitle")
        self.view = QListView()
        self.view.setObjectName("activityFeed")
        self.view.setAccessibleName("Recent activity")
        self.view.setModel(self.model)
        self.view.setItemDelegate(FeedDelegate(self.view))
        self.view.setUniformItemSizes(True)
        self.view.setMouseTracking(True)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.view.setFrameShape(QListView.Shape.NoFrame)
        self.view.activated.connect(self._open)  # Enter, or a double-click
        self.empty_label = QLabel()
        self.empty_label.setObjectName("feedEmpty")
        self.empty_label.setProperty("role", "hint")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setWordWrap(True)
        self.body = QStackedWidget()
        self.body.addWidget(self.view)
        self.body.addWidget(self.empty_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(title)
        layout.addWidget(self.body, 1)
        self.set_entries([], problem="Reading…")

    def set_entries(
        self,
        entries: Sequence[ActivityEntry],
        currency: str = "USD",
        now: dt.datetime | None = None,
        problem: str | None = None,
    ) -> None:
        self.model.set_entries(entries, currency, now)
        if problem is not None:
            self.empty_label.setText(problem)
            self.body.setCurrentWidget(self.empty_label)
        elif not entries:
            self.empty_label.setText(
                "Nothing yet.\nNew escrows, clients and listings appear here as they are added."
            )
            self.body.setCurrentWidget(self.empty_label)
        else:
            self.body.setCurrentWidget(self.view)

    @Slot(QModelIndex)
    def _open(self, index: QModelIndex) -> None:
        kind, record_id = index.data(KIND_ROLE), index.data(RECORD_ID_ROLE)
        if not isinstance(kind, str) or not isinstance(record_id, int):
            return
        self.open_requested.emit(kind, record_id)
