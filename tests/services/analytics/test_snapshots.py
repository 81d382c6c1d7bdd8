"""SPEC §10 daily snapshots on SQLite and PostgreSQL: rebuilt from the stage events and the
commission stamps, stored by upsert (idempotent), today's equal to the board and the ledger,
the job with its backfill, progress and cancel, and ``report snapshots``."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from app.cli import main
from app.db.models import (
    AgentPerformanceSnapshot,
    CommissionRecord,
    Deal,
    DealStageEvent,
    JobRun,
    Team,
)
from app.domain.enums import DealStage, DealStatus, JobStatus, JobTrigger
from app.services.analytics.snapshot_report import snapshot_lines, snapshots_json
from app.services.analytics.snapshots import store_snapshots
from app.services.database import Database
from app.services.jobs.runner import run_jobs
from app.services.users import add_user

UTC = dt.UTC
_refs = itertools.count(1)
S = AgentPerformanceSnapshot


def mail(name: str) -> str:
    return f"{name}.{os.getpid()}@snap.example"


def at(day: int, hour: int = 12) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, tzinfo=UTC)


def day(n: int) -> dt.date:
    return dt.date(2026, 11, n)


@dataclass(frozen=True)
class Office:
    db: Database
    ids: dict[str, int]


@pytest.fixture
def office(db: Database) -> Office:
    people = {
        "bob": ("broker", None, None),
        "mia": ("manager", "North", "bob"),
        "ann": ("agent", "North", "bob"),
        "cal": ("agent", None, "bob"),
        "old": ("agent", None, "bob"),
    }
    ids = {}
    for key, (role, team, broker) in people.items():
        ids[key] = add_user(
            db, mail(key), role, key.title(), "Test", team=team,
            broker_email=mail(broker) if broker else None,
        ).id  # fmt: skip
    with db.session() as s:
        s.execute(sa.update(Team).where(Team.name == "North").values(manager_id=ids["mia"]))
        s.execute(sa.text("UPDATE users SET is_active = false WHERE id = :i"), {"i": ids["old"]})
    return Office(db, ids)


def add_deal(
    o: Office,
    agent: str,
    created: dt.datetime,
    moves: list[tuple[dt.datetime, str]],
    value: str = "100000",
    confidence: str = "0.5",
    currency: str = "USD",
    status: DealStatus | None = None,
) -> int:
    """A deal created at ``created`` in the first move's stage, moved as ``moves`` say."""
    stages = [DealStage(m[1]) for m in moves]
    last = stages[-1]
    with o.db.session() as s:
        deal = Deal(
            ref=f"SN-{os.getpid()}-{next(_refs)}",
            agent_id=o.ids[agent],
            title="1 Elm St",
            asset_type="residential",
            deal_type="buy_side",
            pipeline_stage=last,
            status=status
            or {
                DealStage.CLOSED_WON: DealStatus.CLOSED_WON,
                DealStage.CLOSED_LOST: DealStatus.CLOSED_LOST,
            }.get(last, DealStatus.OPEN),
            estimated_value_amount=Decimal(value),
            estimated_value_currency=currency,
            confidence=Decimal(confidence),
            created_at=created,
            actual_close_date=moves[-1][0].date() if last is DealStage.CLOSED_WON else None,
            stage_changed_at=moves[-1][0],
        )
        s.add(deal)
        s.flush()
        previous: DealStage | None = None
        for when, stage in zip((m[0] for m in moves), stages, strict=True):
            s.add(
                DealStageEvent(
                    deal_id=deal.id, from_stage=previous, to_stage=stage,
                    changed_by_id=o.ids["bob"], recorded_at=when,
                )
            )  # fmt: skip
            previous = stage
        return int(deal.id)


def add_commission(o: Office, deal_id: int, agent: str, status: str, **stamps: Any) -> None:
    with o.db.session() as s:
        s.add(
            CommissionRecord(
                deal_id=deal_id, agent_id=o.ids[agent], commission_type="exclusive",
                basis_amount=Decimal("100000"), commission_rate=Decimal("0.03"),
                commission_amount=Decimal("3000"), status=status,
                created_at=stamps.pop("created_at", at(1)), **stamps,
            )
        )  # fmt: skip


def stored(o: Office, agent: str) -> dict[dt.date, S]:
    with o.db.read() as s:
        rows = s.scalars(sa.select(S).where(S.agent_id == o.ids[agent])).all()
        for r in rows:
            s.expunge(r)
    return {r.as_of_date: r for r in rows}


def run(o: Office, first: int, last: int) -> None:
    with o.db.session() as s:
        store_snapshots(s, o.db.dialect, day(first), day(last))


def test_every_active_agent_and_broker_gets_a_row_zeros_included(office: Office) -> None:
    run(office, 3, 3)
    with office.db.read() as s:
        agents = set(s.scalars(sa.select(S.agent_id)))
    assert agents == {office.ids[k] for k in ("bob", "ann", "cal")}
    zero = stored(office, "cal")[day(3)]
    assert (zero.deals_open, zero.gross_pipeline_value, zero.conversion_rate) == (0, 0, None)


def test_a_past_day_is_rebuilt_from_the_stage_events(office: Office) -> None:
    add_deal(
        office, "ann", at(1),
        [(at(1), "lead_captured"), (at(3), "proposal"), (at(5), "closed_won")],
    )  # fmt: skip
    run(office, 1, 6)
    rows = stored(office, "ann")
    assert [rows[day(n)].deals_open for n in range(1, 7)] == [1, 1, 1, 1, 0, 0]
    assert [rows[day(n)].deals_closed_won for n in range(1, 7)] == [0, 0, 0, 0, 1, 1]
    assert rows[day(2)].ratios["deals_by_stage"]["lead_captured"] == 1
    assert rows[day(3)].ratios["deals_by_stage"]["proposal"] == 1
    assert rows[day(4)].weighted_pipeline_value == Decimal("50000.00")
    assert rows[day(5)].gross_pipeline_value == 0
    assert rows[day(5)].closed_won_volume == Decimal("100000.00")
    assert rows[day(5)].cycle_days_total == 4
    assert rows[day(5)].avg_cycle_days == Decimal("4.00")
    assert rows[day(6)].conversion_rate == Decimal("100.00")


def test_a_day_computed_alone_equals_the_same_day_in_a_backfill(office: Office) -> None:
    add_deal(office, "ann", at(1), [(at(1), "lead_captured"), (at(2), "closed_won")])
    add_deal(office, "ann", at(1), [(at(1), "proposal"), (at(4), "closed_lost")])
    deal = add_deal(office, "ann", at(2), [(at(2), "negotiation")], value="250000.10")
    add_commission(office, deal, "ann", "confirmed", confirmed_at=at(3))
    run(office, 1, 6)
    backfilled = stored(office, "ann")[day(6)]
    with office.db.session() as s:
        s.execute(sa.delete(S))
    run(office, 6, 6)  # every deal is now summed in SQL (nothing moved since the 6th)
    alone = stored(office, "ann")[day(6)]
    fields = (
        "deals_open", "deals_closed_won", "deals_closed_lost", "gross_pipeline_value",
        "weighted_pipeline_value", "closed_won_volume", "cycle_days_total", "avg_cycle_days",
        "conversion_rate", "confirmed_commission_amount", "disputed_commission_amount", "ratios",
    )  # fmt: skip
    assert {f: getattr(alone, f) for f in fields} == {f: getattr(backfilled, f) for f in fields}
    assert alone.weighted_pipeline_value == Decimal("125000.05")


def test_a_second_run_the_same_day_updates_and_never_duplicates(office: Office) -> None:
    deal = add_deal(office, "ann", at(1), [(at(1), "proposal")])
    run(office, 2, 2)
    with office.db.session() as s:
        s.execute(sa.update(Deal).where(Deal.id == deal).values(confidence=Decimal("0.9")))
    run(office, 2, 2)
    with office.db.read() as s:
        count = s.scalar(sa.select(sa.func.count()).select_from(S))
    assert count == 3
    assert stored(office, "ann")[day(2)].weighted_pipeline_value == Decimal("90000.00")


def test_commission_amounts_follow_the_status_stamps(office: Office) -> None:
    deal = add_deal(office, "ann", at(1), [(at(1), "closed_won")])
    add_commission(
        office, deal, "ann", "paid", created_at=at(1), confirmed_at=at(2), dispute_reason="x",
        disputed_at=at(3), resolved_at=at(4), paid_at=at(5),
    )  # fmt: skip
    run(office, 1, 5)
    rows = stored(office, "ann")
    assert [rows[day(n)].confirmed_commission_amount for n in range(1, 6)] == [
        0, Decimal(3000), 0, Decimal(3000), Decimal(3000),
    ]  # fmt: skip
    assert rows[day(3)].disputed_commission_amount == Decimal(3000)
    assert rows[day(1)].ratios["pending_commission_amount"] == "3000.00"


def test_other_currencies_count_but_are_not_summed_and_cancelled_deals_count_nowhere(
    office: Office,
) -> None:
    add_deal(office, "ann", at(1), [(at(1), "proposal")], currency="SGD")
    add_deal(office, "ann", at(1), [(at(1), "proposal")], status=DealStatus.CANCELLED)
    add_deal(office, "ann", at(1), [(at(1), "proposal")])
    run(office, 2, 2)
    row = stored(office, "ann")[day(2)]
    assert row.deals_open == 2
    assert row.gross_pipeline_value == Decimal("100000.00")
    assert row.ratios["other_currency_deals"] == 1


def test_todays_snapshot_is_what_the_board_and_the_ledger_show(office: Office) -> None:
    today = dt.datetime.now(UTC).date()
    now = dt.datetime.now(UTC) - dt.timedelta(minutes=5)
    earlier = now - dt.timedelta(days=40)
    add_deal(office, "cal", earlier, [(earlier, "proposal"), (now, "closed_won")], value="300000")
    add_deal(office, "cal", earlier, [(earlier, "agreement")], value="80000", confidence="0.8")
    lost = add_deal(office, "cal", earlier, [(earlier, "proposal"), (now, "closed_lost")])
    add_commission(
        office, lost, "cal", "disputed", created_at=earlier, disputed_at=now,
        disputed_from_status="pending", dispute_reason="Wrong split",
    )  # fmt: skip
    with office.db.session() as s:
        store_snapshots(s, office.db.dialect, today, today)
    with office.db.read() as s:
        open_deals = s.execute(
            sa.select(sa.func.count(), sa.func.sum(Deal.estimated_value_amount)).where(
                Deal.agent_id == office.ids["cal"], Deal.status == DealStatus.OPEN
            )
        ).one()
    row = stored(office, "cal")[today]
    assert (row.deals_open, row.gross_pipeline_value) == (open_deals[0], open_deals[1])
    assert row.weighted_pipeline_value == Decimal("64000.00")
    assert row.conversion_rate == Decimal("50.00")
    assert row.avg_cycle_days == Decimal("40.00")
    assert row.disputed_commission_amount == Decimal("3000.00")


def test_the_job_backfills_with_progress_and_logs_its_run(office: Office) -> None:
    seen: list[tuple[int, int, str]] = []
    results = run_jobs(
        office.db, ["snapshots"], day(10), JobTrigger.CLI, {"snapshots": {"days": 3}},
        progress=lambda done, total, text: seen.append((done, total, text)),
    )  # fmt: skip
    assert results[0].status is JobStatus.SUCCEEDED and results[0].rows_affected == 9
    assert seen == [(1, 3, "2026-11-08"), (2, 3, "2026-11-09"), (3, 3, "2026-11-10")]
    with office.db.read() as s:
        log = s.execute(sa.select(JobRun.status, JobRun.message)).one()
    assert log.status == "succeeded" and "2026-11-08 to 2026-11-10" in (log.message or "")


def test_a_cancelled_job_fails_and_stores_nothing(office: Office) -> None:
    results = run_jobs(
        office.db, ["snapshots"], day(10), JobTrigger.CLI, {"snapshots": {"days": 3}},
        cancelled=lambda: True,
    )  # fmt: skip
    assert results[0].status is JobStatus.FAILED
    assert "Cancelled" in (results[0].message or "")
    with office.db.read() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(S)) == 0


def test_a_bad_number_of_days_is_refused_and_the_run_logged_failed(office: Office) -> None:
    results = run_jobs(office.db, ["snapshots"], day(10), options={"snapshots": {"days": 0}})
    assert results[0].status is JobStatus.FAILED
    assert "days must be a whole number from 1 to 400" in (results[0].message or "")


def test_report_snapshots_json_shape_and_visibility(
    office: Office, capsys: pytest.CaptureFixture[str]
) -> None:
    add_deal(office, "ann", at(1), [(at(1), "proposal")], value="1234.565", confidence="1")
    run(office, 1, 2)
    acting = ["--as", mail("bob")] if office.db.is_local else []
    code = main(
        ["--db", office.db.url, *acting, "report", "snapshots", "--from", "2026-11-02",
         "--to", "2026-11-02", "--agent", mail("ann"), "--json"]
    )  # fmt: skip
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    (row,) = data["snapshots"]
    assert row["email"] == mail("ann") and row["as_of_date"] == "2026-11-02"
    assert row["gross_pipeline_value"] == "1234.57"
    assert row["deals_open"] == 1 and row["conversion_rate"] is None
    assert row["ratios"]["deals_by_stage"]["proposal"] == 1
    if office.db.is_local:
        # An agent sees only their own snapshots (SPEC §1: deals and commissions).
        mine = snapshot_lines(office.db, day(1), day(2), acting=mail("cal"))
        assert {line.email for line in mine} == {mail("cal")}
        team = snapshot_lines(office.db, day(2), day(2), acting=mail("mia"))
        assert {line.email for line in team} == {mail("ann")}
    assert snapshots_json([])["snapshots"] == []


def test_report_snapshots_refuses_a_range_that_ends_before_it_starts(
    office: Office, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["--db", office.db.url, "report", "snapshots", "--from", "2026-11-05", "--to",
         "2026-11-01"]
    )  # fmt: skip
    assert code == 2
    assert "--to is before --from" in capsys.readouterr().err
