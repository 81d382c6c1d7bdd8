"""The pipeline in shared mode (migration 0008): each person's own login moves deals under
row-level security, audit chains are private to whoever sees the deal, and another
workstation hears of a move within a second (NOTIFY ``deals``), never of its details."""

from __future__ import annotations

import datetime as dt
import itertools
import os
import select
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from app.db.models import AuditEntry, Deal, DealStageEvent
from app.domain.enums import DealStage
from app.domain.errors import PerfDeskError
from app.services.audit import verify_all
from app.services.database import Database, open_database
from app.services.live import Listener
from app.services.pipeline.common import DealNotFound
from app.services.pipeline.moves import move_deal
from app.services.users import add_user
from tests.conftest import PgDatabases

pytestmark = pytest.mark.pg
_serial = itertools.count()
SECRET_TITLE = "Secret Ranch — 1 Hidden Way"
SECRET_NOTE = "Seller will take 20% less"


@dataclass
class Office:
    dbs: PgDatabases
    name: str
    db: Database
    logins: dict[str, str]
    ids: dict[str, int]
    opened: dict[str, Database]

    def as_(self, who: str) -> Database:
        if who not in self.opened:
            url = make_url(self.db.url).set(username=self.logins[who], password=None)
            self.opened[who] = open_database(url.render_as_string(hide_password=False))
        return self.opened[who]


@pytest.fixture
def office(pg_databases: PgDatabases) -> Iterator[Office]:
    name = pg_databases.create(template=pg_databases.migrated_template())
    db = open_database(pg_databases.url_for(name))
    tag = f"pl{os.getpid()}n{next(_serial)}"
    people = {"broker": ("broker", None), "agent": ("agent", "broker"), "rival": ("agent", None)}
    logins = {key: f"{key}.{tag}@example.com" for key in people}
    ids: dict[str, int] = {}
    for key, (role, broker) in people.items():
        info = add_user(
            db, logins[key], role, first_name=key.capitalize(), last_name="Test",
            broker_email=logins[broker] if broker else None,
        )  # fmt: skip
        ids[key] = info.id
    with db.session() as s:
        deal = Deal(
            ref=f"DL-{tag}", agent_id=ids["agent"], title=SECRET_TITLE, asset_type="land",
            deal_type="buy_side", pipeline_stage=DealStage.PROPOSAL,
            estimated_value_amount=Decimal("250000.00"), estimated_value_currency="USD",
            confidence=Decimal("0.4"), created_at=dt.datetime(2026, 1, 5, tzinfo=dt.UTC),
        )  # fmt: skip
        s.add(deal)
        s.flush()
        ids["deal"] = deal.id
    result = Office(pg_databases, name, db, logins, ids, {})
    try:
        yield result
    finally:
        for opened in result.opened.values():
            opened.dispose()
        db.dispose()
        pg_databases.drop(name)


def _wait_for(listener: Listener, timeout: float = 1.0) -> list[str]:
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        ready, _, _ = select.select([listener.fileno()], [], [], left)
        if ready and (kinds := listener.drain()):
            return kinds
    return []


def _audit_count(db: Database, deal_id: int) -> int:
    with db.read() as s:
        return int(
            s.scalar(
                sa.select(sa.func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.chain_key == f"deal:{deal_id}")
            )
            or 0
        )


def test_the_agents_own_login_moves_their_deal_with_its_audit_entry(office: Office) -> None:
    agent = office.as_("agent")
    result = move_deal(agent, office.ids["deal"], DealStage.NEGOTIATION, note=SECRET_NOTE)
    assert result.to_stage is DealStage.NEGOTIATION
    assert _audit_count(agent, office.ids["deal"]) == 1
    assert verify_all(agent).intact
    with office.db.read() as s:
        event = s.scalars(sa.select(DealStageEvent)).one()
    assert event.changed_by_id == office.ids["agent"]


def test_a_broker_reads_their_agents_audit_chain_and_a_rival_reads_nothing(office: Office) -> None:
    move_deal(office.as_("agent"), office.ids["deal"], DealStage.NEGOTIATION, note=SECRET_NOTE)
    assert _audit_count(office.as_("broker"), office.ids["deal"]) == 1
    assert _audit_count(office.as_("rival"), office.ids["deal"]) == 0
    rival_check = verify_all(office.as_("rival"))
    assert rival_check.entries == 0 and rival_check.intact


def test_a_rival_cannot_move_the_deal_nor_append_to_its_chain(office: Office) -> None:
    rival = office.as_("rival")
    with pytest.raises(DealNotFound):
        move_deal(rival, office.ids["deal"], DealStage.NEGOTIATION)
    # Nor by hand: the insert policy refuses an entry on a chain of a deal it does not see.
    refused = pytest.raises(sa.exc.ProgrammingError, match="row-level security")
    with refused, rival.engine.begin() as c:
        c.execute(
                sa.text(
                    "INSERT INTO audit_entries (chain_key, seq, event_type, entity_type, "
                    "entity_id, actor_id, payload, recorded_at, prev_hash, hash) VALUES "
                    "(:k, 1, 'forged', 'deal', :d, :a, '{}', now(), :z, :z)"
                ),
                {"k": f"deal:{office.ids['deal']}", "d": str(office.ids["deal"]),
                 "a": office.ids["rival"], "z": "0" * 64},
            )  # fmt: skip
    assert _audit_count(office.db, office.ids["deal"]) == 0


def test_another_workstation_hears_of_a_move_within_a_second_and_nothing_more(
    office: Office,
) -> None:
    with Listener(office.db.url) as listener:
        assert listener.drain() == []
        started = time.monotonic()
        move_deal(office.as_("agent"), office.ids["deal"], DealStage.NEGOTIATION, note=SECRET_NOTE)
        kinds = _wait_for(listener)
        elapsed = time.monotonic() - started
    assert kinds == ["deals"]
    assert elapsed < 1.0


def test_the_notify_payload_never_carries_a_deals_details(office: Office) -> None:
    import psycopg

    from app.services.live import CHANNEL, conninfo

    with psycopg.connect(conninfo(office.db.url), autocommit=True) as conn:
        conn.execute(f"LISTEN {CHANNEL}")
        move_deal(office.as_("agent"), office.ids["deal"], DealStage.NEGOTIATION, note=SECRET_NOTE)
        payloads = [n.payload for n in conn.notifies(timeout=1.0, stop_after=1)]
    assert payloads == ["deals"]
    assert all(SECRET_TITLE not in p and SECRET_NOTE not in p for p in payloads)


def test_a_commission_change_is_heard_as_commissions(office: Office) -> None:
    with Listener(office.db.url) as listener:
        with office.db.engine.begin() as c:
            c.execute(
                sa.text(
                    "INSERT INTO commission_records (deal_id, agent_id, commission_type, "
                    "basis_amount, commission_rate, commission_amount, status, created_at, "
                    "version) VALUES (:d, :a, 'exclusive', 250000, 0.025, 6250, 'pending', "
                    "now(), 1)"
                ),
                {"d": office.ids["deal"], "a": office.ids["agent"]},
            )
        assert _wait_for(listener) == ["commissions"]


def test_two_logins_moving_one_deal_at_once_one_wins_the_other_is_told(office: Office) -> None:
    with office.db.read() as s:
        version = s.scalar(sa.select(Deal.version).where(Deal.id == office.ids["deal"]))
    assert version is not None
    move_deal(office.as_("agent"), office.ids["deal"], DealStage.NEGOTIATION,
              expected_version=version)  # fmt: skip
    with pytest.raises(PerfDeskError, match="changed on another workstation"):
        move_deal(office.as_("broker"), office.ids["deal"], DealStage.AGREEMENT,
                  expected_version=version)  # fmt: skip
    with office.db.read() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(DealStageEvent)) == 1
    assert _audit_count(office.db, office.ids["deal"]) == 1
