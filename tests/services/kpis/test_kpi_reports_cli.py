"""``report kpis``, ``report goals`` and ``report leaderboard`` on the command line (SPEC §12),
run in-process (app.cli.main) on SQLite and PostgreSQL: the JSON shapes, the default period
(the last whole month before --as-of), --as visibility, and the exit codes.

The office: Mia manages North (Ann Avery, Ben Baker); Bo is their broker, Ada the admin.
October 2025: Ann's Calls Made (weight 60) at 80 % and Listings Taken (weight 40) at 120 %,
Ben's Calls Made unmeasured; Ann closed an escrow (commission 1,000.50) and has 2 leads, Ben
1 lead; Ann's revenue goal for October is 2,000.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from app import cli
from app.db.models.goals import Goal
from app.services.database import Database
from app.services.kpis.goals import refresh_goals
from tests.services.kpis.test_definitions import Shop

OCT = (dt.date(2025, 10, 1), dt.date(2025, 10, 31))
SPEC_GOAL_KEYS = {
    "user_email",
    "goal_type",
    "period_start",
    "period_end",
    "target_value",
    "current_value",
    "achievement_pct",
    "status",
}


@dataclass
class Office:
    db: Database
    ada: str
    mia: str
    ann: str


@pytest.fixture
def office(db: Database) -> Office:
    shop = Shop(db)
    bo = shop.person("Bo", "Broker", role="broker")
    ada = shop.person("Ada", "Admin", role="admin", broker=bo)
    mia = shop.person("Mia", "Manager", role="manager", broker=bo)
    ann = shop.person("Ann", "Avery", broker=bo)
    ben = shop.person("Ben", "Baker", broker=bo)
    shop.team("North", mia, [ann, ben], broker=bo)
    calls, listings = shop.kpi("Calls Made"), shop.kpi("Listings Taken")
    shop.measure(shop.assign(calls, ann, "100", weight="60"), *OCT, "80", "100", "80")
    shop.measure(shop.assign(listings, ann, "10", weight="40"), *OCT, "12", "10", "120")
    shop.assign(calls, ben, "100", weight="100")
    shop.closed_escrow(ann, "2025-10-05T15:00:00", "1000.50")
    shop.lead(ann, "2025-10-02T09:00:00")
    shop.lead(ann, "2025-10-03T09:00:00")
    shop.lead(ben, "2025-10-03T09:00:00")
    shop.add(
        Goal(
            user_id=ann,
            goal_type="revenue",
            period_type="monthly",
            period_start=OCT[0],
            period_end=OCT[1],
            target_value=Decimal("2000"),
            status="at_risk",
        )
    )
    with db.session() as s:
        refresh_goals(s, dt.date(2025, 10, 20))
    e = shop.emails
    return Office(db, e[ada], e[mia], e[ann])


def run(
    office: Office, capsys: pytest.CaptureFixture[str], *args: str, who: str | None = None
) -> tuple[int, str, str]:
    code = cli.main(
        ["--db", office.db.url, "--as", who or office.ada, "--as-of", "2025-11-05", *args]
    )
    out, err = capsys.readouterr()
    return code, out, err


def shown(office: Office, capsys: pytest.CaptureFixture[str], *args: str, **kw: Any) -> Any:
    code, out, err = run(office, capsys, *args, "--json", **kw)
    assert (code, err) == (0, "")
    return json.loads(out)


def test_report_kpis_json(office: Office, capsys: pytest.CaptureFixture[str]) -> None:
    period = ("--period-start", "2025-10-01", "--period-end", "2025-10-31")

    data = shown(office, capsys, "report", "kpis", *period)

    assert data == {
        "users": [
            {
                "email": "ann.avery@kpi.example",
                "overall_score": 96.0,  # (60 × 80 + 40 × 120) / 100
                "kpis": [
                    {
                        "name": "Calls Made",
                        "actual": 80.0,
                        "target": 100.0,
                        "achievement_pct": 80.0,
                        "weight": 60.0,
                    },
                    {
                        "name": "Listings Taken",
                        "actual": 12.0,
                        "target": 10.0,
                        "achievement_pct": 120.0,
                        "weight": 40.0,
                    },
                ],
            },
            {
                "email": "ben.baker@kpi.example",
                "overall_score": None,
                "kpis": [
                    {
                        "name": "Calls Made",
                        "actual": None,
                        "target": 100.0,
                        "achievement_pct": None,
                        "weight": 100.0,
                    }
                ],
            },
        ]
    }
    assert shown(office, capsys, "report", "kpis") == data  # October: the last whole month
    mine = shown(office, capsys, "report", "kpis", *period, who=office.ann)
    assert [u["email"] for u in mine["users"]] == ["ann.avery@kpi.example"]
    september = shown(office, capsys, "report", "kpis", "--period-start", "2025-09-01",
                      "--period-end", "2025-09-30")  # fmt: skip
    assert [u["overall_score"] for u in september["users"]] == [None, None]


def test_report_kpis_as_text(office: Office, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(office, capsys, "report", "kpis")

    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == "KPIs from 2025-10-01 to 2025-10-31"
    assert "ann.avery@kpi.example  overall 96.00" in lines
    assert "ben.baker@kpi.example  overall —" in lines


def test_report_goals_json(office: Office, capsys: pytest.CaptureFixture[str]) -> None:
    data = shown(office, capsys, "report", "goals")

    (goal,) = data["goals"]
    assert set(goal) >= SPEC_GOAL_KEYS  # and "team", naming a team goal's team
    assert {k: goal[k] for k in SPEC_GOAL_KEYS} == {
        "user_email": "ann.avery@kpi.example",
        "goal_type": "revenue",
        "period_start": "2025-10-01",
        "period_end": "2025-10-31",
        "target_value": "2000.00",  # money: a string with 2 decimals
        "current_value": "1000.50",
        "achievement_pct": 50.03,  # 50.025, half-up
        "status": "behind",
    }
    assert shown(office, capsys, "report", "goals", "--open", who=office.mia) == data
    with office.db.session() as s:
        refresh_goals(s, dt.date(2025, 11, 5))
    assert shown(office, capsys, "report", "goals", "--open") == {"goals": []}
    (final,) = shown(office, capsys, "report", "goals")["goals"]
    assert final["status"] == "missed"


def test_report_leaderboard_json(office: Office, capsys: pytest.CaptureFixture[str]) -> None:
    data = shown(
        office, capsys, "report", "leaderboard", "--period-start", "2025-10-01",
        "--period-end", "2025-10-31", who=office.mia,
    )  # fmt: skip

    assert data == {
        "by_revenue": [
            {"rank": 1, "email": "ann.avery@kpi.example", "value": "1000.50", "medal": "gold"},
            {"rank": 2, "email": "ben.baker@kpi.example", "value": "0.00", "medal": None},
        ],
        "by_orders": [
            {"rank": 1, "email": "ann.avery@kpi.example", "value": 1, "medal": "gold"},
            {"rank": 2, "email": "ben.baker@kpi.example", "value": 0, "medal": None},
        ],
        "by_conversion": [
            {"rank": 1, "email": "ann.avery@kpi.example", "value": 50.0, "medal": "gold"},
            {"rank": 2, "email": "ben.baker@kpi.example", "value": 0.0, "medal": None},
        ],
    }
    assert shown(office, capsys, "report", "leaderboard", who=office.mia) == data
    assert shown(office, capsys, "report", "leaderboard", who=office.ann) == {
        "by_revenue": [data["by_revenue"][0]],
        "by_orders": [data["by_orders"][0]],
        "by_conversion": [data["by_conversion"][0]],
    }


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["report", "kpis", "--period-start", "2025-10-01"], "give both --period-start and"),
        (["report", "leaderboard", "--period-end", "2025-10-31"], "give both --period-start and"),
        (
            ["report", "kpis", "--period-start", "2025-10-31", "--period-end", "2025-10-01"],
            "--period-end is before --period-start",
        ),
        (
            ["report", "leaderboard", "--period-start", "2025-13-01", "--period-end", "2025-12-31"],
            "",
        ),
        (["report", "goals", "--period-start", "2025-10-01"], ""),
    ],
)
def test_bad_usage_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], reason: str
) -> None:
    """Refused before any database is opened (there is none at this address)."""
    url = f"sqlite:///{tmp_path / 'none.sqlite3'}"

    code = cli.main(["--db", url, "--as-of", "2025-11-05", *args, "--json"])

    out, err = capsys.readouterr()
    assert (code, out) == (2, "")
    assert "usage:" in err and reason in err


def test_an_unknown_acting_person_exits_1(
    office: Office, capsys: pytest.CaptureFixture[str]
) -> None:
    for report in ("kpis", "goals", "leaderboard"):
        code, out, err = run(office, capsys, "report", report, "--json", who="nobody@kpi.example")

        assert (code, out) == (1, "")
        assert len(err.splitlines()) == 1 and "nobody@kpi.example" in err
