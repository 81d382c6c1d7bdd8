"""The parts an import kind is declared with: columns, rows, the context, the kind itself.

A kind (see ``kinds/``) is a subclass of :class:`ImportKind` that names its columns as
:class:`Column` constants and implements the hooks it needs:

- ``prepare(ctx, rows)`` — once, before the rows are checked (load what the rows refer to);
- ``check_row(row, ctx)`` — each row in file order: cross-column rules and references,
  reporting problems with ``ctx.error``; a row may be given ``row.data`` to write;
- ``identity(row)`` — what makes two rows the same record, for duplicates within the file;
- ``check_existing(ctx, rows)`` — refuse rows that are already in the database;
- ``write(ctx, rows)`` — insert the rows (called only when every row is valid, inside the
  same transaction as the checks);
- ``after_commit(db, rows)`` — work that must follow the commit; returns notes to show.
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, TypeVar, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from app.db.models.people import User
from app.services.database import Database
from app.services.importing.errors import RowError
from app.services.records import Actor

T = TypeVar("T")

CHUNK = 500  # values per IN (...) list, well under SQLite's and PostgreSQL's limits


def a_or_an(word: str) -> str:
    return f"{'an' if word[:1].lower() in 'aeiou' else 'a'} {word}"


@dataclass(frozen=True, eq=False)
class Column(Generic[T]):
    """One column of an import file.

    ``parse`` turns the (stripped, non-empty) cell text into a value or raises ValueError with
    the reason. An empty cell is ``default`` (``None`` unless given), or an error when
    ``required``. ``person`` marks an email naming a user: all of them are looked up in one
    query for the whole file.
    """

    name: str
    parse: Callable[[str], T]
    required: bool = False
    default: T | None = None
    person: bool = False


class Row:
    """One data row: its number in the file, its cells, the parsed values."""

    __slots__ = ("cells", "data", "failed", "number", "values")

    def __init__(self, number: int, cells: dict[str, str]) -> None:
        self.number = number
        self.cells = cells
        self.values: dict[str, object] = {}
        self.failed: set[str] = set()
        self.data: dict[str, Any] = {}

    def get(self, column: Column[T]) -> T | None:
        """The parsed value, or None when the cell is empty, absent or failed to parse."""
        return cast("T | None", self.values.get(column.name))

    def __getitem__(self, column: Column[T]) -> T:
        """The value of a required column of a valid row."""
        value = self.values.get(column.name)
        if value is None:
            raise KeyError(f"row {self.number} has no value for {column.name}")
        return cast(T, value)

    def text(self, column: Column[Any]) -> str:
        return self.cells.get(column.name, "")

    def ok(self, *columns: Column[Any]) -> bool:
        """True when none of ``columns`` failed to parse."""
        return not any(c.name in self.failed for c in columns)


@dataclass(frozen=True)
class Identity:
    """What makes a row the same record as another row.

    ``column`` is None when the whole row is the identity (then a repeat reads "is the same
    lead as row 2"); otherwise ``label`` names the value ("email ann@example.com").
    """

    key: Hashable
    column: str | None = None
    label: str = ""


@dataclass
class Person:
    """A user referred to by email: in the database (``row`` None) or added earlier in the file."""

    email: str
    role: str
    user_id: int | None
    row: int | None = None
    broker_email: str | None = None


class People:
    """Users by (lower-case) email, loaded in batches, plus those the file itself adds."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._known: dict[str, Person] = {}
        self._looked_up: set[str] = set()

    def load(self, emails: Iterable[str]) -> None:
        wanted = sorted({e.lower() for e in emails} - self._looked_up)
        broker = aliased(User)
        for start in range(0, len(wanted), CHUNK):
            chunk = wanted[start : start + CHUNK]
            self._looked_up.update(chunk)
            stmt = (
                sa.select(User.id, User.email, User.role, broker.email)
                .outerjoin(broker, User.broker_id == broker.id)
                .where(sa.func.lower(User.email).in_(chunk))
            )
            for user_id, email, role, broker_email in self._session.execute(stmt):
                key = email.lower()
                self._known[key] = Person(
                    key, role, user_id, None, broker_email.lower() if broker_email else None
                )

    def find(self, email: str) -> Person | None:
        key = email.lower()
        if key not in self._looked_up:
            self.load([key])
        return self._known.get(key)

    def add(self, person: Person) -> None:
        """A person the file adds (``person.row`` set); found by later rows."""
        self._known[person.email.lower()] = person

    def user_id(self, email: str) -> int:
        """The id of a person, once written."""
        person = self._known[email.lower()]
        if person.user_id is None:
            raise LookupError(f"{email} has not been written yet")
        return person.user_id


@dataclass
class ImportContext:
    """What the hooks of a kind work with: the session (one transaction), the file, the
    people, the day imports take as "today", and the errors found so far."""

    session: Session
    file: str
    as_of: dt.date
    people: People
    #: Whom the import is recorded as (``--as``, or the person's own server login); None:
    #: the office (its first broker, as the window's local person).
    actor: Actor | None = None
    errors: list[RowError] = field(default_factory=list)
    bad_rows: set[int] = field(default_factory=set)

    def error(self, row: Row | int | None, column: Column[Any] | str | None, reason: str) -> None:
        number = row.number if isinstance(row, Row) else row
        name = column.name if isinstance(column, Column) else column
        self.errors.append(RowError(self.file, number, name, reason))
        if number is not None:
            self.bad_rows.add(number)

    def is_bad(self, row: Row) -> bool:
        return row.number in self.bad_rows

    def person(
        self,
        row: Row,
        column: Column[str],
        *,
        roles: Iterable[str] | None = None,
    ) -> Person | None:
        """The user a person column names, or None after reporting why not (or when empty)."""
        email = row.get(column)
        if email is None:
            return None
        found = self.people.find(email)
        if found is None:
            self.error(row, column, f"no user with email {email}")
            return None
        if roles is not None:
            allowed = list(roles)
            if found.role not in allowed:
                self.error(
                    row,
                    column,
                    f"{email} is {a_or_an(found.role)}, not {' or '.join(map(a_or_an, allowed))}",
                )
                return None
        return found


class ImportKind(ABC):
    """One kind of import file (SPEC §11). Subclass it and add it to the registry."""

    name: ClassVar[str]
    """The kind as typed on the command line, e.g. ``leads``."""
    noun: ClassVar[str]
    """One record in messages, e.g. ``lead``."""
    columns: ClassVar[tuple[Column[Any], ...]]

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    def prepare(self, ctx: ImportContext, rows: Sequence[Row]) -> None:  # noqa: B027
        """Load, in a few queries, what the rows refer to."""

    def check_row(self, row: Row, ctx: ImportContext) -> None:  # noqa: B027
        """Cross-column rules and references of one row, in file order."""

    def identity(self, row: Row) -> Identity | None:
        """What makes two rows of the file the same record; None: no duplicate check."""
        return None

    def check_existing(self, ctx: ImportContext, rows: Sequence[Row]) -> None:  # noqa: B027
        """Report rows (all valid so far) that are already in the database."""

    @abstractmethod
    def write(self, ctx: ImportContext, rows: Sequence[Row]) -> int:
        """Insert every row (all valid); return how many records were written."""

    def after_commit(self, db: Database, rows: Sequence[Row]) -> list[str]:
        """Work that must follow the commit; returns notes for the person."""
        return []
