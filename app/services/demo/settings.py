"""Office settings, the broker's notification switches, lead-source spend and benchmarks."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from app.domain.enums import BenchmarkCohort
from app.domain.periods import first_whole_month, months_between
from app.services.demo.context import Context
from app.services.demo.records import MIN_ESCROW_VALUE

CURRENCY = "USD"
#: Brokerage-wide monthly spend per source (USD): (low, high).
OFFICE_SPEND: dict[str, tuple[int, int]] = {
    "Website": (400, 550),
    "Facebook Ads": (550, 950),
    "Realtor.com": (700, 900),
    "Open House": (120, 260),
    "Sign Call": (40, 90),
    "Networking": (150, 400),
}
#: (metric, asset type, deal type, cohort, value, text)
_Benchmark = tuple[str, str | None, str | None, BenchmarkCohort, str | None, str | None]
BENCHMARKS: tuple[_Benchmark, ...] = (
    ("avg_cycle_days", "residential", "buy_side", BenchmarkCohort.INDUSTRY_AVG, "92", None),
    ("avg_cycle_days", "residential", "buy_side", BenchmarkCohort.TOP_QUARTILE, "64", None),
    ("avg_cycle_days", "residential", "sell_side", BenchmarkCohort.INDUSTRY_AVG, "78", None),
    ("avg_cycle_days", "multifamily", None, BenchmarkCohort.INDUSTRY_AVG, "121", None),
    ("avg_cycle_days", "commercial", None, BenchmarkCohort.INDUSTRY_AVG, "148", None),
    ("conversion_rate", None, None, BenchmarkCohort.INDUSTRY_AVG, "42.5", None),
    ("conversion_rate", None, None, BenchmarkCohort.TOP_QUARTILE, "58.0", None),
    ("lead_conversion_pct", None, None, BenchmarkCohort.INDUSTRY_AVG, "2.4", None),
    ("lead_conversion_pct", None, None, BenchmarkCohort.TOP_QUARTILE, "4.1", None),
    ("show_rate_pct", None, None, BenchmarkCohort.INDUSTRY_AVG, "74", None),
    ("conversion_rate", None, None, BenchmarkCohort.INTERNAL_AVG, "51.0", None),
    ("avg_cycle_days", "residential", None, BenchmarkCohort.INTERNAL_AVG, "88", None),
    ("commission_rate", "residential", None, BenchmarkCohort.INDUSTRY_AVG, "0.0255", None),
    ("commission_rate", "commercial", None, BenchmarkCohort.INDUSTRY_AVG, "0.0300", None),
    ("cap_rate", "multifamily", "buy_side", BenchmarkCohort.INDUSTRY_AVG, "0.0575", None),
    ("cap_rate", "commercial", "buy_side", BenchmarkCohort.INDUSTRY_AVG, "0.0690", None),
    ("dscr", "residential", "buy_side", BenchmarkCohort.INDUSTRY_AVG, "1.28", None),
    ("dscr", "residential", "buy_side", BenchmarkCohort.TOP_QUARTILE, "1.45", None),
    ("days_on_market", "residential", "sell_side", BenchmarkCohort.INDUSTRY_AVG, "34", None),
    ("list_to_sale_pct", "residential", "sell_side", BenchmarkCohort.INDUSTRY_AVG, "98.6", None),
    ("market_outlook", None, None, BenchmarkCohort.INDUSTRY_AVG, None,
     "Kern County: balanced market, inventory up year over year"),
)  # fmt: skip


def generate_settings(ctx: Context) -> None:
    rng = ctx.rng("settings")
    w = ctx.writer
    office = ctx.the_office
    clock = ctx.clock
    w.phase("Settings, lead costs and benchmarks…")

    existing = w.execute("SELECT version FROM app_settings WHERE key = %s", ("currency",))
    if existing:
        w.execute(
            "UPDATE app_settings SET value = %s, version = version + 1 WHERE key = %s",
            (CURRENCY, "currency"),
        )
    else:
        w.table("app_settings", ("key", "value", "version"))(("currency", CURRENCY, 1))

    set_at = clock.at(clock.start - dt.timedelta(days=30), 10 * 3600)
    w.table(
        "notification_settings",
        ("id", "broker_id", "notify_escrow_created", "notify_escrow_closed",
         "notify_client_created", "notify_listing_created", "channel_in_app", "channel_email",
         "channel_sms", "min_escrow_value", "created_at", "version"),
    )(
        (ctx.ids.next("notification_settings"), office.broker.id, True, True, True, True, True,
         True, False, MIN_ESCROW_VALUE, set_at, 1)
    )  # fmt: skip

    add_cost = w.table(
        "lead_source_costs", ("id", "source", "month", "agent_id", "cost", "created_at", "version")
    )
    months = months_between(first_whole_month(clock.start), ctx.as_of)
    for y, m in months:
        month = dt.date(y, m, 1)
        entered = clock.at(month + dt.timedelta(days=35 if m != 2 else 32), 9 * 3600)
        entered = min(entered, ctx.now - dt.timedelta(hours=1))
        for source, (lo, hi) in OFFICE_SPEND.items():
            cost = Decimal(rng.randint(lo, hi))
            add_cost((ctx.ids.next("lead_source_costs"), source, month, None, cost, entered, 1))
        # Zillow is bought per agent (and by the broker for his own pipeline).
        for p in office.producers:
            if not p.buys_zillow_leads:
                continue
            base = 1500 if p is office.broker else 250 + 900 * p.productivity
            cost = Decimal(round(base * rng.uniform(0.85, 1.15) / 5) * 5)
            add_cost((ctx.ids.next("lead_source_costs"), "Zillow", month, p.id, cost, entered, 1))

    add_bench = w.table(
        "benchmarks",
        ("id", "metric_key", "asset_type", "deal_type", "cohort", "value_numeric", "value_text",
         "source", "effective_date", "created_at"),
    )  # fmt: skip
    this_year, last_year = ctx.as_of.year, ctx.as_of.year - 1
    for year in (last_year, this_year):
        effective = dt.date(year, 1, 15)
        if effective >= ctx.as_of:
            continue
        loaded = min(clock.at(effective + dt.timedelta(days=3), 10 * 3600), ctx.now)
        for metric, asset, deal_type, cohort, value, text in BENCHMARKS:
            number = None
            if value is not None:
                drift = Decimal("1") if year == this_year else Decimal(str(rng.uniform(0.95, 1.05)))
                number = (Decimal(value) * drift).quantize(Decimal(value))
            source = (
                "Internal demo benchmarks"
                if cohort is BenchmarkCohort.INTERNAL_AVG
                else "Industry survey (demo)"
            )
            add_bench(
                (ctx.ids.next("benchmarks"), metric, asset, deal_type, cohort, number, text,
                 source, effective, loaded),
            )  # fmt: skip
