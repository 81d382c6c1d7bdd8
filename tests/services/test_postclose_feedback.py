"""What follows a rent-roll month (SPEC §9) on SQLite and PostgreSQL: a buy box's performance
rate and warning level, a buyer's engagement score, the alerts they raise, and "recalculate
all" (in the window, as the ``feedback`` job and on the command line), with the expected
numbers worked out by hand here.

On PostgreSQL the test login is the database owner, which is no person, so every call names
the acting person (``acting=``)."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.db.models import BuyBox, Buyer, JobRun, PerformancePeriod
from app.domain.enums import JobStatus
from app.services.database import Database
from app.services.jobs.runner import run_jobs
from app.services.postclose import catalog, periods, records
from app.services.postclose.periods import GridRow
from app.services.postclose.regrade import RecalculationCancelled, recalculate_all
from app.services.users import add_user

ROOT = Path(__file__).resolve().parents[2]
MAIN = ROOT / "main.py"
TODAY = dt.date(2026, 3, 15)
D = Decimal


def mail(name: str) -> str:
    """Emails are PostgreSQL login roles (cluster-wide): unique per test process."""
    return f"{name}.{os.getpid()}@office.example"


@dataclass(frozen=True)
class Office:
    db: Database
    bob: str  # broker
    mia: str  # manager
    cleo: str  # closer

    def buyer(self, name: str) -> int:
        return catalog.save_buyer(
            self.db, {"name": name, "email": "", "phone": ""}, acting=self.bob
        )

    def box(self, ref: str, min_dscr: str = "1.10") -> int:
        return catalog.save_buy_box(
            self.db,
            {
                "ref": ref,
                "name": f"Box {ref}",
                "market_key": "CA-BAKERSFIELD",
                "strategy": "buy_hold",
                "min_dscr": min_dscr,
                "buyer_id": "",
            },
            acting=self.bob,
        ).id

    def record(self, ref: str, buyer: int, box: int | None, **kw: str) -> int:
        """Projected rent 2,400, NOI 1,700 (expenses 700), cash flow 350, DSCR 1.30 unless
        told otherwise."""
        texts = {
            "ref": ref,
            "market_key": "CA-BAKERSFIELD",
            "strategy": "buy_hold",
            "closed_date": "2025-12-01",
            "purchase_price": "300000",
            "loan_type": "DSCR",
            "projected_rent": "2400",
            "projected_noi": "1700",
            "projected_monthly_cash_flow": "350",
            "projected_dscr": "1.30",
            **kw,
        }
        return records.create_record(self.db, texts, buyer, box, acting=self.cleo, today=TODAY)

    def enter(self, rid: int, year: int, month: int, texts: dict[str, str]) -> periods.PeriodSaved:
        return periods.add_period(self.db, rid, year, month, texts, acting=self.mia, today=TODAY)

    def change(self, period_id: int, texts: dict[str, str]) -> periods.PeriodSaved:
        version = periods.get_period(self.db, period_id).version
        return periods.update_period(self.db, period_id, texts, version, acting=self.bob)


@pytest.fixture
def office(db: Database) -> Office:
    add_user(db, mail("bob"), "broker", "Bob", "Broker")
    add_user(db, mail("mia"), "manager", "Mia", "Manager", broker_email=mail("bob"))
    add_user(db, mail("cleo"), "closer", "Cleo", "Closer", broker_email=mail("bob"))
    return Office(db, mail("bob"), mail("mia"), mail("cleo"))


def month(
    rent: str, vacancy: str, expenses: str, noi: str, cash_flow: str, dscr: str
) -> dict[str, str]:
    return {
        "actual_rent_collected": rent,
        "actual_vacancy_rate": vacancy,
        "expenses_total": expenses,
        "actual_noi": noi,
        "actual_monthly_cash_flow": cash_flow,
        "actual_dscr": dscr,
    }


# Against the projection above and a required DSCR of 1.10 (hand-worked, see
# test_rent_roll_entry.py for the full variances):
A = month("2450", "0.02", "700", "1750", "380", "1.35")  # cf +30: A
A_150 = month("2400", "0.03", "700", "1700", "500", "1.40")  # cf +150 (+42.86 %): A
C_OVERRUN = month("2100", "0.08", "900", "1200", "320", "1.15")  # cf −30, expenses +28.57 %: C
C_MODERATE = month("2400", "0.05", "840", "1560", "300", "1.25")  # cf −50 (−14.29 %): C
D_DSCR = month("2400", "0", "700", "1700", "360", "0.95")  # cf +10, DSCR < 1: D


def box_state(db: Database, box_id: int) -> tuple[Decimal | None, str | None]:
    with db.read() as s:
        row = s.execute(
            sa.select(BuyBox.performance_rate, BuyBox.warning_level).where(BuyBox.id == box_id)
        ).one()
    return row[0], None if row[1] is None else str(row[1])


def score(db: Database, buyer_id: int) -> Decimal | None:
    with db.read() as s:
        return s.scalar(sa.select(Buyer.engagement_score).where(Buyer.id == buyer_id))


# -- buy boxes -----------------------------------------------------------------------------


def test_a_buy_box_below_60_percent_a_or_b_is_a_warning_and_below_40_critical(
    office: Office,
) -> None:
    o = office
    acme, birch = o.buyer("Acme Holdings"), o.buyer("Birch Fund")
    box = o.box("BB-1")
    r1 = o.record("BK-1", acme, box)
    r2 = o.record("BK-2", birch, box)
    r3 = o.record("BK-3", birch, box)
    assert box_state(o.db, box) == (None, None)

    # A of 1 = 100 %.
    saved = o.enter(r1, 2026, 1, A)
    assert (saved.grade, saved.alerts) == ("A", ())
    assert box_state(o.db, box) == (D("100.00"), None)

    # A, D = 50 %: WARNING, said once.
    saved = o.enter(r2, 2026, 1, D_DSCR)
    assert saved.grade == "D"
    assert box_state(o.db, box) == (D("50.00"), "WARNING")
    [alert] = saved.alerts
    assert (alert.kind, alert.subject_id) == ("buy_box.warning", box)
    assert alert.title == "Buy box Box BB-1 is WARNING"
    assert "50.00%" in alert.body and "below 60%" in alert.body

    # A, D, C = 33.33 %: from WARNING to CRITICAL is said too.
    saved = o.enter(r3, 2026, 1, C_OVERRUN)
    assert box_state(o.db, box) == (D("33.33"), "CRITICAL")
    [alert] = saved.alerts
    assert (alert.kind, alert.subject_id, alert.title) == (
        "buy_box.warning",
        box,
        "Buy box Box BB-1 is CRITICAL",
    )
    assert "below 40%" in alert.body

    # Staying CRITICAL says nothing: the D made a C (still not A or B).
    saved = o.change(periods.history(o.db, r2)[0].id, C_MODERATE)
    assert (saved.grade, saved.alerts) == ("C", ())
    assert box_state(o.db, box) == (D("33.33"), "CRITICAL")

    # A, A, C = 66.67 %: the warning is lifted, silently.
    saved = o.change(periods.history(o.db, r2)[0].id, A)
    assert (saved.grade, saved.alerts) == ("A", ())
    assert box_state(o.db, box) == (D("66.67"), None)

    # A WARNING entered again (from none) is said again: A, A, C, D of 4 = 50 % (a new
    # buyer's first score raises nothing).
    r4 = o.record("BK-4", o.buyer("Fay Trust"), box)
    saved = o.enter(r4, 2026, 1, D_DSCR)
    assert box_state(o.db, box) == (D("50.00"), "WARNING")
    assert [a.kind for a in saved.alerts] == ["buy_box.warning"]


def test_a_buy_box_counts_each_records_latest_month_only(office: Office) -> None:
    o = office
    acme = o.buyer("Acme Holdings")
    box = o.box("BB-1")
    r1, r2 = o.record("BK-1", acme, box), o.record("BK-2", acme, box)
    o.enter(r1, 2026, 1, D_DSCR)
    o.enter(r1, 2026, 2, A)  # r1 is now A
    o.enter(r2, 2026, 2, A)
    o.enter(r2, 2026, 1, D_DSCR)  # an earlier month: r2 stays A
    assert box_state(o.db, box) == (D("100.00"), None)


# -- buyers --------------------------------------------------------------------------------


def test_a_buyer_score_drop_of_10_or_more_raises_an_alert(office: Office) -> None:
    o = office
    cora = o.buyer("Cora Capital")
    # No buy box (required DSCR 1.25); projected cash flow 4,000 so that a B can miss it by
    # more than $300.
    rid = o.record(
        "BK-9", cora, None, projected_rent="9000", projected_noi="7000",
        projected_monthly_cash_flow="4000", projected_dscr="1.50",
    )  # fmt: skip
    on_plan = month("9000", "0.02", "2000", "7000", "4000", "1.50")  # cf ±0: A
    short_150 = month("9000", "0.02", "2000", "6850", "3850", "1.45")  # −150 (−3.75 %): B
    short_350 = month("9000", "0.02", "2000", "6650", "3650", "1.40")  # −350 (−8.75 %): B

    # Rate 100 (one record, A), mean variance 0: 100. A first score raises nothing.
    saved = o.enter(rid, 2026, 1, on_plan)
    assert (saved.grade, saved.alerts, score(o.db, cora)) == ("A", (), D("100.00"))

    # Rate 100, mean −150 (< −100): −5 → 95. A drop of 5: nothing.
    saved = o.enter(rid, 2026, 2, short_150)
    assert (saved.grade, saved.alerts, score(o.db, cora)) == ("B", (), D("95.00"))

    # Rate 100, mean −350 (< −300): −10 → 90. Another 5: nothing (10 in all, but in two steps).
    march = o.enter(rid, 2026, 3, short_350)
    assert (march.grade, march.alerts, score(o.db, cora)) == ("B", (), D("90.00"))

    # Back to plan (100), then −350 again: a drop of exactly 10 in one change.
    assert o.change(march.period_id, on_plan).alerts == ()
    assert score(o.db, cora) == D("100.00")
    saved = o.change(march.period_id, short_350)
    assert score(o.db, cora) == D("90.00")
    [alert] = saved.alerts
    assert (alert.kind, alert.subject_id) == ("buyer.score_drop", cora)
    assert alert.title == "Cora Capital's engagement score fell to 90.00"
    assert "It was 100.00" in alert.body


def test_the_engagement_score_adds_its_bonuses_and_is_clamped(office: Office) -> None:
    o = office
    dana = o.buyer("Dana Partners")
    box = o.box("BB-5")
    rids = [o.record(f"BK-5{i}", dana, box) for i in range(5)]
    rows = [GridRow(rid, A_150) for rid in rids[:4]] + [GridRow(rids[4], C_MODERATE)]
    saved = periods.save_month(o.db, 2026, 2, rows, acting=o.mia, today=TODAY)
    assert (saved.added, saved.alerts) == (5, ())
    # 4 of 5 A or B: 80; 5 records: +2; mean cash-flow variance (4 × 150 − 50) / 5 = 110
    # (> 100): +5. 87.
    assert box_state(o.db, box) == (D("80.00"), None)
    assert score(o.db, dana) == D("87.00")

    # All five A at +150: 100 + 2 + 5 = 107, clamped to 100.
    c = periods.history(o.db, rids[4])[0]
    saved = periods.save_month(
        o.db, 2026, 2, [GridRow(rids[4], A_150, c.id, c.version)], acting=o.bob, today=TODAY
    )
    assert (saved.added, saved.updated, saved.alerts) == (0, 1, ())
    assert box_state(o.db, box) == (D("100.00"), None)
    assert score(o.db, dana) == D("100.00")


def test_a_month_end_save_returns_the_alerts_it_raised(office: Office) -> None:
    o = office
    eve = o.buyer("Eve Investments")
    box = o.box("BB-6")
    r1, r2, r3 = (o.record(f"BK-6{i}", eve, box) for i in range(3))
    periods.save_month(
        o.db, 2026, 1, [GridRow(r, A) for r in (r1, r2, r3)], acting=o.mia, today=TODAY
    )
    assert (box_state(o.db, box), score(o.db, eve)) == ((D("100.00"), None), D("100.00"))
    # February: A, D, D → 33.33 % CRITICAL; Eve: 33.33, mean (30 + 10 + 10) / 3 = 16.67 → 33.33.
    saved = periods.save_month(
        o.db, 2026, 2, [GridRow(r1, A), GridRow(r2, D_DSCR), GridRow(r3, D_DSCR)],
        acting=o.mia, today=TODAY,
    )  # fmt: skip
    assert [(a.kind, a.subject_id) for a in saved.alerts] == [
        ("buy_box.warning", box),
        ("buyer.score_drop", eve),
    ]
    assert box_state(o.db, box) == (D("33.33"), "CRITICAL")
    assert score(o.db, eve) == D("33.33")


# -- recalculate all -----------------------------------------------------------------------


@dataclass(frozen=True)
class Tampered:
    record: int
    jan: int
    feb: int
    box: int


def tampered(o: Office) -> Tampered:
    """A record with January C (cf −30) and February A, whose stored February grade, January
    cash-flow variance and current grade were then overwritten behind the service's back."""
    acme = o.buyer("Acme Holdings")
    box = o.box("BB-1")
    rid = o.record("BK-1", acme, box)
    jan = o.enter(rid, 2026, 1, C_OVERRUN).period_id
    feb = o.enter(rid, 2026, 2, A).period_id
    with o.db.engine.begin() as c:
        c.execute(sa.text("UPDATE performance_periods SET grade = 'D' WHERE id = :id"), {"id": feb})
        c.execute(
            sa.text("UPDATE performance_periods SET cash_flow_variance = 0 WHERE id = :id"),
            {"id": jan},
        )
        c.execute(
            sa.text("UPDATE deal_performances SET current_grade = 'D' WHERE id = :id"),
            {"id": rid},
        )
    return Tampered(rid, jan, feb, box)


def stored(db: Database, t: Tampered) -> tuple[str, Decimal, str | None]:
    """(February's grade, January's cash-flow variance, the record's current grade)."""
    with db.read() as s:
        feb = s.get_one(PerformancePeriod, t.feb).grade
        jan = s.get_one(PerformancePeriod, t.jan).cash_flow_variance
    return feb, jan, records.record_info(db, t.record).current_grade


TAMPERED = ("D", D("0"), "D")
REPAIRED = ("A", D("-30"), "A")


def test_recalculate_all_repairs_tampered_grades_and_reports_progress(office: Office) -> None:
    t = tampered(office)
    assert stored(office.db, t) == TAMPERED
    calls: list[tuple[int, int]] = []
    result = recalculate_all(office.db, progress=lambda done, total: calls.append((done, total)))
    assert stored(office.db, t) == REPAIRED
    assert (result.periods, result.records, result.alerts) == (2, 1, [])
    assert calls == [(2, 2)]
    row = periods.get_period(office.db, t.feb)
    assert (row.grade, row.flags) == ("A", ())
    # Nothing left to repair.
    again = recalculate_all(office.db)
    assert (again.periods, again.records) == (0, 0)


def test_recalculate_all_repairs_the_buy_box_and_buyer_too(office: Office) -> None:
    t = tampered(office)
    with office.db.engine.begin() as c:
        c.execute(sa.text("UPDATE buy_boxes SET performance_rate = 0, warning_level = 'CRITICAL'"))
    result = recalculate_all(office.db)
    assert box_state(office.db, t.box) == (D("100.00"), None)
    assert result.alerts == []  # a lifted warning raises nothing


def test_a_cancelled_recalculation_writes_nothing(office: Office) -> None:
    t = tampered(office)
    calls: list[tuple[int, int]] = []
    with pytest.raises(RecalculationCancelled, match="nothing was changed"):
        recalculate_all(office.db, lambda d, n: calls.append((d, n)), cancelled=lambda: True)
    assert calls == []
    assert stored(office.db, t) == TAMPERED

    # Cancelled after every period was graded, before anything was written.
    answers = iter([False, True])
    with pytest.raises(RecalculationCancelled):
        recalculate_all(
            office.db, lambda d, n: calls.append((d, n)), cancelled=lambda: next(answers)
        )
    assert calls == [(2, 2)]
    assert stored(office.db, t) == TAMPERED


# -- the feedback job ----------------------------------------------------------------------


def job_runs(db: Database) -> list[tuple[str, str, int | None]]:
    with db.read() as s:
        rows = s.execute(
            sa.select(JobRun.job_name, JobRun.status, JobRun.rows_affected).order_by(JobRun.id)
        ).all()
    return [tuple(r) for r in rows]  # type: ignore[misc]


def test_the_feedback_job_repairs_and_reports_the_rows_it_changed(office: Office) -> None:
    t = tampered(office)
    [result] = run_jobs(office.db, ["feedback"], TODAY)
    assert (result.name, result.status, result.rows_affected, result.message) == (
        "feedback",
        JobStatus.SUCCEEDED,
        3,  # two periods and one record
        None,
    )
    assert stored(office.db, t) == REPAIRED
    [again] = run_jobs(office.db, ["feedback"], TODAY)
    assert (again.status, again.rows_affected) == (JobStatus.SUCCEEDED, 0)
    assert job_runs(office.db) == [("feedback", "succeeded", 3), ("feedback", "succeeded", 0)]


def test_jobs_run_feedback_on_the_command_line(office: Office, tmp_path: Path) -> None:
    t = tampered(office)
    env = {k: v for k, v in os.environ.items() if k != "PERFDESK_DB_URL"}
    env.update(HOME=str(tmp_path), XDG_DATA_HOME=str(tmp_path / "data"))
    done = subprocess.run(
        [sys.executable, str(MAIN), "jobs", "run", "feedback", "--db", office.db.url],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert (done.returncode, done.stderr) == (0, "")
    [line] = done.stdout.splitlines()
    assert line.startswith("feedback  succeeded  rows=3  "), line
    assert stored(office.db, t) == REPAIRED
    assert job_runs(office.db) == [("feedback", "succeeded", 3)]
