"""The Analytics page's service (app/services/analytics/overview.py, issue 7, SPEC §4, §10) on
SQLite and PostgreSQL: the daily series summed over a scope's snapshots with rates as ratios of
sums, the closed-won volume within the range counted from the day before it (or the range's
first day), gaps left as gaps, the end day's stages from the JSON, who may look at whom, and
ours beside the benchmarks that apply (newest effective row, most specific first).

The office: broker Bo with agents Ann and Ben (team North, managed by Mia) and Cat (team
South, managed by Sam); broker Zoe with her agent Eve; Ada the admin.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from app.db.models import AgentPerformanceSnapshot, Benchmark, CommissionRecord, Deal
from app.domain.errors import PermissionDenied, ValidationError
from app.services.analytics.overview import (
    AVG_CYCLE_DAYS,
    BETTER,
    COMMISSION_RATE,
    CONVERSION_RATE,
    LEVEL,
    WORSE,
    AnalyticsOverview,
    AnalyticsScope,
    BenchmarkComparison,
    analytics_choices,
    analytics_overview,
    verdict,
)
from app.services.database import Database
from tests.services.kpis.test_definitions import Shop, utc

_serial = itertools.count(1)
D = dt.date
START, END = D(2026, 3, 10), D(2026, 3, 14)
STAGES = (
    "lead_captured", "qualification", "needs_analysis", "proposal", "negotiation", "agreement",
    "due_diligence", "awaiting_closure", "closed_won", "closed_lost",
)  # fmt: skip


@dataclass
class Office:
    shop: Shop
    ids: dict[str, int]

    @property
    def db(self) -> Database:
        return self.shop.db

    def email(self, name: str) -> str:
        return self.shop.emails[self.ids[name]]

    def overview(
        self,
        who: str,
        start: dt.date = START,
        end: dt.date = END,
        agent: str | None = None,
        team: str | None = None,
    ) -> AnalyticsOverview:
        scope = AnalyticsScope(self.ids[agent] if agent else None, self.ids[team] if team else None)
        return analytics_overview(self.db, scope, start, end, acting=self.email(who))

    # -- rows written as the snapshot job would write them ------------------------------------

    def snap(
        self,
        who: str,
        day: dt.date,
        *,
        open_: int = 0,
        gross: str = "0",
        weighted: str = "0",
        won: int = 0,
        lost: int = 0,
        volume: str = "0",
        cycle: int = 0,
        confirmed: str = "0",
        disputed: str = "0",
        stages: dict[str, int] | None = None,
        pending: str = "0.00",
        currency: str = "USD",
    ) -> None:
        by_stage = {s: 0 for s in STAGES}
        by_stage.update(stages or {})
        self.shop.add(
            AgentPerformanceSnapshot(
                agent_id=self.ids[who],
                as_of_date=day,
                deals_open=open_,
                deals_closed_won=won,
                deals_closed_lost=lost,
                gross_pipeline_value=Decimal(gross),
                weighted_pipeline_value=Decimal(weighted),
                closed_won_volume=Decimal(volume),
                cycle_days_total=cycle,
                avg_cycle_days=Decimal(cycle) / won if won else None,
                conversion_rate=Decimal(won) * 100 / (won + lost) if won + lost else None,
                confirmed_commission_amount=Decimal(confirmed),
                disputed_commission_amount=Decimal(disputed),
                ratios={
                    "deals_by_stage": by_stage,
                    "pending_commission_amount": pending,
                    "weighted_share_pct": None,
                    "commission_per_won_deal": None,
                    "currency": currency,
                },
            )
        )

    def deal(
        self,
        who: str,
        created: str,
        closed: dt.date,
        *,
        lost: bool = False,
        asset: str = "residential",
        kind: str = "buy_side",
        cancelled: bool = False,
    ) -> int:
        stage = "closed_lost" if lost else "closed_won"
        return self.shop.add(
            Deal(
                ref=f"A-{next(_serial)}",
                agent_id=self.ids[who],
                title=f"{next(_serial)} Oak Ave",
                asset_type=asset,
                deal_type=kind,
                pipeline_stage=stage,
                status="cancelled" if cancelled else stage,
                estimated_value_amount=Decimal("400000"),
                estimated_value_currency="USD",
                confidence=Decimal("0.5"),
                actual_close_date=closed,
                created_at=utc(created),
            )
        )

    def commission(
        self, deal: int, who: str, rate: str, status: str = "confirmed", kind: str = "exclusive"
    ) -> None:
        self.shop.add(
            CommissionRecord(
                deal_id=deal,
                agent_id=self.ids[who],
                commission_type=kind,
                basis_amount=Decimal("400000"),
                commission_rate=Decimal(rate),
                commission_amount=Decimal("400000") * Decimal(rate),
                status=status,
                created_at=utc("2026-03-01T12:00:00"),
            )
        )

    def benchmark(
        self,
        metric: str,
        cohort: str,
        value: str | None,
        effective: dt.date,
        asset: str | None = None,
        kind: str | None = None,
        source: str = "NAR 2025",
        text: str | None = None,
    ) -> int:
        return self.shop.add(
            Benchmark(
                metric_key=metric,
                asset_type=asset,
                deal_type=kind,
                cohort=cohort,
                value_numeric=None if value is None else Decimal(value),
                value_text=text,
                source=source,
                effective_date=effective,
            )
        )


@pytest.fixture
def office(db: Database) -> Office:
    shop = Shop(db)
    bo = shop.person("Bo", "Broker", role="broker")
    zoe = shop.person("Zoe", "Zane", role="broker")
    ids = {
        "bo": bo,
        "zoe": zoe,
        "ada": shop.person("Ada", "Admin", role="admin"),
        "mia": shop.person("Mia", "Manager", role="manager", broker=bo),
        "sam": shop.person("Sam", "Stone", role="manager", broker=bo),
        "ann": shop.person("Ann", "Avery", broker=bo),
        "ben": shop.person("Ben", "Baker", broker=bo),
        "cat": shop.person("Cat", "Cole", broker=bo),
        "eve": shop.person("Eve", "Ely", broker=zoe),
    }
    ids["North"] = shop.team("North", ids["mia"], [ids["ann"], ids["ben"]], broker=bo)
    ids["South"] = shop.team("South", ids["sam"], [ids["cat"]], broker=bo)
    ids["West"] = shop.team("West", None, [ids["eve"]], broker=zoe)
    return Office(shop, ids)


def figures(o: AnalyticsOverview) -> list[tuple[Any, ...]]:
    return [
        (p.day, p.agents, p.weighted_pipeline, p.won_in_range, p.volume_in_range,
         p.conversion_rate, p.avg_cycle_days)
        for p in o.points
    ]  # fmt: skip


# -- sums and ratios of sums ----------------------------------------------------------------


def test_a_team_sums_its_agents_and_its_rates_are_ratios_of_the_sums(office: Office) -> None:
    # Ann: 3 won, 1 lost (75 %), 30 cycle days over 3 won (10 d); Ben: 1 won, 4 lost (20 %),
    # 50 days over 1 won (50 d). Together: 4 / 9 = 44.44…%, 80 / 4 = 20 d (the means of the
    # agents' own rates would say 47.5 % and 30 d).
    office.snap("ann", END, open_=5, gross="1000000", weighted="400000.50", won=3, lost=1,
                volume="900000", cycle=30, confirmed="12000", disputed="500")  # fmt: skip
    office.snap("ben", END, open_=2, gross="300000", weighted="100000.25", won=1, lost=4,
                volume="250000", cycle=50, confirmed="3000.10", disputed="0")  # fmt: skip
    office.snap("cat", END, open_=9, weighted="999999", won=9, volume="1")  # South

    north = office.overview("ada", team="North")
    assert north.scope_label == "Team North"
    total = north.totals
    assert total is not None and total.day == END and total.agents == 2
    assert total.weighted_pipeline == Decimal("500000.75")
    assert total.gross_pipeline == Decimal("1300000.00")
    assert total.deals_open == 7
    assert (total.deals_closed_won, total.deals_closed_lost) == (4, 5)
    assert total.conversion_rate == Decimal(4) * 100 / 9
    assert total.avg_cycle_days == Decimal(20)
    assert total.confirmed_commission == Decimal("15000.10")
    assert total.disputed_commission == Decimal("500.00")

    everyone = office.overview("ada")
    assert everyone.scope_label == "Everyone you see"
    assert everyone.totals is not None and everyone.totals.agents == 3
    assert everyone.totals.weighted_pipeline == Decimal("1499999.75")
    assert everyone.totals.conversion_rate == Decimal(13) * 100 / 18

    ann = office.overview("ada", agent="ann")
    assert ann.scope_label == "Ann Avery"
    assert ann.totals is not None and ann.totals.conversion_rate == Decimal(75)
    assert ann.totals.avg_cycle_days == Decimal(10)


def test_money_sums_are_exact_on_both_backends(office: Office) -> None:
    for who in ("ann", "ben", "cat"):
        for day in range(10, 15):
            office.snap(who, D(2026, 3, day), weighted="0.10", confirmed="0.10")
    o = office.overview("ada")
    assert [p.weighted_pipeline for p in o.points] == [Decimal("0.30")] * 5
    assert all(p.confirmed_commission == Decimal("0.30") for p in o.points)


# -- volume won within the range ------------------------------------------------------------


def test_volume_in_range_counts_from_the_day_before_the_range(office: Office) -> None:
    office.snap("ann", D(2026, 3, 9), won=2, volume="500000")  # the day before: the baseline
    office.snap("ann", D(2026, 3, 10), won=2, volume="500000")
    office.snap("ann", D(2026, 3, 12), won=3, volume="800000", cycle=12)
    office.snap("ann", D(2026, 3, 14), won=5, lost=1, volume="1250000.50", cycle=40)
    office.snap("ann", D(2026, 3, 15), won=9, volume="9999999")  # after the range

    o = office.overview("bo", agent="ann")
    assert o.baseline_day == D(2026, 3, 9)
    assert [(p.day, p.won_in_range, p.volume_in_range) for p in o.points] == [
        (D(2026, 3, 10), 0, Decimal("0.00")),
        (D(2026, 3, 12), 1, Decimal("300000.00")),
        (D(2026, 3, 14), 3, Decimal("750000.50")),
    ]
    assert o.totals is not None and o.totals.volume_in_range == Decimal("750000.50")
    assert o.totals.avg_cycle_days == Decimal(8)
    assert o.totals.conversion_rate == Decimal(5) * 100 / 6


def test_without_the_day_before_the_range_counts_from_its_first_day_with_rows(
    office: Office,
) -> None:
    office.snap("ann", D(2026, 3, 8), won=1, volume="100")  # two days before: not used
    office.snap("ann", D(2026, 3, 11), won=2, volume="500000")
    office.snap("ann", D(2026, 3, 13), won=4, volume="700000")
    o = office.overview("ann", agent="ann")
    assert o.baseline_day == D(2026, 3, 11)
    assert [(p.won_in_range, p.volume_in_range) for p in o.points] == [
        (0, Decimal("0.00")),
        (2, Decimal("200000.00")),
    ]


def test_agents_joining_or_leaving_during_the_range_move_nothing(office: Office) -> None:
    # Ben left after the 11th: his rows stop (his 2 wins before the range stay before it);
    # Cat joined on the 12th with a deal won that day (before her first row: not counted).
    office.snap("ann", D(2026, 3, 9), won=1, volume="100")
    office.snap("ben", D(2026, 3, 9), won=2, volume="1000000")
    office.snap("ann", D(2026, 3, 11), won=2, volume="300")
    office.snap("ben", D(2026, 3, 11), won=2, volume="1000000")
    office.snap("cat", D(2026, 3, 12), won=1, volume="50")
    office.snap("ann", D(2026, 3, 14), won=3, volume="600")
    office.snap("cat", D(2026, 3, 14), won=2, volume="80")
    o = office.overview("bo")
    assert [(p.day, p.agents, p.won_in_range, p.volume_in_range) for p in o.points] == [
        (D(2026, 3, 11), 2, 1, Decimal("200.00")),
        (D(2026, 3, 12), 1, 0, Decimal("0.00")),
        (D(2026, 3, 14), 2, 3, Decimal("530.00")),
    ]
    assert o.baseline_day == D(2026, 3, 9)


# -- gaps -------------------------------------------------------------------------------------


def test_a_day_without_rows_is_a_gap_and_the_end_day_is_the_latest_with_rows(
    office: Office,
) -> None:
    office.snap("ann", D(2026, 3, 10), weighted="10", stages={"proposal": 1})
    office.snap("ann", D(2026, 3, 13), weighted="30", stages={"proposal": 4, "closed_won": 2},
                pending="12.50")  # fmt: skip
    office.snap("ben", D(2026, 3, 13), weighted="5", stages={"proposal": 1, "closed_lost": 3},
                pending="0.25")  # fmt: skip
    o = office.overview("mia", team="North")
    assert [p.day for p in o.points] == [D(2026, 3, 10), D(2026, 3, 13)]
    assert o.missing_days == (D(2026, 3, 11), D(2026, 3, 12), D(2026, 3, 14))
    assert o.end_day == D(2026, 3, 13)  # the 14th has no rows: not zeros
    assert o.totals is not None and o.totals.weighted_pipeline == Decimal("35.00")
    assert o.deals_by_stage == {**{s: 0 for s in STAGES}, "proposal": 5, "closed_won": 2,
                                "closed_lost": 3}  # fmt: skip
    assert list(o.deals_by_stage) == list(STAGES)
    assert o.pending_commission == Decimal("12.75")
    assert o.currency == "USD"
    assert o.days == 5


def test_no_snapshots_in_the_range_gives_no_figures(office: Office) -> None:
    office.snap("ann", D(2026, 3, 1), weighted="10")  # before the range
    o = office.overview("ada")
    assert o.points == () and o.totals is None and o.end_day is None
    assert len(o.missing_days) == 5
    assert sum(o.deals_by_stage.values()) == 0


def test_the_currency_is_the_snapshots_own(office: Office) -> None:
    office.snap("ann", END, currency="SGD")
    office.snap("ben", END, currency="SGD")
    assert office.overview("ada").currency == "SGD"
    office.snap("cat", END, currency="EUR")  # they disagree: the office's
    assert office.overview("ada").currency == "USD"


# -- who sees whom ----------------------------------------------------------------------------


def test_everyone_is_everyone_the_person_sees(office: Office) -> None:
    for who, weighted in (("ann", "1"), ("ben", "2"), ("cat", "4"), ("eve", "8"), ("bo", "16")):
        office.snap(who, END, weighted=weighted)

    def total(who: str) -> Decimal:
        t = office.overview(who).totals
        return Decimal(0) if t is None else t.weighted_pipeline

    assert total("ada") == Decimal(31)
    assert total("bo") == Decimal(23)  # his agents and himself, not Zoe's Eve
    assert total("zoe") == Decimal(8)
    assert total("mia") == Decimal(3)  # her team
    assert total("ann") == Decimal(1)


def test_an_agent_or_team_the_person_may_not_see_is_refused(office: Office) -> None:
    with pytest.raises(PermissionDenied, match="You may not see Ben Baker's figures"):
        office.overview("ann", agent="ben")
    with pytest.raises(PermissionDenied, match="Eve Ely"):
        office.overview("bo", agent="eve")
    with pytest.raises(PermissionDenied, match="team South"):
        office.overview("mia", team="South")
    with pytest.raises(PermissionDenied, match="team North"):
        office.overview("ann", team="North")
    with pytest.raises(PermissionDenied, match="team West"):
        office.overview("bo", team="West")
    office.overview("zoe", team="West")
    office.overview("mia", agent="ben")
    office.overview("sam", team="South")


def test_bad_ranges_and_scopes_are_refused(office: Office) -> None:
    with pytest.raises(ValidationError, match=r"ends \(2026-03-09\) before it starts"):
        office.overview("ada", START, D(2026, 3, 9))
    with pytest.raises(ValidationError, match=r"at most 366 days; .* covers 367"):
        office.overview("ada", D(2025, 1, 1), D(2026, 1, 2))
    office.overview("ada", D(2025, 1, 1), D(2026, 1, 1))  # 366 days
    with pytest.raises(ValidationError, match="not both"):
        office.overview("ada", agent="ann", team="North")
    with pytest.raises(ValidationError, match="no team 999"):
        analytics_overview(office.db, AnalyticsScope(team_id=999), START, END, office.email("ada"))


def test_the_choices_are_the_people_and_teams_one_sees(office: Office) -> None:
    office.shop.deactivate(office.ids["cat"])

    def chosen(who: str) -> tuple[list[str], list[tuple[str, int]]]:
        c = analytics_choices(office.db, office.email(who))
        return [a.name for a in c.agents], [(t.name, t.members) for t in c.teams]

    assert chosen("ada") == (
        ["Ann Avery", "Ben Baker", "Bo Broker", "Eve Ely", "Zoe Zane"],
        [("North", 2), ("South", 0), ("West", 1)],
    )
    assert chosen("bo") == (["Ann Avery", "Ben Baker", "Bo Broker"], [("North", 2), ("South", 0)])
    assert chosen("mia") == (["Ann Avery", "Ben Baker"], [("North", 2)])
    assert chosen("zoe") == (["Eve Ely", "Zoe Zane"], [("West", 1)])
    assert chosen("ann") == (["Ann Avery"], [])


# -- ours beside the benchmarks ---------------------------------------------------------------


def row(o: AnalyticsOverview, metric: str, asset: str | None = None, kind: str | None = None):
    found = [
        c for c in o.comparisons
        if (c.metric_key, c.asset_type, c.deal_type) == (metric, asset, kind)
    ]  # fmt: skip
    assert len(found) == 1, (metric, asset, kind, o.comparisons)
    return found[0]


def summary(c: BenchmarkComparison) -> tuple[Any, ...]:
    def value(f: Any) -> Any:
        return None if f is None else f.value

    return (c.ours, c.basis, value(c.industry_avg), value(c.top_quartile),
            value(c.internal_avg), c.verdict)  # fmt: skip


@pytest.fixture
def closed(office: Office) -> Office:
    """Deals closed in the range: residential buy side 3 won (cycle 10, 20, 30 days) and 1 lost;
    residential sell side 1 won (40 days) and 3 lost; commercial 1 lost. Outside: a won deal
    closed the day after the range, one of Eve's (not Bo's) and a cancelled one."""
    a = office.deal("ann", "2026-02-28T23:30:00", D(2026, 3, 10))  # UTC date 28 Feb: 10 days
    b = office.deal("ann", "2026-02-21T08:00:00", D(2026, 3, 13))  # 20
    c = office.deal("ben", "2026-02-12T12:00:00", D(2026, 3, 14))  # 30
    office.deal("ben", "2026-01-02T12:00:00", D(2026, 3, 11), lost=True)
    s = office.deal("cat", "2026-02-02T12:00:00", D(2026, 3, 14), kind="sell_side")  # 40
    for _ in range(3):
        office.deal("cat", "2026-01-02T12:00:00", D(2026, 3, 12), lost=True, kind="sell_side")
    office.deal("ann", "2026-01-02T12:00:00", D(2026, 3, 12), lost=True, asset="commercial",
                kind="lease")  # fmt: skip
    office.deal("ann", "2026-01-02T12:00:00", D(2026, 3, 15))  # after the range
    office.deal("eve", "2026-01-02T12:00:00", D(2026, 3, 12))  # Zoe's office
    office.deal("ann", "2026-01-02T12:00:00", D(2026, 3, 12), cancelled=True)  # nowhere
    office.commission(a, "ann", "0.0300")
    office.commission(a, "ben", "0.0100", status="paid", kind="referral")
    office.commission(b, "ann", "0.0250", status="invoiced")
    office.commission(c, "ben", "0.0500", status="pending")  # not earned: left out
    office.commission(s, "cat", "0.0200")
    return office


def test_ours_is_grouped_by_asset_and_deal_type_with_an_overall_row(closed: Office) -> None:
    o = closed
    day = D(2026, 1, 1)
    for metric in (CONVERSION_RATE, AVG_CYCLE_DAYS, COMMISSION_RATE):
        o.benchmark(metric, "industry_avg", "1", day)  # any asset and deal type
    o.benchmark(CONVERSION_RATE, "industry_avg", "50", day, asset="residential")
    o.benchmark(AVG_CYCLE_DAYS, "industry_avg", "25", day, asset="residential", kind="buy_side")
    result = o.overview("bo")

    # overall: 4 won of 9 closed; cycle (10 + 20 + 30 + 40) / 4; rates (3 + 1 + 2.5 + 2) / 4 %
    assert summary(row(result, CONVERSION_RATE)) == (
        Decimal("44.44"),
        9,
        Decimal(1),
        None,
        None,
        BETTER,
    )
    assert summary(row(result, AVG_CYCLE_DAYS)) == (Decimal("25.0"), 4, Decimal(1), None, None,
                                                     WORSE)  # fmt: skip
    assert summary(row(result, COMMISSION_RATE)) == (
        Decimal("0.0213"),
        4,
        Decimal(1),
        None,
        None,
        WORSE,
    )
    buy = row(result, CONVERSION_RATE, "residential", "buy_side")
    assert summary(buy) == (Decimal("75.00"), 4, Decimal(50), None, None, BETTER)
    sell = row(result, CONVERSION_RATE, "residential", "sell_side")
    assert summary(sell) == (Decimal("25.00"), 4, Decimal(50), None, None, WORSE)
    cycle = row(result, AVG_CYCLE_DAYS, "residential", "buy_side")
    assert summary(cycle) == (Decimal("20.0"), 3, Decimal(25), None, None, BETTER)
    assert row(result, AVG_CYCLE_DAYS, "commercial", "lease").ours is None  # none won
    assert row(result, AVG_CYCLE_DAYS, "commercial", "lease").verdict is None
    rate = row(result, COMMISSION_RATE, "residential", "buy_side")
    assert rate.ours == Decimal("0.0217")  # (3 + 1 + 2.5) / 3 %
    assert [(c.metric_key, c.asset_type, c.deal_type) for c in result.comparisons][:4] == [
        (CONVERSION_RATE, None, None),
        (CONVERSION_RATE, "commercial", "lease"),
        (CONVERSION_RATE, "residential", "buy_side"),
        (CONVERSION_RATE, "residential", "sell_side"),
    ]
    assert row(result, CONVERSION_RATE).metric == "Conversion rate"

    north = o.overview("mia", team="North")
    assert summary(row(north, CONVERSION_RATE, "residential", "buy_side"))[:2] == (
        Decimal("75.00"),
        4,
    )
    assert [c.asset_type for c in north.comparisons if c.metric_key == CONVERSION_RATE] == [
        None, "commercial", "residential",
    ]  # fmt: skip
    eve = o.overview("zoe")
    assert summary(row(eve, CONVERSION_RATE))[:2] == (Decimal("100.00"), 1)


def test_the_newest_effective_row_in_force_on_the_last_day_wins(closed: Office) -> None:
    o = closed
    o.benchmark(CONVERSION_RATE, "industry_avg", "40", D(2025, 1, 1), source="old")
    o.benchmark(CONVERSION_RATE, "industry_avg", "45", D(2026, 3, 14), source="NAR 2026")
    o.benchmark(CONVERSION_RATE, "industry_avg", "99", D(2026, 3, 15), source="future")
    o.benchmark(CONVERSION_RATE, "top_quartile", "60", D(2025, 6, 1))
    o.benchmark(CONVERSION_RATE, "internal_avg", "44.44", D(2025, 6, 1))
    o.benchmark("lead_conversion_pct", "industry_avg", "2.4", D(2025, 6, 1))  # not ours
    result = o.overview("ada")
    overall = row(result, CONVERSION_RATE)
    assert overall.industry_avg is not None
    assert (overall.industry_avg.source, overall.industry_avg.effective_date) == (
        "NAR 2026",
        D(2026, 3, 14),
    )
    assert summary(overall) == (Decimal("50.00"), 10, Decimal(45), Decimal(60),
                                Decimal("44.44"), BETTER)  # fmt: skip
    earlier = o.overview("ada", D(2026, 3, 1), D(2026, 3, 13))
    before = row(earlier, CONVERSION_RATE).industry_avg
    assert before is not None and before.value == Decimal(40)
    assert {c.metric_key for c in result.comparisons} == {CONVERSION_RATE}


def test_no_benchmark_no_comparison(closed: Office) -> None:
    assert closed.overview("ada").comparisons == ()
    closed.benchmark(AVG_CYCLE_DAYS, "top_quartile", "15", D(2026, 1, 1), asset="residential",
                     kind="buy_side")  # fmt: skip
    only = closed.overview("ada").comparisons
    assert [(c.metric_key, c.asset_type, c.deal_type, c.verdict) for c in only] == [
        (AVG_CYCLE_DAYS, "residential", "buy_side", None)  # no industry average: nothing said
    ]


def test_better_or_worse_depends_on_the_metric() -> None:
    assert verdict(Decimal(50), Decimal(40), higher_is_better=True) == BETTER
    assert verdict(Decimal(30), Decimal(40), higher_is_better=True) == WORSE
    assert verdict(Decimal(30), Decimal(40), higher_is_better=False) == BETTER
    assert verdict(Decimal(50), Decimal(40), higher_is_better=False) == WORSE
    assert verdict(Decimal(40), Decimal("40.00"), higher_is_better=False) == LEVEL
    assert verdict(None, Decimal(40), higher_is_better=True) is None
    assert verdict(Decimal(1), None, higher_is_better=True) is None
