"""KPI assignments (SPEC §7): a KPI given to a person, or to every member of a team at once,
with a target, a weight, a start and an optional end.

Rules where SPEC.md is silent (also in docs/rules.md):
- the KPI must be active; the target is a number and not 0 (lower-is-better: more than 0);
  the weight is 0–100 with at most two decimals; the end, when given, is not before the start;
- a team assignment writes one assignment per active member, each marked with the team; a
  member who already has that KPI starting that day is left out and named in the warnings;
- a person's active weights that do not add up to 100 are a warning shown with the form (a
  manager may be part-way through re-weighting); weights that would add up to 0 are refused,
  since no overall score could ever be computed;
- only the manager of the person's team or an admin assigns (SPEC §1); local mode with nobody
  named may do everything;
- every assignment made or changed writes an audit entry (SPEC §5) on the chain
  ``kpi_assignment:<id>``: kpi.assigned, kpi.assignment_changed, with the old and new values.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from app.db.models import KpiAssignment, KpiDefinition, Team, User
from app.domain import csvrules
from app.domain.errors import ConflictError, ValidationError
from app.domain.kpis import check_target, check_weight, weights_warning
from app.domain.money import parse_decimal
from app.services.audit import append_entry
from app.services.database import Database
from app.services.kpis.access import KpiScope, kpi_scope
from app.services.pipeline.common import acting_user_id
from app.services.records import Acting, resolve_actor

ASSIGNED = "kpi.assigned"
CHANGED = "kpi.assignment_changed"
ENTITY = "kpi_assignment"

FIELD_LABELS: Mapping[str, str] = {
    "kpi_id": "KPI",
    "user_id": "Person",
    "team_id": "Team",
    "target_value": "Target",
    "weight": "Weight",
    "start_date": "Start",
    "end_date": "End",
}


def chain_key(assignment_id: int) -> str:
    return f"{ENTITY}:{assignment_id}"


class AssignmentError(ValidationError):
    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__(
            "; ".join(f"{FIELD_LABELS.get(k, k)}: {v}" for k, v in self.errors.items())
        )


@dataclass(frozen=True)
class AssignmentRow:
    id: int
    version: int
    kpi_id: int
    kpi_name: str
    unit: str | None
    target_type: str
    period: str
    calculation_type: str
    user_id: int
    person: str
    email: str
    team_id: int | None
    target_value: Decimal
    weight: Decimal
    start_date: dt.date
    end_date: dt.date | None
    is_active: bool


@dataclass(frozen=True)
class AssignResult:
    ids: tuple[int, ...]
    warnings: tuple[str, ...]


def _full(u: User) -> str:
    return f"{u.first_name} {u.last_name}".strip()


def list_assignments(
    db: Database,
    acting: Acting = None,
    *,
    user_id: int | None = None,
    kpi_id: int | None = None,
    active_only: bool = True,
) -> list[AssignmentRow]:
    """The assignments the acting person may read (SPEC §1), by person then KPI."""
    with db.read() as s:
        scope = kpi_scope(s, resolve_actor(s, db, acting))
        stmt = (
            sa.select(KpiAssignment, KpiDefinition, User)
            .join(KpiDefinition, KpiDefinition.id == KpiAssignment.kpi_definition_id)
            .join(User, User.id == KpiAssignment.user_id)
            .order_by(User.last_name, User.first_name, sa.func.lower(KpiDefinition.name),
                      KpiAssignment.start_date)
        )  # fmt: skip
        if active_only:
            stmt = stmt.where(KpiAssignment.is_active.is_(True))
        if user_id is not None:
            stmt = stmt.where(KpiAssignment.user_id == user_id)
        if kpi_id is not None:
            stmt = stmt.where(KpiAssignment.kpi_definition_id == kpi_id)
        if scope.readable is not None:
            stmt = stmt.where(KpiAssignment.user_id.in_(list(scope.readable)))
        return [_row(a, d, u) for a, d, u in s.execute(stmt)]


def _row(a: KpiAssignment, d: KpiDefinition, u: User) -> AssignmentRow:
    return AssignmentRow(
        a.id, a.version, d.id, d.name, d.unit, str(d.target_type), str(d.aggregation_period),
        str(d.calculation_type), u.id, _full(u), u.email, a.team_id, a.target_value, a.weight,
        a.start_date, a.end_date, a.is_active,
    )  # fmt: skip


def active_weights(
    s: Session, user_id: int, day: dt.date, exclude: int | None = None
) -> list[tuple[str, Decimal]]:
    """The person's active assignments on ``day`` as (KPI name, weight)."""
    rows = s.execute(
        sa.select(KpiDefinition.name, KpiAssignment.weight)
        .join(KpiDefinition, KpiDefinition.id == KpiAssignment.kpi_definition_id)
        .where(
            KpiAssignment.user_id == user_id,
            KpiAssignment.is_active.is_(True),
            KpiAssignment.start_date <= day,
            sa.or_(KpiAssignment.end_date.is_(None), KpiAssignment.end_date >= day),
            KpiAssignment.id != (exclude or 0),
        )
        .order_by(sa.func.lower(KpiDefinition.name))
    )
    return [(str(n), w) for n, w in rows]


def person_weights(
    db: Database, user_id: int, day: dt.date, exclude: int | None = None
) -> list[tuple[str, Decimal]]:
    with db.read() as s:
        return active_weights(s, user_id, day, exclude)


# -- reading a form -----------------------------------------------------------------------------


def _decimal(values: Mapping[str, Any], key: str, errors: dict[str, str]) -> Decimal | None:
    raw = values.get(key)
    text = "" if raw is None else str(raw).strip()
    if not text:
        errors[key] = "required"
        return None
    try:
        return raw if isinstance(raw, Decimal) else parse_decimal(text)
    except (ValueError, ArithmeticError, ValidationError):
        errors[key] = f"{text!r} is not a number"
        return None


def _date(values: Mapping[str, Any], key: str, errors: dict[str, str]) -> dt.date | None:
    raw = values.get(key)
    if isinstance(raw, dt.date):
        return raw
    text = "" if raw is None else str(raw).strip()
    if not text:
        if key == "start_date":
            errors[key] = "required"
        return None
    try:
        return csvrules.iso_date(text)
    except ValueError as exc:
        errors[key] = str(exc)
        return None


@dataclass(frozen=True)
class _Terms:
    target: Decimal
    weight: Decimal
    start: dt.date
    end: dt.date | None


def _terms(values: Mapping[str, Any], target_type: str, errors: dict[str, str]) -> _Terms | None:
    target = _decimal(values, "target_value", errors)
    weight = _decimal(values, "weight", errors)
    start = _date(values, "start_date", errors)
    end = _date(values, "end_date", errors)
    if target is not None:
        try:
            check_target(target, target_type)
        except ValidationError as exc:
            errors["target_value"] = str(exc)
    if weight is not None:
        try:
            check_weight(weight)
        except ValidationError as exc:
            errors["weight"] = str(exc)
    if start and end and end < start:
        errors["end_date"] = "the end is before the start"
    if errors or target is None or weight is None or start is None:
        return None
    return _Terms(target, weight, start, end)


def _weights_note(
    s: Session, user: User, day: dt.date, extra: Decimal, exclude: int | None = None
) -> tuple[str | None, bool]:
    """A warning when the person's weights (with ``extra``) do not add up to 100, and
    whether they would add up to 0."""
    weights = [w for _n, w in active_weights(s, user.id, day, exclude)] + [extra]
    total = sum(weights, Decimal(0))
    warning = weights_warning(weights)
    return (f"{_full(user)}: {warning}" if warning else None), total == 0


# -- assigning ----------------------------------------------------------------------------------


def assign(db: Database, values: Mapping[str, Any], acting: Acting = None) -> AssignResult:
    """Assign a KPI to a person (``user_id``) or every active member of a team (``team_id``).

    ``values``: kpi_id, user_id | team_id, target_value, weight, start_date, end_date.
    Raises AssignmentError (by field) or PermissionDenied; nothing is written then."""
    with db.session() as s:
        actor = resolve_actor(s, db, acting)
        scope = kpi_scope(s, actor)
        errors: dict[str, str] = {}
        definition = _definition(s, values.get("kpi_id"), errors)
        people = _assignees(s, values, scope, errors)
        terms = _terms(values, str(definition.target_type), errors) if definition else None
        if errors or definition is None or terms is None:
            raise AssignmentError(errors)
        team_id = values.get("team_id") or None
        warnings: list[str] = []
        made: list[int] = []
        for user in people:
            taken = s.scalar(
                sa.select(KpiAssignment.id).where(
                    KpiAssignment.user_id == user.id,
                    KpiAssignment.kpi_definition_id == definition.id,
                    KpiAssignment.start_date == terms.start,
                )
            )
            if taken is not None:
                if team_id is None:
                    raise AssignmentError(
                        {"start_date": f"{_full(user)} already has {definition.name} from "
                         f"{terms.start.isoformat()}"}
                    )  # fmt: skip
                warnings.append(f"{_full(user)} already has {definition.name}; left as it was.")
                continue
            note, zero = _weights_note(s, user, terms.start, terms.weight)
            if zero:
                raise AssignmentError(
                    {"weight": f"{_full(user)}'s weights would add up to 0, so no overall "
                     "score could be computed"}
                )  # fmt: skip
            if note:
                warnings.append(note)
            row = KpiAssignment(
                kpi_definition_id=definition.id, user_id=user.id,
                team_id=int(team_id) if team_id else None, target_value=terms.target,
                weight=terms.weight, start_date=terms.start, end_date=terms.end,
                assigned_by=actor.id if actor else None, is_active=True,
            )  # fmt: skip
            s.add(row)
            s.flush()
            made.append(row.id)
            append_entry(
                s, chain_key(row.id), ASSIGNED, ENTITY, row.id, acting_user_id(s, actor),
                {"kpi": definition.name, "user_id": user.id, "team_id": row.team_id,
                 "target_value": terms.target, "weight": terms.weight,
                 "start_date": terms.start.isoformat(),
                 "end_date": terms.end.isoformat() if terms.end else None},
            )  # fmt: skip
        return AssignResult(tuple(made), tuple(warnings))


def _definition(s: Session, raw: Any, errors: dict[str, str]) -> KpiDefinition | None:
    try:
        definition = s.get(KpiDefinition, int(raw)) if raw not in (None, "") else None
    except (TypeError, ValueError):
        definition = None
    if definition is None:
        errors["kpi_id"] = "choose a KPI"
        return None
    if not definition.is_active:
        errors["kpi_id"] = f"{definition.name} is deactivated"
        return None
    return definition


def _assignees(
    s: Session, values: Mapping[str, Any], scope: KpiScope, errors: dict[str, str]
) -> list[User]:
    user_id, team_id = values.get("user_id"), values.get("team_id")
    if user_id:
        user = s.get(User, int(user_id))
        if user is None or not user.is_active:
            errors["user_id"] = "choose an active person"
            return []
        scope.check_write(user.id, user.email)
        return [user]
    if team_id:
        team = s.get(Team, int(team_id))
        if team is None:
            errors["team_id"] = "choose a team"
            return []
        members = list(
            s.scalars(
                sa.select(User)
                .where(User.team_id == team.id, User.is_active.is_(True))
                .order_by(User.last_name, User.first_name)
            )
        )
        if not members:
            errors["team_id"] = f"{team.name} has no active members"
        for m in members:
            scope.check_write(m.id, m.email)
        return members
    errors["user_id"] = "choose a person or a team"
    return []


def update_assignment(
    db: Database,
    assignment_id: int,
    values: Mapping[str, Any],
    version: int | None = None,
    acting: Acting = None,
) -> tuple[str, ...]:
    """Change an assignment's target, weight, start, end or whether it is active; returns
    warnings (weights not adding up to 100). Writes an audit entry with what changed."""
    try:
        with db.session() as s:
            actor = resolve_actor(s, db, acting)
            scope = kpi_scope(s, actor)
            row = s.get(KpiAssignment, assignment_id)
            if row is None or row.user_id is None:
                raise ValidationError("That KPI assignment no longer exists.")
            user = s.get_one(User, row.user_id)
            scope.check_write(user.id, user.email)
            if version is not None and row.version != version:
                raise _conflict()
            definition = s.get_one(KpiDefinition, row.kpi_definition_id)
            errors: dict[str, str] = {}
            merged = {
                "target_value": row.target_value, "weight": row.weight,
                "start_date": row.start_date, "end_date": row.end_date, **values,
            }  # fmt: skip
            terms = _terms(merged, str(definition.target_type), errors)
            if errors or terms is None:
                raise AssignmentError(errors)
            if terms.start != row.start_date:  # one assignment per (person, KPI, start)
                taken = s.scalar(
                    sa.select(KpiAssignment.id).where(
                        KpiAssignment.user_id == user.id,
                        KpiAssignment.kpi_definition_id == definition.id,
                        KpiAssignment.start_date == terms.start,
                        KpiAssignment.id != row.id,
                    )
                )
                if taken is not None:
                    raise AssignmentError(
                        {"start_date": f"{_full(user)} already has {definition.name} from "
                         f"{terms.start.isoformat()}"}
                    )  # fmt: skip
            active = bool(values.get("is_active", row.is_active))
            before = _snapshot(row)
            row.target_value, row.weight = terms.target, terms.weight
            row.start_date, row.end_date, row.is_active = terms.start, terms.end, active
            after = _snapshot(row)
            changed = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
            if not changed:
                return ()
            warnings: list[str] = []
            if active:
                note, zero = _weights_note(s, user, terms.start, terms.weight, row.id)
                if zero:
                    raise AssignmentError(
                        {"weight": "the weights would add up to 0, so no overall score could "
                         "be computed"}
                    )  # fmt: skip
                if note:
                    warnings.append(note)
            s.flush()
            append_entry(
                s, chain_key(row.id), CHANGED, ENTITY, row.id, acting_user_id(s, actor),
                {"kpi": definition.name, "user_id": user.id, "changed": changed},
            )  # fmt: skip
            return tuple(warnings)
    except StaleDataError:
        raise _conflict() from None


def _plain(value: Decimal) -> str:
    """A number as typed, whatever its stored scale: 40.00 and 40 are the same weight."""
    return f"{value.normalize():f}"


def _snapshot(row: KpiAssignment) -> dict[str, Any]:
    return {
        "target_value": _plain(row.target_value),
        "weight": _plain(row.weight),
        "start_date": row.start_date.isoformat(),
        "end_date": row.end_date.isoformat() if row.end_date else None,
        "is_active": row.is_active,
    }


def _conflict() -> ConflictError:
    return ConflictError(
        "Someone else changed this assignment while you were editing it; reload it and try "
        "again. Nothing was saved."
    )


def assignable_people(db: Database, acting: Acting = None) -> Sequence[tuple[int, str, str]]:
    """(id, name, email) of the active people the acting person may assign KPIs to."""
    with db.read() as s:
        scope = kpi_scope(s, resolve_actor(s, db, acting))
        stmt = (
            sa.select(User)
            .where(User.is_active.is_(True))
            .order_by(User.last_name, User.first_name)
        )
        if scope.writable is not None:
            stmt = stmt.where(User.id.in_(list(scope.writable)))
        return [(u.id, _full(u), u.email) for u in s.scalars(stmt)]


def assignable_teams(db: Database, acting: Acting = None) -> Sequence[tuple[int, str]]:
    """(id, name) of the teams whose members the acting person may all assign to."""
    with db.read() as s:
        actor = resolve_actor(s, db, acting)
        stmt = sa.select(Team.id, Team.name).order_by(Team.name)
        if actor is not None and actor.role != "admin":
            stmt = stmt.where(Team.manager_id == actor.id)
        return [(int(i), str(n)) for i, n in s.execute(stmt)]
