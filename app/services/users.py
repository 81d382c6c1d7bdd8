"""People: add a person (and, in shared mode, their own PostgreSQL login role), list them."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.db.models import Team, User
from app.domain.enums import Role
from app.domain.errors import PermissionDenied, ValidationError
from app.services.database import Database

EMAIL_RE = re.compile(r"^[^@\s,;]+@[^@\s,;]+\.[^@\s,;]+$")
#: Group role every PerfDesk login belongs to; one more group per SPEC role.
BASE_GROUP = "perfdesk_user"


def group_role(role: str) -> str:
    return f"perfdesk_{role}"


@dataclass(frozen=True)
class UserInfo:
    id: int
    email: str
    first_name: str
    last_name: str
    role: str
    team: str | None
    broker_email: str | None
    has_db_role: bool

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


def validate_email(email: str) -> str:
    email = email.strip().lower()
    if not EMAIL_RE.match(email):
        raise ValidationError(f"{email!r} is not an email address")
    return email


def db_role_name(email: str) -> str:
    """The PostgreSQL role a person logs in as: their email (roles are at most 63 bytes)."""
    if len(email.encode("utf-8")) > 63:
        raise ValidationError(f"{email}: too long to be a database login (63 bytes at most)")
    return email


def _names_from_email(email: str) -> tuple[str, str]:
    local = email.split("@", 1)[0]
    parts = [p for p in re.split(r"[._\-+]", local) if p]
    first = parts[0].capitalize() if parts else local
    last = parts[-1].capitalize() if len(parts) > 1 else ""
    return first, last


def add_user(
    db: Database,
    email: str,
    role: str,
    first_name: str | None = None,
    last_name: str | None = None,
    team: str | None = None,
    broker_email: str | None = None,
    password: str | None = None,
) -> UserInfo:
    """Create a person; in shared mode also their login role, in the same transaction.

    Returns the person. In shared mode with no password given, a random one is set and
    must be handed to the person out of band (the CLI prints it once).
    """
    email = validate_email(email)
    try:
        role_value = Role(role).value
    except ValueError:
        raise ValidationError(
            f"role {role!r} is not one of {', '.join(r.value for r in Role)}"
        ) from None
    guess_first, guess_last = _names_from_email(email)
    first = (first_name or guess_first).strip()
    last = (last_name if last_name is not None else guess_last).strip()
    if not first:
        raise ValidationError("first name is required")
    with db.session() as s:
        if s.scalar(sa.select(User.id).where(User.email == email)) is not None:
            raise ValidationError(f"{email} already exists (people are added, never overwritten)")
        broker_id = _broker_id(s, broker_email)
        team_id = _team_id(s, team, broker_id) if team else None
        user = User(
            email=email,
            first_name=first,
            last_name=last,
            role=role_value,
            broker_id=broker_id,
            team_id=team_id,
        )
        s.add(user)
        try:
            s.flush()
        except sa.exc.ProgrammingError as exc:
            raise _permission_problem(exc) from exc
        if db.dialect == "postgresql":
            user.db_role = db_role_name(email)
            _create_login_role(s, user.db_role, role_value, password)
        return _info(s, user)


def _broker_id(s: Session, broker_email: str | None) -> int | None:
    if not broker_email:
        return None
    broker = s.scalar(sa.select(User).where(User.email == broker_email.strip().lower()))
    if broker is None:
        raise ValidationError(f"broker {broker_email} does not exist")
    if broker.role != Role.BROKER.value:
        raise ValidationError(f"{broker_email} is a {broker.role}, not a broker")
    return broker.id


def _team_id(s: Session, name: str, broker_id: int | None) -> int:
    team = s.scalar(sa.select(Team).where(Team.name == name.strip()))
    if team is None:
        team = Team(name=name.strip(), broker_id=broker_id)
        s.add(team)
        s.flush()
    return team.id


def _quote_ident(s: Session, name: str) -> str:
    return s.connection().dialect.identifier_preparer.quote_identifier(name)


def _create_login_role(s: Session, role_name: str, role: str, password: str | None) -> None:
    ident = _quote_ident(s, role_name)
    pw = password if password is not None else secrets.token_urlsafe(18)
    exists = s.execute(
        sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role_name}
    ).scalar()
    try:
        # Role names and passwords cannot be bound parameters in DDL; quote them.
        literal = "'" + pw.replace("'", "''") + "'"
        verb = "ALTER" if exists else "CREATE"
        s.execute(sa.text(f"{verb} ROLE {ident} LOGIN PASSWORD {literal}"))
        s.execute(sa.text(f"GRANT {BASE_GROUP}, {group_role(role)} TO {ident}"))
        if role == Role.ADMIN.value:
            s.execute(sa.text(f"ALTER ROLE {ident} CREATEROLE"))
    except sa.exc.ProgrammingError as exc:
        raise _permission_problem(exc) from exc


def _permission_problem(exc: sa.exc.ProgrammingError) -> Exception:
    """The server's refusal in plain words; any other programming error unchanged."""
    if "permission denied" in str(exc).lower():
        return PermissionDenied(
            "Only an administrator may add people in shared mode "
            "(the server refused: adding a person and their login needs an admin's login)."
        )
    return exc


def ensure_db_roles(db: Database, emails: list[str]) -> None:
    """Give each listed person without one a login role (shared mode; used after an import)."""
    if db.dialect != "postgresql":
        return
    with db.session() as s:
        users = s.scalars(
            sa.select(User).where(User.email.in_(emails), User.db_role.is_(None))
        ).all()
        for user in users:
            user.db_role = db_role_name(user.email)
            _create_login_role(s, user.db_role, user.role, None)


def _to_info(user: User, team: str | None, broker_email: str | None) -> UserInfo:
    return UserInfo(
        id=user.id,
        email=user.email,
        first_name=user.first_name,
        last_name=user.last_name,
        role=user.role,
        team=team,
        broker_email=broker_email,
        has_db_role=user.db_role is not None,
    )


def _info(s: Session, user: User) -> UserInfo:
    team = s.get(Team, user.team_id) if user.team_id else None
    broker = s.get(User, user.broker_id) if user.broker_id else None
    return _to_info(user, team.name if team else None, broker.email if broker else None)


def list_users(db: Database) -> list[UserInfo]:
    broker = sa.orm.aliased(User)
    stmt = (
        sa.select(User, Team.name, broker.email)
        .outerjoin(Team, Team.id == User.team_id)
        .outerjoin(broker, broker.id == User.broker_id)
        .order_by(User.last_name, User.first_name)
    )
    with db.read() as s:
        return [_to_info(u, team, b) for u, team, b in s.execute(stmt)]


def may_add_people(db: Database) -> bool:
    """Locally the one person holds every role; on a server, only logins that may create
    logins (admins) can add people — the same right the server checks."""
    if db.dialect != "postgresql":
        return True
    with db.read() as s:
        allowed = s.execute(
            sa.text("SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user")
        ).scalar()
    return bool(allowed)
