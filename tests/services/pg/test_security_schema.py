"""Migration 0004 as the server sees it: which tables are under row-level security, what the
policies are keyed on, how the functions are declared and granted, and that it goes down and
up again cleanly."""

from __future__ import annotations

import os

import pytest
import sqlalchemy as sa

from app.db import security
from app.services import schema
from app.services.database import Database
from app.services.users import add_user

pytestmark = pytest.mark.pg

#: Tables SPEC §1 does not restrict (or that the app needs office-wide), left without RLS.
OPEN_TABLES = {
    "alembic_version",
    "app_settings",
    "benchmarks",
    "buy_boxes",
    "buyers",
    "job_runs",
}


def _rows(db: Database, sql: str, **params: object) -> list[tuple[object, ...]]:
    with db.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(sql), params)]


def test_rls_is_enabled_not_forced_on_every_restricted_table(pg_db: Database) -> None:
    rows = _rows(
        pg_db,
        "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class "
        "WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace",
    )
    enabled = {name for name, on, _ in rows if on}
    assert enabled == (
        set(security.RLS_TABLES)
        | set(security.LATER_RLS_TABLES)
        | set(security.GOAL_RLS_TABLES)
        | set(security.ANALYTICS_RLS_TABLES)
    )
    assert not any(forced for _, _, forced in rows)  # the table owner is unaffected
    assert {name for name, *_ in rows} == enabled | OPEN_TABLES


def test_policies_key_on_current_user_never_on_a_session_setting(pg_db: Database) -> None:
    rows = _rows(
        pg_db,
        "SELECT tablename, policyname, roles::text[], coalesce(qual, ''), "
        "coalesce(with_check, '') FROM pg_policies WHERE schemaname = 'public'",
    )
    assert {(t, p) for t, p, *_ in rows} == {
        (p.table, p.name)
        for p in (
            *security.POLICIES,
            *security.LATER_POLICIES,
            *security.GOAL_POLICIES,
            *security.ANALYTICS_POLICIES,
        )
    }
    for _table, _name, roles, qual, check in rows:
        assert roles == [security.USERS]
        assert "current_setting" not in qual + check
    definitions = _rows(
        pg_db,
        "SELECT p.proname, pg_get_functiondef(p.oid) FROM pg_proc p "
        "WHERE p.pronamespace = 'public'::regnamespace AND p.proname LIKE 'perfdesk%'",
    )
    assert all("current_setting" not in str(body) for _, body in definitions)


def test_functions_are_declared_and_granted_as_intended(pg_db: Database) -> None:
    rows = {
        name: (definer, config, public, users)
        for name, definer, config, public, users in _rows(
            pg_db,
            "SELECT p.proname, p.prosecdef, p.proconfig, "
            "has_function_privilege('public', p.oid, 'EXECUTE') AS public_exec, "
            "has_function_privilege(:users, p.oid, 'EXECUTE') "
            "FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace "
            "AND p.proname LIKE 'perfdesk\\_%' AND p.prokind = 'f' "
            "AND p.proname NOT IN ('perfdesk_append_only', 'perfdesk_pro_forma_locked')",
            users=security.USERS,
        )
    }
    intended = {fn.name: (fn.definer, fn.granted) for fn in security.FUNCTIONS}
    intended |= security.LATER_FUNCTIONS
    assert set(rows) == set(intended)
    for name, (fn_definer, fn_granted) in intended.items():
        definer, config, public, users = rows[name]
        assert definer == fn_definer, name
        assert config == [f"search_path={security.SEARCH_PATH}"], name
        assert not public, f"PUBLIC may execute {name}"
        assert users == fn_granted, name
    # The count functions that read rows bypass RLS as their owner; the helpers that only
    # read the directory are definers too (no recursion through the users policies).
    assert rows["perfdesk_lead_counts_for"][0] and rows["perfdesk_appointment_counts_for"][0]


def test_grants_narrowed_to_the_groups_spec_names(pg_db: Database) -> None:
    def may(role: str, table: str, privilege: str) -> bool:
        return bool(
            _rows(pg_db, "SELECT has_table_privilege(:r, :t, :p)", r=role, t=table, p=privilege)[0][
                0
            ]
        )

    assert not may("perfdesk_user", "users", "INSERT")
    assert may("perfdesk_admin", "users", "INSERT")
    assert may("perfdesk_closer", "deal_performances", "INSERT")
    assert not may("perfdesk_closer", "deal_performances", "UPDATE")
    assert not may("perfdesk_dialer", "performance_periods", "INSERT")
    assert may("perfdesk_manager", "performance_periods", "UPDATE")
    assert may("perfdesk_user", "performance_periods", "SELECT")


def test_set_role_by_the_owner_is_seen_as_that_person(pg_db: Database) -> None:
    # Policies and count functions follow current_user, so the owner can look through a
    # person's eyes with SET ROLE (a person cannot: they are granted no one else's role).
    email = f"broker.setrole{os.getpid()}@example.com"
    broker = add_user(pg_db, email, "broker").id
    agent = add_user(pg_db, f"agent.setrole{os.getpid()}@example.com", "agent", broker_email=email)
    with pg_db.engine.begin() as conn:
        for owner, private in ((agent.id, False), (agent.id, True), (broker, True)):
            conn.execute(
                sa.text(
                    "INSERT INTO leads (owner_id, name, status, is_private, created_at, version) "
                    "VALUES (:o, 'x', 'new', :p, now(), 1)"
                ),
                {"o": owner, "p": private},
            )
    with pg_db.engine.connect() as conn:
        conn.execute(sa.text(f'SET ROLE "{email}"'))
        own = conn.execute(sa.text("SELECT owner_id FROM leads")).scalars().all()
        counts = conn.execute(
            sa.text("SELECT owner_id, total FROM perfdesk_lead_counts('-infinity', 'infinity')")
        ).all()
        conn.rollback()
    assert own == [broker]
    assert [tuple(r) for r in counts] == [(agent.id, 1)]


def test_downgrade_removes_it_all_and_upgrade_restores_it(pg_db: Database) -> None:
    schema.downgrade(pg_db, "0003")

    assert _rows(pg_db, "SELECT count(*) FROM pg_policies WHERE schemaname = 'public'") == [(0,)]
    assert _rows(
        pg_db,
        "SELECT count(*) FROM pg_class "
        "WHERE relrowsecurity AND relnamespace = 'public'::regnamespace",
    ) == [(0,)]
    left = _rows(
        pg_db,
        "SELECT proname FROM pg_proc WHERE pronamespace = 'public'::regnamespace "
        "AND proname LIKE 'perfdesk%'",
    )
    assert sorted(r[0] for r in left) == ["perfdesk_append_only", "perfdesk_pro_forma_locked"]
    assert _rows(pg_db, "SELECT has_table_privilege('perfdesk_user', 'users', 'INSERT')") == [
        (True,)
    ]
    assert _rows(pg_db, "SELECT has_table_privilege('perfdesk_admin', 'users', 'INSERT')") == [
        (False,)
    ]

    assert schema.prepare(pg_db).state == "upgraded"
    schema.check_drift(pg_db)
    assert _rows(pg_db, "SELECT count(*) FROM pg_policies WHERE schemaname = 'public'") == [
        (
            len(security.POLICIES)
            + len(security.LATER_POLICIES)
            + len(security.GOAL_POLICIES)
            + len(security.ANALYTICS_POLICIES),
        )
    ]
