"""DESIGN.md's data rules, checked in SQL on both backends."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.orm.exc import StaleDataError

from app.db.models import Listing, User
from app.services.database import Database


def _agent(db: Database) -> int:
    with db.session() as s:
        u = User(email="ann@example.com", first_name="Ann", last_name="Lee", role="agent")
        s.add(u)
        s.flush()
        return u.id


def test_money_sums_exactly_in_raw_sql(db: Database) -> None:
    agent = _agent(db)
    with db.session() as s:
        for _ in range(10):
            s.add(
                Listing(
                    agent_id=agent, address="1 A St", list_price=Decimal("0.10"), status="active"
                )
            )
    with db.read() as s:
        orm_sum = s.scalar(sa.select(sa.func.sum(Listing.list_price)))
        raw = s.execute(sa.text("SELECT SUM(list_price) FROM listings")).scalar()
    assert orm_sum == Decimal("1.00")
    # Raw SQL sees the stored form: cents on SQLite, NUMERIC on PostgreSQL; both exact.
    assert Decimal(raw) in (Decimal("100"), Decimal("1.00"))
    if db.dialect == "sqlite":
        assert raw == 100


def test_money_keeps_the_largest_amount_exactly(db: Database) -> None:
    agent = _agent(db)
    big = Decimal("99999999999999.99")
    with db.session() as s:
        s.add(Listing(agent_id=agent, address="1 A St", list_price=big, status="active"))
    with db.read() as s:
        assert s.scalar(sa.select(Listing.list_price)) == big


def test_money_rounds_half_up_to_cents_when_stored(db: Database) -> None:
    agent = _agent(db)
    with db.session() as s:
        s.add(
            Listing(agent_id=agent, address="1 A St", list_price=Decimal("10.005"), status="active")
        )
    with db.read() as s:
        assert s.scalar(sa.select(Listing.list_price)) == Decimal("10.01")


def test_enum_stored_by_value_and_checked_by_the_database(db: Database) -> None:
    agent = _agent(db)
    with db.session() as s:
        s.add(Listing(agent_id=agent, address="1 A St", list_price=Decimal(1), status="active"))
    with db.read() as s:
        assert s.execute(sa.text("SELECT status FROM listings")).scalar() == "active"
    with pytest.raises(sa.exc.IntegrityError), db.session() as s:
        s.execute(
            sa.text(
                "INSERT INTO listings (agent_id, address, list_price, status, created_at, version)"
                " VALUES (:a, 'x', 1, 'ACTIVE', CURRENT_TIMESTAMP, 1)"
            ),
            {"a": agent},
        )


def test_check_constraint_refuses_a_negative_price_in_raw_sql(db: Database) -> None:
    agent = _agent(db)
    with pytest.raises(sa.exc.IntegrityError), db.session() as s:
        s.execute(
            sa.text(
                "INSERT INTO listings (agent_id, address, list_price, status, created_at, version)"
                " VALUES (:a, 'x', -5, 'active', CURRENT_TIMESTAMP, 1)"
            ),
            {"a": agent},
        )


def test_rate_bounds_hold_on_each_backend(db: Database) -> None:
    """A 0–1 CHECK must use each backend's stored form (scaled integers on SQLite)."""
    from app.db.models import Deal

    agent = _agent(db)
    base = dict(
        agent_id=agent,
        title="Deal",
        asset_type="residential",
        deal_type="sale",
        pipeline_stage="proposal",
        status="open",
        estimated_value_amount=Decimal(100),
        estimated_value_currency="USD",
    )
    with db.session() as s:
        s.add(Deal(confidence=Decimal("0.95"), **base))
        s.add(Deal(confidence=Decimal("1"), **base))
    with pytest.raises(sa.exc.IntegrityError), db.session() as s:
        s.add(Deal(confidence=Decimal("1.5"), **base))


def test_times_are_utc_aware_and_naive_times_refused(db: Database) -> None:
    agent = _agent(db)
    local = dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=-8)))
    with db.session() as s:
        s.add(
            Listing(
                agent_id=agent,
                address="1",
                list_price=Decimal(1),
                status="active",
                created_at=local,
            )
        )
    with db.read() as s:
        stored = s.scalar(sa.select(Listing.created_at))
    assert stored == local and stored.tzinfo == dt.UTC and stored.hour == 17
    with pytest.raises(sa.exc.StatementError, match="naive"), db.session() as s:
        s.add(
            Listing(
                agent_id=agent,
                address="1",
                list_price=Decimal(1),
                status="active",
                created_at=dt.datetime(2026, 3, 1),
            )
        )


def test_stale_write_is_refused_not_overwritten(db: Database) -> None:
    agent = _agent(db)
    with db.read() as a, db.read() as b:
        first = a.get(User, agent)
        second = b.get(User, agent)
        assert first is not None and second is not None
        b.commit()  # another workstation holds the loaded copy, not a transaction
        first.first_name = "Annie"
        a.commit()
        second.first_name = "Anna"
        with pytest.raises(StaleDataError):
            b.commit()
    with db.read() as s:
        user = s.get(User, agent)
        assert user is not None and user.first_name == "Annie" and user.version == 2
