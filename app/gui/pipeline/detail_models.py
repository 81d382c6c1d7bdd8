"""The deal panel's tables: contacts, documents and the timeline, each a model over the
service's frozen rows. The timeline lists the newest event first; its History column is the
item's audit badge (✓ verified, ✗ hash does not verify, — no audit entry), coloured."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QGuiApplication, QPalette

from app.domain.pipeline import format_duration
from app.gui import theme
from app.gui.records.format import full_time, local_date, local_time
from app.services.pipeline.detail import (
    CONTACT_ROLE_LABELS,
    ContactRow,
    DocumentRow,
    Integrity,
    TimelineItem,
)

ROW_ROLE = Qt.ItemDataRole.UserRole + 1  # the row's dataclass
ROW_ID_ROLE = Qt.ItemDataRole.UserRole + 2  # its id (timeline: the audit entry's, or None)
INTEGRITY_ROLE = Qt.ItemDataRole.UserRole + 3  # timeline: the item's Integrity

Index = QModelIndex | QPersistentModelIndex
R = TypeVar("R")

BADGES: dict[Integrity, str] = {
    Integrity.VERIFIED: "✓ verified",
    Integrity.BROKEN: "✗ hash does not verify",
    Integrity.NO_ENTRY: "— no audit entry",
}


@dataclass(frozen=True)
class Column(Generic[R]):
    header: str
    text: Callable[[R], str]
    tooltip: Callable[[R], str | None] | None = None


class RowsModel(QAbstractTableModel, Generic[R]):
    """A read-only table of rows described by columns."""

    columns: Sequence[Column[R]] = ()

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[R] = []

    def set_rows(self, rows: Sequence[R]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def rows(self) -> list[R]:
        return list(self._rows)

    def row_at(self, row: int) -> R | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < len(self.columns)
        ):
            return self.columns[section].header
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        if not 0 <= index.column() < len(self.columns):
            return None
        row = self._rows[index.row()]
        column = self.columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.text(row)
        if role == Qt.ItemDataRole.ToolTipRole and column.tooltip is not None:
            return column.tooltip(row)
        if role == ROW_ROLE:
            return row
        if role == ROW_ID_ROLE:
            return self.row_id(row)
        return self.extra_data(row, index.column(), role)

    def row_id(self, row: R) -> int | None:
        value = getattr(row, "id", None)
        return value if isinstance(value, int) else None

    def extra_data(self, row: R, column: int, role: int) -> Any:
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return (
            Qt.ItemFlag.ItemIsEnabled
            | Qt.ItemFlag.ItemIsSelectable
            | Qt.ItemFlag.ItemNeverHasChildren
        )


def _or_blank(value: str | None) -> str:
    return value or ""


class ContactsModel(RowsModel[ContactRow]):
    columns = (
        Column[ContactRow]("Name", lambda c: c.name, lambda c: c.notes),
        Column[ContactRow]("Role", lambda c: CONTACT_ROLE_LABELS[c.role]),
        Column[ContactRow]("Email", lambda c: _or_blank(c.email)),
        Column[ContactRow]("Phone", lambda c: _or_blank(c.phone)),
        Column[ContactRow]("Company", lambda c: _or_blank(c.company)),
    )


class DocumentsModel(RowsModel[DocumentRow]):
    columns = (
        Column[DocumentRow]("Title", lambda d: d.title),
        Column[DocumentRow]("Type", lambda d: d.doc_type),
        Column[DocumentRow](
            "Added", lambda d: local_date(d.created_at), lambda d: full_time(d.created_at)
        ),
        Column[DocumentRow]("Added by", lambda d: _or_blank(d.added_by_name)),
        Column[DocumentRow]("Location", lambda d: d.uri, lambda d: d.uri),
    )


def event_text(item: TimelineItem) -> str:
    return f"{item.summary} — {item.note}" if item.note else item.summary


def duration_text(item: TimelineItem) -> str:
    if item.duration_seconds is None:
        return ""
    return format_duration(item.duration_seconds)


def badge_text(item: TimelineItem) -> str:
    if item.integrity is Integrity.BROKEN and item.problem:
        return f"✗ {item.problem}"
    return BADGES[item.integrity]


def badge_tooltip(item: TimelineItem) -> str:
    if item.integrity is Integrity.VERIFIED:
        return (
            f"Audit entry {item.audit_entry_id} (#{item.audit_seq} of the deal's chain): its "
            "hash and its link to the entry before it were recomputed and match."
        )
    if item.integrity is Integrity.NO_ENTRY:
        if item.stage_event_id is not None and item.from_stage is None:
            return "A deal's creation has no audit entry; its chain starts with the first move."
        return "This event has no audit entry."
    where = (
        f"Audit entry {item.audit_entry_id} (#{item.audit_seq})"
        if item.audit_entry_id
        else "This event"
    )
    return (
        f"{where}: {item.problem}. "
        "PerfDesk never changes its history: someone edited the database directly."
    )


class TimelineModel(RowsModel[TimelineItem]):
    """The deal's timeline, newest first."""

    # The badge comes early and the event last (it takes the room left), so that a narrow
    # panel still shows whether each item verifies.
    WHEN_COLUMN, BADGE_COLUMN, DURATION_COLUMN, WHO_COLUMN, EVENT_COLUMN = range(5)
    columns = (
        Column[TimelineItem](
            "When", lambda i: local_time(i.recorded_at), lambda i: full_time(i.recorded_at)
        ),
        Column[TimelineItem]("Verified", badge_text, badge_tooltip),
        Column[TimelineItem](
            "Time in stage",
            duration_text,
            lambda i: "Until the next move" if i.duration_seconds is not None else None,
        ),
        Column[TimelineItem]("By", lambda i: _or_blank(i.who)),
        Column[TimelineItem]("Event", event_text, event_text),
    )

    def set_items(self, items: Sequence[TimelineItem]) -> None:
        self.set_rows(list(reversed(items)))

    def row_id(self, row: TimelineItem) -> int | None:
        return row.audit_entry_id

    def extra_data(self, row: TimelineItem, column: int, role: int) -> Any:
        if role == INTEGRITY_ROLE:
            return row.integrity
        if column == self.BADGE_COLUMN and role == Qt.ItemDataRole.ForegroundRole:
            return QBrush(badge_color(row.integrity))
        if column == self.BADGE_COLUMN and role == Qt.ItemDataRole.AccessibleTextRole:
            return badge_tooltip(row)
        return None


def badge_color(integrity: Integrity) -> QColor:
    if integrity is Integrity.VERIFIED:
        return QColor(theme.colors()["ok"])
    if integrity is Integrity.BROKEN:
        return QColor(theme.colors()["error"])
    return QGuiApplication.palette().color(QPalette.ColorRole.PlaceholderText)
