"""`import goals | activities` (SPEC §8, §11) on SQLite and PostgreSQL: each row checked by the
rules of New goal… and Enter activities…, every problem named with its row and column, all
rows written or none, who may import what (SPEC §1), goals' progress computed as they are
written, and the sample files going into the small demo office.

The office is resources/samples/users.csv: Morgan Reyes (broker), Priya Shah (manager of
Downtown: Priya, Ann Lee, Ben Ortiz), Cara Kim (agent, Westside, no manager), Dan Cole (closer)
and Erin Fox (admin). "Today" is 15 June 2025. Ann's records: leads created on 2 and 10 June,
an escrow closed on 5 June (commission 1,500.50) and one on 20 May (1,000).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from app import cli
from app.db.models import Escrow, Lead, Notification, User
from app.db.models.goals import ActivityEntry, Goal
from app.domain.enums import NotificationType
from app.domain.errors import PermissionDenied
from app.services.database import Database
from app.services.demo import generate
from app.services.importing import import_file, kind_names
from app.services.kpis.activities import activities_of, enter_activities
from app.services.kpis.goals import save_goal
from tests.services.kpis.importing import (  # noqa: F401 - no_login_roles: the autouse fixture
    ADMIN,
    ANN,
    AS_OF,
    BEN,
    CARA,
    MANAGER,
    SAMPLES,
    failure,
    load,
    no_login_roles,
    reason,
    user_id,
    where,
    write,
)

GONE = "gone@example.com"

GOAL_HEADER = (
    "user_email,goal_type,period_type,period_start,period_end,target_value,current_value,"
    "description"
)
ACTIVITY_HEADER = "user_email,activity_type,period_type,period_start,count"

GoalKey = tuple[str, str, str, dt.date]
ActivityKey = tuple[str, str, str, dt.date]


def goals(db: Database) -> dict[GoalKey, Goal]:
    with db.read() as s:
        rows = s.execute(sa.select(User.email, Goal).join(User, User.id == Goal.user_id))
        return {(e, str(g.goal_type), str(g.period_type), g.period_start): g for e, g in rows}


def activities(db: Database) -> dict[ActivityKey, int]:
    with db.read() as s:
        rows = s.execute(
            sa.select(User.email, ActivityEntry).join(User, User.id == ActivityEntry.user_id)
        )
        return {
            (e, str(a.activity_type), str(a.period_type), a.period_start): a.count for e, a in rows
        }


def counts(db: Database) -> tuple[int, int, int]:
    with db.read() as s:
        return tuple(  # type: ignore[return-value]
            int(s.scalar(sa.select(sa.func.count()).select_from(m)) or 0)
            for m in (Goal, ActivityEntry, Notification)
        )


def achieved_notes(db: Database) -> set[tuple[str, int]]:
    """(recipient, goal) of every goal.achieved notification."""
    with db.read() as s:
        rows = s.execute(
            sa.select(User.email, Notification.entity_id)
            .join(User, User.id == Notification.recipient_id)
            .where(Notification.type == NotificationType.GOAL_ACHIEVED)
        )
        return {(e, int(i)) for e, i in rows}


def at(day: dt.date, hour: int = 12) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC)


@pytest.fixture
def office(db: Database) -> Database:
    import_file(db, "users", SAMPLES / "users.csv")
    with db.session() as s:
        s.add(User(email=GONE, first_name="Gone", last_name="Away", role="agent",
                   is_active=False))  # fmt: skip
        ann = s.scalars(sa.select(User.id).where(User.email == ANN)).one()
        for day in (dt.date(2025, 6, 2), dt.date(2025, 6, 10)):
            s.add(Lead(owner_id=ann, name=f"Lead {day}", status="new", created_at=at(day)))
        for day, commission in ((dt.date(2025, 6, 5), "1500.50"), (dt.date(2025, 5, 20), "1000")):
            s.add(
                Escrow(agent_id=ann, property_address=f"{day.day} Elm St",
                       purchase_price=Decimal(300000), my_commission=Decimal(commission),
                       escrow_status="Closed", created_at=at(day, 9), closed_at=at(day))
            )  # fmt: skip
    return db


# --------------------------------------------------------------------------- the registry


def test_goals_and_activities_follow_the_kpi_kinds() -> None:
    names = kind_names()
    at_ = names.index("kpi_measurements")
    assert names[at_ + 1 : at_ + 3] == ["goals", "activities"]


# --------------------------------------------------------------------------- goals


GOAL_FILE = (
    f"{ANN.upper()},Revenue,Monthly,2025-06-01,2025-06-30,3000,999,June push",  # 2
    f"{ANN},leads,monthly,2025-06-01,2025-06-30,2,,",  # 3
    f"{BEN},custom,quarterly,2025-04-01,2025-06-30,10,7.5,Open houses",  # 4
    f"{ANN},orders,monthly,2025-05-01,2025-05-31,1,,",  # 5: ended
    f"{CARA},opportunities,weekly,2025-06-16,2025-06-22,3,,",  # 6: not started
    f"{BEN},custom,monthly,2025-06-01,2025-06-30,4,,",  # 7: no current value: 0
)


def test_goals_are_stored_with_their_progress_computed(office: Database, tmp_path: Path) -> None:
    result = load(office, "goals", write(tmp_path, GOAL_HEADER, *GOAL_FILE))

    assert (result.kind, result.rows) == ("goals", 6)
    assert result.notes == (
        "current_value was left aside on row 2: only a custom goal's is entered; the "
        "others' progress is computed from PerfDesk's records",
    )
    stored = goals(office)
    june, may = dt.date(2025, 6, 1), dt.date(2025, 5, 1)
    expected = {
        (ANN, "revenue", "monthly", june): (
            dt.date(2025, 6, 30), "3000", "1500.50", "behind", False, "June push",
        ),
        (ANN, "leads", "monthly", june): (dt.date(2025, 6, 30), "2", "2", "achieved", False, None),
        (BEN, "custom", "quarterly", dt.date(2025, 4, 1)): (
            dt.date(2025, 6, 30), "10", "7.5", "on_track", False, "Open houses",
        ),
        (ANN, "orders", "monthly", may): (dt.date(2025, 5, 31), "1", "1", "achieved", True, None),
        (CARA, "opportunities", "weekly", dt.date(2025, 6, 16)): (
            dt.date(2025, 6, 22), "3", "0", "at_risk", False, None,
        ),
        (BEN, "custom", "monthly", june): (dt.date(2025, 6, 30), "4", "0", "at_risk", False, None),
    }  # fmt: skip
    assert set(stored) == set(expected)
    for key, (end, target, current, status, final, description) in expected.items():
        g = stored[key]
        assert (g.period_end, g.target_value, g.current_value, g.status) == (
            end,
            Decimal(target),
            Decimal(current),
            status,
        ), key
        assert (g.finalized_at is not None, g.description, g.team_id) == (final, description, None)
        assert g.version >= 1
    # Reaching 100 % tells Ann and her team's manager, as the form does.
    leads = stored[(ANN, "leads", "monthly", june)].id
    orders = stored[(ANN, "orders", "monthly", may)].id
    assert achieved_notes(office) == {(ANN, leads), (MANAGER, leads), (ANN, orders),
                                      (MANAGER, orders)}  # fmt: skip


def test_every_goal_problem_is_named_and_nothing_is_written(
    office: Database, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        GOAL_HEADER,
        "nobody@example.com,revenue,monthly,2025-06-01,2025-06-30,10,,",  # 2
        f"{ANN},bogus,monthly,2025-06-01,2025-06-30,10,,",  # 3
        f"{ANN},revenue,fortnightly,2025-06-01,2025-06-30,10,,",  # 4
        f"{ANN},revenue,monthly,2025-06-02,2025-06-30,10,,",  # 5
        f"{ANN},revenue,monthly,2025-06-01,2025-06-29,10,,",  # 6
        f"{ANN},revenue,weekly,2025-06-10,2025-06-16,10,,",  # 7
        f"{ANN},revenue,monthly,2025-07-01,2025-07-31,0,,",  # 8
        f"{ANN},revenue,monthly,2025-08-01,2025-08-31,abc,,",  # 9
        f"{ANN},custom,monthly,2025-09-01,2025-09-30,10,-1,",  # 10
        f"{ANN},custom,monthly,2025-10-01,2025-10-31,10,1.23456,",  # 11
        f"{ANN},custom,monthly,2025-11-01,2025-11-30,10,," + "d" * 2001,  # 12
        f"{ANN},leads,monthly,2025-06-01,2025-06-30,5,,",  # 13 fine
        "Ann.Lee@Example.com,LEADS,Monthly,2025-06-01,2025-06-30,6,,",  # 14 repeats row 13
        f"{GONE},leads,monthly,2025-06-01,2025-06-30,5,,",  # 15
        f"{BEN},leads,monthly,2025-06-01,2025-06-30,,,",  # 16
        f"{BEN},orders,monthly,2025-06-01,2025-13-01,1,,",  # 17
        f"{BEN},orders,quarterly,2025-04-01,2025-06-30,1e20,,",  # 18
    )
    before = counts(office)

    exc = failure(office, "goals", path)

    assert where(exc) == [
        (2, "user_email"),
        (3, "goal_type"),
        (4, "period_type"),
        (5, "period_start"),
        (6, "period_end"),
        (7, "period_start"),
        (8, "target_value"),
        (9, "target_value"),
        (10, "current_value"),
        (11, "current_value"),
        (12, "description"),
        (14, "period_start"),
        (15, "user_email"),
        (16, "target_value"),
        (17, "period_end"),
        (18, "target_value"),
    ]
    assert reason(exc, 2, "user_email") == "no user with email nobody@example.com"
    assert reason(exc, 3, "goal_type") == (
        "'bogus' is not one of revenue/orders/leads/opportunities/conversion_rate/custom"
    )
    assert reason(exc, 4, "period_type") == (
        "'fortnightly' is not one of daily/weekly/monthly/quarterly/yearly"
    )
    assert reason(exc, 5, "period_start") == (
        "is not the first day of a month: the month holding it is 2025-06-01 to 2025-06-30"
    )
    assert reason(exc, 6, "period_end") == "a monthly goal from 2025-06-01 ends on 2025-06-30"
    assert reason(exc, 7, "period_start") == (
        "is not the first day of a week (Monday to Sunday): the week holding it is "
        "2025-06-09 to 2025-06-15"
    )
    assert reason(exc, 8, "target_value") == "must be more than 0"
    assert reason(exc, 9, "target_value") == "'abc' is not a number"
    assert reason(exc, 10, "current_value") == "cannot be negative"
    assert reason(exc, 11, "current_value") == "1.23456 has more than four decimals"
    assert reason(exc, 12, "description") == "is 2001 characters long; at most 2000 fit"
    assert reason(exc, 14, "period_start") == (
        f"{ANN}'s leads goal for 2025-06-01 to 2025-06-30 already appears on row 13"
    )
    assert reason(exc, 15, "user_email") == f"{GONE} has been deactivated"
    assert reason(exc, 16, "target_value") == "is required"
    assert "'2025-13-01' is not a valid date" in reason(exc, 17, "period_end")
    assert reason(exc, 18, "target_value").endswith("is too large (at most 999,999,999,999.9999)")
    assert str(exc).startswith("f.csv: 16 errors, nothing imported")
    assert counts(office) == before


def test_a_stored_goal_is_not_overwritten(office: Database, tmp_path: Path) -> None:
    path = write(tmp_path, GOAL_HEADER, *GOAL_FILE)
    load(office, "goals", path)
    before = counts(office)

    exc = failure(office, "goals", path)

    assert where(exc) == [(n, "period_start") for n in range(2, 8)]
    assert reason(exc, 2, "period_start") == (
        f"{ANN} already has a revenue goal for 2025-06-01 to 2025-06-30 (imports add, they "
        "never overwrite; change it in PerfDesk)"
    )
    assert counts(office) == before


def test_a_goal_set_in_the_form_is_not_imported_again_but_another_kind_is(
    office: Database, tmp_path: Path
) -> None:
    ann = user_id(office, ANN)
    save_goal(office, {"user_id": ann, "goal_type": "orders", "period_type": "monthly",
                       "period_start": dt.date(2025, 6, 20), "target_value": "3"},
              acting=ADMIN, today=AS_OF)  # fmt: skip
    path = write(
        tmp_path,
        GOAL_HEADER,
        f"{ANN},orders,monthly,2025-06-01,2025-06-30,4,,",  # the form's
        f"{ANN},orders,quarterly,2025-04-01,2025-06-30,4,,",  # another period type
    )
    exc = failure(office, "goals", path)
    assert where(exc) == [(2, "period_start")]

    fine = write(tmp_path, GOAL_HEADER, f"{ANN},orders,quarterly,2025-04-01,2025-06-30,4,,",
                 name="fine.csv")  # fmt: skip
    assert load(office, "goals", fine).rows == 1
    quarter = goals(office)[(ANN, "orders", "quarterly", dt.date(2025, 4, 1))]
    assert (quarter.current_value, quarter.status) == (Decimal(2), "behind")  # both escrows: 2 of 4


def test_only_a_manager_for_their_team_or_an_admin_imports_goals(
    office: Database, tmp_path: Path
) -> None:
    path = write(tmp_path, GOAL_HEADER, *GOAL_FILE)
    before = counts(office)
    with pytest.raises(PermissionDenied, match="may import goals; you are signed in as agent"):
        load(office, "goals", path, acting=ANN)

    exc = failure(office, "goals", path, acting=MANAGER)

    assert where(exc) == [(6, "user_email")]
    assert reason(exc, 6, "user_email") == (
        f"you may not set goals for {CARA}: only the manager of their team or an admin may"
    )
    assert counts(office) == before

    team = write(tmp_path, GOAL_HEADER, *GOAL_FILE[:4], name="team.csv")
    assert load(office, "goals", team, acting=MANAGER).rows == 4
    cara = write(tmp_path, GOAL_HEADER, GOAL_FILE[4], name="cara.csv")
    assert load(office, "goals", cara, acting=ADMIN).rows == 1
    assert len(goals(office)) == 5


# --------------------------------------------------------------------------- activities


ACTIVITY_FILE = (
    f"{ANN},calls,weekly,2025-06-09,120",
    f"{ANN.upper()},Emails,WEEKLY,2025-06-09,80",
    f"{ANN},meetings,monthly,2025-06-01,0",
    f"{BEN},calls,daily,2025-06-15,100000",
    f"{CARA},calls,yearly,2025-01-01,5000",
    f"{ANN},calls,monthly,2025-06-01,410",
)


def test_activities_are_stored_as_the_form_stores_them(office: Database, tmp_path: Path) -> None:
    result = load(office, "activities", write(tmp_path, ACTIVITY_HEADER, *ACTIVITY_FILE))

    assert (result.kind, result.rows, result.notes) == ("activities", 6, ())
    assert activities(office) == {
        (ANN, "calls", "weekly", dt.date(2025, 6, 9)): 120,
        (ANN, "emails", "weekly", dt.date(2025, 6, 9)): 80,
        (ANN, "meetings", "monthly", dt.date(2025, 6, 1)): 0,
        (BEN, "calls", "daily", dt.date(2025, 6, 15)): 100000,
        (CARA, "calls", "yearly", dt.date(2025, 1, 1)): 5000,
        (ANN, "calls", "monthly", dt.date(2025, 6, 1)): 410,
    }
    ann = user_id(office, ANN)
    assert activities_of(office, ann, "weekly", dt.date(2025, 6, 12), ADMIN) == {
        "calls": 120,
        "emails": 80,
    }
    assert activities_of(office, ann, "monthly", dt.date(2025, 6, 30), ADMIN) == {
        "calls": 410,
        "meetings": 0,
    }
    # the form changes an imported count
    enter_activities(office, ann, "weekly", dt.date(2025, 6, 9), {"calls": "121"}, ADMIN, AS_OF)
    assert activities_of(office, ann, "weekly", dt.date(2025, 6, 9), ADMIN)["calls"] == 121


def test_every_activity_problem_is_named_and_nothing_is_written(
    office: Database, tmp_path: Path
) -> None:
    ann = user_id(office, ANN)
    enter_activities(office, ann, "monthly", dt.date(2024, 12, 1), {"calls": "7"}, ADMIN, AS_OF)
    path = write(
        tmp_path,
        ACTIVITY_HEADER,
        "nobody@example.com,calls,monthly,2025-06-01,10",  # 2
        f"{ANN},texts,monthly,2025-06-01,10",  # 3
        f"{ANN},calls,hourly,2025-06-01,10",  # 4
        f"{ANN},calls,weekly,2025-06-10,10",  # 5 a Tuesday
        f"{ANN},calls,monthly,2025-07-01,10",  # 6 not started
        f"{ANN},calls,monthly,2025-05-01,100001",  # 7
        f"{ANN},calls,monthly,2025-04-01,1.5",  # 8
        f"{ANN},calls,monthly,2025-03-01,-1",  # 9
        f"{ANN},calls,monthly,2025-02-01,",  # 10
        f"{ANN},calls,monthly,2025-01-01,10",  # 11 fine
        f"{ANN.upper()},CALLS,monthly,2025-01-01,11",  # 12 repeats row 11
        f"{GONE},calls,monthly,2025-01-01,10",  # 13
        f"{ANN},calls,monthly,2025-13-01,10",  # 14
        f"{ANN},calls,monthly,2024-12-01,8",  # 15 entered already
        f"{ANN},calls,quarterly,2024-10-01,8",  # 16 fine: another period type
    )
    before = counts(office)

    exc = failure(office, "activities", path)

    assert where(exc) == [
        (2, "user_email"),
        (3, "activity_type"),
        (4, "period_type"),
        (5, "period_start"),
        (6, "period_start"),
        (7, "count"),
        (8, "count"),
        (9, "count"),
        (10, "count"),
        (12, "period_start"),
        (13, "user_email"),
        (14, "period_start"),
        (15, "period_start"),
    ]
    assert reason(exc, 2, "user_email") == "no user with email nobody@example.com"
    assert reason(exc, 3, "activity_type") == "'texts' is not one of calls/emails/meetings"
    assert "'hourly' is not one of daily/weekly" in reason(exc, 4, "period_type")
    assert reason(exc, 5, "period_start") == (
        "is not the first day of a week (Monday to Sunday): the week holding it is "
        "2025-06-09 to 2025-06-15"
    )
    assert reason(exc, 6, "period_start") == (
        "the period 2025-07-01 to 2025-07-31 has not started yet (today is 2025-06-15)"
    )
    assert reason(exc, 7, "count") == "must be from 0 to 100,000"
    assert reason(exc, 8, "count") == "'1.5' is not a whole number"
    assert reason(exc, 9, "count") == "must be from 0 to 100,000"
    assert reason(exc, 10, "count") == "is required"
    assert reason(exc, 12, "period_start") == (
        f"{ANN}'s calls for monthly 2025-01-01 to 2025-01-31 already appears on row 11"
    )
    assert reason(exc, 13, "user_email") == f"{GONE} has been deactivated"
    assert "'2025-13-01' is not a valid date" in reason(exc, 14, "period_start")
    assert reason(exc, 15, "period_start") == (
        f"{ANN}'s calls for monthly 2024-12-01 to 2024-12-31 are entered already (imports "
        "add, they never overwrite; change them in PerfDesk)"
    )
    assert counts(office) == before
    assert activities_of(office, ann, "monthly", dt.date(2024, 12, 1), ADMIN) == {"calls": 7}


def test_a_person_imports_their_own_activities_a_manager_their_teams(
    office: Database, tmp_path: Path
) -> None:
    path = write(tmp_path, ACTIVITY_HEADER, *ACTIVITY_FILE)
    before = counts(office)

    exc = failure(office, "activities", path, acting=ANN)

    assert where(exc) == [(5, "user_email"), (6, "user_email")]
    assert reason(exc, 5, "user_email") == (
        f"you may not enter activities for {BEN}: only they, the manager of their team or an "
        "admin may"
    )
    managed = failure(office, "activities", path, acting=MANAGER)
    assert where(managed) == [(6, "user_email")]
    assert counts(office) == before

    own = [line for line in ACTIVITY_FILE if line.lower().startswith(ANN)]
    assert load(office, "activities", write(tmp_path, ACTIVITY_HEADER, *own, name="own.csv"),
                acting=ANN).rows == 4  # fmt: skip
    ben = write(tmp_path, ACTIVITY_HEADER, ACTIVITY_FILE[3], name="ben.csv")
    assert load(office, "activities", ben, acting=MANAGER).rows == 1
    cara = write(tmp_path, ACTIVITY_HEADER, ACTIVITY_FILE[4], name="cara.csv")
    assert load(office, "activities", cara, acting=ADMIN).rows == 1
    assert len(activities(office)) == 6


# --------------------------------------------------------------------------- the samples


def test_the_sample_files_import_into_the_small_demo_office(db: Database) -> None:
    day = dt.date(2026, 3, 1)
    generate(db, scale="small", seed=7, as_of=day)
    before = counts(db)

    written = [
        import_file(db, kind, SAMPLES / f"{kind}.csv", as_of=day).rows
        for kind in ("goals", "activities")
    ]

    assert written == [9, 8]
    after = counts(db)
    assert after[:2] == (before[0] + 9, before[1] + 8)
    stored = goals(db)
    custom = stored[("jayden.metz@rileyrealty.example", "custom", "quarterly", dt.date(2026, 1, 1))]
    assert (custom.current_value, custom.status) == (Decimal(5), "at_risk")
    ended = stored[("nicole.parker@rileyrealty.example", "orders", "monthly", dt.date(2026, 2, 1))]
    assert ended.finalized_at is not None and ended.status in ("achieved", "missed")


def test_the_command_line_imports_and_refuses(
    sqlite_db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = sqlite_db
    import_file(db, "users", SAMPLES / "users.csv")
    url = db.engine.url.render_as_string(hide_password=False)
    base = ["--db", url, "--as-of", AS_OF.isoformat()]
    path = write(tmp_path, GOAL_HEADER, *GOAL_FILE, name="goals.csv")

    code = cli.main([*base, "--as", ANN, "import", "goals", str(path)])
    out = capsys.readouterr()
    assert code == 1 and "Only the manager of a team" in out.err and "Traceback" not in out.err

    code = cli.main([*base, "--as", ADMIN, "import", "goals", str(path)])
    out = capsys.readouterr()
    assert code == 0
    assert out.out == f"imported 6 goals from {path}\n"
    assert out.err.startswith("note: current_value was left aside on row 2")

    code = cli.main([*base, "import", "goals", str(path)])
    out = capsys.readouterr()
    assert code == 1 and "6 errors, nothing imported" in out.err

    acts = write(tmp_path, ACTIVITY_HEADER, *ACTIVITY_FILE, name="acts.csv")
    code = cli.main([*base, "--as", ANN, "import", "activities", str(acts)])
    out = capsys.readouterr()
    assert code == 1 and f"you may not enter activities for {BEN}" in out.err
    code = cli.main([*base, "import", "activities", str(acts)])
    assert code == 0 and capsys.readouterr().out == f"imported 6 activities from {acts}\n"

    assert cli.main([*base, "import", "activities"]) == 2  # no file: bad usage
    capsys.readouterr()
