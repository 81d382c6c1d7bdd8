"""The pieces a page built around one filtered, sorted table shares (the KPI definitions,
assignments and goals pages, the Buyers and Buy boxes pages): the filter box (Ctrl+F), the
count beside it, the table itself, the label that stands in for it when it is empty, and
selecting a row through the filter proxy.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QAbstractItemModel, QItemSelectionModel, QSortFilterProxyModel, Qt
from PySide6.QtGui import QFontMetrics, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QLineEdit,
    QStackedWidget,
    QTableView,
    QWidget,
)


def make_filter_edit(name: str, hint: str, on_text: Callable[[str], None]) -> QLineEdit:
    """The filter box: ``hint`` as its placeholder, a clear button, ``on_text`` on each edit."""
    edit = QLineEdit()
    edit.setObjectName(name)
    edit.setPlaceholderText(hint)
    edit.setClearButtonEnabled(True)
    edit.textChanged.connect(on_text)
    return edit


def focus_filter(edit: QLineEdit) -> None:
    """Ctrl+F: the filter box takes the focus with its text selected."""
    edit.setFocus()
    edit.selectAll()


def add_find_shortcut(page: QWidget, on_find: Callable[[], None]) -> QShortcut:
    """Ctrl+F (the platform's Find) anywhere on ``page`` calls ``on_find``."""
    return QShortcut(QKeySequence.StandardKey.Find, page, on_find)


def make_count_label() -> QLabel:
    """The hint beside the filter: how many rows show of how many."""
    label = QLabel()
    label.setObjectName("countLabel")
    label.setProperty("role", "hint")
    return label


def count_text(shown: int, total: int, noun: str, plural: str) -> str:
    """The count: "3 goals", or "1 of 3 goals" while a filter hides some."""
    what = noun if total == 1 else plural
    return f"{total:,} {what}" if shown == total else f"{shown:,} of {total:,} {what}"


def make_table(
    name: str,
    model: QAbstractItemModel,
    sort_column: int,
    metrics: QFontMetrics,
    order: Qt.SortOrder = Qt.SortOrder.AscendingOrder,
) -> QTableView:
    """A read-only table of whole rows, one selected at a time, sorted by ``sort_column``;
    rows as tall as ``metrics`` (the page's font) needs, columns the person may resize."""
    table = QTableView()
    table.setObjectName(name)
    table.setModel(model)
    table.setSortingEnabled(True)
    table.sortByColumn(sort_column, order)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setAlternatingRowColors(True)
    table.setWordWrap(False)
    table.verticalHeader().hide()
    table.verticalHeader().setDefaultSectionSize(metrics.height() + 10)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    header.setStretchLastSection(True)
    return table


def make_empty_label(name: str = "emptyState") -> QLabel:
    """The centred, wrapped hint shown instead of a table with nothing to show."""
    label = QLabel()
    label.setObjectName(name)
    label.setProperty("role", "hint")
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setWordWrap(True)
    return label


def make_body(table: QTableView, empty_label: QLabel) -> QStackedWidget:
    """The table and its empty label, one at a time (see ``show_empty``)."""
    body = QStackedWidget()
    body.addWidget(table)
    body.addWidget(empty_label)
    return body


def show_empty(body: QStackedWidget, table: QTableView, label: QLabel, empty: str | None) -> None:
    """Show the table (``empty`` None) or, instead of it, ``label`` saying ``empty``."""
    if empty is None:
        body.setCurrentWidget(table)
    else:
        label.setText(empty)
        body.setCurrentWidget(label)


def fit_columns(table: QTableView, max_width: int) -> None:
    """Size the columns to their contents, none wider than ``max_width``."""
    table.resizeColumnsToContents()
    header = table.horizontalHeader()
    for column in range(table.model().columnCount()):
        if header.sectionSize(column) > max_width:
            header.resizeSection(column, max_width)


def select_row(table: QTableView, proxy: QSortFilterProxyModel, source_row: int) -> bool:
    """Select (and scroll to) the source model's ``source_row``; False when there is no such
    row (``source_row`` < 0) or the filter hides it."""
    if source_row < 0:
        return False
    index = proxy.mapFromSource(proxy.sourceModel().index(source_row, 0))
    if not index.isValid():
        return False
    table.selectionModel().setCurrentIndex(
        index,
        QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows,
    )
    table.scrollTo(index)
    return True
