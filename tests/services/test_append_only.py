"""Stage events, audit entries and locked pro formas are append-only in the database itself."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa

from app.db.models import (
    AuditEntry,
    Buyer,
    Deal,
    DealPerformance,
    DealStageEvent,
    User,
)
from app.domain.audit import GENESIS_HASH
from app.services.database import Database

NOW = dt.datetime(2026, 5, 1, 12, tzinfo=dt.UTC)


@pytest.fixture
def seeded(db: Database) -> Database:
    with db.session() as s:
        u = User(email="cara@example.com", first_name="Cara", last_name="Diaz", role="closer")
        s.add(u)
        s.flush()
        deal = Deal(
            agent_id=u.id,
            title="Oak duplex",
            asset_type="residential",
            deal_type="sale",
            pipeline_stage="qualification",
            status="open",
            estimated_value_amount=Decimal("450000"),
            estimated_value_currency="USD",
            confidence=Decimal("0.5"),
        )
        s.add(deal)
        s.flush()
        s.add(
            DealStageEvent(
                deal_id=deal.id,
                from_stage="lead_captured",
                to_stage="qualification",
                changed_by_id=u.id,
                recorded_at=NOW,
            )
        )
        s.add(
            AuditEntry(
                id=1,
                chain_key=f"deal:{deal.id}",
                seq=1,
                event_type="deal_stage_transition",
                entity_type="deal",
                entity_id=str(deal.id),
                actor_id=u.id,
                payload={"to": "qualification"},
                recorded_at=NOW,
                prev_hash=GENESIS_HASH,
                hash="f" * 64,
            )
        )
        buyer = Buyer(name="Acme Holdings")
        s.add(buyer)
        s.flush()
        s.add(
            DealPerformance(
                buyer_id=buyer.id,
                strategy="buy_hold",
                market_key="bakersfield",
                closed_date=dt.date(2026, 1, 15),
                purchase_price=Decimal("300000"),
                projected_rent=Decimal("2400"),
                projected_noi=Decimal("1700"),
                projected_monthly_cash_flow=Decimal("350"),
                projected_dscr=Decimal("1.30"),
                assumptions=["5% vacancy"],
                locked_at=NOW,
                locked_by=u.id,
            )
        )
    return db


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE deal_stage_events SET note = 'rewritten'",
        "DELETE FROM deal_stage_events",
        "UPDATE audit_entries SET hash = 'x'",
        "DELETE FROM audit_entries",
        "UPDATE deal_performances SET projected_rent = 9999",
        "UPDATE deal_performances SET projected_dscr = 2",
        "UPDATE deal_performances SET assumptions = '[]'",
        "UPDATE deal_performances SET locked_at = NULL",
        "DELETE FROM deal_performances",
    ],
)
def test_raw_sql_cannot_rewrite_history(seeded: Database, statement: str) -> None:
    with pytest.raises(sa.exc.DBAPIError), seeded.session() as s:
        s.execute(sa.text(statement))
    with seeded.read() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(DealStageEvent)) == 1
        assert s.scalar(sa.select(AuditEntry.hash)) == "f" * 64
        assert s.scalar(sa.select(DealPerformance.projected_rent)) == Decimal("2400")


def test_unlocked_fields_of_a_performance_record_can_still_change(seeded: Database) -> None:
    with seeded.session() as s:
        s.execute(sa.text("UPDATE deal_performances SET current_grade = 'B'"))
    with seeded.read() as s:
        assert s.scalar(sa.select(DealPerformance.current_grade)) == "B"


def test_appending_still_works(seeded: Database) -> None:
    with seeded.session() as s:
        deal_id = s.scalar(sa.select(Deal.id))
        user_id = s.scalar(sa.select(User.id))
        s.add(
            DealStageEvent(
                deal_id=deal_id,
                from_stage="qualification",
                to_stage="proposal",
                changed_by_id=user_id,
                recorded_at=NOW,
            )
        )
    with seeded.read() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(DealStageEvent)) == 2
