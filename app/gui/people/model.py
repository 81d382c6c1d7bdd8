"""The people table: a model over ``UserInfo`` rows and the proxy that sorts and filters it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)

USER_ID_ROLE = Qt.ItemDataRole.UserRole + 1
USER_ROLE = Qt.ItemDataRole.UserRole + 2  # the whole UserInfo
SORT_ROLE = Qt.ItemDataRole.UserRole + 3  # lower-cased text, so sorting ignores case

Index = QModelIndex | QPersistentModelIndex


class Person(Protocol):
    """What the table needs of ``app.services.users.UserInfo`` (read-only)."""

    @property
    def id(self) -> int: ...
    @property
    def email(self) -> str: ...
    @property
    def first_name(self) -> str: ...
    @property
    def last_name(self) -> str: ...
    @property
    def role(self) -> str: ...
    @property
    def team(self) -> str | None: ...
    @property
    def broker_email(self) -> str | None: ...
    @property
    def has_db_role(self) -> bool: ...
    @property
    def full_name(self) -> str: ...


NAME, EMAIL, ROLE, TEAM, BROKER, LOGIN = range(6)
HEADERS = ("Name", "Email", "Role", "Team", "Broker", "Database login")


def role_label(role: str) -> str:
    return role.replace("_", " ").capitalize()


class PeopleModel(QAbstractTableModel):
    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._people: list[Person] = []

    def set_people(self, people: Sequence[Person]) -> None:
        self.beginResetModel()
        self._people = list(people)
        self.endResetModel()

    def people(self) -> list[Person]:
        return list(self._people)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._people)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < len(HEADERS)
        ):
            return HEADERS[section]
        return None

    def _text(self, person: Person, column: int) -> str:
        if column == NAME:
            return person.full_name
        if column == EMAIL:
            return person.email
        if column == ROLE:
            return role_label(person.role)
        if column == TEAM:
            return person.team or ""
        if column == BROKER:
            return person.broker_email or ""
        if column == LOGIN:
            return "Yes" if person.has_db_role else "No"
        return ""

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._people):
            return None
        person = self._people[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(person, column)
        if role == Qt.ItemDataRole.ToolTipRole and column == LOGIN:
            return (
                "Has a login on the shared server"
                if person.has_db_role
                else "No login on the shared server yet"
            )
        if role == SORT_ROLE:
            if column == NAME:
                return f"{person.last_name} {person.first_name}".lower()
            return self._text(person, column).lower()
        if role == USER_ID_ROLE:
            return person.id
        if role == USER_ROLE:
            return person
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return (
            Qt.ItemFlag.ItemIsEnabled
            | Qt.ItemFlag.ItemIsSelectable
            | Qt.ItemFlag.ItemNeverHasChildren
        )


class PeopleFilterProxy(QSortFilterProxyModel):
    """Case-insensitive filter over every column; sorts on SORT_ROLE."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.setFilterKeyColumn(-1)
        self.setSortRole(SORT_ROLE)
        self.setSortCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        pattern = self.filterRegularExpression()
        if not pattern.pattern():
            return True
        model = self.sourceModel()
        # The Yes/No login column is left out: typing "no" should find Noah, not everyone.
        return any(
            pattern.match(str(model.index(source_row, column, source_parent).data())).hasMatch()
            for column in (NAME, EMAIL, ROLE, TEAM, BROKER)
        )
