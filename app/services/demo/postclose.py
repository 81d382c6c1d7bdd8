"""Investors (buyers), their buy boxes, and rental properties with a locked pro forma and a
monthly rent roll ending with the last whole month before ``as_of``.

The properties were bought before the pipeline's year of history, so their performance
records stand on their own (no ``deal_id``).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from app.domain.enums import Grade, LoanType, Strategy
from app.domain.money import quantize
from app.domain.periods import month_end
from app.domain.postclose import (
    Actuals,
    Projection,
    assess,
    box_warning,
    engagement_score,
    performance_rate,
)
from app.services.demo.context import Context, Person
from app.services.demo.vocab import (
    BUYER_NAMES,
    COMPANY_SUFFIXES,
    COMPANY_WORDS,
    TOWNS,
    Town,
)


def _money(x: float) -> Decimal:
    """Dollars to an exact amount in cents."""
    return Decimal(round(x * 100)).scaleb(-2)


class PostCloseGenerator:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.rng = ctx.rng("postclose")
        self.office = ctx.the_office
        w = ctx.writer
        self.add_buyer = w.table(
            "buyers", ("id", "name", "email", "phone", "engagement_score", "created_at", "version")
        )
        self.add_box = w.table(
            "buy_boxes",
            ("id", "ref", "name", "market_key", "strategy", "min_dscr", "buyer_id",
             "performance_rate", "warning_level", "created_at", "version"),
        )  # fmt: skip
        self.add_record = w.table(
            "deal_performances",
            ("id", "ref", "deal_id", "buyer_id", "buy_box_id", "strategy", "market_key",
             "closed_date", "purchase_price", "rehab_cost_actual", "loan_type", "interest_rate",
             "ltv", "amortization_years", "projected_rent", "projected_noi",
             "projected_monthly_cash_flow", "projected_dscr", "assumptions", "locked_at",
             "locked_by", "current_grade", "current_flags", "created_at", "version"),
        )  # fmt: skip
        self.add_period = w.table(
            "performance_periods",
            ("id", "performance_id", "year", "month", "actual_rent_collected",
             "actual_vacancy_rate", "maintenance", "property_management", "taxes", "insurance",
             "other", "expenses_total", "actual_noi", "actual_monthly_cash_flow", "actual_dscr",
             "notes", "grade", "flags", "cash_flow_variance", "cash_flow_variance_pct",
             "rent_variance", "rent_variance_pct", "expense_variance", "expense_variance_pct",
             "dscr_variance", "entered_by", "entered_at", "version"),
        )  # fmt: skip

    def run(self) -> None:
        ctx, rng = self.ctx, self.rng
        scale = ctx.scale
        clock = ctx.clock
        # The rent roll: the last ``rent_months`` whole months before as_of.
        y, m = ctx.as_of.year, ctx.as_of.month
        months: list[tuple[int, int]] = []
        for _ in range(scale.rent_months):
            y, m = (y - 1, 12) if m == 1 else (y, m - 1)
            months.append((y, m))
        months.reverse()

        buyers = self._buyer_names(scale.buyers)
        created = clock.at(clock.start - dt.timedelta(days=400), 10 * 3600)
        buyer_ids = [ctx.ids.next("buyers") for _ in buyers]
        # Buy boxes: (id, buyer index, town, strategy, min dscr)
        boxes: list[tuple[int, int, Town, Strategy, Decimal]] = []
        towns = list(TOWNS)
        weights = [t.weight for t in towns]
        for k in range(scale.buy_boxes):
            b = k % len(buyers) if k < len(buyers) else rng.randrange(len(buyers))
            town = rng.choices(towns, weights)[0]
            strategy = Strategy.COMMERCIAL if rng.random() < 0.15 else Strategy.BUY_HOLD
            min_dscr = Decimal(rng.choice(("1.20", "1.25", "1.25", "1.30", "1.35")))
            boxes.append((ctx.ids.next("buy_boxes"), b, town, strategy, min_dscr))
        # Buyers and boxes first (records refer to them); their scores, which depend on the
        # grades, are filled in at the end.
        for b, name in enumerate(buyers):
            slug = "".join(ch for ch in name.lower() if ch.isalnum())[:20]
            self.add_buyer(
                (buyer_ids[b], name, f"acquisitions@{slug}.example",
                 f"(661) {rng.randint(200, 989)}-{rng.randint(0, 9999):04d}", None, created, 1),
            )  # fmt: skip
        for bid, b, town, strategy, min_dscr in boxes:
            kind = "SFR cash flow" if strategy is Strategy.BUY_HOLD else "NNN retail"
            self.add_box(
                (bid, f"BB-{bid:04d}", f"{town.name} {kind}", town.market_key, strategy,
                 min_dscr, buyer_ids[b], None, None, created, 1),
            )  # fmt: skip

        box_grades: dict[int, list[Grade]] = defaultdict(list)
        buyer_grades: dict[int, list[Grade]] = defaultdict(list)
        buyer_cf: dict[int, list[Decimal]] = defaultdict(list)
        staff = [*self.office.managers.values(), self.office.admin]
        first_y, first_m = months[0]
        for _ in range(scale.rentals):
            box = rng.choice(boxes) if boxes and rng.random() < 0.85 else None
            box_id: int | None
            if box is not None:
                box_id, b, town, strategy, min_dscr = box
                req: Decimal | None = min_dscr
            else:
                box_id, b = None, rng.randrange(len(buyers))
                town = rng.choices(towns, weights)[0]
                strategy = Strategy.COMMERCIAL if rng.random() < 0.12 else Strategy.BUY_HOLD
                req = None
            rid = ctx.ids.next("deal_performances")
            # Bought in the month before the rent roll starts.
            prev_y, prev_m = (first_y - 1, 12) if first_m == 1 else (first_y, first_m - 1)
            closed = dt.date(prev_y, prev_m, rng.randint(1, month_end(prev_y, prev_m).day))
            latest_grade, mean_cf = self._property(
                rid, box_id, buyer_ids[b], town, strategy, req, closed, months, staff
            )
            if box_id is not None:
                box_grades[box_id].append(latest_grade)
            buyer_grades[b].append(latest_grade)
            buyer_cf[b].append(mean_cf)

        w = ctx.writer
        for b in range(len(buyers)):
            rate = performance_rate(buyer_grades[b])
            cfs = buyer_cf[b]
            mean = sum(cfs, Decimal(0)) / len(cfs) if cfs else None
            score = engagement_score(rate, len(cfs), mean)
            if score is not None:
                w.execute(
                    "UPDATE buyers SET engagement_score = %s WHERE id = %s",
                    (self.stored("buyers", "engagement_score", score), buyer_ids[b]),
                )
        for bid, *_ in boxes:
            rate = performance_rate(box_grades[bid])
            if rate is not None:
                w.execute(
                    "UPDATE buy_boxes SET performance_rate = %s, warning_level = %s WHERE id = %s",
                    (
                        self.stored("buy_boxes", "performance_rate", rate),
                        box_warning(box_grades[bid]),
                        bid,
                    ),
                )

    def _buyer_names(self, n: int) -> list[str]:
        names = list(BUYER_NAMES[:n])
        seen = set(names)
        while len(names) < n:
            name = f"{self.rng.choice(COMPANY_WORDS)} {self.rng.choice(COMPANY_SUFFIXES)}"
            k = 2
            candidate = name
            while candidate in seen:
                candidate = f"{name} {k}"
                k += 1
            seen.add(candidate)
            names.append(candidate)
        return names

    def _property(
        self,
        rid: int,
        box_id: int | None,
        buyer_id: int,
        town: Town,
        strategy: Strategy,
        req: Decimal | None,
        closed: dt.date,
        months: list[tuple[int, int]],
        staff: list[Person],
    ) -> tuple[Grade, Decimal]:
        ctx, rng = self.ctx, self.rng
        clock = ctx.clock
        commercial = strategy is Strategy.COMMERCIAL
        if commercial:
            price = rng.lognormvariate(14.0, 0.45)
            loan = LoanType.COMMERCIAL
            years = 25
        else:
            price = town.median_price * rng.uniform(0.55, 0.85)
            loan = rng.choice((LoanType.DSCR, LoanType.DSCR, LoanType.CONVENTIONAL))
            years = 30
        price = round(price / 500) * 500
        rehab = round(rng.uniform(0, 0.12 if not commercial else 0.08) * price / 100) * 100
        rate = round(rng.uniform(0.0625, 0.0799), 4)
        ltv = rng.choice((0.7, 0.75, 0.75, 0.8))
        principal = price * ltv
        r = rate / 12
        debt = principal * r / (1 - (1 + r) ** (-years * 12))
        target_dscr = rng.uniform(1.18, 1.45)
        noi = debt * target_dscr
        expense_ratio = rng.uniform(0.3, 0.4) if not commercial else rng.uniform(0.12, 0.22)
        rent = noi / (1 - expense_ratio)
        p = Projection(
            rent=_money(rent),
            noi=_money(noi),
            cash_flow=_money(noi - debt),
            dscr=Decimal(f"{noi / debt:.2f}"),
        )
        assumptions = [
            f"{rng.choice((5, 6.5, 8))}% vacancy",
            f"{rng.choice((8, 9, 10))}% management",
            "Taxes 1.1% of price",
            f"Rent growth {rng.choice((2, 3, 3.5))}%/yr",
        ]
        locked = clock.at(closed + dt.timedelta(days=rng.randint(1, 3)), 10 * 3600)
        # How this property turns out: most as projected, some better, some much worse.
        quality = rng.gauss(0.0, 1.0)
        units = 1 if not commercial else rng.randint(2, 6)
        taxes = price * 0.011 / 12
        insurance = rng.uniform(90, 180) if not commercial else price * 0.004 / 12
        mgmt_rate = rng.choice((0.08, 0.09, 0.1))
        projected_expenses = rent - noi
        latest: Grade = Grade.C
        latest_flags: list[str] = []
        latest_cf = Decimal(0)
        vacant_left = 0
        rows: list[tuple[object, ...]] = []
        for k, (y, m) in enumerate(months):
            growth = (1.03) ** (k / 12)
            if vacant_left > 0:
                vacancy = 1.0 if units == 1 else rng.uniform(0.15, 0.4)
                vacant_left -= 1
            elif rng.random() < (0.03 if quality > -1 else 0.07):
                vacancy = rng.choice((0.5, 1.0)) if units == 1 else rng.uniform(0.1, 0.35)
                vacant_left = rng.choice((0, 0, 1))
            else:
                vacancy = 0.0 if units == 1 else max(0.0, rng.gauss(0.04, 0.03))
            vacancy = round(min(1.0, vacancy), 4)
            factor = min(1.03, max(0.85, rng.gauss(0.985 + 0.02 * quality, 0.015)))
            collected = rent * growth * (1 - vacancy) * factor
            management = collected * mgmt_rate
            other = rng.uniform(0, 60) if not commercial else rng.uniform(50, 400)
            # Upkeep is what the pro forma left for it, give or take; big repairs come on top.
            upkeep = max(
                rent * 0.03, projected_expenses - taxes - insurance - rent * mgmt_rate - 30
            )
            maintenance = upkeep * rng.uniform(0.6, 1.3) * (1.4 if quality < -1.2 else 1.0)
            if rng.random() < 0.06:
                maintenance += rng.uniform(600, 3500) * units
            parts = [_money(maintenance), _money(management), _money(taxes * (1.02 ** (k / 12))),
                     _money(insurance), _money(other)]  # fmt: skip
            expenses = sum(parts, Decimal(0))
            rent_d = _money(collected)
            noi_d = rent_d - expenses
            debt_d = _money(debt)
            cf = noi_d - debt_d
            dscr = quantize(noi_d / debt_d, 2)
            a = Actuals(rent_d, Decimal(str(vacancy)), expenses, cf, dscr)
            res = assess(p, a, req)
            latest, latest_flags = res.grade, res.flags
            latest_cf = res.cash_flow_variance
            notes = None
            if vacancy >= 0.5:
                notes = "Unit turnover: vacant part of the month."
            elif maintenance > rent * 0.3:
                notes = "Major repair (HVAC / roof / plumbing)."
            entered = clock.at(month_end(y, m) + dt.timedelta(days=rng.randint(5, 20)), 11 * 3600)
            entered = min(entered, ctx.now - dt.timedelta(hours=rng.uniform(1, 48)))
            rows.append(
                (ctx.ids.next("performance_periods"), rid, y, m, rent_d, Decimal(str(vacancy)),
                 *parts, expenses, noi_d, cf, dscr, notes, res.grade, res.flags,
                 res.cash_flow_variance, res.cash_flow_variance_pct, res.rent_variance,
                 res.rent_variance_pct, res.expense_variance, res.expense_variance_pct,
                 res.dscr_variance, rng.choice(staff).id, entered, 1),
            )  # fmt: skip
        self.add_record((
            rid, f"PF-{rid:05d}", None, buyer_id, box_id, strategy, town.market_key, closed,
            Decimal(price), Decimal(rehab), loan, Decimal(f"{rate:.4f}"), Decimal(f"{ltv:.4f}"),
            years, p.rent, p.noi, p.cash_flow, p.dscr, assumptions, locked,
            self.office.closer.id, latest, latest_flags, locked, 1,
        ))  # fmt: skip
        for row in rows:
            self.add_period(row)
        # The buyer's score averages each record's latest month, as a recalculation does.
        return latest, latest_cf

    def stored(self, table: str, column: str, value: object) -> object:
        """``value`` in the form ``table.column`` stores it (for a raw UPDATE)."""
        return self.ctx.writer.stored_value(table, column, value)


def generate_postclose(ctx: Context) -> None:
    ctx.writer.phase("Buyers, buy boxes and rent rolls…")
    PostCloseGenerator(ctx).run()
