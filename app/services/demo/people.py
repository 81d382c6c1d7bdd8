"""The office: broker Josh Riley, his teams and their managers, agents, admin, closer, dialer."""

from __future__ import annotations

import datetime as dt
import random

from app.domain.enums import Role
from app.services.demo.context import Context, Office, Person
from app.services.demo.vocab import FIRST_NAMES, LAST_NAMES, OFFICE_DOMAIN, TOWNS, Town

TOWN = {t.name: t for t in TOWNS}

BROKERAGE_TEAMS: tuple[tuple[str, str], ...] = (
    ("Bakersfield Central", "Bakersfield"),
    ("Bakersfield Southwest", "Bakersfield"),
    ("Tehachapi Mountain", "Tehachapi"),
    ("Investor Services", "Bakersfield"),
)
TEAM_SUFFIXES = ("Central", "North", "South", "East", "West", "Investors", "Homes", "Luxury")

#: (first, last, team index, town, conversion rate, show rate, productivity)
SEED_AGENTS: tuple[tuple[str, str, int, str, float, float, float], ...] = (
    ("Jayden", "Metz", 0, "Bakersfield", 0.0233, 0.731, 1.35),
    ("Cole", "Rangel", 1, "Bakersfield", 0.0219, 0.805, 0.9),
    ("Lee", "Rangel", 1, "Tehachapi", 0.028, 0.782, 1.6),
)
MANAGERS = (("Maria", "Delgado"), ("Tom", "Whitaker"), ("Rachel", "Nguyen"), ("Marcus", "Bell"))


def generate_people(ctx: Context) -> Office:
    rng = ctx.rng("people")
    scale = ctx.scale
    w = ctx.writer
    w.phase("People…")
    add_team = w.table("teams", ("id", "name", "broker_id", "manager_id", "created_at", "version"))
    add_user = w.table(
        "users",
        (
            "id", "email", "first_name", "last_name", "role", "broker_id", "team_id",
            "phone", "is_active", "last_login", "created_at", "version",
        ),
    )  # fmt: skip
    used_emails: set[str] = set()
    now = ctx.now

    def email_for(first: str, last: str) -> str:
        base = f"{first}.{last}".lower().replace(" ", "").replace("'", "")
        email, n = f"{base}@{OFFICE_DOMAIN}", 1
        while email in used_emails:
            n += 1
            email = f"{base}{n}@{OFFICE_DOMAIN}"
        used_emails.add(email)
        return email

    def joined() -> dt.datetime:
        days = rng.randint(400, 365 * 9)
        return ctx.clock.at(ctx.as_of - dt.timedelta(days=days), rng.uniform(9, 16) * 3600)

    def phone(town: Town) -> str:
        return f"({town.area_code}) {rng.randint(200, 989)}-{rng.randint(0, 9999):04d}"

    def person(first: str, last: str, role: Role, team_id: int | None, town: Town) -> Person:
        return Person(
            ctx.ids.next("users"), email_for(first, last), first, last, role, team_id, town
        )

    def write(p: Person, broker_id: int | None, hours_ago: float) -> None:
        last_login = now - dt.timedelta(hours=hours_ago)
        add_user(
            (
                p.id, p.email, p.first_name, p.last_name, p.role, broker_id, p.team_id,
                phone(p.town), True, last_login, joined(), 1,
            )
        )  # fmt: skip

    bakersfield = TOWN["Bakersfield"]
    broker = person("Josh", "Riley", Role.BROKER, None, bakersfield)
    broker.productivity = 0.6
    write(broker, None, 1.5)

    team_specs: list[tuple[str, Town]] = []
    if scale.seed_figures or scale.teams <= len(BROKERAGE_TEAMS):
        team_specs = [(n, TOWN[t]) for n, t in BROKERAGE_TEAMS[: scale.teams]]
    else:
        names: set[str] = set()
        towns = list(TOWNS)
        weights = [t.weight for t in towns]
        while len(team_specs) < scale.teams:
            town = rng.choices(towns, weights)[0]
            name = f"{town.name} {rng.choice(TEAM_SUFFIXES)}"
            k = 2
            while name in names:
                name = f"{town.name} {rng.choice(TEAM_SUFFIXES)} {k}"
                k += 1
            names.add(name)
            team_specs.append((name, town))
    teams: dict[int, str] = {}
    team_towns: dict[int, Town] = {}
    for name, town in team_specs:
        tid = ctx.ids.next("teams")
        teams[tid] = name
        team_towns[tid] = town
        add_team((tid, name, None, None, joined(), 1))
    team_ids = list(teams)

    def random_name() -> tuple[str, str]:
        return rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)

    managers: dict[int, Person] = {}
    for i, tid in enumerate(team_ids):
        first, last = MANAGERS[i] if i < len(MANAGERS) else random_name()
        m = person(first, last, Role.MANAGER, tid, team_towns[tid])
        managers[tid] = m
        write(m, broker.id, rng.uniform(1, 30))
    admin = person("Pam", "Ochoa", Role.ADMIN, None, bakersfield)
    closer = person("Dana", "Kessler", Role.CLOSER, None, bakersfield)
    dialer = person("Tyler", "Brooks", Role.DIALER, None, bakersfield)
    for p in (admin, closer, dialer):
        write(p, broker.id, rng.uniform(1, 20))

    agents: list[Person] = []
    seeded = SEED_AGENTS if scale.agents >= len(SEED_AGENTS) else ()
    for k, (first, last, team_index, town_name, conv, show, prod) in enumerate(seeded):
        tid = team_ids[team_index % len(team_ids)]
        a = person(first, last, Role.AGENT, tid, TOWN[town_name])
        if scale.seed_figures:
            a.conversion_rate, a.show_rate, a.productivity = conv, show, prod
        else:
            _profile(rng, a)
        a.manager_id = managers[tid].id
        agents.append(a)
        write(a, broker.id, (2.25, 5.7, 27.1)[k])
    for i in range(scale.agents - len(seeded)):
        tid = team_ids[(i + len(seeded)) % len(team_ids)]
        town = (
            team_towns[tid]
            if rng.random() < 0.7
            else rng.choices(TOWNS, [t.weight for t in TOWNS])[0]
        )
        a = person(*random_name(), Role.AGENT, tid, town)
        _profile(rng, a)
        a.manager_id = managers[tid].id
        agents.append(a)
        write(a, broker.id, rng.expovariate(1 / 20))

    # Teams and users refer to each other: the teams learn their broker and manager last.
    w.flush()
    for tid, m in managers.items():
        w.execute(
            "UPDATE teams SET broker_id = %s, manager_id = %s WHERE id = %s", (broker.id, m.id, tid)
        )

    staff = [broker, *managers.values(), admin, closer, dialer, *agents]
    office = Office(broker, agents, managers, admin, closer, dialer, teams, staff)
    ctx.office = office
    return office


def _profile(rng: random.Random, a: Person) -> None:
    a.productivity = min(3.0, max(0.25, rng.lognormvariate(0, 0.45)))
    a.conversion_rate = min(0.045, max(0.008, rng.gauss(0.024, 0.006)))
    a.show_rate = min(0.9, max(0.6, rng.gauss(0.77, 0.05)))
    a.buys_zillow_leads = rng.random() < 0.65
