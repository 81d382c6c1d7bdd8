"""Adding people; in shared mode each person gets their own PostgreSQL login role."""

from __future__ import annotations

import os

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from app.domain.errors import PermissionDenied, ValidationError
from app.services.database import Database, open_database
from app.services.users import add_user, list_users, may_add_people


@pytest.fixture
def broker(db: Database) -> Database:
    add_user(db, "josh.riley@example.com", "broker", "Josh", "Riley")
    return db


def test_add_and_list_people(broker: Database) -> None:
    info = add_user(
        broker,
        "Jayden.Metz@Example.com",
        "agent",
        team="Team North",
        broker_email="josh.riley@example.com",
    )
    assert info.email == "jayden.metz@example.com" and info.full_name == "Jayden Metz"
    assert info.team == "Team North" and info.broker_email == "josh.riley@example.com"
    people = {p.email: p for p in list_users(broker)}
    assert set(people) == {"josh.riley@example.com", "jayden.metz@example.com"}
    assert people["jayden.metz@example.com"].has_db_role == (broker.dialect == "postgresql")


@pytest.mark.parametrize(
    ("email", "role", "broker_email", "message"),
    [
        ("josh.riley@example.com", "agent", None, "already exists"),
        ("not-an-email", "agent", None, "not an email address"),
        ("a@example.com", "boss", None, "role 'boss' is not one of"),
        (
            "a@example.com",
            "agent",
            "nobody@example.com",
            "broker nobody@example.com does not exist",
        ),
    ],
)
def test_bad_people_are_refused(
    broker: Database, email: str, role: str, broker_email: str | None, message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        add_user(broker, email, role, broker_email=broker_email)
    assert len(list_users(broker)) == 1


def test_broker_must_be_a_broker(broker: Database) -> None:
    add_user(broker, "cole.rangel@example.com", "agent")
    with pytest.raises(ValidationError, match="is a agent, not a broker"):
        add_user(broker, "lee.rangel@example.com", "agent", broker_email="cole.rangel@example.com")


@pytest.mark.pg
def test_shared_mode_person_logs_in_as_their_own_role(pg_db: Database) -> None:
    # The pg_db fixture drops the roles its people were given.
    email = f"dana{os.getpid()}@example.com"
    add_user(pg_db, email, "manager", "Dana", "Cho", password="s3cret pass")
    url = make_url(pg_db.url).set(username=email, password="s3cret pass")
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT current_user")).scalar() == email
            groups = set(
                conn.execute(
                    sa.text(
                        "SELECT b.rolname FROM pg_auth_members m"
                        " JOIN pg_roles b ON b.oid = m.roleid"
                        " JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = current_user"
                    )
                ).scalars()
            )
            assert {"perfdesk_user", "perfdesk_manager"} <= groups
            assert conn.execute(sa.text("SELECT COUNT(*) FROM users")).scalar() == 1
            with pytest.raises(sa.exc.DBAPIError, match="permission denied"):
                conn.execute(sa.text("DELETE FROM audit_entries"))
    finally:
        engine.dispose()


def test_local_mode_may_always_add_people(sqlite_db: Database) -> None:
    assert may_add_people(sqlite_db)


@pytest.mark.pg
def test_only_admin_logins_may_add_people_on_a_server(pg_db: Database) -> None:
    agent, admin = f"ag{os.getpid()}@example.com", f"ad{os.getpid()}@example.com"
    add_user(pg_db, agent, "agent", password="pw-agent-1")
    add_user(pg_db, admin, "admin", password="pw-admin-1")
    for email, expected in ((agent, False), (admin, True)):
        as_person = open_database(make_url(pg_db.url).set(username=email).render_as_string(False))
        try:
            assert may_add_people(as_person) is expected
            if not expected:
                with pytest.raises(PermissionDenied, match="Only an administrator"):
                    add_user(as_person, f"x{os.getpid()}@example.com", "agent")
        finally:
            as_person.dispose()
