"""Lead-source spend (issue 7): what each source cost in a month, for the whole office or
bought for one person (``lead_source_costs``), read and entered a month at a time.

Who (SPEC §1 as migration 0012's row-level security keeps it on a server; the service applies
the same rules, so both backends refuse alike):
- reading: office-wide rows (no person) by everyone; a person's rows by whoever sees that
  person's records (themself, their broker, the manager of their team, admins);
- writing: office-wide rows by brokers and admins; a person's rows by a broker, manager or
  admin who sees that person's records (their broker, their team's manager, an admin; a broker
  also their own, e.g. the Zillow leads they buy for themself);
- local mode with nobody named, and a server login that is no person (the office's owner):
  everything, as the one person who holds every role.

Saving a month (``save_month_costs``) applies every addition, change and deletion in one
transaction, or none. Everything typed is checked first and every problem is reported with its
row (as numbered in the dialog), field and reason: a missing source, a source longer than 80
characters, a cost that is not a number, negative or with more than 2 decimals, an unknown or
deactivated person, and the same source (ignoring case and blanks) twice for the same person
(or the whole office) in the month. A change or deletion names the version it read: if the row
changed or went meanwhile, nothing is written and the conflict says which row. Two saves of the
same month are taken one after the other (PostgreSQL: a transaction-level advisory lock on the
month; SQLite: the write lock), so the same source cannot be entered twice at once.

Rules decided here (SPEC is silent; also in docs/rules.md):
- any day of a month names that month (its 1st is stored);
- a person already chosen on a row stays allowed when they have since been deactivated; a new
  row, or a row moved to another person, needs an active person;
- "(no source)" is not a source name: it is the ROI row of leads and deals without one.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from app.db.models import Deal, LeadSourceCost, User
from app.domain.enums import Role
from app.domain.errors import ConflictError, PermissionDenied, ValidationError
from app.domain.roi import clean_source, first_of_month, month_label, parse_cost, source_key
from app.services.database import Database
from app.services.records import Acting, Actor, RecordKind, owner_scope, resolve_actor

#: The ``data_changed`` kind a save raises (app/gui/events.py).
SPEND_KIND = "lead_source_costs"
#: The advisory-lock class of a month's spend (PostgreSQL); the key is the month's ordinal.
SPEND_LOCK_CLASS = 5160
FIELD_LABELS: Mapping[str, str] = {"source": "Source", "agent": "For", "cost": "Cost"}
WHOLE_OFFICE = "Whole office"
OFFICE_WRITERS = (Role.BROKER.value, Role.ADMIN.value)
PERSON_WRITERS = (Role.BROKER.value, Role.MANAGER.value, Role.ADMIN.value)
NOT_A_WRITER = (
    "Only brokers and admins enter office-wide spend, and a person's spend is entered by their "
    "broker, the manager of their team or an admin."
)

C = LeadSourceCost


# -- who acts, whom they see --------------------------------------------------------------------


def acting_person(s: Session, db: Database, acting: Acting) -> Actor | None:
    """The person whose rules apply; None for the whole office: local mode with nobody named,
    or a server login that is no person's (the office's owner) with nobody named."""
    if acting is None and not db.is_local:
        login = s.scalar(sa.select(User.id).where(User.db_role == sa.func.current_user()))
        if login is None:
            return None
    return resolve_actor(s, db, acting)


def seen_people(s: Session, actor: Actor | None) -> set[int] | None:
    """The people whose records ``actor`` sees (escrows, deals, spend: SPEC §1); None: all."""
    scope = owner_scope(RecordKind.ESCROWS, actor)
    if scope is None:
        return None
    return {int(uid) for uid in s.scalars(sa.select(User.id).where(scope))}


@dataclass(frozen=True)
class SpendPerson:
    id: int
    name: str
    email: str
    active: bool = True


@dataclass(frozen=True)
class SpendAccess:
    """What the acting person may enter: office-wide rows, and the rows of ``people``."""

    may_write_office: bool
    #: The people whose spend they may enter, by name (deactivated ones too: their rows stay
    #: editable, though no new row may name them).
    people: tuple[SpendPerson, ...]

    @property
    def read_only(self) -> bool:
        return not self.may_write_office and not self.people

    def may_write(self, agent_id: int | None) -> bool:
        if agent_id is None:
            return self.may_write_office
        return any(p.id == agent_id for p in self.people)


@dataclass(frozen=True)
class _Writer:
    office: bool
    people: set[int] | None  # None: anyone

    def may(self, agent_id: int | None) -> bool:
        if agent_id is None:
            return self.office
        return self.people is None or agent_id in self.people


def _writer(s: Session, actor: Actor | None) -> _Writer:
    if actor is None:
        return _Writer(True, None)
    if actor.role not in PERSON_WRITERS:
        return _Writer(False, set())
    return _Writer(actor.role in OFFICE_WRITERS, seen_people(s, actor))


def _name(first: str, last: str) -> str:
    return f"{first} {last}".strip()


def spend_access(db: Database, acting: Acting = None) -> SpendAccess:
    """What the acting person may enter (the dialog's choices and whether it is read-only)."""
    with db.read() as s:
        writer = _writer(s, acting_person(s, db, acting))
        people: list[SpendPerson] = []
        if writer.people is None or writer.people:
            stmt = sa.select(User.id, User.first_name, User.last_name, User.email, User.is_active)
            if writer.people is not None:
                stmt = stmt.where(User.id.in_(sorted(writer.people)))
            people = [
                SpendPerson(int(i), _name(first, last), email, bool(active))
                for i, first, last, email, active in s.execute(stmt)
            ]
    people.sort(key=lambda p: (p.name.casefold(), p.email))
    return SpendAccess(writer.office, tuple(people))


# -- reading a month ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CostRow:
    id: int
    source: str
    agent_id: int | None  # None: the whole office
    agent_name: str | None
    cost: Decimal
    version: int

    @property
    def who(self) -> str:
        """The person the spend was bought for, or "Whole office"."""
        if self.agent_id is None:
            return WHOLE_OFFICE
        return self.agent_name or f"person #{self.agent_id}"


def _read_rows(s: Session, month: dt.date, actor: Actor | None) -> list[CostRow]:
    stmt = (
        sa.select(C.id, C.source, C.agent_id, User.first_name, User.last_name, C.cost, C.version)
        .outerjoin(User, User.id == C.agent_id)
        .where(C.month == month)
    )
    seen = seen_people(s, actor)
    if seen is not None:
        stmt = stmt.where(sa.or_(C.agent_id.is_(None), C.agent_id.in_(sorted(seen))))
    rows = [
        CostRow(
            int(i),
            src,
            None if aid is None else int(aid),
            None if aid is None else _name(first or "", last or ""),
            cost,
            int(version),
        )
        for i, src, aid, first, last, cost, version in s.execute(stmt)
    ]
    rows.sort(
        key=lambda r: (
            r.agent_id is not None,
            (r.agent_name or "").casefold(),
            r.source.casefold(),
            r.id,
        )
    )
    return rows


def month_costs(db: Database, month: dt.date, acting: Acting = None) -> list[CostRow]:
    """The month's spend (any day names its month) that the acting person may read: the
    office-wide rows first, then each person's, by name and source."""
    with db.read() as s:
        return _read_rows(s, first_of_month(month), acting_person(s, db, acting))


def known_sources(db: Database) -> list[str]:
    """Every source named by a cost row or a deal (the dialog's suggestions), one spelling
    per source (ignoring case and blanks; a cost row's spelling first), by name. Leads are
    not read: two million rows for a list of suggestions."""
    spellings: dict[str, tuple[int, str]] = {}
    with db.read() as s:
        from_costs = s.execute(sa.select(C.source, sa.func.count()).group_by(C.source))
        from_deals = s.execute(
            sa.select(Deal.lead_source, sa.func.count())
            .where(Deal.lead_source.is_not(None))
            .group_by(Deal.lead_source)
        )
        weighted: list[tuple[str | None, int]] = [
            (src, int(n) + 10**9)  # cost rows' spellings first
            for src, n in from_costs
        ]
        weighted += [(src, int(n)) for src, n in from_deals]
    weights: dict[str, int] = defaultdict(int)
    for text, weight in weighted:
        if source_key(text) is not None:
            weights[str(text).strip()] += weight
    for shown, weight in weights.items():
        key = source_key(shown)
        assert key is not None
        best = spellings.get(key)
        if best is None or (-weight, shown) < (-best[0], best[1]):
            spellings[key] = (weight, shown)
    return sorted((shown for _w, shown in spellings.values()), key=lambda t: (t.casefold(), t))


# -- saving a month -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CostChange:
    """One row of the dialog to write: a new row (``id`` None), a change of a stored row
    (``id`` and the ``version`` read), or a deletion (``delete``). ``row`` is its number in
    the dialog (1 = the first row), used to name it in problems."""

    row: int
    source: str = ""
    agent_id: int | None = None
    cost: str | Decimal = ""
    id: int | None = None
    version: int | None = None
    delete: bool = False


@dataclass(frozen=True)
class CostProblem:
    row: int
    field: str  # "source", "agent" or "cost"
    reason: str

    def __str__(self) -> str:
        return f"Row {self.row}, {FIELD_LABELS.get(self.field, self.field)}: {self.reason}"


class CostErrors(ValidationError):
    """Rows of a month that break a rule; nothing was written."""

    def __init__(self, problems: Sequence[CostProblem], month: dt.date) -> None:
        self.problems = sorted(problems, key=lambda p: (p.row, list(FIELD_LABELS).index(p.field)))
        rows = len({p.row for p in self.problems})
        head = (
            f"{month_label(month)}: {rows} row{'s' if rows != 1 else ''} to correct; "
            "nothing was saved."
        )
        super().__init__("\n".join([head, *(str(p) for p in self.problems)]))

    def by_row(self) -> dict[int, dict[str, str]]:
        out: dict[int, dict[str, str]] = defaultdict(dict)
        for p in self.problems:
            out[p.row].setdefault(p.field, p.reason)
        return dict(out)


@dataclass(frozen=True)
class SaveResult:
    added: int
    updated: int
    deleted: int

    def __str__(self) -> str:
        parts = [
            f"{n} {what}"
            for n, what in ((self.added, "added"), (self.updated, "changed"),
                            (self.deleted, "deleted"))
            if n
        ]  # fmt: skip
        return ", ".join(parts) if parts else "nothing to save"


@dataclass(frozen=True)
class _Stored:
    id: int
    source: str
    agent_id: int | None
    version: int


def _lock_month(s: Session, db: Database, month: dt.date) -> None:
    """Saves of one month, one after another (see the module's docstring)."""
    if db.dialect == "postgresql":
        s.execute(
            sa.text("SELECT pg_advisory_xact_lock(:k1, :k2)"),
            {"k1": SPEND_LOCK_CLASS, "k2": month.toordinal()},
        )
    else:
        s.execute(sa.text("UPDATE lead_source_costs SET version = version WHERE 0"))


def _who(agent_id: int | None, people: Mapping[int, tuple[str, bool]]) -> str:
    if agent_id is None:
        return "the whole office"
    return people[agent_id][0] if agent_id in people else f"person #{agent_id}"


def _subject(row: int, source: str, agent_id: int | None, people: Mapping[int, Any]) -> str:
    where = f"Row {row} " if row > 0 else ""
    return f"{where}({source}, {_who(agent_id, people)})"


_People = Mapping[int, tuple[str, bool]]  # id → (name, active)


def save_month_costs(
    db: Database, month: dt.date, changes: Sequence[CostChange], acting: Acting = None
) -> SaveResult:
    """Apply the month's additions, changes and deletions together, or none of them.

    Raises PermissionDenied (a row the person may not write), CostErrors (every problem,
    with its row and field) or ConflictError (a row changed or deleted meanwhile)."""
    month = first_of_month(month)
    with db.session() as s:
        _lock_month(s, db, month)
        writer = _writer(s, acting_person(s, db, acting))
        if not writer.office and writer.people is not None and not writer.people:
            raise PermissionDenied(
                f"You may not enter lead-source spend. {NOT_A_WRITER} Nothing was saved."
            )
        stored = {
            int(i): _Stored(int(i), src, None if aid is None else int(aid), int(v))
            for i, src, aid, v in s.execute(
                sa.select(C.id, C.source, C.agent_id, C.version).where(C.month == month)
            )
        }
        people = _people(s, changes, stored)
        _check_writer(changes, stored, people, writer)
        typed, problems = _typed(changes, stored, people)
        problems += _twice(changes, stored, typed, people)
        if problems:
            raise CostErrors(problems, month)
        _check_versions(changes, stored, people)
        return _write(s, month, changes, stored, typed, people)


def _people(s: Session, changes: Sequence[CostChange], stored: Mapping[int, _Stored]) -> _People:
    """The people the rows name, as typed and as stored."""
    wanted = {c.agent_id for c in changes if c.agent_id is not None}
    for c in changes:
        before = stored.get(c.id) if c.id is not None else None
        if before is not None and before.agent_id is not None:
            wanted.add(before.agent_id)
    if not wanted:
        return {}
    return {
        int(uid): (_name(first, last), bool(active))
        for uid, first, last, active in s.execute(
            sa.select(User.id, User.first_name, User.last_name, User.is_active).where(
                User.id.in_(sorted(wanted))
            )
        )
    }


def _check_writer(
    changes: Sequence[CostChange], stored: Mapping[int, _Stored], people: _People, writer: _Writer
) -> None:
    """PermissionDenied for the first row whose spend, as stored or as typed, is for someone
    the acting person may not enter spend for."""
    for c in changes:
        before = stored.get(c.id) if c.id is not None else None
        targets = [] if before is None else [before.agent_id]
        if not c.delete:
            targets.append(c.agent_id)
        for agent_id in targets:
            if agent_id is not None and agent_id not in people:
                continue  # an unknown person: a problem of the row (``_typed``)
            if not writer.may(agent_id):
                source = before.source if before is not None and c.delete else c.source
                what = _subject(c.row, source.strip() or "no source", agent_id, people)
                raise PermissionDenied(
                    f"{what}: you may not enter spend for {_who(agent_id, people)}. "
                    f"{NOT_A_WRITER} Nothing was saved."
                )


_Typed = dict[int, tuple[str, int | None, Decimal]]  # index in the changes → what is stored


def _typed(
    changes: Sequence[CostChange], stored: Mapping[int, _Stored], people: _People
) -> tuple[_Typed, list[CostProblem]]:
    """Each row's source, person and cost as they will be stored, and what is wrong."""
    typed: _Typed = {}
    problems: list[CostProblem] = []
    for n, c in enumerate(changes):
        if c.delete:
            continue
        source: str | None = None
        cost: Decimal | None = None
        try:
            source = clean_source(c.source)
        except ValueError as exc:
            problems.append(CostProblem(c.row, "source", str(exc)))
        try:
            cost = parse_cost(c.cost)
        except ValueError as exc:
            problems.append(CostProblem(c.row, "cost", str(exc)))
        before = stored.get(c.id) if c.id is not None else None
        agent = c.agent_id
        if agent is not None and agent not in people:
            problems.append(CostProblem(c.row, "agent", "unknown person"))
        elif (
            agent is not None
            and not people[agent][1]
            and (before is None or before.agent_id != agent)
        ):
            problems.append(CostProblem(c.row, "agent", f"{people[agent][0]} has been deactivated"))
        if source is not None and cost is not None:
            typed[n] = (source, agent, cost)
    return typed, problems


def _twice(
    changes: Sequence[CostChange], stored: Mapping[int, _Stored], typed: _Typed, people: _People
) -> list[CostProblem]:
    """The same source (ignoring case and blanks) twice for one person, or the office, once
    the month is saved: each typed row involved is named (stored rows left as they are: 0)."""
    touched = {c.id for c in changes if c.id is not None}
    final: dict[tuple[str | None, int | None], list[int]] = defaultdict(list)
    for row in stored.values():
        if row.id not in touched:
            final[(source_key(row.source), row.agent_id)].append(0)
    for n, (source, agent_id, _cost) in typed.items():
        final[(source_key(source), agent_id)].append(changes[n].row)
    problems: list[CostProblem] = []
    for (_key, agent_id), rows in final.items():
        if len(rows) < 2:
            continue
        typed_rows = sorted(r for r in rows if r > 0)
        for r in typed_rows:
            if 0 in rows:
                reason = f"entered already for {_who(agent_id, people)} this month"
            else:
                others = " and ".join(str(o) for o in typed_rows if o != r)
                plural = "s" if len(typed_rows) > 2 else ""
                reason = (
                    f"given twice for {_who(agent_id, people)} this month (also row{plural} "
                    f"{others})"
                )
            problems.append(CostProblem(r, "source", reason))
    return problems


def _check_versions(
    changes: Sequence[CostChange], stored: Mapping[int, _Stored], people: _People
) -> None:
    """ConflictError when a row changed or deleted was changed or deleted meanwhile."""
    for c in changes:
        if c.id is None:
            continue
        before = stored.get(c.id)
        if before is None:
            what = _subject(c.row, c.source.strip() or "a cost", c.agent_id, people)
            raise ConflictError(
                f"{what} was deleted on another workstation; reload the month. Nothing was saved."
            )
        if c.version is not None and before.version != c.version:
            raise ConflictError(_changed_elsewhere(c.row, before, people))


def _changed_elsewhere(row: int, before: _Stored, people: _People) -> str:
    return (
        f"{_subject(row, before.source, before.agent_id, people)} was changed on another "
        "workstation; reload the month. Nothing was saved."
    )


def _write(
    s: Session,
    month: dt.date,
    changes: Sequence[CostChange],
    stored: Mapping[int, _Stored],
    typed: _Typed,
    people: _People,
) -> SaveResult:
    """Deletions and changes first (a source moved from one row to another is then free),
    then the new rows; each change and deletion only at the version read."""
    updated = deleted = 0
    now = dt.datetime.now(dt.UTC)
    for n, c in enumerate(changes):
        if c.id is None:
            continue
        before = stored[c.id]
        version = before.version if c.version is None else c.version
        if c.delete:
            result = s.execute(
                sa.delete(C)
                .where(C.id == c.id, C.version == version)
                .execution_options(synchronize_session=False)
            )
            deleted += 1
        else:
            source, agent_id, cost = typed[n]
            result = s.execute(
                sa.update(C)
                .where(C.id == c.id, C.version == version)
                .values(
                    source=source, agent_id=agent_id, cost=cost, version=version + 1,
                    updated_at=now,
                )
                .execution_options(synchronize_session=False)
            )  # fmt: skip
            updated += 1
        if cast(CursorResult[Any], result).rowcount != 1:
            raise ConflictError(_changed_elsewhere(c.row, before, people))
    inserts = [
        {
            "source": typed[n][0], "month": month, "agent_id": typed[n][1], "cost": typed[n][2],
            "created_at": now, "version": 1,
        }
        for n, c in enumerate(changes)
        if c.id is None and n in typed
    ]  # fmt: skip
    if inserts:
        try:
            with s.begin_nested():
                s.execute(sa.insert(C), inserts)
        except sa.exc.IntegrityError:
            raise ConflictError(
                f"{month_label(month)}: a source was entered on another workstation at the same "
                "moment; reload the month. Nothing was saved."
            ) from None
    return SaveResult(len(inserts), updated, deleted)
