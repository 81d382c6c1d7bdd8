"""``report commissions --json`` on the command line (SPEC §12), on SQLite and PostgreSQL: the
shape, amounts by status, each agent's gross, adjustments and net, visibility with --as, the
filters, --as-of, exit codes."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from app.db.models import Deal, User
from app.domain.enums import CommissionStatus, DealStage, DealStatus
from app.services import commissions as cm
from app.services.commissions import CommissionFields
from app.services.database import Database
from app.services.users import add_user

ROOT = Path(__file__).resolve().parents[2]
MAIN = ROOT / "main.py"
MONEY = re.compile(r"^-?\d+\.\d\d$")
UTC = dt.UTC
T0 = dt.datetime(2025, 10, 1, 12, tzinfo=UTC)
S = CommissionStatus
STATUSES = ["pending", "confirmed", "invoiced", "paid", "disputed", "written_off"]


def mail(name: str) -> str:
    return f"{name}.{os.getpid()}@office.example"


BOB, ZOE, ANN, CAL, DEE = (mail(n) for n in ("bob", "zoe", "ann", "cal", "dee"))


@pytest.fixture
def office(db: Database) -> Database:
    """Bob's agents Ann and Cal, Zoe's agent Dee; deals in USD and one of Ann's in SGD."""
    add_user(db, BOB, "broker", "Bob", "Broker")
    add_user(db, ZOE, "broker", "Zoe", "Other")
    add_user(db, ANN, "agent", "Ann", "Lee", team="North", broker_email=BOB)
    add_user(db, CAL, "agent", "Cal", "Ray", team="South", broker_email=BOB)
    add_user(db, DEE, "agent", "Dee", "Ng", broker_email=ZOE)
    with db.session() as s:
        ids = {e: s.scalar(sa.select(User.id).where(User.email == e)) for e in (ANN, CAL, DEE)}
        deals = {}
        for key, owner, currency in (
            ("ann", ANN, "USD"), ("cal", CAL, "USD"), ("dee", DEE, "USD"), ("sgd", ANN, "SGD"),
        ):  # fmt: skip
            deal = Deal(
                ref=f"DL-{os.getpid()}-{key}", agent_id=ids[owner], title=f"{key} deal",
                asset_type="condo", deal_type="acquisition", pipeline_stage=DealStage.PROPOSAL,
                status=DealStatus.OPEN, estimated_value_amount=Decimal(500000),
                estimated_value_currency=currency, confidence=Decimal("0.5"), created_at=T0,
            )  # fmt: skip
            s.add(deal)
            s.flush()
            deals[key] = deal.id
    me = None if db.is_local else BOB

    def new(deal: str, agent: str, ctype: str, basis: str, rate: str, day: int) -> int:
        fields = CommissionFields(
            deal_id=deals[deal], agent_email=agent, commission_type=ctype,
            basis_amount=Decimal(basis), commission_rate=Decimal(rate),
        )  # fmt: skip
        at = T0 + dt.timedelta(days=day)
        return cm.create_commission(db, fields, acting=me if deal != "dee" else ZOE, now=at).id

    a1 = new("ann", ANN, "exclusive", "400000", "0.025", 0)  # 10,000.00 → paid
    a2 = new("ann", CAL, "co_broke", "400000", "0.01", 1)  # 4,000.00 → confirmed
    c1 = new("cal", CAL, "exclusive", "100000", "0.03", 2)  # 3,000.00 pending
    d1 = new("dee", DEE, "exclusive", "200000", "0.02", 3)  # 4,000.00 (Zoe's office)
    d2 = new("dee", ANN, "referral", "200000", "0.005", 4)  # 1,000.00 Ann earns on Dee's deal
    s1 = new("sgd", ANN, "exclusive", "300000", "0.02", 5)  # SGD 6,000.00
    late = new("cal", ANN, "referral", "100000", "0.01", 40)  # 1,000.00, after --as-of
    for to, day in ((S.CONFIRMED, 6), (S.INVOICED, 7), (S.PAID, 8)):
        cm.change_status(db, a1, to, acting=me, now=T0 + dt.timedelta(days=day))
    cm.change_status(db, a2, S.CONFIRMED, acting=me, now=T0 + dt.timedelta(days=6))
    cm.add_adjustment(
        db, a1, "clawback", Decimal("-500.25"), "Buyer cancelled", acting=me,
        now=T0 + dt.timedelta(days=9),
    )  # fmt: skip
    cm.add_adjustment(
        db, a1, "bonus", Decimal("100"), "On time", acting=me, now=T0 + dt.timedelta(days=45)
    )
    cm.dispute(db, c1, "Wrong rate", acting=me, now=T0 + dt.timedelta(days=10))
    cm.add_adjustment(db, s1, "bonus", Decimal("50"), "SGD bonus", acting=me, now=T0)
    del d1, d2, late
    return db


@pytest.fixture
def run(tmp_path: Path, office: Database):  # type: ignore[no-untyped-def]
    env = {k: v for k, v in os.environ.items() if k != "PERFDESK_DB_URL"}
    env.update(HOME=str(tmp_path), XDG_DATA_HOME=str(tmp_path / "data"))
    url = office.engine.url.render_as_string(hide_password=False)

    def go(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(MAIN), "--db", url, *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=120,
        )

    return go


def report(run: Any, *args: str) -> dict[str, Any]:
    done = run("report", "commissions", "--json", *args)
    assert (done.returncode, done.stderr) == (0, "")
    shown: dict[str, Any] = json.loads(done.stdout)
    return shown


def agents(shown: dict[str, Any]) -> dict[str, tuple[str, str, str]]:
    return {a["email"]: (a["gross"], a["adjustments"], a["net"]) for a in shown["agents"]}


def test_the_json_has_the_shape_of_spec_12_and_the_brokers_figures(run: Any) -> None:
    shown = report(run, "--as", BOB)
    assert list(shown) == ["currency", "by_status", "agents", "other_currencies"]
    assert shown["currency"] == "USD"
    assert list(shown["by_status"]) == STATUSES
    assert shown["by_status"] == {
        "pending": "2000.00",  # Ann's late referral on Cal's deal, her referral on Dee's
        "confirmed": "4000.00",
        "invoiced": "0.00",
        "paid": "10000.00",
        "disputed": "3000.00",
        "written_off": "0.00",
    }
    for agent in shown["agents"]:
        assert list(agent) == ["email", "gross", "adjustments", "net"]
        assert all(MONEY.match(agent[k]) for k in ("gross", "adjustments", "net"))
    assert [a["email"] for a in shown["agents"]] == sorted([ANN, CAL])
    # Ann: 10,000 (paid) + 1,000 (late referral) + 1,000 (referral on Dee's deal: Bob sees
    # Ann's earnings too) − 500.25 + 100; Cal: 4,000 + 3,000.
    assert agents(shown) == {
        ANN: ("12000.00", "-400.25", "11599.75"),
        CAL: ("7000.00", "0.00", "7000.00"),
    }
    assert shown["other_currencies"] == {
        "SGD": {
            "by_status": dict.fromkeys(STATUSES, "0.00") | {"pending": "6000.00"},
            "agents": [
                {"email": ANN, "gross": "6000.00", "adjustments": "50.00", "net": "6050.00"}
            ],
        }
    }


def test_each_person_sees_what_spec_1_allows(run: Any) -> None:
    # Cal: his deal (his own and Ann's late referral on it) and his co-broke on Ann's deal.
    assert agents(report(run, "--as", CAL)) == {
        ANN: ("1000.00", "0.00", "1000.00"),
        CAL: ("7000.00", "0.00", "7000.00"),
    }
    zoe = report(run, "--as", ZOE)
    assert agents(zoe) == {ANN: ("1000.00", "0.00", "1000.00"), DEE: ("4000.00", "0.00", "4000.00")}
    assert zoe["by_status"]["pending"] == "5000.00" and zoe["other_currencies"] == {}


def test_filters_and_as_of(run: Any, office: Database) -> None:
    paid = report(run, "--as", BOB, "--status", "paid")
    assert paid["by_status"]["paid"] == "10000.00" and paid["by_status"]["pending"] == "0.00"
    assert agents(paid) == {ANN: ("10000.00", "-400.25", "9599.75")}
    cal = report(run, "--as", BOB, "--agent", CAL.upper())
    assert agents(cal) == {CAL: ("7000.00", "0.00", "7000.00")}
    deal = report(run, "--as", BOB, "--deal", f"DL-{os.getpid()}-cal")
    assert agents(deal) == {
        ANN: ("1000.00", "0.00", "1000.00"),
        CAL: ("3000.00", "0.00", "3000.00"),
    }
    window = report(run, "--as", BOB, "--from", "2025-10-02", "--to", "2025-10-03")
    assert agents(window) == {CAL: ("7000.00", "0.00", "7000.00")}  # days 1 and 2
    # As of 2025-10-20: the late referral (day 40) and the bonus (day 45) do not count yet.
    early = report(run, "--as", BOB, "--as-of", "2025-10-20")
    assert early["by_status"]["pending"] == "1000.00"
    assert agents(early)[ANN] == ("11000.00", "-500.25", "10499.75")
    if office.is_local:  # nobody named in local mode: the whole office
        everything = report(run)
        assert set(agents(everything)) == {ANN, CAL, DEE}


def test_bad_options_exit_with_one_line(run: Any) -> None:
    unknown = run("report", "commissions", "--json", "--as", BOB, "--agent", "x@nowhere.example")
    assert unknown.returncode == 1 and unknown.stdout == ""
    assert (
        unknown.stderr.strip()
        == "--agent: no one with the email x@nowhere.example is in the office"
    )
    no_deal = run("report", "commissions", "--as", BOB, "--deal", "NOPE")
    assert no_deal.returncode == 1 and "NOPE" in no_deal.stderr
    assert len(no_deal.stderr.strip().splitlines()) == 1
    bad_status = run("report", "commissions", "--status", "lost")
    assert bad_status.returncode == 2 and "invalid choice" in bad_status.stderr
    table = run("report", "commissions", "--as", BOB)
    assert table.returncode == 0 and "paid" in table.stdout and ANN in table.stdout
    assert "in SGD: pending 6000.00" in table.stdout
