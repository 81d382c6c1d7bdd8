"""Deals on the pipeline board with their stage histories, commissions and audit chains.

Each deal is walked through the stages from ``lead_captured`` with realistic dwell times
(some fall back a stage while terms are renegotiated, some are lost, a few reopen) until the
history reaches ``as_of``. Every move is a stage event and a ``deal_stage_transition`` audit
entry; every commission creation, status change and adjustment is an audit entry on the
deal's chain (SPEC §5, §6), hashed with ``app.domain.audit``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum
from typing import Any

from app.domain.audit import (
    GENESIS_HASH,
    deal_chain_key,
    entry_hash,
    normalise_payload,
    plain_entry_hash,
)
from app.domain.enums import (
    AdjustmentType,
    CommissionStatus,
    CommissionType,
    ContactRole,
    DealStage,
    DealStatus,
)
from app.domain.money import quantize
from app.services.demo.clock import business_seconds
from app.services.demo.context import Context, Person, allocate, weighted
from app.services.demo.stored import Row
from app.services.demo.vocab import (
    COMPANY_SUFFIXES,
    COMPANY_WORDS,
    DEAL_ASSET_TYPES,
    DEAL_TYPES,
    FIRST_NAMES,
    LAST_NAMES,
    LEAD_SOURCES,
    OFFICE_DOMAIN,
    TOWN_STREETS,
    TOWNS,
    Town,
)

STAGES: tuple[DealStage, ...] = tuple(DealStage)
WON = STAGES.index(DealStage.CLOSED_WON)
LOST = STAGES.index(DealStage.CLOSED_LOST)
PROPOSAL = STAGES.index(DealStage.PROPOSAL)
AGREEMENT = STAGES.index(DealStage.AGREEMENT)
#: Mean days a deal stays in each open stage before the next move.
DWELL_DAYS = (3.0, 5.0, 7.0, 8.0, 10.0, 7.0, 14.0, 10.0)
#: Chance that leaving an open stage means losing the deal.
LOSS = (0.08, 0.09, 0.06, 0.07, 0.08, 0.04, 0.05, 0.03)
#: Confidence of an open deal by stage (0–1).
CONFIDENCE = (0.1, 0.2, 0.3, 0.4, 0.55, 0.7, 0.8, 0.9, 1.0, 0.0)
SGD_PER_USD = Decimal("1.34")

STAGE_NOTES: dict[DealStage, tuple[str, ...]] = {
    DealStage.QUALIFICATION: (
        "First call done; budget and timeline confirmed.",
        "Pre-approval letter received.",
        "Proof of funds received.",
    ),
    DealStage.NEEDS_ANALYSIS: (
        "Walked the property; needs list agreed.",
        "Buy box reviewed: cash flow first, DSCR loan.",
        "Comparable sales pulled for the area.",
    ),
    DealStage.PROPOSAL: ("LOI sent.", "Listing agreement proposed.", "Offer drafted and sent."),
    DealStage.NEGOTIATION: (
        "Counter received.",
        "Seller countered on price and closing date.",
        "Negotiating repairs credit.",
    ),
    DealStage.AGREEMENT: (
        "Purchase agreement signed.",
        "Terms agreed, contract out for signature.",
    ),
    DealStage.DUE_DILIGENCE: (
        "Inspection scheduled.",
        "Appraisal ordered.",
        "Rent roll and leases under review.",
    ),
    DealStage.AWAITING_CLOSURE: (
        "Contingencies removed.",
        "Loan docs signed; waiting on funding.",
        "Clear to close.",
    ),
    DealStage.CLOSED_WON: ("Closed and recorded.", "Funded and recorded; keys handed over."),
    DealStage.CLOSED_LOST: (
        "Lost to a competing offer.",
        "Buyer's financing fell through.",
        "Seller took the property off the market.",
        "Inspection findings killed the deal.",
    ),
}
REOPEN_NOTES = ("Back on: the buyer found new financing.", "Reopened: backup offer accepted.")
BACK_NOTES = ("Terms reopened after appraisal.", "Back to the table after the counter.")
DISPUTE_REASONS = (
    "Co-broke split disputed by the other brokerage.",
    "Referral agreement not signed before the introduction.",
    "Invoice amount disputed by the client.",
    "Commission rate differs from the signed agreement.",
)
LOST_DISPUTE_REASON = "Deal lost before closing; fee under review."
ADJUSTMENT_NOTES: dict[AdjustmentType, tuple[str, ...]] = {
    AdjustmentType.CLAWBACK: (
        "Buyer cancelled within 90 days: partial clawback.",
        "Repair credit paid out of the commission.",
    ),
    AdjustmentType.BONUS: ("Top producer quarterly bonus.", "Closing-on-time bonus."),
    AdjustmentType.CORRECTION: (
        "Corrected to the rate in the signed agreement.",
        "Rounding correction on the settlement statement.",
    ),
}
OTHER_BROKERAGES = (
    "Kern Valley Realty", "Sierra Home Brokers", "Golden Empire Properties",
    "Mountain Pass Realty", "Central Coast Commercial", "Valley Oak Realty",
)  # fmt: skip
LEGAL_FIRMS = ("Valley Title & Escrow", "Kern Escrow Services", "Hart & Mills LLP")
LENDERS = ("Mountain West Lending", "Sequoia Home Loans", "Pacific DSCR Capital")
DOC_TYPES: dict[DealStage, tuple[str, str]] = {
    DealStage.NEEDS_ANALYSIS: ("valuation", "Broker opinion of value"),
    DealStage.PROPOSAL: ("loi", "Letter of intent"),
    DealStage.AGREEMENT: ("agreement", "Purchase agreement"),
    DealStage.DUE_DILIGENCE: ("financials", "Rent roll and operating statements"),
}


@dataclass
class _Audit:
    """An audit entry before it gets its place (seq) in the deal's chain."""

    at: dt.datetime
    order: int
    event_type: str
    entity_type: str
    entity_id: int
    actor_id: int | None
    payload: dict[str, Any]


@dataclass
class _Move:
    from_stage: int | None
    to_stage: int
    at: dt.datetime
    by: int
    note: str | None


@dataclass
class _Deal:
    id: int
    agent: Person
    created: dt.datetime
    moves: list[_Move] = field(default_factory=list)
    first_at: dict[int, dt.datetime] = field(default_factory=dict)

    @property
    def stage(self) -> int:
        return self.moves[-1].to_stage

    def reached(self, stage: int) -> bool:
        """Whether the deal ever got as far as ``stage`` (being lost does not count)."""
        return any(stage <= s <= WON for s in self.first_at)


AddRow = Callable[[Row], None]


class PipelineGenerator:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.rng = ctx.rng("pipeline")
        self.office = ctx.the_office
        self.clock = ctx.clock
        self.now = ctx.now
        w = ctx.writer
        self.add_deal = w.table(
            "deals",
            ("id", "ref", "agent_id", "title", "asset_type", "deal_type", "pipeline_stage",
             "status", "lead_source", "estimated_value_amount", "estimated_value_currency",
             "expected_close_date", "actual_close_date", "confidence", "created_at", "version",
             "updated_at", "stage_changed_at"),
        )  # fmt: skip
        self.add_event = w.table(
            "deal_stage_events",
            ("id", "deal_id", "from_stage", "to_stage", "changed_by_id", "note", "recorded_at"),
        )
        self.add_contact = w.table(
            "deal_contacts",
            ("id", "deal_id", "role", "name", "email", "phone", "company", "notes", "created_at",
             "version"),
        )  # fmt: skip
        self.add_document = w.table(
            "deal_documents",
            ("id", "deal_id", "title", "doc_type", "uri", "added_by_id", "created_at", "version"),
        )
        self.add_commission = w.table(
            "commission_records",
            ("id", "deal_id", "agent_id", "commission_type", "basis_amount", "commission_rate",
             "commission_amount", "status", "disputed_from_status", "dispute_reason",
             "dispute_document_uri", "introduced_at", "confirmed_at", "invoiced_at", "paid_at",
             "disputed_at", "resolved_at", "written_off_at", "created_at", "version",
             "updated_at"),
        )  # fmt: skip
        self.add_adjustment = w.table(
            "commission_adjustments",
            ("id", "commission_id", "adjustment_type", "amount", "note", "created_by_id",
             "created_at"),
        )  # fmt: skip
        self.add_audit = w.table(
            "audit_entries",
            ("id", "chain_key", "seq", "event_type", "entity_type", "entity_id", "actor_id",
             "payload", "recorded_at", "prev_hash", "hash"),
        )  # fmt: skip
        self.events_made = 0
        self.commissions_made = 0
        self._colleague_cache: dict[int, tuple[list[Person], list[Person]]] = {}
        #: Deal id -> the status its first commission record ends in (coverage, see below).
        self.stories: dict[int, CommissionStatus] = {}

    # -- the whole pipeline -------------------------------------------------------------------
    def run(self) -> None:
        ctx, rng, clock = self.ctx, self.rng, self.clock
        scale = ctx.scale
        producers = self.office.producers
        weights = [p.productivity * (0.5 if p is self.office.broker else 1.0) for p in producers]
        starts: list[tuple[dt.datetime, int]] = []
        for _ in range(scale.deals):
            d = clock.seasonal_day(rng)
            when = clock.day_at(d, business_seconds(rng))
            starts.append((when, rng.choices(range(len(producers)), weights)[0]))
        starts.sort()
        total = len(starts)
        # First every deal's walk through the stages (so the number of commission records
        # each carries can be planned over the whole year), then everything else.
        deals: list[_Deal] = []
        per_deal = scale.stage_events / max(1, total)
        for k, (when, i) in enumerate(starts):
            deal = _Deal(ctx.ids.next("deals"), producers[i], when)
            # Fall-backs and pace are dialled so the office ends near the planned number of moves.
            behind = (per_deal * k - self.events_made) / per_deal
            p_back = min(0.75, max(0.0, 0.35 + 0.05 * behind))
            pace = min(0.85, max(0.4, 0.85 - 0.03 * behind))
            self._walk(deal, p_back, pace)
            self.events_made += len(deal.moves)
            deals.append(deal)
        self._cover_every_stage(deals)
        counts = self._plan_commissions(deals)
        self._plan_stories(deals, counts)
        for deal, count in zip(deals, counts, strict=True):
            self._one_deal(deal, count)

    def _cover_every_stage(self, deals: list[_Deal]) -> None:
        """Make sure the board has a deal in every column, even at the smallest scale: a
        stage nobody ended in is given to the newest deal that passed through it, whose
        history is cut right after it arrived there (it is still a true history)."""
        in_stage = [0] * len(STAGES)
        for d in deals:
            in_stage[d.stage] += 1
        taken: set[int] = set()
        for stage in range(len(STAGES)):
            if in_stage[stage]:
                continue
            for n in range(len(deals) - 1, -1, -1):
                d = deals[n]
                if n in taken or stage not in d.first_at or in_stage[d.stage] < 2:
                    continue
                in_stage[d.stage] -= 1
                in_stage[stage] += 1
                cut = max(k for k, mv in enumerate(d.moves) if mv.to_stage == stage)
                self.events_made -= len(d.moves) - (cut + 1)
                del d.moves[cut + 1 :]
                d.first_at = {}
                for mv in d.moves:
                    d.first_at.setdefault(mv.to_stage, mv.at)
                taken.add(n)
                break

    def _plan_stories(self, deals: list[_Deal], counts: list[int]) -> None:
        """Make sure every commission status shows, even at the smallest scale: the first
        record of a few recent deals is told where to end up (the rest follow their course)."""

        def won(d: _Deal) -> bool:
            return d.stage == WON

        def agreed(d: _Deal) -> bool:
            return AGREEMENT in d.first_at

        def any_deal(d: _Deal) -> bool:
            return True

        def still_open(d: _Deal) -> bool:
            return d.stage not in (WON, LOST)

        wanted: list[tuple[CommissionStatus, Callable[[_Deal], bool]]] = [
            (CommissionStatus.INVOICED, won),
            (CommissionStatus.PAID, won),
            (CommissionStatus.CONFIRMED, agreed),
            (CommissionStatus.DISPUTED, any_deal),
            (CommissionStatus.WRITTEN_OFF, any_deal),
            (CommissionStatus.PENDING, still_open),
        ]
        for status, fits in wanted:
            for k in range(len(deals) - 1, -1, -1):
                d = deals[k]
                if d.id in self.stories or not counts[k] or not fits(d):
                    continue
                if self.now - d.moves[-1].at < dt.timedelta(days=2):
                    continue
                self.stories[d.id] = status
                break

    def _plan_commissions(self, deals: list[_Deal]) -> list[int]:
        """Commission records per deal, adding up to the planned total: more on won deals,
        a few on lost ones, none before the proposal stage."""
        weights = [
            0.0
            if not d.reached(PROPOSAL)
            else 1.6
            if d.stage == WON
            else 0.6
            if d.stage == LOST
            else 1.0
            for d in deals
        ]
        caps = [
            0 if w == 0 else 3 if d.stage == LOST else 8
            for w, d in zip(weights, deals, strict=True)
        ]
        counts = [0] * len(deals)
        left = self.ctx.scale.commissions
        open_ = [i for i, w in enumerate(weights) if w > 0]
        while left > 0 and open_:
            share = allocate(left, [weights[i] for i in open_])
            for i, extra in zip(open_, share, strict=True):
                add = min(extra, caps[i] - counts[i])
                counts[i] += add
                left -= add
            open_ = [i for i in open_ if counts[i] < caps[i]]
        return [max(c, 1) if w > 0 else 0 for c, w in zip(counts, weights, strict=True)]

    def _one_deal(self, deal: _Deal, count: int) -> None:
        ctx, rng = self.ctx, self.rng
        agent, created = deal.agent, deal.created
        asset = weighted(rng, DEAL_ASSET_TYPES)
        deal_type = weighted(rng, DEAL_TYPES)
        town = (
            agent.town if rng.random() < 0.8 else rng.choices(TOWNS, [t.weight for t in TOWNS])[0]
        )
        title, value = self._title_and_value(asset, deal_type, town)
        currency = "USD"
        if rng.random() < 0.04:  # Singapore investors buying Central Valley rentals
            currency = "SGD"
            value = Decimal(round(value * SGD_PER_USD, -3))
        stage = deal.stage
        final = STAGES[stage]
        status = (
            DealStatus.CLOSED_WON
            if stage == WON
            else DealStatus.CLOSED_LOST
            if stage == LOST
            else DealStatus.OPEN
        )
        last = deal.moves[-1].at
        actual_close = self.clock.local_date(last) if stage in (WON, LOST) else None
        expected = self.clock.local_date(created) + dt.timedelta(days=rng.randint(45, 150))
        if status is DealStatus.OPEN and expected <= self.clock.as_of:
            expected = self.clock.as_of + dt.timedelta(days=rng.randint(7, 75))
        confidence = CONFIDENCE[stage]
        if status is DealStatus.OPEN:
            confidence = min(0.95, max(0.05, confidence + rng.uniform(-0.05, 0.05)))
        source = weighted(rng, (*LEAD_SOURCES, ("Investor Network", 0.05)))
        version = len(deal.moves)
        self.add_deal(
            (deal.id, f"DL-{deal.id:06d}", agent.id, title, asset, deal_type, final, status,
             source, value, currency, expected, actual_close, Decimal(f"{confidence:.2f}"),
             created, version, last if version > 1 else None, last),
        )  # fmt: skip
        stats = self.ctx.stats
        stats.add(agent.id, self.clock.local_date(created), "deals_created")
        if stage == WON:
            stats.add(agent.id, actual_close or self.clock.as_of, "deals_won")
        elif stage == LOST:
            stats.add(agent.id, actual_close or self.clock.as_of, "deals_lost")

        audits: list[_Audit] = []
        for order, mv in enumerate(deal.moves):
            eid = ctx.ids.next("deal_stage_events")
            from_stage = STAGES[mv.from_stage] if mv.from_stage is not None else None
            self.add_event((eid, deal.id, from_stage, STAGES[mv.to_stage], mv.by, mv.note, mv.at))
            if mv.from_stage is not None:
                audits.append(
                    _Audit(
                        mv.at,
                        order,
                        "deal_stage_transition",
                        "deal",
                        deal.id,
                        mv.by,
                        {
                            "deal_id": deal.id,
                            "stage_event_id": eid,
                            "from_stage": from_stage,
                            "to_stage": STAGES[mv.to_stage],
                            "note": mv.note,
                        },
                    )
                )
        self._contacts_and_documents(deal, town)
        if count:
            audits.extend(self._commissions(deal, value, deal_type, count))
        self._chain(deal.id, audits)

    # -- stage walk ---------------------------------------------------------------------------
    def _walk(self, deal: _Deal, p_back: float, pace: float) -> None:
        rng, now = self.rng, self.now
        office = self.office
        manager = office.managers.get(deal.agent.team_id or -1)

        def who() -> int:
            r = rng.random()
            if r < 0.1 and manager is not None:
                return manager.id
            if r < 0.12:
                return office.broker.id
            return deal.agent.id

        deal.moves.append(_Move(None, 0, deal.created, deal.agent.id, None))
        deal.first_at[0] = deal.created
        stage, t = 0, deal.created
        lost_from = 0
        visited: set[int] = set()
        while len(deal.moves) < 36:
            if stage in (WON, LOST):
                chance = 0.015 if stage == WON else 0.06
                if rng.random() >= chance:
                    break
                to = 7 if stage == WON else max(PROPOSAL, lost_from)
                note: str | None = rng.choice(REOPEN_NOTES)
                t_next = self._later(t, rng.expovariate(1 / 12))
            else:
                # A stage seen before (after falling back) is passed through faster.
                mean = pace * DWELL_DAYS[stage] / (3 if stage in visited else 1)
                t_next = self._later(t, rng.expovariate(1 / mean))
                r = rng.random()
                loss = LOSS[stage] if stage not in visited else 0.0
                visited.add(stage)
                if r < loss:
                    to, lost_from = LOST, stage
                elif stage >= PROPOSAL and r < loss + p_back:
                    to = stage - 1
                else:
                    to = stage + 1
                note = None
                if rng.random() < 0.4:
                    note = rng.choice(
                        BACK_NOTES if to < stage else STAGE_NOTES.get(STAGES[to], ("",))
                    )
            if t_next >= now:
                break
            deal.moves.append(_Move(stage, to, t_next, who(), note or None))
            deal.first_at.setdefault(to, t_next)
            stage, t = to, t_next

    def _later(self, t: dt.datetime, days: float) -> dt.datetime:
        """A working-hours moment about ``days`` after ``t`` (always after it)."""
        day = self.clock.local_date(t) + dt.timedelta(days=max(0, round(days)))
        when = self.clock.at(day, business_seconds(self.rng))
        if when <= t:
            when = t + dt.timedelta(minutes=self.rng.uniform(5, 240))
        return when

    # -- what the deal is ---------------------------------------------------------------------
    def _title_and_value(self, asset: str, deal_type: str, town: Town) -> tuple[str, Decimal]:
        rng = self.rng
        street = rng.choice(TOWN_STREETS[town.name])
        number = int(rng.triangular(100, 12000, 2400))
        where = f"{number} {street}, {town.name}"
        if asset == "residential":
            beds = rng.choice((2, 3, 3, 3, 4, 4, 5))
            title = f"{beds}BR single-family — {where}"
            value = town.median_price * rng.lognormvariate(0, 0.3)
        elif asset == "multifamily":
            units = rng.choice((2, 3, 4, 4, 6, 8, 12, 16, 24))
            title = f"{units}-unit apartments — {where}" if units > 4 else f"{units}-plex — {where}"
            value = units * rng.uniform(150_000, 230_000)
        elif asset == "land":
            acres = rng.choice((1, 2.5, 5, 10, 20, 40, 80))
            title = f"{acres:g} ac land — {street}, {town.name}"
            value = acres * rng.uniform(15_000, 60_000) + 60_000
        elif asset == "portfolio":
            homes = rng.randint(3, 12)
            title = f"{homes}-home rental portfolio — {town.name}"
            value = homes * town.median_price * rng.uniform(0.75, 0.95)
        else:
            label = {
                "commercial": "Mixed-use building",
                "retail": "Retail strip center",
                "industrial": "Industrial flex space",
                "office": "Office building",
            }[asset]
            title = f"{label} — {where}"
            value = rng.lognormvariate(14.5, 0.55)
        if deal_type == "lease":
            title = f"Lease: {title}"
            value = value * rng.uniform(0.06, 0.09)
        elif deal_type == "management":
            title = f"Property management: {title}"
            value = value * rng.uniform(0.008, 0.015)
        step = 5000 if value >= 1_000_000 else 1000 if value >= 50_000 else 100
        return title, Decimal(max(step, round(value / step) * step))

    def _contacts_and_documents(self, deal: _Deal, town: Town) -> None:
        rng, ids = self.rng, self.ctx.ids
        roles = [ContactRole.PRINCIPAL]
        if rng.random() < 0.45:
            roles.append(ContactRole.CO_BROKE)
        if deal.reached(AGREEMENT):
            roles += [ContactRole.LEGAL, ContactRole.FINANCE][: rng.randint(0, 2)]
        if rng.random() < 0.3:
            roles = roles[:0] if rng.random() < 0.5 else roles[:1]
        for role in roles:
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            company = {
                ContactRole.PRINCIPAL: None,
                ContactRole.CO_BROKE: rng.choice(OTHER_BROKERAGES),
                ContactRole.LEGAL: rng.choice(LEGAL_FIRMS),
                ContactRole.FINANCE: rng.choice(LENDERS),
            }.get(role)
            if role is ContactRole.PRINCIPAL and rng.random() < 0.3:
                company = f"{rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_SUFFIXES)} LLC"
            domain = "gmail.com" if company is None else _domain(company)
            email = f"{first}.{last}@{domain}".lower().replace(" ", "")
            phone = f"({town.area_code}) {rng.randint(200, 989)}-{rng.randint(0, 9999):04d}"
            at = deal.created + (self.now - deal.created) * rng.uniform(0.0, 0.2)
            self.add_contact(
                (ids.next("deal_contacts"), deal.id, role, f"{first} {last}", email, phone,
                 company, None, at, 1),
            )  # fmt: skip
        for stage, (doc_type, label) in DOC_TYPES.items():
            idx = STAGES.index(stage)
            if idx in deal.first_at and rng.random() < 0.6:
                at = deal.first_at[idx] + dt.timedelta(hours=rng.uniform(0.5, 30))
                if at >= self.now:
                    continue
                uri = f"https://docs.{OFFICE_DOMAIN}/deals/DL-{deal.id:06d}/{doc_type}.pdf"
                self.add_document(
                    (ids.next("deal_documents"), deal.id, label, doc_type, uri, deal.agent.id,
                     at, 1),
                )  # fmt: skip

    # -- commissions --------------------------------------------------------------------------
    def _commissions(self, deal: _Deal, value: Decimal, deal_type: str, count: int) -> list[_Audit]:
        rng, now = self.rng, self.now
        office = self.office
        agent = deal.agent
        others, team_mates = self._colleagues(agent)
        pairs: list[tuple[Person, CommissionType]] = [
            (
                agent,
                CommissionType.EXCLUSIVE if deal_type != "other" else CommissionType.INTRODUCER,
            ),
        ]
        if others:
            pairs += [
                (rng.choice(team_mates), CommissionType.CO_BROKE),
                (rng.choice(others), CommissionType.REFERRAL),
                (rng.choice(others), CommissionType.INTRODUCER),
            ]
        if WON in deal.first_at or AGREEMENT in deal.first_at:
            pairs.append((agent, CommissionType.BONUS))
        if others:
            pairs += [
                (rng.choice(others), CommissionType.CO_BROKE),
                (rng.choice(team_mates), CommissionType.REFERRAL),
            ]
        manager = office.managers.get(agent.team_id or -1)
        if manager is not None:
            pairs.append((manager, CommissionType.BONUS))
        if others:
            pairs += [
                (rng.choice(others), t)
                for t in (
                    CommissionType.INTRODUCER,
                    CommissionType.CO_BROKE,
                    CommissionType.REFERRAL,
                )
            ]
        seen: set[tuple[int, CommissionType]] = set()
        chosen: list[tuple[Person, CommissionType]] = []
        for person, ctype in pairs:
            if (person.id, ctype) not in seen:
                seen.add((person.id, ctype))
                chosen.append((person, ctype))
            if len(chosen) == count:
                break
        audits: list[_Audit] = []
        introduced = deal.first_at.get(PROPOSAL, deal.created)
        story = self.stories.get(deal.id)
        for person, ctype in chosen:
            start = introduced + dt.timedelta(hours=rng.uniform(1, 72))
            if ctype is CommissionType.BONUS and WON in deal.first_at:
                start = deal.first_at[WON] + dt.timedelta(hours=rng.uniform(1, 48))
            if start >= now:
                continue
            audits.extend(self._one_commission(deal, value, person, ctype, start, story))
            story = None  # only the deal's first record is told where to end
        return audits

    def _colleagues(self, agent: Person) -> tuple[list[Person], list[Person]]:
        """Other agents who may share a commission: anyone, and preferably the same team."""
        key = agent.id
        if key not in self._colleague_cache:
            others = [a for a in self.office.agents if a.id != agent.id]
            mates = [a for a in others if a.team_id == agent.team_id] or others
            self._colleague_cache[key] = (others, mates)
        return self._colleague_cache[key]

    def _one_commission(
        self,
        deal: _Deal,
        value: Decimal,
        person: Person,
        ctype: CommissionType,
        start: dt.datetime,
        story: CommissionStatus | None,
    ) -> list[_Audit]:
        ctx, rng, now = self.ctx, self.rng, self.now
        office = self.office
        cid = ctx.ids.next("commission_records")
        self.commissions_made += 1
        rate = Decimal(
            {
                CommissionType.EXCLUSIVE: rng.randint(200, 300),
                CommissionType.CO_BROKE: rng.randint(100, 250),
                CommissionType.INTRODUCER: rng.randint(25, 50),
                CommissionType.REFERRAL: rng.randint(50, 100),
                CommissionType.BONUS: rng.randint(10, 20),
            }[ctype]
        ).scaleb(-4)
        amount = quantize(value * rate)
        approver = office.broker.id if rng.random() < 0.5 else office.admin.id
        audits = [
            _Audit(
                start,
                1000,
                "commission_created",
                "commission",
                cid,
                person.id,
                {
                    "commission_id": cid,
                    "deal_id": deal.id,
                    "agent_id": person.id,
                    "commission_type": ctype,
                    "basis_amount": value,
                    "commission_rate": rate,
                    "commission_amount": amount,
                    "status": CommissionStatus.PENDING,
                },
            )
        ]
        stamps: dict[str, dt.datetime] = {}
        status = CommissionStatus.PENDING
        disputed_from: CommissionStatus | None = None
        reason: str | None = None
        t = start
        order = 1001
        transitions = 0

        def move(to: CommissionStatus, at: dt.datetime, actor: int, why: str | None = None) -> bool:
            nonlocal status, t, order, transitions
            if at >= now or at <= t:
                return False
            payload: dict[str, Any] = {"commission_id": cid, "from_status": status, "to_status": to}
            if why is not None:
                payload["reason"] = why
            audits.append(
                _Audit(at, order, "commission_status_changed", "commission", cid, actor, payload)
            )
            order += 1
            transitions += 1
            status, t = to, at
            return True

        def later(days_lo: float, days_hi: float, after: dt.datetime | None = None) -> dt.datetime:
            base = max(after or t, t)
            return base + dt.timedelta(days=rng.uniform(days_lo, days_hi))

        def dispute(why: str) -> bool:
            nonlocal disputed_from, reason
            origin = status
            if not move(CommissionStatus.DISPUTED, later(1, 10), person.id, why):
                return False
            disputed_from, reason = origin, why
            stamps["disputed_at"] = t
            # A lost deal's fee is mostly written off; other disputes are mostly resolved.
            r = rng.random()
            lost = why == LOST_DISPUTE_REASON
            if not lost and r < 0.6:
                if move(origin, later(5, 25), office.broker.id, "Resolved: agreement confirmed."):
                    stamps["resolved_at"] = t
                    disputed_from = None
                    return True
            elif (r < 0.75 if lost else r < 0.85) and move(
                CommissionStatus.WRITTEN_OFF, later(5, 30), office.broker.id, "Written off."
            ):
                stamps["resolved_at"] = stamps["written_off_at"] = t
            return False

        won_at = deal.first_at.get(WON) if deal.stage == WON else None
        lost_at = deal.moves[-1].at if deal.stage == LOST else None
        agreed_at = deal.first_at.get(AGREEMENT)
        if story is not None:
            # A record told to end in ``story`` (see ``_plan_stories``): same moves, with
            # times squeezed in before as_of.
            def soon(after: dt.datetime) -> dt.datetime:
                base = max(after, t)
                return base + (now - base) * rng.uniform(0.1, 0.4)

            if story in (
                CommissionStatus.CONFIRMED,
                CommissionStatus.INVOICED,
                CommissionStatus.PAID,
            ):
                confirm_from = agreed_at or won_at or t
                if move(CommissionStatus.CONFIRMED, soon(confirm_from), approver):
                    stamps["confirmed_at"] = t
                if story is not CommissionStatus.CONFIRMED and won_at is not None:
                    if move(CommissionStatus.INVOICED, soon(won_at), approver):
                        stamps["invoiced_at"] = t
                    if story is CommissionStatus.PAID and move(
                        CommissionStatus.PAID, soon(t), approver
                    ):
                        stamps["paid_at"] = t
            elif story in (CommissionStatus.DISPUTED, CommissionStatus.WRITTEN_OFF):
                why = rng.choice(DISPUTE_REASONS)
                origin = status
                if move(CommissionStatus.DISPUTED, soon(t), person.id, why):
                    disputed_from, reason = origin, why
                    stamps["disputed_at"] = t
                    if story is CommissionStatus.WRITTEN_OFF and move(
                        CommissionStatus.WRITTEN_OFF, soon(t), office.broker.id, "Written off."
                    ):
                        stamps["resolved_at"] = stamps["written_off_at"] = t
        else:
            random_dispute = rng.random() < 0.07
            steps: list[tuple[CommissionStatus, dt.datetime | None]] = [
                (CommissionStatus.CONFIRMED, agreed_at or won_at),
                (CommissionStatus.INVOICED, won_at),
                (CommissionStatus.PAID, won_at),
            ]
            for i, (to, anchor) in enumerate(steps):
                if anchor is None:
                    break
                if random_dispute and rng.random() < 0.4 + 0.3 * i:
                    random_dispute = False
                    if not dispute(rng.choice(DISPUTE_REASONS)):
                        break
                if to is CommissionStatus.CONFIRMED:
                    at = later(0.1, 3, anchor)
                elif to is CommissionStatus.INVOICED:
                    at = later(1, 10, anchor)
                else:
                    at = later(10, 45)
                if not move(to, at, approver):
                    break
                stamps[f"{to.value}_at"] = t
            if lost_at is not None and status in (
                CommissionStatus.PENDING,
                CommissionStatus.CONFIRMED,
            ):
                if rng.random() < 0.7:  # the rest are still waiting for someone to clean them up
                    t = max(t, lost_at)
                    dispute(LOST_DISPUTE_REASON)
            elif random_dispute and status is not CommissionStatus.PAID and rng.random() < 0.5:
                dispute(rng.choice(DISPUTE_REASONS))

        doc = None
        if status is CommissionStatus.DISPUTED and rng.random() < 0.3:
            doc = f"https://docs.{OFFICE_DOMAIN}/commissions/{cid}/dispute.pdf"
        self.add_commission(
            (cid, deal.id, person.id, ctype, value, rate, amount, status, disputed_from
             if status is CommissionStatus.DISPUTED else None, reason, doc, start,
             stamps.get("confirmed_at"), stamps.get("invoiced_at"), stamps.get("paid_at"),
             stamps.get("disputed_at"), stamps.get("resolved_at"), stamps.get("written_off_at"),
             start, 1 + transitions, t if transitions else None),
        )  # fmt: skip
        if status in (CommissionStatus.CONFIRMED, CommissionStatus.INVOICED, CommissionStatus.PAID):
            if won_at is not None:
                ctx.stats.add_money(
                    person.id, self.clock.local_date(won_at), "deal_revenue", amount
                )
            if rng.random() < 0.12:
                audits.append(
                    self._adjustment(cid, amount, stamps.get("confirmed_at") or start, order)
                )
        return audits

    def _adjustment(self, cid: int, amount: Decimal, after: dt.datetime, order: int) -> _Audit:
        rng, office = self.rng, self.office
        kind = rng.choices(tuple(AdjustmentType), (0.35, 0.4, 0.25))[0]
        if kind is AdjustmentType.CLAWBACK:
            delta = -quantize(amount * Decimal(rng.randint(5, 40)) / 100)
            if delta == 0:
                delta = Decimal("-1.00")
        elif kind is AdjustmentType.BONUS:
            delta = Decimal(rng.randint(5, 50) * 50)
        else:
            delta = Decimal(rng.choice((-1, 1)) * rng.randint(25, 750))
        note = rng.choice(ADJUSTMENT_NOTES[kind])
        by = office.broker.id if rng.random() < 0.6 else office.admin.id
        at = after + (self.now - after) * rng.uniform(0.05, 0.9)
        aid = self.ctx.ids.next("commission_adjustments")
        self.add_adjustment((aid, cid, kind, delta, note, by, at))
        return _Audit(at, order + 500, "commission_adjusted", "commission", cid, by,
                      {"commission_id": cid, "adjustment_id": aid, "adjustment_type": kind,
                       "amount": delta, "note": note})  # fmt: skip

    # -- the audit chain ----------------------------------------------------------------------
    def _chain(self, deal_id: int, audits: list[_Audit]) -> None:
        audits.sort(key=lambda a: (a.at, a.order))
        chain = deal_chain_key(deal_id)
        prev = GENESIS_HASH
        ids = self.ctx.ids
        for seq, a in enumerate(audits, start=1):
            entry_id = ids.next("audit_entries")
            payload = _plain(a.payload)
            fields = {
                "id": entry_id,
                "chain_key": chain,
                "seq": seq,
                "event_type": a.event_type,
                "entity_type": a.entity_type,
                "entity_id": str(a.entity_id),
                "actor_id": a.actor_id,
                "payload": payload,
                "recorded_at": a.at,
            }
            digest = plain_entry_hash(prev, fields)
            if entry_id % 101 == 1:  # the fast path must agree with the domain's hashing
                payload_ref = normalise_payload(a.payload)
                reference = entry_hash(prev, {**fields, "payload": payload_ref})
                if reference != digest or payload_ref != payload:
                    raise AssertionError(f"audit entry {entry_id}: fast hash differs")
            self.add_audit(
                (entry_id, chain, seq, a.event_type, a.entity_type, fields["entity_id"],
                 a.actor_id, payload, a.at, prev, digest),
            )  # fmt: skip
            prev = digest


def _plain(payload: dict[str, Any]) -> dict[str, Any]:
    """``normalise_payload`` for the flat payloads written here (checked against it)."""
    out: dict[str, Any] = {}
    for k, v in payload.items():
        if isinstance(v, Enum):
            v = v.value
        elif isinstance(v, Decimal):
            v = str(v)
        elif not (v is None or type(v) in (int, str)):
            return normalise_payload(payload)
        out[k] = v
    return out


def _domain(company: str) -> str:
    word = "".join(ch for ch in company.lower() if ch.isalnum())[:18]
    return f"{word}.example"


def generate_pipeline(ctx: Context) -> None:
    ctx.writer.phase("Deals, commissions and audit chains…")
    PipelineGenerator(ctx).run()
