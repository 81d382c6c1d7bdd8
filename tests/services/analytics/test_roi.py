"""ROI by lead source (app/services/analytics/roi.py, issue 7, SPEC §12 ``report roi``) on SQLite
and PostgreSQL: spend prorated by days, sources matched ignoring case and blanks, private leads
(other people's never, one's own always), who sees what (broker, manager, agent, admin, the
whole office), which deals and commissions count, null ratios, the JSON; and on PostgreSQL a
person's own login, where row-level security hides every lead but their own.

The office (``Office``): broker Bo with agents Ann and Ben (team North, managed by Mia) and Cat
(team South); a second broker Rex with agent Rae; admin Ada. The range is 16 October – 15
November 2026.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from app.db.models import (
    AppSetting,
    CommissionRecord,
    Deal,
    Lead,
    LeadSourceCost,
    Team,
    User,
)
from app.domain.errors import PermissionDenied, ValidationError
from app.domain.roi import NO_SOURCE, Figures, RoiReport
from app.services.analytics.roi import roi_json, roi_report
from app.services.database import Database, open_database
from app.services.users import add_user

D = Decimal
START, END = dt.date(2026, 10, 16), dt.date(2026, 11, 15)
OCT, NOV = dt.date(2026, 10, 1), dt.date(2026, 11, 1)
_serial = itertools.count(1)


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


@dataclass
class Office:
    """A brokerage to test against; each record written in its own transaction."""

    db: Database
    ids: dict[str, int] = field(default_factory=dict)
    logins: bool = False  # people get server logins (PostgreSQL, add_user)

    def add(self, obj: Any) -> int:
        with self.db.session() as s:
            s.add(obj)
            s.flush()
            return int(obj.id)

    def email(self, name: str) -> str:
        return f"{name}@roi.example"

    def person(self, name: str, role: str = "agent", broker: str | None = None) -> int:
        if self.logins:
            uid = add_user(
                self.db, self.email(name), role, name.title(), "Test",
                broker_email=self.email(broker) if broker else None,
            ).id  # fmt: skip
        else:
            uid = self.add(
                User(
                    email=self.email(name), first_name=name.title(), last_name="Test", role=role,
                    broker_id=self.ids[broker] if broker else None,
                )
            )  # fmt: skip
        self.ids[name] = uid
        return uid

    def team(self, name: str, manager: str, members: list[str]) -> None:
        tid = self.add(Team(name=name, manager_id=self.ids[manager]))
        with self.db.session() as s:
            for member in members:
                s.get_one(User, self.ids[member]).team_id = tid

    def lead(
        self, owner: str, source: str | None, created: str = "2026-10-20T10:00:00",
        private: bool = False, status: str = "new",
    ) -> int:  # fmt: skip
        return self.add(
            Lead(
                owner_id=self.ids[owner], name=f"Lead {next(_serial)}", source=source,
                status=status, is_private=private, created_at=utc(created),
            )
        )  # fmt: skip

    def deal(
        self, agent: str, source: str | None, closed: dt.date | None = dt.date(2026, 11, 1),
        status: str = "closed_won", currency: str = "USD",
    ) -> int:  # fmt: skip
        stage = status if status in ("closed_won", "closed_lost") else "proposal"
        return self.add(
            Deal(
                ref=f"R-{next(_serial)}", agent_id=self.ids[agent], title=f"{next(_serial)} Elm",
                asset_type="single_family", deal_type="acquisition", pipeline_stage=stage,
                status=status, lead_source=source, estimated_value_amount=D(300000),
                estimated_value_currency=currency, confidence=D("0.5"),
                actual_close_date=closed, created_at=utc("2026-09-01T09:00:00"),
            )
        )  # fmt: skip

    def commission(
        self, deal: int, agent: str, amount: str, status: str = "confirmed", kind: str = "exclusive"
    ) -> int:
        return self.add(
            CommissionRecord(
                deal_id=deal, agent_id=self.ids[agent], commission_type=kind,
                basis_amount=D(amount), commission_rate=D(1), commission_amount=D(amount),
                status=status, created_at=utc("2026-11-01T12:00:00"),
                disputed_from_status="confirmed" if status == "disputed" else None,
                dispute_reason="the split is wrong" if status == "disputed" else None,
            )
        )  # fmt: skip

    def cost(self, source: str, month: dt.date, amount: str, agent: str | None = None) -> int:
        return self.add(
            LeadSourceCost(
                source=source, month=month, agent_id=self.ids[agent] if agent else None,
                cost=D(amount),
            )
        )  # fmt: skip


def build_office(db: Database, logins: bool = False) -> Office:
    o = Office(db, logins=logins)
    o.person("bo", "broker")
    o.person("rex", "broker")
    o.person("ada", "admin")
    o.person("mia", "manager", broker="bo")
    for name in ("ann", "ben", "cat"):
        o.person(name, "agent", broker="bo")
    o.person("rae", "agent", broker="rex")
    o.team("North", "mia", ["ann", "ben"])
    o.team("South", "rex", ["cat"])

    # Spend: Website office-wide (Oct 310, Nov 300: 160 + 150 in range); Zillow bought for
    # Ann (Oct 620: 320 in range) and for Rae (Nov 90: 45); a December row out of range.
    o.cost("Website", OCT, "310")
    o.cost("Website", NOV, "300")
    o.cost("Zillow", OCT, "620", agent="ann")
    o.cost("zillow ", NOV, "90", agent="rae")
    o.cost("Website", dt.date(2026, 12, 1), "999")

    # Leads in range: Ann 3 Zillow (spelt three ways), 1 private Zillow, 1 without a source;
    # Ben 1 Website; Cat 1 Website; Rae 2 Zillow; Bo 1 private Referral. Out of range: Ann's
    # Zillow of 15 October and of 16 November.
    o.lead("ann", "Zillow")
    o.lead("ann", "zillow ", created="2026-10-16T00:00:00")
    o.lead("ann", " ZILLOW", created="2026-11-15T23:59:59")
    o.lead("ann", "Zillow", private=True)
    o.lead("ann", None)
    o.lead("ann", "Zillow", created="2026-10-15T23:59:59")
    o.lead("ann", "Zillow", created="2026-11-16T00:00:00")
    o.lead("ben", "Website", status="converted")
    o.lead("cat", "Website ")
    o.lead("rae", "Zillow")
    o.lead("rae", "Zillow")
    o.lead("bo", "Referral", private=True)

    # Deals: Ann won a Zillow deal (confirmed 1,000 + paid 250 to Ben; pending 500 and a
    # disputed one not earned), lost another; Ben won a Website deal (invoiced 300) and one
    # outside the range; Cat a deal without a source (confirmed 700) and a cancelled one;
    # Rae a Zillow deal (paid 400).
    won = o.deal("ann", "zillow")
    o.commission(won, "ann", "1000")
    o.commission(won, "ben", "250", status="paid", kind="co_broke")
    o.commission(won, "cat", "500", status="pending", kind="referral")
    o.commission(won, "mia", "60", status="disputed", kind="bonus")
    o.deal("ann", "Zillow", status="closed_lost")
    site = o.deal("ben", "Website", closed=dt.date(2026, 10, 16))
    o.commission(site, "ben", "300", status="invoiced")
    late = o.deal("ben", "Website", closed=dt.date(2026, 11, 16))
    o.commission(late, "ben", "5000")
    cat = o.deal("cat", None, closed=END)
    o.commission(cat, "cat", "700")
    o.deal("cat", "Website", closed=None, status="cancelled")
    rae = o.deal("rae", "Zillow")
    o.commission(rae, "rae", "400", status="paid")
    return o


@pytest.fixture
def office(db: Database) -> Office:
    return build_office(db)


def by_source(report: RoiReport) -> dict[str, Figures]:
    """Figures by source, matched as the report matches them ("zillow", NO_SOURCE)."""
    return {s.key or NO_SOURCE: s.figures for s in report.sources}


def by_agent(report: RoiReport) -> dict[tuple[str, str], Figures]:
    return {(a.email.split("@")[0], a.key or NO_SOURCE): a.figures for a in report.agents}


# -- the whole office ---------------------------------------------------------------------------


def test_the_whole_office_prorates_spend_and_matches_sources(office: Office) -> None:
    report = roi_report(office.db, START, END)
    assert [s.source for s in report.sources] == ["Zillow", "Website", NO_SOURCE]
    assert by_source(report) == {
        # 320 (Ann's October, 16 of 31 days) + 45 (Rae's November, 15 of 30 days)
        "zillow": Figures(D(365), 5, 2, D(1650)),
        # 160 (16 of October's 31 days of 310) + 150 (15 of November's 30 days of 300)
        "website": Figures(D(310), 2, 1, D(300)),
        NO_SOURCE: Figures(D(0), 1, 1, D(700)),
    }
    assert report.totals == Figures(D(675), 8, 4, D(2650))
    assert report.currency == "USD" and report.other_currency_closed == 0
    zillow = report.sources[0]
    assert zillow.figures.cost_per_lead == D(73)
    assert zillow.figures.cost_per_closed == D("182.5")
    assert zillow.figures.commission_per_dollar == D(1650) / D(365)


def test_a_whole_month_counts_its_whole_cost(office: Office) -> None:
    report = roi_report(office.db, NOV, dt.date(2026, 11, 30))
    assert by_source(report)["website"].cost == D(300)
    assert by_source(report)["zillow"].cost == D(90)
    # November's only Zillow spend is spelt "zillow ": the name shown is the cost row's
    assert [s.source for s in report.sources][:2] == ["Website", "zillow"]


def test_by_agent_rows_carry_only_the_spend_bought_for_them(office: Office) -> None:
    report = roi_report(office.db, START, END)
    rows = by_agent(report)
    assert rows[("ann", "zillow")] == Figures(D(320), 3, 1, D(1250))
    assert rows[("ann", NO_SOURCE)] == Figures(D(0), 1, 0, D(0))
    assert rows[("ben", "website")] == Figures(D(0), 1, 1, D(300))  # office-wide not shared
    assert rows[("rae", "zillow")] == Figures(D(45), 2, 1, D(400))
    assert rows[("cat", NO_SOURCE)] == Figures(D(0), 0, 1, D(700))
    assert rows[("ben", "website")].cost_per_lead == D(0)
    assert ("bo", "referral") not in rows  # private, and nobody is acting
    names = [a.name for a in report.agents]
    assert names == sorted(names, key=str.casefold)


def test_closed_deals_need_won_status_and_a_close_date_in_range(office: Office) -> None:
    report = roi_report(office.db, dt.date(2026, 11, 16), dt.date(2026, 11, 16))
    assert by_source(report)["website"] == Figures(D(10), 0, 1, D(5000))  # 300 × 1/30
    assert by_source(report)["zillow"].closed == 0 and by_source(report)["zillow"].leads == 1


def test_a_deal_in_another_currency_counts_as_closed_without_its_commission(
    office: Office,
) -> None:
    foreign = office.deal("ben", "Website", currency="SGD")
    office.commission(foreign, "ben", "999")
    report = roi_report(office.db, START, END)
    assert by_source(report)["website"] == Figures(D(310), 2, 2, D(300))
    assert report.other_currency_closed == 1
    with office.db.session() as s:
        s.add(AppSetting(key="currency", value="SGD"))
    report = roi_report(office.db, START, END)
    assert report.currency == "SGD"
    assert by_source(report)["website"].commission == D(999)
    assert report.other_currency_closed == 4


def test_ratios_are_null_with_nothing_to_divide_by(office: Office) -> None:
    report = roi_report(office.db, dt.date(2026, 12, 1), dt.date(2026, 12, 31))
    (website,) = report.sources
    assert website.source == "Website" and website.figures == Figures(D(999), 0, 0, D(0))
    assert website.figures.cost_per_lead is None and website.figures.cost_per_closed is None
    assert website.figures.commission_per_dollar == D(0)
    empty = roi_report(office.db, dt.date(2027, 1, 1), dt.date(2027, 1, 31))
    assert empty.is_empty and empty.totals == Figures()
    assert roi_json(empty)["totals"] == {
        "cost": "0.00", "leads": 0, "closed": 0, "commission": "0.00", "cost_per_lead": None,
        "cost_per_closed": None, "commission_per_dollar": None,
    }  # fmt: skip


# -- who sees what ------------------------------------------------------------------------------


def test_other_peoples_private_leads_never_count_ones_own_do(office: Office) -> None:
    ann = roi_report(office.db, START, END, acting=office.email("ann"))
    assert by_source(ann)["zillow"].leads == 4  # her private one included
    bo = roi_report(office.db, START, END, acting=office.email("bo"))
    assert by_source(bo)["zillow"].leads == 3  # Ann's private one not
    assert by_source(bo)["referral"] == Figures(D(0), 1, 0, D(0))  # his own private one
    ada = roi_report(office.db, START, END, acting=office.email("ada"))
    assert by_source(ada)["zillow"].leads == 5 and "referral" not in by_source(ada)


def test_a_broker_sees_themself_and_their_agents(office: Office) -> None:
    report = roi_report(office.db, START, END, acting=office.email("bo"))
    assert by_source(report) == {
        "zillow": Figures(D(320), 3, 1, D(1250)),  # not Rae's spend, leads or deal
        "website": Figures(D(310), 2, 1, D(300)),
        NO_SOURCE: Figures(D(0), 1, 1, D(700)),
        "referral": Figures(D(0), 1, 0, D(0)),
    }
    assert {a for a, _s in by_agent(report)} == {"ann", "ben", "cat", "bo"}


def test_a_manager_sees_their_teams(office: Office) -> None:
    report = roi_report(office.db, START, END, acting=office.email("mia"))
    assert by_source(report) == {
        "zillow": Figures(D(320), 3, 1, D(1250)),
        "website": Figures(D(310), 1, 1, D(300)),  # Ben's lead; office-wide spend in full
        NO_SOURCE: Figures(D(0), 1, 0, D(0)),
    }
    # Rex is a broker who manages South: as in the agent report, a broker's view is themself
    # and their agents (Rae), not the team's Cat.
    rex = roi_report(office.db, START, END, acting=office.email("rex"))
    assert by_source(rex) == {
        "zillow": Figures(D(45), 2, 1, D(400)),
        "website": Figures(D(310), 0, 0, D(0)),
    }


def test_an_agent_sees_their_own(office: Office) -> None:
    report = roi_report(office.db, START, END, acting=office.email("ben"))
    # Not Ann's Zillow spend, nor the 250 paid to Ben on Ann's deal (it is Ann's deal).
    assert by_source(report) == {"website": Figures(D(310), 1, 1, D(300))}
    assert [(a.email, a.source) for a in report.agents] == [(office.email("ben"), "Website")]


def test_refusals(office: Office) -> None:
    with pytest.raises(ValidationError, match="after the last"):
        roi_report(office.db, END, START)
    with pytest.raises(PermissionDenied, match=r"nobody@roi\.example"):
        roi_report(office.db, START, END, acting="nobody@roi.example")
    with office.db.session() as s:
        s.get_one(User, office.ids["cat"]).is_active = False
    with pytest.raises(PermissionDenied, match="deactivated"):
        roi_report(office.db, START, END, acting=office.email("cat"))


def test_the_json(office: Office) -> None:
    data = roi_json(roi_report(office.db, START, END))
    assert (data["start"], data["end"], data["currency"]) == ("2026-10-16", "2026-11-15", "USD")
    assert data["sources"][0] == {  # type: ignore[index]
        "source": "Zillow", "cost": "365.00", "leads": 5, "closed": 2, "commission": "1650.00",
        "cost_per_lead": "73.00", "cost_per_closed": "182.50", "commission_per_dollar": 4.5205,
    }  # fmt: skip
    assert data["totals"]["cost"] == "675.00"  # type: ignore[index]
    agents = data["agents"]
    assert isinstance(agents, list)
    assert {"email": office.email("rae"), "name": "Rae Test", "source": "Zillow"}.items() <= (
        agents[-1].items()
    )


# -- a person's own login on a server ---------------------------------------------------------


def _login(db: Database, email: str) -> Database:
    return open_database(make_url(db.url).set(username=email).render_as_string(False))


@pytest.fixture
def server_office(pg_db: Database) -> Iterator[tuple[Office, dict[str, Database]]]:
    office = build_office(pg_db, logins=True)
    held: dict[str, Database] = {}
    yield office, held
    for db in held.values():
        db.dispose()


def _as(office: Office, held: dict[str, Database], who: str) -> Database:
    if who not in held:
        held[who] = _login(office.db, office.email(who))
    return held[who]


@pytest.mark.pg
def test_a_persons_login_counts_what_row_level_security_allows(
    server_office: tuple[Office, dict[str, Database]],
) -> None:
    office, held = server_office
    bo = _as(office, held, "bo")
    with bo.read() as s:  # the rows themselves: only his own leads
        assert set(s.scalars(sa.select(Lead.owner_id))) == {office.ids["bo"]}
    report = roi_report(bo, START, END)
    assert report == roi_report(office.db, START, END, acting=office.email("bo"))
    assert by_source(report)["zillow"] == Figures(D(320), 3, 1, D(1250))
    assert by_source(report)["referral"].leads == 1  # his own private lead

    ann = roi_report(_as(office, held, "ann"), START, END)
    assert by_source(ann) == {
        "zillow": Figures(D(320), 4, 1, D(1250)),  # her private lead too
        "website": Figures(D(310), 0, 0, D(0)),  # office-wide spend every login reads
        NO_SOURCE: Figures(D(0), 1, 0, D(0)),
    }
    mia = roi_report(_as(office, held, "mia"), START, END)
    assert mia == roi_report(office.db, START, END, acting=office.email("mia"))
    rae = roi_report(_as(office, held, "rae"), START, END)
    assert by_source(rae)["zillow"] == Figures(D(45), 2, 1, D(400))
    with pytest.raises(PermissionDenied, match="cannot act as"):
        roi_report(_as(office, held, "ada"), START, END, acting=office.email("ann"))
    # The office's owner login counts the whole office, as local mode does.
    assert roi_report(office.db, START, END).totals == Figures(D(675), 8, 4, D(2650))
