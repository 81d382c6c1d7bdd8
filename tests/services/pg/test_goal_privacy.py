"""Goals, entered activities and badges on a server (migration 0011): each person's own login
sees and writes what SPEC §1's KPI rule lets it, and enters their own activities."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from app.db.models import Team
from app.db.models.goals import AchievementDefinition, ActivityEntry, Goal
from app.domain.errors import PermissionDenied
from app.services.database import Database, open_database
from app.services.kpis.activities import activities_of, enter_activities
from app.services.users import add_user

pytestmark = pytest.mark.pg
DAY = dt.date(2026, 10, 15)


def mail(name: str) -> str:
    return f"{name}@goals.example"


def _login(db: Database, email: str) -> Database:
    return open_database(make_url(db.url).set(username=email).render_as_string(False))


@pytest.fixture
def office(pg_db: Database) -> Iterator[tuple[dict[str, int], dict[str, Database]]]:
    ids: dict[str, int] = {}
    ids["max"] = add_user(pg_db, mail("max"), "manager", "Max", "Manager").id
    with pg_db.session() as s:
        s.add(Team(name="North", manager_id=ids["max"]))
    for name in ("ann", "bob"):
        ids[name] = add_user(pg_db, mail(name), "agent", name.title(), "Agent", team="North").id
    ids["eve"] = add_user(pg_db, mail("eve"), "agent", "Eve", "Elsewhere").id
    ids["ada"] = add_user(pg_db, mail("ada"), "admin", "Ada", "Admin").id
    with pg_db.session() as s:
        for name in ("ann", "eve"):
            s.add(
                Goal(
                    user_id=ids[name], goal_type="leads", period_type="monthly",
                    period_start=dt.date(2026, 10, 1), period_end=dt.date(2026, 10, 31),
                    target_value=10, current_value=0, status="at_risk",
                )
            )  # fmt: skip
    held: dict[str, Database] = {}
    yield ids, held
    for db in held.values():
        db.dispose()


def _as(pg_db: Database, held: dict[str, Database], who: str) -> Database:
    if who not in held:
        held[who] = _login(pg_db, mail(who))
    return held[who]


def _goal_owners(db: Database) -> set[int]:
    with db.read() as s:
        return {int(u) for u in s.scalars(sa.select(Goal.user_id))}


def test_goals_are_read_by_their_person_their_manager_and_admins(
    pg_db: Database, office: tuple[dict[str, int], dict[str, Database]]
) -> None:
    ids, held = office
    assert _goal_owners(_as(pg_db, held, "ann")) == {ids["ann"]}
    assert _goal_owners(_as(pg_db, held, "bob")) == set()
    assert _goal_owners(_as(pg_db, held, "max")) == {ids["ann"]}
    assert _goal_owners(_as(pg_db, held, "ada")) == {ids["ann"], ids["eve"]}


def test_a_person_enters_their_own_activities_but_not_someone_elses(
    pg_db: Database, office: tuple[dict[str, int], dict[str, Database]]
) -> None:
    ids, held = office
    ann = _as(pg_db, held, "ann")
    enter_activities(ann, ids["ann"], "monthly", DAY, {"calls": "40"}, today=DAY)
    assert activities_of(ann, ids["ann"], "monthly", DAY) == {"calls": 40}
    with pytest.raises(PermissionDenied):
        enter_activities(ann, ids["bob"], "monthly", DAY, {"calls": "5"}, today=DAY)
    # The server refuses it too, whatever the service says.
    with pytest.raises(sa.exc.ProgrammingError), ann.session() as s:
        s.add(
            ActivityEntry(
                user_id=ids["bob"], activity_type="calls", period_type="monthly",
                period_start=dt.date(2026, 10, 1), count=5,
            )
        )  # fmt: skip
    # The manager enters for the team's members; nobody else's.
    mgr = _as(pg_db, held, "max")
    enter_activities(mgr, ids["bob"], "monthly", DAY, {"emails": "12"}, today=DAY)
    with pytest.raises(PermissionDenied):
        enter_activities(mgr, ids["eve"], "monthly", DAY, {"emails": "1"}, today=DAY)
    with pg_db.read() as s:
        rows = {(int(u), str(a), int(n)) for u, a, n in s.execute(
            sa.select(ActivityEntry.user_id, ActivityEntry.activity_type, ActivityEntry.count)
        )}  # fmt: skip
    assert rows == {(ids["ann"], "calls", 40), (ids["bob"], "emails", 12)}


def test_badge_rules_are_written_by_admins_only(
    pg_db: Database, office: tuple[dict[str, int], dict[str, Database]]
) -> None:
    _ids, held = office
    rule = {"key": "k1", "name": "K1", "metric": "orders", "threshold": 1,
            "period_type": "monthly"}  # fmt: skip
    with pytest.raises(sa.exc.ProgrammingError), _as(pg_db, held, "max").session() as s:
        s.add(AchievementDefinition(**rule))
    with _as(pg_db, held, "ada").session() as s:
        s.add(AchievementDefinition(**rule))
    with _as(pg_db, held, "ann").read() as s:
        assert s.scalar(sa.select(AchievementDefinition.name).where(
            AchievementDefinition.key == "k1")) == "K1"  # fmt: skip
