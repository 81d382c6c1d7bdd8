"""The broker dashboard's reads beyond the agent report (SPEC §1–§2; issue 3 item 2).

- ``recent_activity``: the escrows, clients and listings created most recently, newest first,
  as far as the acting person may see them (the same owner scope as the record pages:
  ``app.services.records``), each naming its agent, the thing and the price.
- ``business_owner`` and ``my_business``: a person's own pipeline (SPEC §1 "My Business"):
  their own leads by source, their appointments of one week, their own production year to date.
  Leads and appointments are read only as their owner: in shared mode the login must be that
  person, as for the record pages.
- ``open_escrows``: escrows under way now (Active or Pending), for the brokerage overview.
- ``load``: everything the dashboard page shows, in one call made off the GUI thread.

Decided here where SPEC is silent:
- My Business counts all of the person's own leads (a broker's are private by default; any
  they made public are theirs as well) and says how many are private. Leads without a source
  are grouped as "No source". "New" means created within the period, as on the cards.
- "This week" is Monday 00:00 to the next Monday in the time zone the caller gives (the window
  passes the computer's own), holding every appointment of the person's that is not cancelled,
  private or not, by start time.
- Own production follows SPEC §2: escrows Active, Pending or Closed opened since 1 January of
  ``as_of``'s year; active clients and listings by their current status.
- Nothing created after the end of ``as_of`` counts or is listed (as in the agent report).
- In local mode nobody is named by default: the report and the feed cover the whole office
  (the one local person holds every role) and My Business is the office's broker, or the broker
  chosen when there are several. In shared mode all four parts are the login's own view.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.db.models import Appointment, Client, Escrow, Lead, Listing, User
from app.domain.agent_kpis import AgentReport, ReportPeriod, reference_time, report_period
from app.domain.enums import (
    AppointmentStatus,
    ClientStatus,
    EscrowStatus,
    LeadStatus,
    ListingStatus,
    Role,
)
from app.domain.errors import PermissionDenied, ValidationError
from app.services import office
from app.services.database import Database
from app.services.records import Acting, Actor, RecordKind, owner_scope, resolve_actor
from app.services.reports.agents import PRODUCTION_STATUSES, agent_report

#: How many entries the activity feed holds.
FEED_LIMIT = 50
#: "Agents active" in the overview: last activity within this many days of the report's end.
ACTIVE_DAYS = 7
NO_SOURCE = "No source"
ZERO = Decimal("0.00")
#: The kinds the feed lists (SPEC §3: the records a broker is notified of).
FEED_KINDS: tuple[RecordKind, ...] = (RecordKind.ESCROWS, RecordKind.CLIENTS, RecordKind.LISTINGS)
_OPEN_ESCROW = (EscrowStatus.ACTIVE.value, EscrowStatus.PENDING.value)


# ---------------------------------------------------------------------------- periods


def ytd_days(as_of: dt.date) -> int:
    """Days from 1 January of ``as_of``'s year to ``as_of``, both included."""
    return (as_of - dt.date(as_of.year, 1, 1)).days + 1


def range_days(first: dt.date, last: dt.date) -> int:
    """Days from ``first`` to ``last``, both included (the report runs as of ``last``)."""
    if last < first:
        raise ValidationError(f"the period ends ({last}) before it starts ({first})")
    return (last - first).days + 1


def week_of(day: dt.date, tz: dt.tzinfo = dt.UTC) -> tuple[dt.datetime, dt.datetime]:
    """The week holding ``day``: Monday 00:00 to the next Monday 00:00 in ``tz`` (as UTC)."""
    monday = day - dt.timedelta(days=day.weekday())
    start = dt.datetime.combine(monday, dt.time(), tzinfo=tz)
    end = dt.datetime.combine(monday + dt.timedelta(days=7), dt.time(), tzinfo=tz)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


# ---------------------------------------------------------------------------- people


@dataclass(frozen=True)
class PersonRef:
    id: int
    email: str
    name: str
    role: str


def _ref(user: User) -> PersonRef:
    return PersonRef(user.id, user.email, user.full_name.strip(), str(user.role))


@dataclass(frozen=True)
class BusinessOwners:
    """Whose My Business the dashboard shows.

    ``fixed``: a shared server's login, who sees only their own; otherwise ``choices`` are the
    office's active brokers and ``person`` the one chosen, or the only one (None when there
    are several and none was chosen, or none at all).
    """

    person: PersonRef | None
    choices: tuple[PersonRef, ...]
    fixed: bool


def business_owner(db: Database, chosen_email: str | None = None) -> BusinessOwners:
    with db.read() as s:
        return _business_owner(s, db, chosen_email)


def _business_owner(s: Session, db: Database, chosen_email: str | None) -> BusinessOwners:
    if not db.is_local:
        login = s.scalar(sa.select(User).where(User.db_role == sa.func.current_user()))
        if login is not None:
            return BusinessOwners(_ref(login), (), fixed=True)
    brokers = s.scalars(
        sa.select(User)
        .where(User.role == Role.BROKER.value, User.is_active.is_(True))
        .order_by(User.first_name, User.last_name, User.email)
    ).all()
    choices = tuple(_ref(u) for u in brokers)
    wanted = (chosen_email or "").strip().lower()
    person = next((p for p in choices if p.email == wanted), None)
    if person is None and len(choices) == 1:
        person = choices[0]
    return BusinessOwners(person, choices, fixed=False)


# ---------------------------------------------------------------------------- activity feed


@dataclass(frozen=True)
class ActivityEntry:
    """One record created: an escrow opened, a client added or a property listed."""

    kind: RecordKind
    record_id: int
    agent_id: int
    agent_name: str
    agent_email: str
    subject: str  # the property's address, or the client's name
    price: Decimal | None  # purchase or list price; None for a client
    status: str
    detail: str | None  # a client's source
    created_at: dt.datetime


def _feed_select(kind: RecordKind) -> sa.Select[*tuple[Any, ...]]:
    people = (User.id, User.first_name, User.last_name, User.email)
    if kind is RecordKind.ESCROWS:
        e = Escrow
        return sa.select(
            e.id, e.created_at, *people, e.property_address, e.purchase_price, e.escrow_status,
            sa.null(),
        ).join(User, User.id == e.agent_id)  # fmt: skip
    if kind is RecordKind.CLIENTS:
        c = Client
        return sa.select(c.id, c.created_at, *people, c.name, sa.null(), c.status, c.source).join(
            User, User.id == c.agent_id
        )
    li = Listing
    return sa.select(
        li.id, li.created_at, *people, li.address, li.list_price, li.status, sa.null()
    ).join(User, User.id == li.agent_id)


def _feed_model(kind: RecordKind) -> type[Escrow] | type[Client] | type[Listing]:
    if kind is RecordKind.ESCROWS:
        return Escrow
    return Client if kind is RecordKind.CLIENTS else Listing


def _recent(
    s: Session, actor: Actor | None, limit: int, before: dt.datetime | None
) -> tuple[ActivityEntry, ...]:
    entries: list[ActivityEntry] = []
    for kind in FEED_KINDS:
        model = _feed_model(kind)
        # The newest ids first, from the (owner, created) indexes alone; then their rows and
        # owners. Joining every record to its owner before sorting costs ten times as much.
        newest = sa.select(model.id)
        scope = owner_scope(kind, actor)
        if scope is not None:
            newest = newest.where(model.agent_id.in_(sa.select(User.id).where(scope)))
        if before is not None:
            newest = newest.where(model.created_at < before)
        newest = newest.order_by(model.created_at.desc(), model.id.desc()).limit(limit)
        stmt = _feed_select(kind).where(model.id.in_(newest.scalar_subquery()))
        for rid, created, uid, first, last, email, subject, price, status, detail in s.execute(
            stmt
        ):
            entries.append(
                ActivityEntry(
                    kind=kind,
                    record_id=rid,
                    agent_id=uid,
                    agent_name=f"{first} {last}".strip(),
                    agent_email=email,
                    subject=subject,
                    price=price,
                    status=str(status),
                    detail=detail,
                    created_at=created,
                )
            )
    rank = {kind: i for i, kind in enumerate(FEED_KINDS)}
    entries.sort(key=lambda a: (a.created_at, -rank[a.kind], a.record_id), reverse=True)
    return tuple(entries[:limit])


def recent_activity(
    db: Database,
    limit: int = FEED_LIMIT,
    acting: Acting = None,
    as_of: dt.date | None = None,
) -> tuple[ActivityEntry, ...]:
    """The ``limit`` escrows, clients and listings created last that ``acting`` may see,
    newest first (created up to the end of ``as_of``, when given)."""
    before = report_period(as_of, 1).end if as_of is not None else None
    with db.read() as s:
        actor = resolve_actor(s, db, acting)
        return _recent(s, actor, max(limit, 0), before)


# ---------------------------------------------------------------------------- my business


@dataclass(frozen=True)
class SourceCount:
    source: str
    total: int
    new: int  # created within the period
    private: int


@dataclass(frozen=True)
class WeekAppointment:
    id: int
    start_time: dt.datetime
    end_time: dt.datetime | None
    title: str
    location: str | None
    status: str
    is_private: bool


@dataclass(frozen=True)
class MyBusiness:
    """One person's own pipeline (SPEC §1 "My Business"), as of the end of ``period.as_of``."""

    person: PersonRef
    period: ReportPeriod
    leads_total: int
    leads_new: int
    leads_private: int
    leads_converted: int
    sources: tuple[SourceCount, ...]  # most leads first, then by name
    week_start: dt.datetime
    week_end: dt.datetime
    appointments: tuple[WeekAppointment, ...]  # this week's, not cancelled, by start
    escrows_ytd: int
    volume_ytd: Decimal
    commission_ytd: Decimal
    active_clients: int
    active_listings: int

    @property
    def appointments_scheduled(self) -> int:
        return sum(a.status == AppointmentStatus.SCHEDULED.value for a in self.appointments)


def my_business(
    db: Database,
    as_of: dt.date,
    period_days: int,
    acting: Acting = None,
    week: tuple[dt.datetime, dt.datetime] | None = None,
) -> MyBusiness:
    """``acting``'s own pipeline; ``week`` (UTC start, end) defaults to ``week_of(as_of)``.

    Only the owner reads their leads and appointments (SPEC §1): ``acting`` follows the rules
    of the record pages (in shared mode, the login). Local mode with nobody named is refused:
    the one local person has no pipeline of their own; name the broker.
    """
    period = report_period(as_of, period_days)
    week_start, week_end = week if week is not None else week_of(as_of)
    with db.read() as s:
        actor = resolve_actor(s, db, acting)
        if actor is None:
            raise ValidationError("name the person whose own business to show")
        uid = actor.id
        person = PersonRef(uid, actor.email, actor.full_name, str(actor.role))
        sources = _sources(s, uid, period)
        converted = s.scalar(
            sa.select(sa.func.count()).where(
                Lead.owner_id == uid,
                Lead.created_at < period.end,
                Lead.status == LeadStatus.CONVERTED.value,
            )
        )
        appointments = _week(s, uid, week_start, week_end)
        production = _production(s, uid, period)
    escrows, volume, commission, clients, listings = production
    return MyBusiness(
        person=person,
        period=period,
        leads_total=sum(c.total for c in sources),
        leads_new=sum(c.new for c in sources),
        leads_private=sum(c.private for c in sources),
        leads_converted=int(converted or 0),
        sources=sources,
        week_start=week_start,
        week_end=week_end,
        appointments=appointments,
        escrows_ytd=escrows,
        volume_ytd=volume,
        commission_ytd=commission,
        active_clients=clients,
        active_listings=listings,
    )


def _sources(s: Session, uid: int, period: ReportPeriod) -> tuple[SourceCount, ...]:
    source = sa.func.coalesce(sa.func.nullif(sa.func.trim(Lead.source), ""), NO_SOURCE)
    rows = s.execute(
        sa.select(
            source,
            sa.func.count(),
            sa.func.count().filter(Lead.created_at >= period.start),
            sa.func.count().filter(Lead.is_private == sa.true()),
        )
        .where(Lead.owner_id == uid, Lead.created_at < period.end)
        .group_by(source)
    ).all()
    counts = [
        SourceCount(str(name), int(n), int(new), int(private)) for name, n, new, private in rows
    ]
    counts.sort(key=lambda c: (-c.total, c.source == NO_SOURCE, c.source.casefold()))
    return tuple(counts)


def _week(
    s: Session, uid: int, start: dt.datetime, end: dt.datetime
) -> tuple[WeekAppointment, ...]:
    a = Appointment
    rows = s.execute(
        sa.select(a.id, a.start_time, a.end_time, a.title, a.location, a.status, a.is_private)
        .where(
            a.agent_id == uid,
            a.start_time >= start,
            a.start_time < end,
            a.status != AppointmentStatus.CANCELLED.value,
        )
        .order_by(a.start_time, a.id)
    ).all()
    return tuple(
        WeekAppointment(rid, begins, ends, title, location, str(status), bool(private))
        for rid, begins, ends, title, location, status, private in rows
    )


def _production(
    s: Session, uid: int, period: ReportPeriod
) -> tuple[int, Decimal, Decimal, int, int]:
    e = Escrow
    escrows, volume, commission = s.execute(
        sa.select(
            sa.func.count(), sa.func.sum(e.purchase_price), sa.func.sum(e.my_commission)
        ).where(
            e.agent_id == uid,
            e.created_at >= period.ytd_start,
            e.created_at < period.end,
            e.escrow_status.in_([status.value for status in PRODUCTION_STATUSES]),
        )
    ).one()
    clients = s.scalar(
        sa.select(sa.func.count()).where(
            Client.agent_id == uid,
            Client.status == ClientStatus.ACTIVE.value,
            Client.created_at < period.end,
        )
    )
    listings = s.scalar(
        sa.select(sa.func.count()).where(
            Listing.agent_id == uid,
            Listing.status == ListingStatus.ACTIVE.value,
            Listing.created_at < period.end,
        )
    )
    return (
        int(escrows or 0),
        volume or ZERO,
        commission or ZERO,
        int(clients or 0),
        int(listings or 0),
    )


# ---------------------------------------------------------------------------- overview


@dataclass(frozen=True)
class OpenEscrows:
    """Escrows under way now (Active or Pending) and what they are worth."""

    count: int
    volume: Decimal


def open_escrows(db: Database, as_of: dt.date, acting: Acting = None) -> OpenEscrows:
    with db.read() as s:
        actor = resolve_actor(s, db, acting)
        return _open_escrows(s, actor, report_period(as_of, 1).end)


def _open_escrows(s: Session, actor: Actor | None, before: dt.datetime) -> OpenEscrows:
    stmt = (
        sa.select(sa.func.count(), sa.func.sum(Escrow.purchase_price))
        .select_from(Escrow)
        .join(User, User.id == Escrow.agent_id)
        .where(Escrow.escrow_status.in_(_OPEN_ESCROW), Escrow.created_at < before)
    )
    scope = owner_scope(RecordKind.ESCROWS, actor)
    if scope is not None:
        stmt = stmt.where(scope)
    count, volume = s.execute(stmt).one()
    return OpenEscrows(int(count or 0), volume or ZERO)


def agents_active(report: AgentReport, now: dt.datetime, days: int = ACTIVE_DAYS) -> int:
    """Agents whose last activity is within ``days`` of the report's reference time."""
    since = reference_time(report.as_of, now) - dt.timedelta(days=days)
    return sum(a.last_activity is not None and a.last_activity >= since for a in report.agents)


# ---------------------------------------------------------------------------- the whole page


@dataclass(frozen=True)
class DashboardRequest:
    as_of: dt.date
    period_days: int
    week: tuple[dt.datetime, dt.datetime]  # UTC bounds of "this week" for My Business
    business_email: str | None = None  # the broker chosen (local mode)
    feed_limit: int = FEED_LIMIT


@dataclass(frozen=True)
class Dashboard:
    request: DashboardRequest
    now: dt.datetime  # what "2 h ago" counts from (see ``agent_kpis.reference_time``)
    currency: str
    report: AgentReport
    open_escrows: OpenEscrows | None  # None with the feed's problem
    agents_active: int
    feed: tuple[ActivityEntry, ...]
    feed_problem: str | None  # why there is no feed (a login that is no person)
    owners: BusinessOwners
    business: MyBusiness | None


def load(db: Database, request: DashboardRequest, now: dt.datetime | None = None) -> Dashboard:
    """Everything the dashboard shows. PermissionDenied when the agent report is refused
    (closers, dialers, deactivated people)."""
    now = now or dt.datetime.now(dt.UTC)
    report = agent_report(db, request.as_of, request.period_days)
    end = report.period.end
    with db.read() as s:
        owners = _business_owner(s, db, request.business_email)
        try:
            actor = resolve_actor(s, db, None)
        except PermissionDenied as exc:
            # A server login that is nobody's (the owner's account) sees the report, not rows.
            feed: Sequence[ActivityEntry] = ()
            feed_problem: str | None = str(exc)
            escrows: OpenEscrows | None = None
        else:
            feed, feed_problem = _recent(s, actor, request.feed_limit, end), None
            escrows = _open_escrows(s, actor, end)
    business = None
    if owners.person is not None:
        business = my_business(
            db,
            request.as_of,
            request.period_days,
            acting=None if owners.fixed else owners.person.email,
            week=request.week,
        )
    return Dashboard(
        request=request,
        now=now,
        currency=office.get_currency(db),
        report=report,
        open_escrows=escrows,
        agents_active=agents_active(report, now),
        feed=tuple(feed),
        feed_problem=feed_problem,
        owners=owners,
        business=business,
    )
