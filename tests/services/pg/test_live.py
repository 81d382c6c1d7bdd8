"""Live updates (migration 0006, app/services/live.py): a change committed on one connection
reaches a listening connection within 1 s, as a kind and never a row's details."""

from __future__ import annotations

import select
import time

import psycopg
import pytest
import sqlalchemy as sa

from app.domain.errors import DatabaseProblem
from app.services.database import Database
from app.services.live import CHANNEL, Listener, conninfo, kinds_of
from app.services.users import add_user

pytestmark = pytest.mark.pg

SECRET_ADDRESS = "742 Evergreen Terrace"
SECRET_PRICE = "987654.32"


def _agent(db: Database) -> int:
    add_user(db, "ann.live@office.example", "agent", "Ann", "Lee")
    with db.engine.connect() as conn:
        return int(
            conn.execute(
                sa.text("SELECT id FROM users WHERE email = 'ann.live@office.example'")
            ).scalar_one()
        )


def _insert_escrows(db: Database, agent: int, count: int = 1) -> None:
    with db.engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO escrows (agent_id, property_address, purchase_price, escrow_status, "
                "created_at, version) SELECT :agent, :address, CAST(:price AS numeric), "
                "'Active', now(), 1 FROM generate_series(1, :n)"
            ),
            {"agent": agent, "address": SECRET_ADDRESS, "price": SECRET_PRICE, "n": count},
        )


def _wait_for(listener: Listener, timeout: float = 1.0) -> list[str]:
    """Like the window: wait for the socket to become readable, then drain."""
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        ready, _, _ = select.select([listener.fileno()], [], [], left)
        if ready and (kinds := listener.drain()):
            return kinds
    return []


def test_an_escrow_committed_elsewhere_is_drained_within_a_second(pg_db: Database) -> None:
    agent = _agent(pg_db)
    with Listener(pg_db.url) as listener:
        assert listener.drain() == []  # nothing yet, and it does not block
        started = time.monotonic()
        _insert_escrows(pg_db, agent, count=3)
        assert _wait_for(listener) == ["escrows"]  # three rows, one statement: one kind
        assert time.monotonic() - started < 1.0
        assert listener.drain() == []


def test_the_payloads_carry_kinds_and_recipients_never_row_details(pg_db: Database) -> None:
    agent = _agent(pg_db)
    with psycopg.connect(conninfo(pg_db.url), autocommit=True) as raw:
        raw.execute(f"LISTEN {CHANNEL}")
        _insert_escrows(pg_db, agent)
        with pg_db.engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO clients (agent_id, name, status, created_at, version) "
                    "SELECT :a, 'Sarah Johnson', 'active', now(), 1"
                ),
                {"a": agent},
            )
            conn.execute(
                sa.text(
                    "INSERT INTO notifications "
                    "(recipient_id, type, entity_type, entity_id, title, body, created_at) "
                    "VALUES (:a, 'escrow.created', 'escrow', 1, :t, :b, now()), "
                    "(:a, 'escrow.created', 'escrow', 2, :t, :b, now())"
                ),
                {"a": agent, "t": f"Escrow at {SECRET_ADDRESS}", "b": SECRET_PRICE},
            )
            conn.execute(
                sa.text("UPDATE users SET first_name = 'Annie' WHERE id = :a"), {"a": agent}
            )
        payloads = [n.payload for n in raw.notifies(timeout=1.0, stop_after=4)]
        payloads += [n.payload for n in raw.notifies(timeout=0.2)]
    assert sorted(payloads) == sorted(["escrows", "clients", f"notifications:{agent}", "people"])
    for payload in payloads:
        assert SECRET_ADDRESS not in payload and SECRET_PRICE not in payload
        assert "Sarah" not in payload and "Annie" not in payload


def test_the_listener_keeps_working_while_other_connections_query(pg_db: Database) -> None:
    agent = _agent(pg_db)
    with Listener(pg_db.url) as listener:
        for _ in range(3):
            with pg_db.engine.connect() as other:
                other.execute(sa.text("SELECT count(*) FROM escrows")).scalar_one()
            _insert_escrows(pg_db, agent)
            assert _wait_for(listener) == ["escrows"]


def test_a_lost_connection_is_opened_again(pg_db: Database) -> None:
    agent = _agent(pg_db)
    with Listener(pg_db.url) as listener:
        with pg_db.engine.begin() as conn:
            conn.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() "
                    "AND application_name = 'PerfDesk live updates'"
                )
            )
        deadline = time.monotonic() + 5
        while listener.is_open and time.monotonic() < deadline:
            select.select([listener.fileno()], [], [], 0.5)
            listener.drain(reconnect=False)
        assert not listener.is_open
        assert listener.drain(reconnect=False) == []
        listener.reconnect()
        assert listener.reconnected and listener.is_open
        _insert_escrows(pg_db, agent)
        assert _wait_for(listener) == ["escrows"]


def test_an_unreachable_server_is_said_in_plain_words() -> None:
    with pytest.raises(DatabaseProblem, match="Live updates stopped"):
        Listener("postgresql+psycopg://postgres@127.0.0.1:1/perfdesk")


def test_notifications_of_another_recipient_are_dropped() -> None:
    payloads = ["escrows", "notifications:7", "notifications:8", "escrows", "people"]
    assert kinds_of(payloads, me=8) == ["escrows", "notifications", "people"]
    assert kinds_of(payloads, me=9) == ["escrows", "people"]
    assert kinds_of(payloads, me=None) == ["escrows", "notifications", "people"]  # the owner
