"""Goals (with the progress the office's records give them), entered activities, badge rules.

A goal's ``current_value`` is computed from the generated records as SPEC §8 defines it;
goals whose period has ended are finalised (``achieved`` / ``missed``) as the scheduled
job would have done. Badges earned are left to the achievements job.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from app.domain.enums import ActivityType, GoalType, PeriodType
from app.domain.goals import goal_status
from app.domain.money import quantize
from app.domain.periods import (
    Period,
    first_whole_month,
    months_between,
    period_of,
    periods_between,
)
from app.services.demo.context import Context, Person

#: (goal type, period, how many ended periods before the current one)
PLAN: tuple[tuple[GoalType, PeriodType, int], ...] = (
    (GoalType.REVENUE, PeriodType.MONTHLY, 6),
    (GoalType.LEADS, PeriodType.MONTHLY, 3),
    (GoalType.ORDERS, PeriodType.QUARTERLY, 2),
    (GoalType.CONVERSION_RATE, PeriodType.YEARLY, 0),
)
BADGES: tuple[tuple[str, str, str, str, Decimal, PeriodType, str], ...] = (
    ("first_close", "First Close", "Closed a first transaction in the month.", "orders",
     Decimal(1), PeriodType.MONTHLY, "trophy"),
    ("five_closes", "High Five", "Five closed transactions in a month.", "orders",
     Decimal(5), PeriodType.MONTHLY, "star"),
    ("lead_machine", "Lead Machine", "150 new leads in a month.", "leads", Decimal(150),
     PeriodType.MONTHLY, "magnet"),
    ("big_month", "Big Month", "$25,000 commission revenue in a month.", "revenue",
     Decimal(25000), PeriodType.MONTHLY, "money"),
    ("quarter_champion", "Quarter Champion", "$75,000 commission revenue in a quarter.",
     "revenue", Decimal(75000), PeriodType.QUARTERLY, "crown"),
    ("sharp_converter", "Sharp Converter", "Conversion rate of 5% or better in a quarter.",
     "conversion_rate", Decimal(5), PeriodType.QUARTERLY, "target"),
    ("show_up", "Always On", "20 appointments completed in a month.",
     "appointments_completed", Decimal(20), PeriodType.MONTHLY, "calendar"),
)  # fmt: skip


class GoalGenerator:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.rng = ctx.rng("goals")
        self.office = ctx.the_office
        w = ctx.writer
        self.add_goal = w.table(
            "goals",
            ("id", "user_id", "team_id", "goal_type", "period_type", "period_start",
             "period_end", "target_value", "current_value", "status", "description",
             "finalized_at", "created_at", "version", "updated_at"),
        )  # fmt: skip
        self.add_activity = w.table(
            "activity_entries",
            ("id", "user_id", "activity_type", "period_type", "period_start", "count",
             "created_at", "version"),
        )  # fmt: skip
        self.add_badge = w.table(
            "achievement_definitions",
            ("id", "key", "name", "description", "metric", "threshold", "period_type", "icon",
             "is_active", "created_at", "version"),
        )  # fmt: skip
        self.whole_months = months_between(first_whole_month(ctx.clock.start), ctx.as_of)

    def run(self) -> None:
        ctx = self.ctx
        clock = ctx.clock
        made = clock.at(clock.start - dt.timedelta(days=20), 11 * 3600)
        for key, name, desc, metric, threshold, badge_period, icon in BADGES:
            self.add_badge(
                (ctx.ids.next("achievement_definitions"), key, name, desc, metric, threshold,
                 badge_period, icon, True, made, 1),
            )  # fmt: skip
        for person in self.office.producers:
            self._activities(person)
            for goal_type, period_type, ended in PLAN:
                current = period_of(period_type, ctx.as_of)
                periods = (
                    periods_between(period_type, clock.start, current.start)[-ended:]
                    if ended
                    else []
                )
                for period in [*periods, current]:
                    self._goal(person.id, None, [person], goal_type, period_type, period)
        for team_id, _name in self.office.teams.items():
            members = [a for a in self.office.agents if a.team_id == team_id]
            current = period_of(PeriodType.QUARTERLY, ctx.as_of)
            last = periods_between(PeriodType.QUARTERLY, clock.start, current.start)[-1:]
            for period in [*last, current]:
                self._goal(None, team_id, members, GoalType.REVENUE, PeriodType.QUARTERLY, period)

    # -- goals --------------------------------------------------------------------------------
    def value(
        self, people: list[Person], goal_type: GoalType, months: list[tuple[int, int]]
    ) -> Decimal:
        stats = self.ctx.stats
        ids = [p.id for p in people]
        if goal_type is GoalType.REVENUE:
            # Commission on escrows closed, and on deals won (confirmed, invoiced or paid).
            escrows = sum((stats.total(i, months, "closed_commission") for i in ids), Decimal(0))
            deals = sum((stats.total(i, months, "deal_revenue") for i in ids), Decimal(0))
            return escrows + deals
        orders = sum(
            stats.count(i, months, "escrows_closed") + stats.count(i, months, "deals_won")
            for i in ids
        )
        if goal_type is GoalType.ORDERS:
            return Decimal(orders)
        leads = sum(stats.count(i, months, "leads") for i in ids)
        if goal_type is GoalType.LEADS:
            return Decimal(leads)
        if goal_type is GoalType.OPPORTUNITIES:
            return Decimal(sum(stats.count(i, months, "deals_created") for i in ids))
        return quantize(Decimal(orders * 100) / leads, 4) if leads else Decimal(0)

    def _goal(
        self,
        user_id: int | None,
        team_id: int | None,
        people: list[Person],
        goal_type: GoalType,
        period_type: PeriodType,
        period: Period,
    ) -> None:
        ctx, rng = self.ctx, self.rng
        clock = ctx.clock
        span = len(period.months)
        typical = self.value(people, goal_type, self.whole_months)
        if goal_type is GoalType.CONVERSION_RATE:
            raw = typical * Decimal(str(rng.uniform(0.9, 1.4)))
            target = max(Decimal("0.5"), raw.quantize(Decimal("0.1")))
        else:
            per_month = typical / max(1, len(self.whole_months))
            raw = per_month * span * Decimal(str(rng.uniform(0.8, 1.35)))
            step = Decimal(500) if goal_type is GoalType.REVENUE else Decimal(1)
            target = max(step, (raw / step).quantize(Decimal(1)) * step)
        months = [m for m in period.months if dt.date(m[0], m[1], 1) < ctx.as_of]
        current = self.value(people, goal_type, months)
        pct = current / target * 100 if target else None
        ended = period.end < ctx.as_of
        status = goal_status(pct, ended)
        created = clock.at(period.start - dt.timedelta(days=rng.randint(1, 5)), 9 * 3600)
        finalized = clock.at(period.end + dt.timedelta(days=1), 900) if ended else None
        updated = finalized or ctx.now - dt.timedelta(hours=rng.uniform(1, 8))
        what = {
            GoalType.REVENUE: "Commission revenue",
            GoalType.LEADS: "New leads",
            GoalType.ORDERS: "Closed transactions",
            GoalType.CONVERSION_RATE: "Lead-to-close conversion rate (%)",
            GoalType.OPPORTUNITIES: "New deals on the board",
        }.get(goal_type, "Goal")
        self.add_goal(
            (ctx.ids.next("goals"), user_id, team_id, goal_type, period_type, period.start,
             period.end, target, current, status, f"{what}, {period_type.value}", finalized,
             created, 2, updated),
        )  # fmt: skip

    # -- calls, emails, meetings --------------------------------------------------------------
    def _activities(self, person: Person) -> None:
        ctx, rng = self.ctx, self.rng
        clock = ctx.clock
        months = [*self.whole_months]
        this_month = (ctx.as_of.year, ctx.as_of.month)
        if ctx.as_of.day > 1 and this_month not in months:
            months.append(this_month)
        for y, m in months:
            start = dt.date(y, m, 1)
            share = 1.0 if (y, m) != this_month else (ctx.as_of.day - 1) / 30
            meetings = ctx.stats.count(person.id, [(y, m)], "completed")
            counts = {
                ActivityType.CALLS: rng.gauss(380, 90) * person.productivity * share,
                ActivityType.EMAILS: rng.gauss(260, 60) * person.productivity * share,
                ActivityType.MEETINGS: meetings + rng.randint(2, 10) * share,
            }
            when = (
                clock.at(period_of(PeriodType.MONTHLY, start).end + dt.timedelta(days=1), 8 * 3600)
                if (y, m) != this_month
                else ctx.now - dt.timedelta(hours=2)
            )
            for kind, value in counts.items():
                self.add_activity(
                    (ctx.ids.next("activity_entries"), person.id, kind, PeriodType.MONTHLY,
                     start, max(0, round(value)), when, 1),
                )  # fmt: skip


def generate_goals(ctx: Context) -> None:
    ctx.writer.phase("Goals and activities…")
    GoalGenerator(ctx).run()
