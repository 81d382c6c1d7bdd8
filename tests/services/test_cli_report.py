"""``report agents`` on the command line (SPEC §12): the JSON shape, --as, exit codes."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from app.db.models import Appointment, Escrow, Lead, User
from app.services.database import open_database

ROOT = Path(__file__).resolve().parents[2]
MAIN = ROOT / "main.py"
AGENT_KEYS = [
    "email",
    "name",
    "total_leads",
    "new_leads",
    "converted_leads",
    "conversion_rate_pct",
    "appointments_scheduled",
    "appointments_completed",
    "no_shows",
    "show_rate_pct",
    "escrows_ytd",
    "volume_ytd",
    "commission_ytd",
    "active_clients",
    "active_listings",
    "last_activity",
]
MONEY = re.compile(r"^-?\d+\.\d\d$")
UTC_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def db_url(sqlite_template: Path, tmp_path: Path) -> str:
    """A local file with a broker, two agents, a closer and a little of everything."""
    path = tmp_path / "office.sqlite3"
    shutil.copyfile(sqlite_template, path)
    url = f"sqlite:///{path}"
    db = open_database(url)
    at = dt.datetime(2025, 10, 10, 15, 30, tzinfo=dt.UTC)
    try:
        with db.session() as s:

            def person(first: str, last: str, role: str, broker: int | None = None) -> User:
                u = User(
                    email=f"{first}.{last}@example.com".lower(),
                    first_name=first,
                    last_name=last,
                    role=role,
                    broker_id=broker,
                )
                s.add(u)
                s.flush()
                return u

            josh = person("Josh", "Riley", "broker")
            jayden = person("Jayden", "Metz", "agent", josh.id)
            person("Cole", "Rangel", "agent", josh.id)
            person("Dana", "Kessler", "closer", josh.id)
            for status in ("converted", "new", "new"):
                s.add(Lead(owner_id=jayden.id, name="L", status=status, created_at=at))
            s.add(Lead(owner_id=josh.id, name="P", status="new", is_private=True, created_at=at))
            for status in ("completed", "completed", "no_show"):
                s.add(
                    Appointment(
                        agent_id=jayden.id,
                        title="Viewing",
                        start_time=at,
                        status=status,
                        created_at=at - dt.timedelta(days=2),
                    )
                )
            for owner, price in ((jayden.id, "450000"), (josh.id, "400000.5")):
                s.add(
                    Escrow(
                        agent_id=owner,
                        property_address="123 Main St",
                        purchase_price=Decimal(price),
                        my_commission=Decimal("13500"),
                        escrow_status="Active",
                        created_at=at,
                    )
                )
    finally:
        db.dispose()
    return url


@pytest.fixture
def run(tmp_path: Path) -> Run:
    env = {k: v for k, v in os.environ.items() if k != "PERFDESK_DB_URL"}
    env.update(HOME=str(tmp_path), XDG_DATA_HOME=str(tmp_path / "data"))

    def go(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(MAIN), *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=120,
        )

    return go


def report(run: Run, db_url: str, *args: str) -> dict[str, Any]:
    done = run("--db", db_url, "--as-of", "2025-10-22", "report", "agents", "--json", *args)
    assert (done.returncode, done.stderr) == (0, "")
    shown: dict[str, Any] = json.loads(done.stdout)
    return shown


def test_report_agents_json_has_the_shape_of_spec_12(run: Run, db_url: str) -> None:
    shown = report(run, db_url, "--as", "josh.riley@example.com")

    assert list(shown) == ["as_of", "agents", "brokerage"]
    assert shown["as_of"] == "2025-10-22"
    assert [a["email"] for a in shown["agents"]] == [
        "cole.rangel@example.com",
        "jayden.metz@example.com",
    ]
    for agent in shown["agents"]:
        assert list(agent) == AGENT_KEYS
        assert MONEY.match(agent["volume_ytd"]) and MONEY.match(agent["commission_ytd"])
        assert agent["last_activity"] is None or UTC_TIME.match(agent["last_activity"])
    cole, jayden = shown["agents"]
    assert jayden == {
        "email": "jayden.metz@example.com",
        "name": "Jayden Metz",
        "total_leads": 3,
        "new_leads": 3,
        "converted_leads": 1,
        "conversion_rate_pct": 33.33,
        "appointments_scheduled": 3,
        "appointments_completed": 2,
        "no_shows": 1,
        "show_rate_pct": 66.7,
        "escrows_ytd": 1,
        "volume_ytd": "450000.00",
        "commission_ytd": "13500.00",
        "active_clients": 0,
        "active_listings": 0,
        "last_activity": "2025-10-10T15:30:00Z",
    }
    assert (cole["conversion_rate_pct"], cole["show_rate_pct"], cole["last_activity"]) == (
        None,
        None,
        None,
    )
    assert cole["volume_ytd"] == "0.00"
    assert shown["brokerage"] == {  # the broker's own escrow counts in the totals
        "volume_ytd": "850000.50",
        "escrows_ytd": 2,
        "active_clients": 0,
        "active_listings": 0,
    }


def test_report_agents_as_an_agent_shows_only_their_row(run: Run, db_url: str) -> None:
    shown = report(run, db_url, "--as", "jayden.metz@example.com")

    assert [a["email"] for a in shown["agents"]] == ["jayden.metz@example.com"]
    assert shown["brokerage"]["volume_ytd"] == "450000.00"


def test_report_agents_period_days_sets_the_period(run: Run, db_url: str) -> None:
    week = report(run, db_url, "--period-days", "7")  # 16–22 October: the 10th is out
    month = report(run, db_url)  # no --as locally: the whole office

    jayden = next(a for a in week["agents"] if a["name"] == "Jayden Metz")
    assert (jayden["new_leads"], jayden["appointments_scheduled"], jayden["total_leads"]) == (
        0,
        0,
        3,
    )
    assert [a["new_leads"] for a in month["agents"]] == [0, 3]


def test_report_agents_without_json_prints_a_table(run: Run, db_url: str) -> None:
    done = run("--db", db_url, "--as-of", "2025-10-22", "report", "agents")

    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "Agents as of 2025-10-22 (new leads and appointments: last 30 days)"
    (jayden,) = [line for line in lines if line.startswith("Jayden Metz")]
    assert "33.33%" in jayden and "66.7%" in jayden and "$450,000.00" in jayden
    (cole,) = [line for line in lines if line.startswith("Cole Rangel")]
    assert "—" in cole and cole.endswith("never")
    assert lines[-1].startswith("Brokerage year to date: $850,000.50 volume, 2 escrows")


def test_report_agents_for_an_unknown_person_exits_1(run: Run, db_url: str) -> None:
    done = run("--db", db_url, "report", "agents", "--json", "--as", "nobody@example.com")

    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == "there is nobody with the email nobody@example.com\n"


def test_report_agents_for_a_closer_exits_1_naming_the_rule(run: Run, db_url: str) -> None:
    done = run("--db", db_url, "--as", "dana.kessler@example.com", "report", "agents")

    assert (done.returncode, done.stdout) == (1, "")
    assert "SPEC §1" in done.stderr and len(done.stderr.splitlines()) == 1


@pytest.mark.parametrize(
    "args",
    [
        ["report"],
        ["report", "nosuch"],
        ["report", "agents", "--period-days", "0"],
        ["report", "agents", "--period-days", "ten"],
        ["report", "agents", "--as-of", "22/10/2025"],
        ["report", "agents", "--jsn"],
    ],
)
def test_report_bad_usage_exits_2(run: Run, db_url: str, args: list[str]) -> None:
    done = run("--db", db_url, *args)

    assert (done.returncode, done.stdout) == (2, "")
    assert "usage:" in done.stderr


def test_report_agents_without_a_database_exits_1(run: Run, tmp_path: Path) -> None:
    done = run("--db", f"sqlite:///{tmp_path / 'missing.sqlite3'}", "report", "agents")

    assert done.returncode == 1
    assert "migrate" in done.stderr
    assert not (tmp_path / "missing.sqlite3").exists()
