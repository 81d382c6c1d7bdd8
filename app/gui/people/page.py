"""The People page: everyone the database lets you see, a filter box, and Add person…"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.gui import events
from app.gui.context import AppContext
from app.gui.pages import page
from app.gui.people.add_dialog import AddPersonDialog
from app.gui.people.model import LOGIN, NAME, PeopleFilterProxy, PeopleModel, Person

if TYPE_CHECKING:
    from app.services.database import Database
    from app.services.schema import SchemaStatus


def load_people(db: Database) -> tuple[list[Person], bool]:
    """Runs on a worker: everyone, and whether this login may add people."""
    from app.services import users

    return list(users.list_users(db)), users.may_add_people(db)


class PeoplePage(QWidget):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("peoplePage")
        self.ctx = ctx
        self._db: Database | None = None

        self.model = PeopleModel(self)
        self.proxy = PeopleFilterProxy(self)
        self.proxy.setSourceModel(self.model)

        title = QLabel("People")
        title.setProperty("role", "pageTitle")
        self.filter_edit = QLineEdit()
        self.filter_edit.setObjectName("peopleFilter")
        self.filter_edit.setPlaceholderText("Filter by name, email, role, team or broker (Ctrl+F)")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.textChanged.connect(self._filter)
        QShortcut(QKeySequence.StandardKey.Find, self, self.filter_edit.setFocus)
        self.add_button = QPushButton("&Add person…")
        self.add_button.clicked.connect(self.add_person)
        self.count_label = QLabel()
        self.count_label.setProperty("role", "hint")

        self.table = QTableView()
        self.table.setObjectName("peopleTable")
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(NAME, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 10)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        self._columns_sized = False

        top = QHBoxLayout()
        top.addWidget(title)
        top.addStretch(1)
        top.addWidget(self.add_button)
        bar = QHBoxLayout()
        bar.addWidget(self.filter_edit, 1)
        bar.addWidget(self.count_label)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)

        ctx.database.opened.connect(self._on_opened)
        ctx.database.closed.connect(self._on_closed)
        ctx.database.failed.connect(self._on_closed)
        ctx.events.data_changed.connect(self._on_data_changed)
        self._on_closed()

    @Slot(object, object)
    def _on_opened(self, db: Database, _status: SchemaStatus) -> None:
        self._db = db
        self.table.setColumnHidden(LOGIN, db.is_local)  # logins exist only on a shared server
        self.reload()

    @Slot()
    def _on_closed(self) -> None:
        self._db = None
        self.model.set_people([])
        self.add_button.setEnabled(False)
        self.table.setColumnHidden(LOGIN, True)
        self._update_count()

    @Slot(str)
    def _on_data_changed(self, kind: str) -> None:
        if events.concerns(kind, events.PEOPLE):
            self.reload()

    def reload(self) -> None:
        db = self._db
        if db is None:
            return

        def loaded(result: tuple[list[Person], bool]) -> None:
            people, may_add = result
            if db is self._db:
                self.add_button.setEnabled(may_add)
                self.add_button.setToolTip(
                    "" if may_add else "Only an administrator can add people on a shared server."
                )
                self.model.set_people(people)
                self._update_count()
                if people and not self._columns_sized:
                    # Once, to the first data; afterwards the person's own widths stay.
                    self._columns_sized = True
                    self.table.resizeColumnsToContents()

        self.ctx.ops.run(
            partial(load_people, db), label="Reading people…", on_success=loaded, parent=self
        )

    @Slot(str)
    def _filter(self, text: str) -> None:
        self.proxy.setFilterFixedString(text.strip())
        self._update_count()

    def _update_count(self) -> None:
        total, shown = self.model.rowCount(), self.proxy.rowCount()
        if self._db is None:
            self.count_label.setText("")
        elif total == 0:
            self.count_label.setText("No one yet: add the first person with Add person…")
        elif shown == total:
            self.count_label.setText(f"{total} {'person' if total == 1 else 'people'}")
        else:
            self.count_label.setText(f"{shown} of {total}")

    @Slot()
    def add_person(self) -> AddPersonDialog | None:
        if self._db is None:
            return None
        dialog = AddPersonDialog(self.ctx, self._db, self.model.people(), self)
        dialog.added.connect(self._person_added)
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()
        return dialog

    @Slot(object)
    def _person_added(self, person: Person) -> None:
        self.ctx.events.say(f"Added {person.full_name} ({person.role}).")
        self.ctx.events.changed(events.PEOPLE)


@page("people", "People", order=200, icon="people", tooltip="Who works in the office")
def build_people_page(ctx: AppContext) -> QWidget:
    return PeoplePage(ctx)
