"""A year of the office's records, day by day: leads, appointments, clients, listings, escrows.

Walking the days in order keeps ids in creation order (as a real office's would be), lets an
escrow pick a client who already existed, and lets a converted lead become a client later.
Broker notifications for the last 60 days are written alongside.
"""

from __future__ import annotations

import datetime as dt
import heapq
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import accumulate
from typing import TypeVar

from app.domain.enums import (
    AppointmentStatus,
    ClientStatus,
    EscrowStatus,
    LeadStatus,
    ListingStatus,
    NotificationType,
)
from app.domain.money import format_money, quantize
from app.services.demo.clock import business_seconds, lead_seconds
from app.services.demo.context import Context, Person, allocate, weighted
from app.services.demo.vocab import (
    APPOINTMENT_TITLES,
    BROKER_LEAD_SOURCES,
    CLIENT_SOURCES,
    EMAIL_DOMAINS,
    FIRST_NAMES,
    FREE_APPOINTMENT_TITLES,
    LAST_NAMES,
    LEAD_SOURCES,
    TOWN_STREETS,
    TOWNS,
    Town,
)

T = TypeVar("T")
DAY = dt.timedelta(days=1)
HOUR = dt.timedelta(hours=1)
NOTIFY_DAYS = 60
#: The broker's notification threshold for escrows (SPEC §3 ``min_escrow_value``).
MIN_ESCROW_VALUE = Decimal("150000.00")
OUT_OF_AREA_CODES = ("818", "805", "760", "323", "714", "310", "909", "530")
#: The seeds' figures at the brokerage scale: (leads, appointments, clients, listings, escrows)
#: over the year; the leads are the non-private ones the broker's dashboard counts.
SEED_QUOTAS: dict[str, tuple[int, int, int, int, int]] = {
    "jayden.metz": (1247, 640, 30, 14, 11),
    "cole.rangel": (823, 500, 21, 8, 7),
    "lee.rangel": (1502, 950, 50, 22, 15),
}
PRIVATE_SHARE = 0.03
COMMISSION_RATES = tuple(
    Decimal(r) for r in ("0.0125", "0.015", "0.015", "0.02", "0.025", "0.025", "0.0275", "0.03")
)
APPOINTMENT_NOTES = (
    "Pre-approved, wants 3 bed / 2 bath under budget.",
    "Motivated seller, relocating for work.",
    "Wants to see more in the same neighborhood.",
    "Discussed pricing strategy and comps.",
    "Investor: looking for cash flow, DSCR loan.",
)

_NEW, _CONTACTED, _QUALIFIED, _CONVERTED, _LOST = (
    LeadStatus.NEW,
    LeadStatus.CONTACTED,
    LeadStatus.QUALIFIED,
    LeadStatus.CONVERTED,
    LeadStatus.LOST,
)
#: A lead's status (when not converted) by its age in days: (below age, statuses, cumulative).
_LEAD_STATUS_BY_AGE: tuple[tuple[int, tuple[LeadStatus, ...], tuple[float, ...]], ...] = (
    (3, (_NEW, _CONTACTED), (0.8, 1.0)),
    (14, (_NEW, _CONTACTED, _QUALIFIED, _LOST), (0.35, 0.8, 0.92, 1.0)),
    (60, (_NEW, _CONTACTED, _QUALIFIED, _LOST), (0.08, 0.5, 0.7, 1.0)),
    (10**6, (_NEW, _CONTACTED, _QUALIFIED, _LOST), (0.03, 0.33, 0.45, 1.0)),
)
_LISTING_STATUSES = (
    ListingStatus.ACTIVE,
    ListingStatus.PENDING,
    ListingStatus.SOLD,
    ListingStatus.WITHDRAWN,
    ListingStatus.EXPIRED,
)


@dataclass
class _Plan:
    """One producer's year: how many of each record on each day, and what is left to place."""

    lead_days: list[int]
    appt_days: list[int]
    client_days: list[int]
    listing_days: list[int]
    escrow_days: list[int]
    leads_left: int
    private_left: int
    appts_left_for_leads: int
    conversion: float
    #: Appointments booked on the last day for the days ahead (everyone has some coming up).
    upcoming: int
    source_names: list[str] = field(default_factory=list)
    source_cum: list[float] = field(default_factory=list)


#: A client waiting for its day: (created, tie-break, producer index, name, email, phone, source)
_PendingClient = tuple[dt.datetime, int, int, str, str | None, str | None, str]


class RecordGenerator:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.rng = ctx.rng("records")
        self.office = ctx.the_office
        self.clock = ctx.clock
        self.now = ctx.now
        self.producers = self.office.producers
        self.broker = self.office.broker
        w = ctx.writer
        self.add_lead = w.table(
            "leads",
            ("id", "owner_id", "name", "email", "phone", "source", "status", "is_private",
             "created_at", "version", "updated_at"),
        )  # fmt: skip
        self.add_appt = w.table(
            "appointments",
            ("id", "agent_id", "lead_id", "title", "start_time", "end_time", "status",
             "location", "notes", "is_private", "created_at", "version", "updated_at"),
        )  # fmt: skip
        self.add_client = w.table(
            "clients",
            ("id", "agent_id", "name", "email", "phone", "source", "status", "created_at",
             "version"),
        )  # fmt: skip
        self.add_listing = w.table(
            "listings",
            ("id", "agent_id", "address", "list_price", "status", "created_at", "version",
             "updated_at"),
        )  # fmt: skip
        self.add_escrow = w.table(
            "escrows",
            ("id", "agent_id", "client_id", "property_address", "purchase_price",
             "my_commission", "escrow_status", "created_at", "closed_at", "version",
             "updated_at"),
        )  # fmt: skip
        self.add_note = w.table(
            "notifications",
            ("id", "recipient_id", "type", "agent_id", "entity_type", "entity_id", "title",
             "body", "price", "created_at", "read_at"),
        )  # fmt: skip
        self.notify_from = self.now - NOTIFY_DAYS * DAY
        self.town_cum = list(accumulate(t.weight for t in TOWNS))
        #: Each producer's clients, in time order: (created_at, id), and the times alone.
        self.clients: dict[int, list[tuple[dt.datetime, int]]] = {p.id: [] for p in self.producers}
        self.client_times: dict[int, list[dt.datetime]] = {p.id: [] for p in self.producers}
        self.pending: list[_PendingClient] = []
        self._seq = 0

    # -- small helpers (the hot ones avoid random.choice, which costs 4× an index) ----------
    def choice(self, seq: Sequence[T]) -> T:
        return seq[int(self.rng.random() * len(seq))]

    def new_name(self) -> tuple[str, str]:
        r = self.rng.random
        return FIRST_NAMES[int(r() * len(FIRST_NAMES))], LAST_NAMES[int(r() * len(LAST_NAMES))]

    def contact(self, first: str, last: str, town: Town) -> tuple[str | None, str | None]:
        randf = self.rng.random
        email: str | None = None
        if randf() < 0.8:
            r = randf()
            num = "" if r < 0.35 else str(int(randf() * 99) + 1)
            if r < 0.6:
                local = f"{first}.{last}{num}"
            elif r < 0.85:
                local = f"{first[0]}{last}{num}"
            else:
                local = f"{first}{last[0]}{int(randf() * 40) + 60}"
            domain = EMAIL_DOMAINS[int(randf() * len(EMAIL_DOMAINS))]
            email = f"{local.lower().replace(' ', '')}@{domain}"
        phone: str | None = None
        if randf() < 0.88:
            area = town.area_code if randf() < 0.85 else self.choice(OUT_OF_AREA_CODES)
            phone = f"({area}) {int(randf() * 790) + 200}-{int(randf() * 10000):04d}"
        return email, phone

    def address(self, town: Town) -> str:
        street = self.choice(TOWN_STREETS[town.name])
        number = int(self.rng.triangular(100, 14000, 2500))
        return f"{number} {street}, {town.name}, CA {self.choice(town.zips)}"

    def some_town(self, p: Person) -> Town:
        if self.rng.random() < 0.85:
            return p.town
        return self.rng.choices(TOWNS, cum_weights=self.town_cum)[0]

    def home_price(self, town: Town, sigma: float = 0.3) -> float:
        return town.median_price * min(2.8, max(0.45, self.rng.lognormvariate(0, sigma)))

    def notify(
        self,
        kind: NotificationType,
        p: Person,
        entity: str,
        entity_id: int,
        when: dt.datetime,
        title: str,
        body: str,
        price: Decimal | None,
    ) -> None:
        """The broker's notification of an agent's new record (SPEC §3), for the last weeks."""
        now, rng = self.now, self.rng
        if p is self.broker or when < self.notify_from or when >= now:
            return
        read_at: dt.datetime | None = None
        if (now - when > 3 * DAY and rng.random() < 0.88) or rng.random() < 0.3:
            read_at = min(
                when + dt.timedelta(hours=rng.uniform(0.1, 30)), now - dt.timedelta(minutes=5)
            )
            if read_at <= when:
                read_at = None
        self.add_note(
            (self.ctx.ids.next("notifications"), self.broker.id, kind, p.id, entity, entity_id,
             title, body, price, when + dt.timedelta(seconds=2), read_at),
        )  # fmt: skip

    # -- the year -----------------------------------------------------------------------------
    def run(self) -> None:
        plans, preseed = self._plans()
        w = self.ctx.writer
        w.phase("Clients…")
        self._book_of_business(preseed)
        w.phase("Leads and appointments…")
        for d in range(self.clock.days):
            self._day(d, plans)
            if d % 7 == 6:
                w.flush()

    def _quotas(
        self, total: int, broker_share: float, seed_index: int, weights: list[float]
    ) -> list[int]:
        """Per producer (broker first), ``total`` split by ``weights``; seed figures where given."""
        producers = self.producers
        fixed: dict[int, int] = {}
        if self.ctx.scale.seed_figures:
            for i, a in enumerate(producers[1:], start=1):
                key = a.email.split("@", 1)[0]
                if key in SEED_QUOTAS:
                    fixed[i] = SEED_QUOTAS[key][seed_index]
        broker_q = round(total * broker_share)
        rest = [i for i in range(1, len(producers)) if i not in fixed]
        split = allocate(total - broker_q - sum(fixed.values()), [weights[i] for i in rest])
        out = [0] * len(producers)
        out[0] = broker_q
        for i, q in fixed.items():
            out[i] = q
        for i, q in zip(rest, split, strict=True):
            out[i] = q
        return out

    def _plans(self) -> tuple[list[_Plan], list[int]]:
        rng, clock, scale = self.rng, self.clock, self.ctx.scale
        producers = self.producers
        noise = [p.productivity * rng.uniform(0.85, 1.15) for p in producers]
        lead_q = self._quotas(scale.leads - scale.broker_leads, 0.0, 0, noise)
        lead_q[0] = scale.broker_leads
        if scale.seed_figures:  # the seeds count non-private leads: the private ones come on top
            for i, p in enumerate(producers):
                if p.email.split("@", 1)[0] in SEED_QUOTAS:
                    lead_q[i] += round(lead_q[i] * PRIVATE_SHARE / (1 - PRIVATE_SHARE))
        show = [w * p.show_rate for w, p in zip(noise, producers, strict=True)]
        appt_q = self._quotas(scale.appointments, 0.02, 1, show)
        client_q = self._quotas(scale.clients, 0.015, 2, noise)
        listing_q = self._quotas(scale.listings, 0.01, 3, noise)
        escrow_q = self._quotas(scale.escrows, 0.006, 4, noise)
        plans: list[_Plan] = []
        preseed: list[int] = []  # clients each producer already had before the year began
        for i, p in enumerate(producers):
            with_lead = min(round(appt_q[i] * 0.85), lead_q[i])
            upcoming = min(appt_q[i] - with_lead, max(1, round(appt_q[i] * 0.01)))
            expected_converted = round(lead_q[i] * p.conversion_rate * 0.95)
            before = round(client_q[i] * 0.15)
            preseed.append(before)
            plan = _Plan(
                lead_days=clock.spread(rng, lead_q[i]),
                appt_days=clock.spread(rng, appt_q[i] - with_lead - upcoming),
                client_days=clock.spread(rng, max(0, client_q[i] - expected_converted - before)),
                listing_days=clock.spread(rng, listing_q[i]),
                escrow_days=clock.spread(rng, escrow_q[i]),
                leads_left=lead_q[i],
                private_left=lead_q[i] if p is self.broker else round(lead_q[i] * PRIVATE_SHARE),
                appts_left_for_leads=with_lead,
                # Leads with an appointment convert 3× as often; the overall rate is kept.
                conversion=p.conversion_rate / (1 + 2 * with_lead / max(1, lead_q[i])),
                upcoming=upcoming,
            )
            sources = BROKER_LEAD_SOURCES if p is self.broker else LEAD_SOURCES
            weights = [
                wt * (1.0 if (s != "Zillow" or p.buys_zillow_leads) else 0.15) for s, wt in sources
            ]
            total = sum(weights)
            acc = 0.0
            for (s, _), wt in zip(sources, weights, strict=True):
                acc += wt / total
                plan.source_names.append(s)
                plan.source_cum.append(acc)
            plans.append(plan)
        return plans, preseed

    def _book_of_business(self, preseed: list[int]) -> None:
        rng, clock = self.rng, self.clock
        early: list[tuple[dt.datetime, int]] = []
        for i, count in enumerate(preseed):
            for _ in range(count):
                day = clock.start - dt.timedelta(days=rng.randint(20, 1400))
                early.append((clock.at(day, business_seconds(rng)), i))
        early.sort()
        for when, i in early:
            p = self.producers[i]
            first, last = self.new_name()
            email, phone = self.contact(first, last, p.town)
            self._client(p, when, f"{first} {last}", email, phone, weighted(rng, CLIENT_SOURCES))

    def _day(self, d: int, plans: list[_Plan]) -> None:
        rng, clock, ctx = self.rng, self.clock, self.ctx
        randf, uniform = rng.random, rng.uniform
        producers, now = self.producers, self.now
        ids, stats = ctx.ids, ctx.stats
        add_lead = self.add_lead
        midnight = clock.midnights[d]
        day_date = clock.day_dates[d]
        age_days = clock.days - d
        options, cum = next((o, c) for limit, o, c in _LEAD_STATUS_BY_AGE if age_days < limit)
        # Leads of the day, in time order.
        todays = [
            (lead_seconds(rng), i) for i, pl in enumerate(plans) for _ in range(pl.lead_days[d])
        ]
        todays.sort()
        for secs, i in todays:
            p, pl = producers[i], plans[i]
            lid = ids.next("leads")
            created = midnight + dt.timedelta(seconds=round(secs, 6))
            first, last = self.new_name()
            name = f"{first} {last}"
            email, phone = self.contact(first, last, p.town)
            source = pl.source_names[bisect_right(pl.source_cum, randf() * pl.source_cum[-1])]
            private = randf() * pl.leads_left < pl.private_left
            if private:
                pl.private_left -= 1
            has_appt = randf() * pl.leads_left < pl.appts_left_for_leads
            if has_appt:
                pl.appts_left_for_leads -= 1
            pl.leads_left -= 1
            conv_p = pl.conversion * (0.25 if age_days < 10 else 1.05) * (3.0 if has_appt else 1.0)
            if randf() < conv_p:
                status = _CONVERTED
            elif has_appt and age_days >= 14:
                status = (_QUALIFIED, _CONTACTED, _LOST)[bisect_right((0.45, 0.65), randf())]
            else:
                status = options[bisect_right(cum, randf())]
            version, updated = 1, None
            if status is not _NEW:
                when = created + dt.timedelta(hours=uniform(1, 24 * min(age_days, 20)))
                if min(when, now - HOUR) > created:
                    version, updated = 2, min(when, now - HOUR)
            add_lead(
                (lid, p.id, name, email, phone, source, status, private, created, version, updated)
            )
            stats.add(p.id, day_date, "leads")
            if status is _CONVERTED:
                stats.add(p.id, day_date, "converted")
                becomes = created + dt.timedelta(days=uniform(2, 30))
                if becomes >= now:
                    becomes = created + (now - created) * uniform(0.3, 0.95)
                self._seq += 1
                heapq.heappush(self.pending, (becomes, self._seq, i, name, email, phone, source))
            if has_appt:
                made = created + dt.timedelta(hours=uniform(0.2, 48))
                if made >= now:
                    made = created + (now - created) * uniform(0.2, 0.9)
                title = f"{self.choice(APPOINTMENT_TITLES)} — {name}"
                location = self.address(self.some_town(p)) if randf() < 0.7 else None
                self._appointment(p, lid, title, location, made, private or p is self.broker)
        # Appointments with no lead behind them (listing appointments, signings…).
        last_day = d == clock.days - 1
        for i, pl in enumerate(plans):
            p = producers[i]
            for k in range(pl.appt_days[d] + (pl.upcoming if last_day else 0)):
                made = midnight + dt.timedelta(seconds=business_seconds(rng, 7.5, 18))
                title = self.choice(FREE_APPOINTMENT_TITLES)
                private = p is self.broker or randf() < 0.02
                ahead = 1 if k >= pl.appt_days[d] else 0  # the upcoming ones start tomorrow on
                where = self.address(self.some_town(p))
                self._appointment(p, None, title, where, made, private, first_day=ahead)
        # Clients: converted leads whose day has come, and referrals / past clients.
        end_of_day = midnight + DAY
        todays_clients: list[tuple[dt.datetime, int, str, str | None, str | None, str]] = []
        while self.pending and self.pending[0][0] < end_of_day:
            when, _, i, name, email, phone, source = heapq.heappop(self.pending)
            todays_clients.append((when, i, name, email, phone, source))
        for i, pl in enumerate(plans):
            for _ in range(pl.client_days[d]):
                p = producers[i]
                first, last = self.new_name()
                email, phone = self.contact(first, last, p.town)
                when = midnight + dt.timedelta(seconds=business_seconds(rng))
                source = weighted(rng, CLIENT_SOURCES)
                todays_clients.append((when, i, f"{first} {last}", email, phone, source))
        todays_clients.sort(key=lambda c: (c[0], c[1]))
        for when, i, name, email, phone, source in todays_clients:
            self._client(producers[i], when, name, email, phone, source)
        # Listings and escrows opened today.
        for i, pl in enumerate(plans):
            p = producers[i]
            for _ in range(pl.listing_days[d]):
                when = midnight + dt.timedelta(seconds=business_seconds(rng))
                self._listing(p, when, self.address(self.some_town(p)), self.home_price(p.town))
            for _ in range(pl.escrow_days[d]):
                when = midnight + dt.timedelta(seconds=business_seconds(rng))
                town = self.some_town(p)
                client_id = self._client_for_escrow(p, when)
                self._escrow(p, client_id, when, self.address(town), self.home_price(town, 0.28))

    # -- one record each ----------------------------------------------------------------------
    def _client(
        self,
        p: Person,
        when: dt.datetime,
        name: str,
        email: str | None,
        phone: str | None,
        source: str,
    ) -> int:
        cid = self.ctx.ids.next("clients")
        active = self.rng.random() < (0.85 if (self.now - when).days < 270 else 0.45)
        status = ClientStatus.ACTIVE if active else ClientStatus.INACTIVE
        self.add_client((cid, p.id, name, email, phone, source, status, when, 1))
        times = self.client_times[p.id]
        k = bisect_right(times, when)
        times.insert(k, when)
        self.clients[p.id].insert(k, (when, cid))
        if when >= self.clock.midnights[0]:
            self.ctx.stats.add(p.id, self.clock.local_date(when), "clients")
        self.notify(
            NotificationType.CLIENT_CREATED, p, "client", cid, when, f"New client: {name}",
            f"{p.full_name} added client {name} ({source}).", None,
        )  # fmt: skip
        return cid

    def _client_for_escrow(self, p: Person, when: dt.datetime) -> int:
        """A client the agent already had, most likely a recent one (or a past client)."""
        k = bisect_right(self.client_times[p.id], when)
        if k == 0:
            first, last = self.new_name()
            email, phone = self.contact(first, last, p.town)
            since = when - dt.timedelta(days=self.rng.uniform(3, 40))
            return self._client(p, since, f"{first} {last}", email, phone, "Past Client")
        pick = max(0, k - 1 - int(self.rng.expovariate(1 / max(1.0, k / 4))))
        return self.clients[p.id][pick][1]

    def _appointment(
        self,
        p: Person,
        lead_id: int | None,
        title: str,
        location: str | None,
        made: dt.datetime,
        private: bool,
        first_day: int = 0,
    ) -> None:
        rng, clock, now = self.rng, self.clock, self.now
        first_day = max(first_day, 0 if lead_id is None else 1)
        start_day = clock.local_date(made) + dt.timedelta(days=rng.randint(first_day, 10))
        start = clock.at(start_day, rng.randint(16, 37) * 1800)  # 8:00–18:30, on the half hour
        if start <= made:
            start = made + 2 * HOUR
        end = start + dt.timedelta(minutes=self.choice((30, 45, 60, 60, 90)))
        r = rng.random()
        if start >= now:
            status = AppointmentStatus.CANCELLED if r < 0.04 else AppointmentStatus.SCHEDULED
        elif r < 0.08:
            status = AppointmentStatus.CANCELLED
        elif rng.random() < p.show_rate:
            status = AppointmentStatus.COMPLETED
        else:
            status = AppointmentStatus.NO_SHOW
        version, updated = 1, None
        if status is not AppointmentStatus.SCHEDULED:
            if status is AppointmentStatus.CANCELLED:
                changed = made + (min(start, now) - made) * rng.uniform(0.1, 0.9)
            else:
                changed = min(end + dt.timedelta(minutes=rng.uniform(5, 600)), now - HOUR / 60)
            if changed > made:
                version, updated = 2, changed
        notes = None
        if status is AppointmentStatus.COMPLETED and rng.random() < 0.2:
            notes = self.choice(APPOINTMENT_NOTES)
        self.add_appt(
            (self.ctx.ids.next("appointments"), p.id, lead_id, title, start, end, status,
             location, notes, private, made, version, updated),
        )  # fmt: skip
        if status is not AppointmentStatus.CANCELLED:
            stats, day = self.ctx.stats, clock.local_date(start)
            stats.add(p.id, day, "appointments")
            if status is AppointmentStatus.COMPLETED:
                stats.add(p.id, day, "completed")
            elif status is AppointmentStatus.NO_SHOW:
                stats.add(p.id, day, "no_shows")

    def _listing(self, p: Person, when: dt.datetime, addr: str, price: float) -> None:
        rng = self.rng
        age_days = (self.now - when).days
        r = rng.random()
        if age_days < 30:
            cuts: tuple[float, ...] = (0.85, 0.95, 0.95, 1.0)
        elif age_days < 90:
            cuts = (0.35, 0.6, 0.9, 0.95)
        else:
            cuts = (0.07, 0.11, 0.8, 0.89)
        status = _LISTING_STATUSES[bisect_right(cuts, r)]
        # Priced like the MLS: $389,900 or $395,000.
        list_price = Decimal(max(50_000, round(price / 5000) * 5000 - (100 if r < 0.7 else 0)))
        lid = self.ctx.ids.next("listings")
        version, updated = 1, None
        if status is not ListingStatus.ACTIVE:
            version, updated = 2, when + (self.now - when) * rng.uniform(0.2, 0.9)
        self.add_listing((lid, p.id, addr, list_price, status, when, version, updated))
        self.ctx.stats.add(p.id, self.clock.local_date(when), "listings")
        self.notify(
            NotificationType.LISTING_CREATED, p, "listing", lid, when,
            f"New listing: {addr.split(',')[0]}",
            f"{p.full_name} listed {addr} at {format_money(list_price)}.", list_price,
        )  # fmt: skip

    def _escrow(
        self, p: Person, client_id: int, when: dt.datetime, addr: str, price: float
    ) -> None:
        rng, now, clock = self.rng, self.now, self.clock
        age_days = (now - when).days
        purchase = Decimal(max(60_000, round(price / 500) * 500))
        commission = quantize(purchase * self.choice(COMMISSION_RATES))
        r = rng.random()
        statuses: tuple[EscrowStatus, ...]
        if age_days < 21:
            statuses = (EscrowStatus.ACTIVE, EscrowStatus.PENDING, EscrowStatus.CANCELLED)
            status = statuses[bisect_right((0.75, 0.9), r)]
        elif age_days < 45:
            statuses = (
                EscrowStatus.ACTIVE, EscrowStatus.PENDING, EscrowStatus.CLOSED,
                EscrowStatus.CANCELLED,
            )  # fmt: skip
            status = statuses[bisect_right((0.3, 0.75, 0.9), r)]
        else:
            status = EscrowStatus.CLOSED if r < 0.88 else EscrowStatus.CANCELLED
        closed_at: dt.datetime | None = None
        if status is EscrowStatus.CLOSED:
            close_day = clock.local_date(when) + dt.timedelta(days=rng.randint(21, 45))
            closed_at = clock.at(close_day, business_seconds(rng))
            if closed_at >= now:
                status, closed_at = EscrowStatus.PENDING, None
        version, updated = 1, None
        if closed_at is not None:
            version, updated = 3, closed_at  # Active → Pending → Closed
        elif status is EscrowStatus.PENDING:
            version, updated = 2, when + (now - when) * rng.uniform(0.1, 0.6)
        elif status is EscrowStatus.CANCELLED:
            version, updated = 2, when + min(now - when, 30 * DAY) * rng.uniform(0.2, 0.95)
        eid = self.ctx.ids.next("escrows")
        self.add_escrow(
            (eid, p.id, client_id, addr, purchase, commission, status, when, closed_at, version,
             updated),
        )  # fmt: skip
        stats = self.ctx.stats
        if status is not EscrowStatus.CANCELLED:
            stats.add(p.id, clock.local_date(when), "escrows_opened")
        short = addr.split(",")[0]
        if purchase >= MIN_ESCROW_VALUE:
            self.notify(
                NotificationType.ESCROW_CREATED, p, "escrow", eid, when, f"New escrow: {short}",
                f"{p.full_name} opened escrow on {addr} at {format_money(purchase)}.", purchase,
            )  # fmt: skip
        if closed_at is not None:
            day = clock.local_date(closed_at)
            stats.add(p.id, day, "escrows_closed")
            stats.add_money(p.id, day, "closed_volume", purchase)
            stats.add_money(p.id, day, "closed_commission", commission)
            if purchase >= MIN_ESCROW_VALUE:
                self.notify(
                    NotificationType.ESCROW_CLOSED, p, "escrow", eid, closed_at,
                    f"Escrow closed: {short}",
                    f"{p.full_name} closed {addr} at {format_money(purchase)}.", purchase,
                )  # fmt: skip


def generate_records(ctx: Context) -> None:
    RecordGenerator(ctx).run()
