"""ROI by lead source (issue 7, SPEC §12 ``report roi``): for a date range, what each lead source
cost and what it brought in, by source and by person.

The rules of the figures (range, proration, matching sources, ratios, sorting) are
``app/domain/roi.py``'s. What is counted, and for whom (decided here where SPEC is silent; also
in docs/rules.md):
- the range is ``[start, end]``, whole UTC days, both included;
- leads: leads created in the range with that source, of the people in view. Other people's
  private leads never count; the acting person's own private leads do. With nobody acting
  (local mode with nobody named, or a server login that is no person's) no private lead counts;
- the people in view are those whose counts the acting person may see, as the agent report's
  (``app/services/reports/agents.py``): one's own; a broker's, themself and their agents; a
  manager's, themself and the members of their teams (the teams they manage and their own);
  an admin's, everyone; with nobody acting, the whole office. Closers and dialers see their own;
- closed: deals with that ``lead_source``, status closed won, ``actual_close_date`` in the
  range, whose agent is in view and whose deals the acting person sees (SPEC §1: themself,
  their agents as broker, the members of the teams they manage, everyone for an admin);
- commission: Σ ``commission_amount`` of the commission records confirmed, invoiced or paid
  (SPEC §8's earned statuses) on those closed deals, whoever the record pays, in the office's
  currency: a closed deal in another currency counts as closed, its commission is left out,
  and the report says how many such deals there were (``other_currency_closed``). A person's
  commission (by agent) is that on the deals they closed, so people add up to their source;
- cost: the office-wide spend and the spend bought for the people in view whose deals the
  acting person sees (as the server's row-level security reads spend), prorated by days;
  office-wide spend counts in full against the leads and deals in view, and is never shared
  out to people (the by-agent rows carry only the spend bought for that person).

Set-based, whatever the size of the office: one grouped query each for leads, closed deals
(with their commission) and cost rows, and one read of the people; nothing runs per person or
per source. All of them read one snapshot (REPEATABLE READ on PostgreSQL; one read transaction
on SQLite). On a server under a person's own login, row-level security hides every lead but
the person's own, so the leads come from ``perfdesk_lead_source_counts`` (migration 0012),
which counts (never lists) what the login may count. Under the office owner's login, and on
SQLite, the leads are one grouped query over the range (``ix_leads_created_owner``; a single
person's by ``ix_leads_owner_created``).

Measured on the ``large`` demo (2 M leads, 50,000 deals), one month: ~180 ms on SQLite and on
PostgreSQL under the owner's login; a quarter ~0.5 s, a year ~2 s (SQLite) / ~0.8 s
(PostgreSQL): the leads of the range are grouped. Under a broker's own login the closed deals'
commission takes ~15 s a month, because the commission records' read policy (migration 0008)
runs ``perfdesk_visible_owners()`` once per record when it tests the deal first; with the
policy's two tests the other way round (the record's agent first, which PostgreSQL hashes
once) the whole report takes ~240 ms. That is a change of the policy, not of this query.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.db.models import AppSetting, CommissionRecord, Deal, Lead, LeadSourceCost, Team, User
from app.db.types import UTCDateTime
from app.domain.enums import DealStatus, Role
from app.domain.errors import ValidationError
from app.domain.roi import CostEntry, Counted, RoiReport, build_report, check_range, roi_json
from app.services.analytics.lead_costs import acting_person, seen_people
from app.services.database import Database
from app.services.kpis.sales import EARNED
from app.services.office import CURRENCY_KEY, DEFAULT_CURRENCY
from app.services.records import Acting, Actor

__all__ = ["RoiReport", "roi_json", "roi_report"]

_ONE_SNAPSHOT: dict[str, Any] = {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
#: Up to this many people in view, the grouped queries are narrowed to them in SQL (an index
#: serves); beyond, every owner is grouped and the people in view are kept here, which is
#: cheaper than testing each of millions of rows against a long list (as the agent report).
FEW_PEOPLE = 20
ONE_DAY = dt.timedelta(days=1)
ZERO = Decimal(0)
#: A grouped query: the person's id first, then the source, then its figures.
Aggregate = sa.Select[*tuple[Any, ...]]


def roi_report(db: Database, start: dt.date, end: dt.date, acting: Acting = None) -> RoiReport:
    """The ROI of each lead source over ``[start, end]`` (UTC days) for the acting person.

    Raises ValidationError for a backward range, PermissionDenied for an unknown or
    deactivated person, or a login acting as somebody else."""
    try:
        check_range(start, end)
    except ValueError as exc:
        raise ValidationError(f"Dates: {exc}") from None
    with db.read() as s:
        if db.dialect == "postgresql":
            s.connection(execution_options=_ONE_SNAPSHOT)  # one snapshot for every query
        actor = acting_person(s, db, acting)
        in_view = _people_in_view(s, actor)
        deals_seen = seen_people(s, actor)
        dealt = _both(in_view, deals_seen)
        currency = _currency(s)
        counted: list[Counted] = []
        if _is_persons_login(s, db):
            leads = _definer_lead_counts(start, end)
        else:
            leads = _lead_counts(start, end, actor, in_view)
        for owner, source, n in s.execute(leads):
            if _within(in_view, owner):
                counted.append(Counted(int(owner), source, leads=int(n)))
        other_currency = 0
        for agent, source, n, foreign, earned in s.execute(_closed(start, end, currency, dealt)):
            if _within(dealt, agent):
                commission = ZERO if earned is None else Decimal(earned)
                counted.append(Counted(int(agent), source, closed=int(n), commission=commission))
                other_currency += int(foreign or 0)
        costs = [
            CostEntry(source, month, None if agent is None else int(agent), cost)
            for source, month, agent, cost in s.execute(_costs(start, end))
            if agent is None or _within(dealt, agent)
        ]
        people = {
            int(uid): (email, f"{first} {last}".strip())
            for uid, email, first, last in s.execute(
                sa.select(User.id, User.email, User.first_name, User.last_name)
            )
        }
    return build_report(start, end, currency, costs, counted, people, other_currency)


# -- whom the report covers ---------------------------------------------------------------------


def _people_in_view(s: Session, actor: Actor | None) -> set[int] | None:
    """Whose leads the acting person may count (the agent report's scope); None: everyone."""
    if actor is None or actor.role == Role.ADMIN.value:
        return None
    me = actor.id
    if actor.role == Role.BROKER.value:
        where: sa.ColumnElement[bool] = sa.or_(User.id == me, User.broker_id == me)
    elif actor.role == Role.MANAGER.value:
        teams = set(s.scalars(sa.select(Team.id).where(Team.manager_id == me)))
        own_team = s.scalar(sa.select(User.team_id).where(User.id == me))
        if own_team is not None:
            teams.add(own_team)
        where = sa.or_(User.id == me, User.team_id.in_(sorted(teams)))
    else:
        return {me}
    return {int(uid) for uid in s.scalars(sa.select(User.id).where(where))}


def _both(a: set[int] | None, b: set[int] | None) -> set[int] | None:
    if a is None:
        return b
    return a if b is None else a & b


def _within(people: set[int] | None, uid: int) -> bool:
    return people is None or uid in people


def _narrowed(column: Any, people: set[int] | None) -> tuple[sa.ColumnElement[bool], ...]:
    """Only the rows of ``people`` in SQL, when they are few (``=`` for one: an index serves)."""
    if people is None or len(people) > FEW_PEOPLE:
        return ()
    if len(people) == 1:
        return (column == next(iter(people)),)
    return (column.in_(sorted(people)),)


def _is_persons_login(s: Session, db: Database) -> bool:
    if db.dialect != "postgresql":
        return False
    return s.scalar(sa.select(User.id).where(User.db_role == sa.func.current_user())) is not None


def _currency(s: Session) -> str:
    row = s.get(AppSetting, CURRENCY_KEY)
    return row.value if row is not None else DEFAULT_CURRENCY


# -- the grouped queries ------------------------------------------------------------------------


def _utc(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=dt.UTC)


def _lead_counts(
    start: dt.date, end: dt.date, actor: Actor | None, in_view: set[int] | None
) -> Aggregate:
    """Leads created in the range per owner and source (as stored): not private, or the acting
    person's own."""
    shown: sa.ColumnElement[bool] = Lead.is_private == sa.false()
    if actor is not None:
        shown = sa.or_(shown, Lead.owner_id == actor.id)
    return (
        sa.select(Lead.owner_id, Lead.source, sa.func.count())
        .where(
            Lead.created_at >= _utc(start),
            Lead.created_at < _utc(end + ONE_DAY),
            shown,
            *_narrowed(Lead.owner_id, in_view),
        )
        .group_by(Lead.owner_id, Lead.source)
    )


def _definer_lead_counts(start: dt.date, end: dt.date) -> Aggregate:
    """The same figures from the server's count function, for a person's own login."""
    rows = sa.func.perfdesk_lead_source_counts(
        sa.bindparam(None, _utc(start), type_=UTCDateTime()),
        sa.bindparam(None, _utc(end + ONE_DAY), type_=UTCDateTime()),
    ).table_valued(
        sa.column("owner_id", sa.Integer()),
        sa.column("source", sa.Text()),
        sa.column("total", sa.BigInteger()),
        sa.column("converted", sa.BigInteger()),
    )
    return sa.select(rows.c.owner_id, rows.c.source, rows.c.total)


def _closed_deals(
    start: dt.date, end: dt.date, people: set[int] | None
) -> Iterable[sa.ColumnElement[bool]]:
    # The status alone: a won deal is at the closed-won stage (a CHECK says so), and naming the
    # stage too makes SQLite (never ANALYZEd) read the whole stage by ``ix_deals_stage_agent``
    # instead of the range by ``ix_deals_close_date`` (45 ms instead of 10 on ``large``).
    return (
        Deal.actual_close_date >= start,
        Deal.actual_close_date <= end,
        Deal.status == DealStatus.CLOSED_WON.value,
        *_narrowed(Deal.agent_id, people),
    )


def _closed(start: dt.date, end: dt.date, currency: str, people: set[int] | None) -> Aggregate:
    """Deals won in the range per agent and source: how many, how many of them in another
    currency than the office's, and the earned commission on those in the office's currency.
    The commission is a correlated sum per deal (one probe of the (deal, agent, type) index):
    one pass over the deals instead of a second query joining the commissions (~25 ms instead
    of ~60 on ``large``)."""
    c = CommissionRecord
    earned = (
        sa.select(sa.func.sum(c.commission_amount))
        .where(c.deal_id == Deal.id, c.status.in_([status.value for status in EARNED]))
        .correlate(Deal)
        .scalar_subquery()
    )
    in_office_currency = Deal.estimated_value_currency == currency
    return (
        sa.select(
            Deal.agent_id,
            Deal.lead_source,
            sa.func.count(),
            sa.func.sum(sa.case((in_office_currency, 0), else_=1)),
            sa.func.sum(sa.case((in_office_currency, earned))),
        )
        .where(*_closed_deals(start, end, people))
        .group_by(Deal.agent_id, Deal.lead_source)
    )


def _costs(start: dt.date, end: dt.date) -> Aggregate:
    """The cost rows of the months the range touches (row-level security applies on a server)."""
    c = LeadSourceCost
    return sa.select(c.source, c.month, c.agent_id, c.cost).where(
        c.month >= start.replace(day=1), c.month <= end
    )
