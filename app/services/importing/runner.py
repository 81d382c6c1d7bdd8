"""Import one CSV file of one kind: check every row, then write all of them or none.

The checks and the writes run in ONE transaction, so a row that another workstation adds
between the two cannot slip in, and a failure anywhere leaves the database as it was.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from app.db.models.people import User
from app.domain.errors import DatabaseProblem
from app.services.database import Database
from app.services.dberrors import explain
from app.services.importing.csvfile import CsvTable, read_table
from app.services.importing.errors import ImportCancelled, ImportFailed
from app.services.importing.registry import get_kind
from app.services.importing.spec import ImportContext, ImportKind, People, Row
from app.services.records import Acting, Actor, resolve_actor

Progress = Callable[[int, int], None]
"""Called with (rows done, rows in all) while checking and once more when written."""
CancelCheck = Callable[[], bool]

_PROGRESS_EVERY = 500


@dataclass(frozen=True)
class ImportResult:
    kind: str
    rows: int
    """How many records were written."""
    file: str
    notes: tuple[str, ...] = ()
    """Things the person should know, e.g. logins that could not be created."""


def _actor(s: Session, db: Database, acting: Acting) -> Actor | None:
    """The person an import is recorded as: the one named, else the person whose own server
    login this is; None for the office (a local file, or the owner's login on a server)."""
    if acting is None:
        if db.is_local:
            return None
        login = s.scalar(sa.select(User.id).where(User.db_role == sa.func.current_user()))
        if login is None:
            return None
    return resolve_actor(s, db, acting)


def import_file(
    db: Database,
    kind: str,
    path: str | Path,
    *,
    label: str | None = None,
    as_of: dt.date | None = None,
    progress: Progress | None = None,
    cancelled: CancelCheck | None = None,
    acting: Acting = None,
) -> ImportResult:
    """Import ``path`` as ``kind`` (SPEC §11) into ``db``.

    Raises ImportFailed listing every problem (file, row, column, reason) when any row is
    invalid — nothing is written then; UnknownKind for a kind that does not exist;
    ImportCancelled when ``cancelled()`` turns true before the write.
    ``label`` is how the file is named in messages (default: ``path`` as given).
    """
    spec = get_kind(kind)
    name = label if label is not None else str(path)
    table = read_table(Path(path), name, spec.column_names, spec.required_names)
    today = as_of or dt.datetime.now(dt.UTC).date()
    try:
        with db.session() as session:
            ctx = ImportContext(session, name, today, People(session), _actor(session, db, acting))
            rows = _check(spec, table, ctx, progress, cancelled)
            written = spec.write(ctx, rows)
            session.flush()
    except SQLAlchemyError as exc:
        reason = explain(exc, db.describe())
        low = str(exc).lower()
        if "no such table" in low or ("relation" in low and "does not exist" in low):
            reason = f"{db.describe()} has no PerfDesk tables yet (python main.py migrate)"
        raise DatabaseProblem(f"{name}: nothing imported; {reason}") from exc
    if progress is not None:
        progress(len(rows), len(rows))
    notes = spec.after_commit(db, rows)
    return ImportResult(spec.name, written, name, tuple(notes))


def _check(
    spec: ImportKind,
    table: CsvTable,
    ctx: ImportContext,
    progress: Progress | None,
    cancelled: CancelCheck | None,
) -> list[Row]:
    for problem in table.problems:
        ctx.error(problem.row, problem.column, problem.reason)
    rows = [_parse(spec, record.number, record.cells, ctx) for record in table.records]
    person_columns = [c for c in spec.columns if c.person]
    ctx.people.load(
        e for row in rows for c in person_columns if isinstance(e := row.values.get(c.name), str)
    )
    spec.prepare(ctx, rows)
    first_seen: dict[Hashable, int] = {}
    total = len(rows)
    for done, row in enumerate(rows, start=1):
        spec.check_row(row, ctx)
        if not ctx.is_bad(row):
            identity = spec.identity(row)
            if identity is not None:
                first = first_seen.setdefault(identity.key, row.number)
                if first != row.number:
                    if identity.column is None:
                        reason = f"is the same {spec.noun} as row {first}"
                    else:
                        reason = f"{identity.label} already appears on row {first}"
                    ctx.error(row, identity.column, reason)
        if done % _PROGRESS_EVERY == 0:
            if cancelled is not None and cancelled():
                raise ImportCancelled(f"{ctx.file}: import cancelled, nothing imported")
            if progress is not None:
                progress(done, total)
    good = [row for row in rows if not ctx.is_bad(row)]
    if good:
        spec.check_existing(ctx, good)
    if ctx.errors:
        order = {name: i for i, name in enumerate(spec.column_names)}
        errors = sorted(
            ctx.errors,
            key=lambda e: (
                -1 if e.row is None else e.row,
                len(order) if e.column is None else order.get(e.column, len(order)),
            ),
        )
        raise ImportFailed(ctx.file, errors)
    if cancelled is not None and cancelled():
        raise ImportCancelled(f"{ctx.file}: import cancelled, nothing imported")
    return rows


def _parse(spec: ImportKind, number: int, cells: dict[str, str], ctx: ImportContext) -> Row:
    row = Row(number, {k: v.strip() for k, v in cells.items()})
    for column in spec.columns:
        raw = row.cells.get(column.name, "")
        if not raw:
            if column.required:
                ctx.error(row, column, "is required")
                row.failed.add(column.name)
            elif column.default is not None:
                row.values[column.name] = column.default
            continue
        try:
            row.values[column.name] = column.parse(raw)
        except ValueError as exc:
            ctx.error(row, column, str(exc))
            row.failed.add(column.name)
    return row
