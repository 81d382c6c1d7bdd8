"""Users: email*, first_name*, last_name*, role*, team, broker_email (SPEC §11).

Rules (where SPEC.md is silent, chosen here):
- emails are stored in lower case and matched regardless of case;
- an email already in the database is an error (imports add, they never overwrite), and so
  is the same email twice in the file;
- ``broker_email`` names a user whose role is broker, in the database or on an EARLIER row;
  it must be empty on a broker's own row (a broker belongs to no other broker);
- an agent with no ``broker_email`` belongs to the office's only broker when there is
  exactly one (in the database or anywhere in the file); with several brokers it is an
  error (say which); with none the agent has no broker yet;
- a team is matched by name regardless of case and created on first mention. A new team
  belongs to the broker of the first row naming it that has one (a broker's own row: that
  broker); its manager is the first manager row naming it. Every row naming a team must
  have that team's broker (or none);
- in shared mode (PostgreSQL) each person logs in as their own database role. The rows are
  inserted here, in the import's transaction; the logins are created after the commit by
  ``app.services.users.ensure_db_roles(db, emails)``. When that function is not available
  the import still succeeds and says so in its notes.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from app.db.models.people import Team, User
from app.domain import csvrules as cr
from app.domain.enums import Role
from app.domain.errors import DatabaseProblem
from app.services.database import Database
from app.services.dberrors import explain
from app.services.importing.spec import (
    CHUNK,
    Column,
    Identity,
    ImportContext,
    ImportKind,
    Person,
    Row,
    a_or_an,
)

EnsureRoles = Callable[[Database, list[str]], object]

EMAIL = Column("email", cr.email, required=True, person=True)
FIRST_NAME = Column("first_name", cr.text(80), required=True)
LAST_NAME = Column("last_name", cr.text(80), required=True)
ROLE = Column("role", cr.one_of(Role), required=True)
TEAM = Column("team", cr.text(120))
BROKER_EMAIL = Column("broker_email", cr.email, person=True)


@dataclass
class _Team:
    name: str
    id: int | None  # None: created by this import
    broker_email: str | None
    manager_email: str | None = None


def find_ensure_db_roles() -> EnsureRoles | None:
    """``app.services.users.ensure_db_roles`` when that service provides it."""
    try:
        module = importlib.import_module("app.services.users")
    except ModuleNotFoundError as exc:
        if exc.name in ("app.services.users", "app.services"):
            return None
        raise
    hook = getattr(module, "ensure_db_roles", None)
    return cast(EnsureRoles, hook) if callable(hook) else None


class UsersImport(ImportKind):
    name = "users"
    noun = "user"
    columns = (EMAIL, FIRST_NAME, LAST_NAME, ROLE, TEAM, BROKER_EMAIL)

    def __init__(self) -> None:
        self._teams: dict[str, _Team] = {}
        self._default_broker: str | None = None
        self._brokers = 0

    def prepare(self, ctx: ImportContext, rows: Sequence[Row]) -> None:
        names = sorted({t.casefold() for row in rows if (t := row.get(TEAM))})
        broker = aliased(User)
        for start in range(0, len(names), CHUNK):
            stmt = (
                sa.select(Team.id, Team.name, broker.email)
                .outerjoin(broker, Team.broker_id == broker.id)
                .where(sa.func.lower(Team.name).in_(names[start : start + CHUNK]))
            )
            for team_id, name, broker_email in ctx.session.execute(stmt):
                self._teams[name.casefold()] = _Team(
                    name, team_id, broker_email.lower() if broker_email else None
                )
        brokers = set(
            ctx.session.scalars(
                sa.select(sa.func.lower(User.email)).where(User.role == Role.BROKER).limit(2)
            )
        )
        brokers.update(e for row in rows if row.get(ROLE) == Role.BROKER and (e := row.get(EMAIL)))
        self._brokers = len(brokers)
        self._default_broker = brokers.pop() if len(brokers) == 1 else None

    def check_row(self, row: Row, ctx: ImportContext) -> None:
        email = row.get(EMAIL)
        role = row.get(ROLE)
        found = ctx.people.find(email) if email else None
        if email and found is not None and found.row is None:
            ctx.error(
                row,
                EMAIL,
                f"a user with email {email} already exists (imports add, they never overwrite)",
            )
        broker = self._broker_of(row, ctx, email, role)
        team_key = self._team_of(row, ctx, email, role, broker)
        if email and role and found is None:
            ctx.people.add(Person(email, role, None, row.number, broker))
        row.data = {
            "email": email,
            "first_name": row.get(FIRST_NAME),
            "last_name": row.get(LAST_NAME),
            "role": role,
            "team": team_key,
            "broker": broker,
        }

    def _broker_of(
        self, row: Row, ctx: ImportContext, email: str | None, role: str | None
    ) -> str | None:
        named = row.get(BROKER_EMAIL)
        if named is not None:
            if named == email:
                ctx.error(row, BROKER_EMAIL, "is the user's own email")
                return None
            if role == Role.BROKER:
                ctx.error(
                    row,
                    BROKER_EMAIL,
                    "must be empty for a broker (a broker belongs to no other broker)",
                )
                return None
            person = ctx.people.find(named)
            if person is None:
                ctx.error(
                    row,
                    BROKER_EMAIL,
                    f"no user with email {named} in the database or on an earlier row",
                )
                return None
            if person.role != Role.BROKER:
                ctx.error(row, BROKER_EMAIL, f"{named} is {a_or_an(person.role)}, not a broker")
                return None
            return person.email
        if role == Role.AGENT and row.ok(BROKER_EMAIL):
            if self._brokers > 1:
                ctx.error(
                    row,
                    BROKER_EMAIL,
                    "is required for an agent when the office has several brokers",
                )
            return self._default_broker
        return None

    def _team_of(
        self,
        row: Row,
        ctx: ImportContext,
        email: str | None,
        role: str | None,
        broker: str | None,
    ) -> str | None:
        name = row.get(TEAM)
        if name is None:
            return None
        key = name.casefold()
        team_broker = email if role == Role.BROKER else broker
        team = self._teams.get(key)
        if team is None:
            team = self._teams[key] = _Team(name, None, team_broker)
        elif team_broker is not None:
            if team.broker_email is None and team.id is None:
                team.broker_email = team_broker
            elif team.broker_email is not None and team.broker_email != team_broker:
                ctx.error(
                    row,
                    TEAM,
                    f"team {team.name} belongs to broker {team.broker_email}, not {team_broker}",
                )
        if role == Role.MANAGER and team.id is None and team.manager_email is None:
            team.manager_email = email
        return key

    def identity(self, row: Row) -> Identity | None:
        email = row.get(EMAIL)
        return Identity(email, EMAIL.name, f"email {email}") if email else None

    def write(self, ctx: ImportContext, rows: Sequence[Row]) -> int:
        session = ctx.session
        people = ctx.people
        new_teams: dict[str, Team] = {}
        for key, info in self._teams.items():
            if info.id is None:
                known = people.find(info.broker_email) if info.broker_email else None
                team = Team(name=info.name, broker_id=known.user_id if known else None)
                session.add(team)
                new_teams[key] = team
        session.flush()
        team_ids = {k: t.id for k, t in self._teams.items() if t.id is not None}
        team_ids.update({k: t.id for k, t in new_teams.items()})

        added: list[tuple[Row, User]] = []
        # Brokers first: the other rows' broker_id needs their ids.
        for is_broker in (True, False):
            batch = [row for row in rows if (row.data["role"] == Role.BROKER) is is_broker]
            for row in batch:
                data: dict[str, Any] = row.data
                user = User(
                    email=data["email"],
                    first_name=data["first_name"],
                    last_name=data["last_name"],
                    role=data["role"],
                    team_id=team_ids[data["team"]] if data["team"] else None,
                    broker_id=people.user_id(data["broker"]) if data["broker"] else None,
                )
                session.add(user)
                added.append((row, user))
            session.flush()
            for _row, user in added:
                person = people.find(user.email)
                if person is not None:
                    person.user_id = user.id

        for key, team in new_teams.items():
            info = self._teams[key]
            if team.broker_id is None and info.broker_email:
                team.broker_id = people.user_id(info.broker_email)
            if info.manager_email:
                team.manager_id = people.user_id(info.manager_email)
        return len(added)

    def after_commit(self, db: Database, rows: Sequence[Row]) -> list[str]:
        emails = [str(row.data["email"]) for row in rows]
        if db.is_local or not emails:
            return []
        hook = find_ensure_db_roles()
        if hook is None:
            return [
                f"{len(emails)} users were added, but their database logins were not created "
                "(this PerfDesk has no app.services.users.ensure_db_roles); "
                "create them before they sign in"
            ]
        try:
            hook(db, emails)
        except Exception as exc:
            raise DatabaseProblem(
                f"{len(emails)} users were imported, but their database logins could not be "
                f"created: {explain(exc, db.describe())}"
            ) from exc
        return []
