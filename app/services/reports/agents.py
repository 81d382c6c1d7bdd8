"""The agent report behind the broker dashboard's cards (SPEC §2), with SPEC §1 visibility.

Five grouped aggregates (leads, appointments, escrows, clients, listings: one per table,
GROUP BY owner) and one read of the people in view, joined here by owner id. No record row
is loaded and no query runs per agent, so 500 agents cost what 5 do. All of them read one
snapshot of the database (REPEATABLE READ on PostgreSQL; one read transaction on SQLite).

On a server, when the login is a person's, row-level security (migration 0004) shows them no
one else's leads or appointments: those two aggregates then come from the server's SECURITY
DEFINER count functions, which count (never list) what SPEC §1 lets the login count.
Escrows, clients and listings are read as usual; the policies show what §1 allows.

On SQLite (which has no parallel scans and evaluates a GROUP BY's FILTER expressions row by
row) the lead and appointment figures are asked differently, with the same results: per
person in view, correlated subqueries that the covering indexes of migration 0003 answer by
range (total, new and converted leads; the newest lead and appointment), and the period's
appointments grouped with the period in WHERE. On the ``large`` demo: 0.58 s of lead and
appointment aggregates become ~0.4 s (bench/README.md, Agent KPI cards).

Decided here where SPEC is silent:
- Nothing created after the end of ``as_of`` (UTC) counts, so a pinned ``--as-of`` repeats.
- Private leads and appointments count nowhere in this report, not even on their owner's
  own card, last activity included; the owner's private pipeline is My Business.
- A login after the end of ``as_of`` is ignored for last activity (the earlier one is unknown).
- Cards are for active people whose role is ``agent``; the production of everyone in view
  (the broker, managers, deactivated agents) counts in the brokerage totals.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import InstrumentedAttribute, Session

from app.db.models import Appointment, Client, Escrow, Lead, Listing, Team, User
from app.db.types import UTCDateTime
from app.domain.agent_kpis import (
    DEFAULT_PERIOD_DAYS,
    AgentKpis,
    AgentReport,
    BrokerageTotals,
    ReportPeriod,
    conversion_rate_pct,
    latest,
    report_period,
    show_rate_pct,
)
from app.domain.enums import (
    AppointmentStatus,
    ClientStatus,
    EscrowStatus,
    LeadStatus,
    ListingStatus,
    Role,
)
from app.domain.errors import PermissionDenied, ValidationError
from app.services.database import Database

#: Escrow statuses that count as production (a cancelled escrow does not).
PRODUCTION_STATUSES = (EscrowStatus.ACTIVE, EscrowStatus.PENDING, EscrowStatus.CLOSED)
ZERO = Decimal("0.00")
_ONE_SNAPSHOT: dict[str, Any] = {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
#: A grouped aggregate: the owner id first, then its numbers.
Aggregate = sa.Select[*tuple[Any, ...]]


@dataclass(frozen=True)
class _Scope:
    """Whom the report covers. ``people`` (None: everyone) are summed in the brokerage
    totals; ``cards`` (a condition on User, within ``people``) get a card each."""

    people: sa.ColumnElement[bool] | None
    cards: sa.ColumnElement[bool]
    #: Narrow the aggregates to the people in view in SQL (a team, one person). Not for a
    #: brokerage, usually most of the database: aggregating every owner and keeping those in
    #: view here is cheaper than testing each of millions of rows against the people.
    in_sql: bool = True
    single: int | None = None  # the one person in view, when there is only one


def agent_report(
    db: Database,
    as_of: dt.date,
    period_days: int = DEFAULT_PERIOD_DAYS,
    acting_email: str | None = None,
) -> AgentReport:
    """Every agent ``acting_email`` may see, with their SPEC §2 numbers, and the totals.

    ``acting_email`` None: in local mode the one person holds every role (the whole office);
    in shared mode the person whose login is the session's database user, or the whole
    office for a login that is nobody's (an administrator's own server account). In shared
    mode a person's login may act only as that person, unless they are an admin.
    Raises ValidationError for an unknown person, PermissionDenied for closers, dialers,
    deactivated people and a login acting as somebody else.
    """
    period = report_period(as_of, period_days)
    with db.read() as s:
        if db.dialect == "postgresql":
            # One snapshot for every query, so the totals agree with the cards.
            s.connection(execution_options=_ONE_SNAPSHOT)
        login = _login(s, db)
        scope = _scope(s, login, acting_email)
        people = s.execute(
            sa.select(
                User.id,
                User.email,
                User.first_name,
                User.last_name,
                User.last_login,
                Team.name,
                sa.case((scope.cards, True), else_=False),
            )
            .outerjoin(Team, Team.id == User.team_id)
            .where(*_where(scope.people))
        ).all()
        if login is None and db.dialect == "sqlite":
            leads = _by_owner(s, _leads_by_person(period, scope))
            appointments = _appointments_by_range(s, period, scope)
        elif login is None:
            leads = _by_owner(s, _leads(period, scope))
            appointments = _by_owner(s, _appointments(period, scope))
        else:
            # A person's login: row-level security hides other people's leads and
            # appointments; the server's definer functions count them (never private ones).
            leads = _by_owner(s, _definer_counts("perfdesk_lead_counts", _LEAD_COUNTS, period))
            appointments = _by_owner(
                s, _definer_counts("perfdesk_appointment_counts", _APPOINTMENT_COUNTS, period)
            )
        escrows = _by_owner(s, _escrows(period, scope))
        clients = _by_owner(s, _active(Client, ClientStatus.ACTIVE, period, scope))
        listings = _by_owner(s, _active(Listing, ListingStatus.ACTIVE, period, scope))

    cards: list[AgentKpis] = []
    for uid, email, first, last, last_login, team, is_card in people:
        if not is_card:
            continue
        total, new, converted, last_lead = leads.get(uid, (0, 0, 0, None))
        scheduled, completed, no_shows, last_appt = appointments.get(uid, (0, 0, 0, None))
        n_escrows, volume, commission, last_escrow = escrows.get(uid, (0, None, None, None))
        login = last_login if last_login is not None and last_login < period.end else None
        cards.append(
            AgentKpis(
                user_id=uid,
                email=email,
                name=f"{first} {last}".strip(),
                team=team,
                total_leads=total,
                new_leads=new,
                converted_leads=converted,
                conversion_rate_pct=conversion_rate_pct(converted, total),
                appointments_scheduled=scheduled,
                appointments_completed=completed,
                no_shows=no_shows,
                show_rate_pct=show_rate_pct(completed, no_shows),
                escrows_ytd=n_escrows,
                volume_ytd=volume or ZERO,
                commission_ytd=commission or ZERO,
                active_clients=clients.get(uid, (0,))[0],
                active_listings=listings.get(uid, (0,))[0],
                last_activity=latest(login, last_lead, last_appt, last_escrow),
            )
        )
    cards.sort(key=lambda k: (k.name.casefold(), k.email))
    in_view = {row[0] for row in people}
    totals = BrokerageTotals(
        volume_ytd=sum((escrows[u][1] or ZERO for u in in_view if u in escrows), ZERO),
        escrows_ytd=sum(escrows[u][0] for u in in_view if u in escrows),
        active_clients=sum(clients[u][0] for u in in_view if u in clients),
        active_listings=sum(listings[u][0] for u in in_view if u in listings),
    )
    return AgentReport(period=period, agents=tuple(cards), brokerage=totals)


# ---------------------------------------------------------------------------- who sees whom


#: (uid, email, role, team_id, is_active) of a person.
_Person = sa.Row[int, str, str, int | None, bool]


def _login(s: Session, db: Database) -> _Person | None:
    """Shared mode: the person whose login the session is, if it is a person's at all."""
    if db.dialect != "postgresql":
        return None
    return s.execute(_person().where(User.db_role == sa.func.current_user())).one_or_none()


def _scope(s: Session, login: _Person | None, acting_email: str | None) -> _Scope:
    is_agent = sa.and_(User.role == Role.AGENT.value, User.is_active.is_(True))
    everyone = _Scope(people=None, cards=is_agent)
    if acting_email is None:
        if login is None:
            return everyone
        me = login
    else:
        email = acting_email.strip().lower()
        named = s.execute(_person().where(User.email == email)).one_or_none()
        if named is None:
            raise ValidationError(f"there is nobody with the email {email}")
        me = named
        if login is not None and login.id != me.id and login.role != Role.ADMIN.value:
            raise PermissionDenied(
                f"logged in as {login.email}, who may not act as {email} "
                "(only an administrator's login may act as another person)"
            )
    uid, email, role, team_id, is_active = me
    if not is_active:
        raise PermissionDenied(f"{email} is deactivated and may not see the agent report")
    if role in (Role.CLOSER.value, Role.DIALER.value):
        raise PermissionDenied(
            f"{email} is a {role}: SPEC §1 shows closers and dialers nothing of other "
            "people's leads and appointments, so the agent report is not theirs to see"
        )
    if role == Role.ADMIN.value:
        return everyone
    if role == Role.BROKER.value:
        return _Scope(
            people=sa.or_(User.id == uid, User.broker_id == uid),
            cards=sa.and_(is_agent, User.broker_id == uid),
            in_sql=False,
        )
    if role == Role.MANAGER.value:
        teams = set(s.scalars(sa.select(Team.id).where(Team.manager_id == uid)))
        if team_id is not None:
            teams.add(team_id)
        return _Scope(
            people=sa.or_(User.id == uid, User.team_id.in_(sorted(teams))),
            cards=sa.and_(is_agent, User.team_id.in_(sorted(teams))),
        )
    return _Scope(people=User.id == uid, cards=sa.and_(is_agent, User.id == uid), single=uid)


def _person() -> sa.Select[int, str, str, int | None, bool]:
    return sa.select(User.id, User.email, User.role, User.team_id, User.is_active)


def _where(condition: sa.ColumnElement[bool] | None) -> Sequence[sa.ColumnElement[bool]]:
    return () if condition is None else (condition,)


def _owned_by(owner: InstrumentedAttribute[int], scope: _Scope) -> Sequence[sa.ColumnElement[bool]]:
    """Only the records of the people in view (``=`` for one person, so an index serves)."""
    if scope.single is not None:
        return (owner == scope.single,)
    if scope.people is None or not scope.in_sql:
        return ()
    return (owner.in_(sa.select(User.id).where(scope.people)),)


# ---------------------------------------------------------------------------- aggregates


def _by_owner(s: Session, stmt: Aggregate) -> dict[int, tuple[Any, ...]]:
    return {row[0]: tuple(row[1:]) for row in s.execute(stmt)}


def _count(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
    return sa.func.count().filter(condition)


def _leads(period: ReportPeriod, scope: _Scope) -> Aggregate:
    return (
        sa.select(
            Lead.owner_id,
            sa.func.count(),
            _count(Lead.created_at >= period.start),
            _count(Lead.status == LeadStatus.CONVERTED.value),
            sa.func.max(Lead.created_at),
        )
        .where(
            Lead.is_private == sa.false(),
            Lead.created_at < period.end,
            *_owned_by(Lead.owner_id, scope),
        )
        .group_by(Lead.owner_id)
    )


def _appointments(period: ReportPeriod, scope: _Scope) -> Aggregate:
    a = Appointment
    in_period = sa.and_(a.start_time >= period.start, a.start_time < period.end)
    return (
        sa.select(
            a.agent_id,
            _count(sa.and_(in_period, a.status != AppointmentStatus.CANCELLED.value)),
            _count(sa.and_(in_period, a.status == AppointmentStatus.COMPLETED.value)),
            _count(sa.and_(in_period, a.status == AppointmentStatus.NO_SHOW.value)),
            sa.func.max(a.created_at),
        )
        .where(a.is_private == sa.false(), a.created_at < period.end, *_owned_by(a.agent_id, scope))
        .group_by(a.agent_id)
    )


def _leads_by_person(period: ReportPeriod, scope: _Scope) -> Aggregate:
    """``_leads``'s figures for each person in view (zeros and None for the rest), as
    correlated subqueries: each is a range of ``ix_leads_owner_kpi`` on SQLite."""
    lead = Lead
    mine = (
        lead.owner_id == User.id,
        lead.is_private == sa.false(),
        lead.created_at < period.end,
    )

    def counted(*more: sa.ColumnElement[bool]) -> sa.ScalarSelect[int]:
        return sa.select(sa.func.count()).where(*mine, *more).scalar_subquery()

    newest = sa.select(sa.func.max(lead.created_at)).where(*mine).scalar_subquery()
    return sa.select(
        User.id,
        counted(),
        counted(lead.created_at >= period.start),
        counted(lead.status == LeadStatus.CONVERTED.value),
        newest,
    ).where(*_where(scope.people))


def _appointments_by_range(
    s: Session, period: ReportPeriod, scope: _Scope
) -> dict[int, tuple[Any, ...]]:
    """``_appointments``'s figures: the period's appointments grouped with the period in
    WHERE (only they are aggregated), and each person's newest one as a correlated max."""
    a = Appointment
    counts = _by_owner(
        s,
        sa.select(
            a.agent_id,
            _count(a.status != AppointmentStatus.CANCELLED.value),
            _count(a.status == AppointmentStatus.COMPLETED.value),
            _count(a.status == AppointmentStatus.NO_SHOW.value),
        )
        .where(
            a.is_private == sa.false(),
            a.created_at < period.end,
            a.start_time >= period.start,
            a.start_time < period.end,
            *_owned_by(a.agent_id, scope),
        )
        .group_by(a.agent_id),
    )
    newest = (
        sa.select(sa.func.max(a.created_at))
        .where(a.agent_id == User.id, a.is_private == sa.false(), a.created_at < period.end)
        .scalar_subquery()
    )
    figures: dict[int, tuple[Any, ...]] = {}
    for uid, last in s.execute(sa.select(User.id, newest).where(*_where(scope.people))):
        scheduled, completed, no_shows = counts.get(uid, (0, 0, 0))
        if last is not None or uid in counts:
            figures[uid] = (scheduled, completed, no_shows, last)
    return figures


def _escrows(period: ReportPeriod, scope: _Scope) -> Aggregate:
    e = Escrow
    ytd = sa.and_(
        e.created_at >= period.ytd_start,
        e.escrow_status.in_([status.value for status in PRODUCTION_STATUSES]),
    )
    return (
        sa.select(
            e.agent_id,
            _count(ytd),
            sa.func.sum(e.purchase_price).filter(ytd),
            sa.func.sum(e.my_commission).filter(ytd),
            sa.func.max(e.created_at),
        )
        .where(e.created_at < period.end, *_owned_by(e.agent_id, scope))
        .group_by(e.agent_id)
    )


_LEAD_COUNTS = ("total", "new", "converted")
_APPOINTMENT_COUNTS = ("scheduled", "completed", "no_shows")


def _definer_counts(function: str, counts: Sequence[str], period: ReportPeriod) -> Aggregate:
    """The rows of one of the server's SECURITY DEFINER count functions (migration 0004,
    ``app/db/security.py``): owner id, three counts and the newest creation time, for the
    owners the login may count. Same shape as ``_leads`` and ``_appointments``."""
    rows = getattr(sa.func, function)(
        sa.bindparam(None, period.start, type_=UTCDateTime()),
        sa.bindparam(None, period.end, type_=UTCDateTime()),
    ).table_valued(
        sa.column("owner_id", sa.Integer()),
        *(sa.column(name, sa.BigInteger()) for name in counts),
        sa.column("last_created", UTCDateTime()),
    )
    return sa.select(*rows.c)


def _active(
    model: type[Client] | type[Listing], active: str, period: ReportPeriod, scope: _Scope
) -> Aggregate:
    return (
        sa.select(model.agent_id, sa.func.count())
        .where(
            model.status == active,
            model.created_at < period.end,
            *_owned_by(model.agent_id, scope),
        )
        .group_by(model.agent_id)
    )


# ---------------------------------------------------------------------------- for jobs


@dataclass(frozen=True)
class OwnerFigures:
    """The report's five aggregates for every owner in the database (no SPEC §1 scope), by
    owner id, in the shapes ``agent_report`` reads: leads (total, new, converted, newest),
    appointments (scheduled, completed, no-shows, newest), escrows (production count,
    volume, commission, newest of any status), active clients (count,), listings (count,)."""

    leads: dict[int, tuple[Any, ...]]
    appointments: dict[int, tuple[Any, ...]]
    escrows: dict[int, tuple[Any, ...]]
    clients: dict[int, tuple[Any, ...]]
    listings: dict[int, tuple[Any, ...]]


def office_figures(s: Session, period: ReportPeriod) -> OwnerFigures:
    """Every owner's figures over ``period`` (production counted from ``period.ytd_start``),
    read in the caller's session and transaction: for jobs that store the office's numbers
    (the monthly agent KPIs), which pass a period of their own."""
    scope = _Scope(people=None, cards=sa.true())
    return OwnerFigures(
        leads=_by_owner(s, _leads(period, scope)),
        appointments=_by_owner(s, _appointments(period, scope)),
        escrows=_by_owner(s, _escrows(period, scope)),
        clients=_by_owner(s, _active(Client, ClientStatus.ACTIVE, period, scope)),
        listings=_by_owner(s, _active(Listing, ListingStatus.ACTIVE, period, scope)),
    )
