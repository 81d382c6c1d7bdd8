"""Leaderboards and team performance cards (SPEC §8).

Who is ranked: the active agents and brokers (the producers) the acting person may read
(SPEC §1: an agent sees their own place only; a broker their agents; a manager their
teams; an admin or the one local person everyone). Rules where SPEC.md is silent (also in
docs/rules.md):
- by revenue and by orders: everyone ranked, a zero included; by conversion: only those with
  at least one lead in the period (a rate with nothing to divide by is no rate), the rate
  rounded to 2 decimals before ranking, so what is shown is what is ranked;
- ties share a rank (1, 1, 3) and are listed by name; medals for ranks 1–3, but not for a
  value of 0 (nobody wins a medal with nothing);
- a team card sums its active members' figures; its top performer is the member with the
  most revenue (ties: by name), none when nobody earned anything.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from app.db.models import Team, User
from app.domain.enums import Role
from app.domain.goals import competition_ranks, medal
from app.domain.money import quantize
from app.services.database import Database
from app.services.kpis.access import kpi_scope
from app.services.kpis.sales import RANKING, SalesFigures, sales_figures, team_figures
from app.services.records import Acting, resolve_actor

PRODUCERS = (Role.AGENT.value, Role.BROKER.value)
BOARDS = ("by_revenue", "by_orders", "by_conversion")


@dataclass(frozen=True)
class Place:
    rank: int
    user_id: int
    email: str
    name: str
    value: Decimal
    medal: str | None


@dataclass(frozen=True)
class TeamCard:
    team_id: int
    team: str
    members: int
    revenue: Decimal
    orders: int
    leads: int
    conversion_rate: Decimal | None
    top_performer: str | None
    top_revenue: Decimal | None


@dataclass(frozen=True)
class Leaderboards:
    start: dt.date
    end: dt.date
    boards: dict[str, tuple[Place, ...]]
    teams: tuple[TeamCard, ...]


def _ranked(entries: list[tuple[User, Decimal]]) -> tuple[Place, ...]:
    entries.sort(key=lambda e: (-e[1], e[0].last_name, e[0].first_name, e[0].id))
    ranks = competition_ranks([v for _u, v in entries])
    return tuple(
        Place(r, u.id, u.email, f"{u.first_name} {u.last_name}".strip(), v,
              medal(r) if v > 0 else None)
        for (u, v), r in zip(entries, ranks, strict=True)
    )  # fmt: skip


def leaderboards(db: Database, start: dt.date, end: dt.date, acting: Acting = None) -> Leaderboards:
    with db.read() as s:
        scope = kpi_scope(s, resolve_actor(s, db, acting))
        people = [
            u
            for u in s.scalars(
                sa.select(User).where(User.is_active.is_(True), User.role.in_(PRODUCERS))
            )
            if scope.may_read(u.id)
        ]
        # Everyone's figures in one pass when the acting person may see everyone: naming 500
        # ids would steer the database to each person's own index, five times slower.
        wanted = None if scope.readable is None else [u.id for u in people]
        found = sales_figures(s, start, end, wanted, RANKING)
        figures = {u.id: found.get(u.id) or SalesFigures(u.id) for u in people}
        teams = {int(i): str(n) for i, n in s.execute(sa.select(Team.id, Team.name))}
    revenue = [(u, quantize(figures[u.id].revenue, 2)) for u in people]
    orders = [(u, Decimal(figures[u.id].orders)) for u in people]
    conversion = [
        (u, quantize(rate, 2))
        for u in people
        if (rate := figures[u.id].conversion_rate) is not None
    ]
    boards = {
        "by_revenue": _ranked(revenue),
        "by_orders": _ranked(orders),
        "by_conversion": _ranked(conversion),
    }
    return Leaderboards(start, end, boards, _team_cards(people, figures, teams))


def _team_cards(
    people: list[User], figures: dict[int, SalesFigures], teams: dict[int, str]
) -> tuple[TeamCard, ...]:
    by_team: dict[int, list[User]] = defaultdict(list)
    for u in people:
        if u.team_id is not None:
            by_team[u.team_id].append(u)
    cards: list[TeamCard] = []
    for team_id, members in sorted(by_team.items(), key=lambda kv: teams.get(kv[0], "")):
        total = team_figures(figures[m.id] for m in members)
        best = sorted(
            members, key=lambda m: (-figures[m.id].revenue, m.last_name, m.first_name, m.id)
        )[0]
        top = figures[best.id].revenue
        rate = total.conversion_rate
        cards.append(
            TeamCard(
                team_id, teams.get(team_id, ""), len(members), quantize(total.revenue, 2),
                total.orders, total.leads, None if rate is None else quantize(rate, 2),
                f"{best.first_name} {best.last_name}".strip() if top > 0 else None,
                quantize(top, 2) if top > 0 else None,
            )
        )  # fmt: skip
    return tuple(cards)


def leaderboard_json(board: Leaderboards) -> dict[str, Any]:
    """``report leaderboard`` (SPEC §12)."""

    def value(key: str, v: Decimal) -> Any:
        if key == "by_revenue":
            return f"{v:.2f}"  # money: a string with 2 decimals (SPEC §12)
        return int(v) if key == "by_orders" else float(v)

    return {
        key: [
            {"rank": p.rank, "email": p.email, "value": value(key, p.value), "medal": p.medal}
            for p in places
        ]
        for key, places in board.boards.items()
    }
