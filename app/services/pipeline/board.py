"""What the pipeline board shows: per-stage figures computed by the database, and the cards.

Column figures (count, total, weighted total) are sums over **every** deal in the stage that
matches the filters (SPEC §4), whatever number of cards is drawn. Amounts are summed per
currency: the office's currency is the headline, other currencies are listed beside it
(docs/rules.md). Open stages draw every card; a closed stage draws its most recent
``closed_card_limit`` cards (its figures still cover all of them).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.db.models import Deal, DealContact, User
from app.db.types import ScaledDecimal
from app.domain.enums import ContactRole, DealStage, DealStatus
from app.domain.money import quantize
from app.domain.pipeline import CLOSED_STAGES, STAGES
from app.services.database import Database
from app.services.pipeline.common import deal_scope
from app.services.records import Acting, resolve_actor

CLOSED_CARD_LIMIT = 300


@dataclass(frozen=True)
class BoardFilters:
    agent_id: int | None = None
    asset_type: str | None = None
    deal_type: str | None = None
    text: str = ""
    hide_closed: bool = False

    def stages(self) -> tuple[DealStage, ...]:
        return tuple(s for s in STAGES if not (self.hide_closed and s in CLOSED_STAGES))


@dataclass(frozen=True)
class ColumnFigures:
    stage: DealStage
    count: int  # every deal in the column, whatever its currency
    total: Decimal  # of the deals in the office's currency
    weighted: Decimal
    #: Other currencies in this column: code → (deals, total, weighted).
    other: dict[str, tuple[int, Decimal, Decimal]] = field(default_factory=dict)


@dataclass(frozen=True)
class Card:
    deal_id: int
    ref: str | None
    version: int
    stage: DealStage
    status: DealStatus
    title: str
    principal: str | None
    asset_type: str
    deal_type: str
    agent_id: int
    agent_name: str
    estimated_value: Decimal
    currency: str
    confidence: Decimal
    last_move_at: dt.datetime

    @property
    def weighted_value(self) -> Decimal:
        return quantize(self.estimated_value * self.confidence)


@dataclass(frozen=True)
class BoardChoices:
    """What the filters offer: the agents whose deals one sees, asset types, deal types."""

    agents: list[tuple[int, str]]
    asset_types: list[str]
    deal_types: list[str]


@dataclass(frozen=True)
class Board:
    filters: BoardFilters
    currency: str
    columns: list[ColumnFigures]
    cards: dict[DealStage, list[Card]]

    def figures(self, stage: DealStage) -> ColumnFigures | None:
        return next((c for c in self.columns if c.stage is stage), None)


def _where(filters: BoardFilters, scope: sa.ColumnElement[bool] | None) -> list[Any]:
    conds: list[Any] = []
    if scope is not None:
        conds.append(scope)
    if filters.agent_id is not None:
        conds.append(Deal.agent_id == filters.agent_id)
    if filters.asset_type:
        conds.append(Deal.asset_type == filters.asset_type)
    if filters.deal_type:
        conds.append(Deal.deal_type == filters.deal_type)
    text = filters.text.strip()
    if text:
        needle = text.lower()  # % and _ are matched as typed (autoescape)
        conds.append(
            sa.or_(
                sa.func.lower(Deal.title).contains(needle, autoescape=True),
                sa.func.lower(Deal.ref).contains(needle, autoescape=True),
            )
        )
    conds.append(Deal.pipeline_stage.in_(filters.stages()))
    return conds


def _columns(
    s: Session, conds: list[Any], filters: BoardFilters, currency: str
) -> list[ColumnFigures]:
    rows = s.execute(
        sa.select(
            Deal.pipeline_stage,
            Deal.estimated_value_currency,
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(Deal.estimated_value_amount), 0),
            # cents × scaled rate on SQLite: a product with 6 decimals, exact on both backends.
            sa.type_coerce(
                sa.func.coalesce(sa.func.sum(Deal.estimated_value_amount * Deal.confidence), 0),
                ScaledDecimal(30, 6),
            ),
        )
        .select_from(Deal)
        .join(User, User.id == Deal.agent_id)
        .where(*conds)
        .group_by(Deal.pipeline_stage, Deal.estimated_value_currency)
    ).all()
    by_stage: dict[DealStage, list[tuple[str, int, Decimal, Decimal]]] = defaultdict(list)
    for stage, cur, n, total, weighted in rows:
        by_stage[DealStage(stage)].append((cur, int(n), Decimal(total), Decimal(weighted)))
    out: list[ColumnFigures] = []
    for stage in filters.stages():
        count, total, weighted = 0, Decimal(0), Decimal(0)
        other: dict[str, tuple[int, Decimal, Decimal]] = {}
        for cur, n, t, w in by_stage.get(stage, []):
            count += n
            if cur == currency:
                total, weighted = total + t, weighted + w
            else:
                other[cur] = (n, quantize(t), quantize(w))
        out.append(ColumnFigures(stage, count, quantize(total), quantize(weighted), other))
    return out


def _cards(
    s: Session,
    conds: list[Any],
    filters: BoardFilters,
    windows: dict[DealStage, tuple[int, int]],
) -> dict[DealStage, list[Card]]:
    """Each stage's cards in ``windows[stage] = (skip, take)``, most recently moved first."""
    cols = (
        Deal.id, Deal.ref, Deal.version, Deal.pipeline_stage, Deal.status, Deal.title,
        Deal.asset_type, Deal.deal_type, Deal.agent_id, User.first_name, User.last_name,
        Deal.estimated_value_amount, Deal.estimated_value_currency, Deal.confidence,
        Deal.created_at, Deal.stage_changed_at,
    )  # fmt: skip
    base = sa.select(*cols).join(User, User.id == Deal.agent_id)
    per_stage: dict[DealStage, list[Any]] = {}
    for stage, (skip, take) in windows.items():
        if take <= 0:
            continue
        stmt = (
            base.where(*conds, Deal.pipeline_stage == stage)
            .order_by(Deal.stage_changed_at.desc(), Deal.id.desc())
            .offset(skip)
            .limit(take)
        )
        # Core, not the ORM: thousands of plain rows, no identity map to fill.
        per_stage[stage] = list(s.connection().execute(stmt))
    ids = [r.id for rows in per_stage.values() for r in rows]
    principals: dict[int, str] = {}
    for chunk in (ids[i : i + 5000] for i in range(0, len(ids), 5000)):
        principals.update(
            (int(k), v)
            for k, v in s.connection().execute(
                sa.select(DealContact.deal_id, sa.func.min(DealContact.name))
                .where(DealContact.deal_id.in_(chunk), DealContact.role == ContactRole.PRINCIPAL)
                .group_by(DealContact.deal_id)
            )
        )
    cards: dict[DealStage, list[Card]] = {st: [] for st in windows}
    for stage, rows in per_stage.items():
        cards[stage] = [
            Card(
                r.id, r.ref, r.version, stage, DealStatus(r.status), r.title,
                principals.get(r.id), r.asset_type, r.deal_type, r.agent_id,
                f"{r.first_name} {r.last_name}".strip(), r.estimated_value_amount,
                r.estimated_value_currency, r.confidence, r.stage_changed_at or r.created_at,
            )
            for r in rows
        ]  # fmt: skip
    return cards


def stage_limit(stage: DealStage, closed_card_limit: int | None = None) -> int | None:
    """How many cards a column draws at most: every card of an open stage, the most recent
    ``CLOSED_CARD_LIMIT`` of a closed one."""
    if stage in CLOSED_STAGES:
        return CLOSED_CARD_LIMIT if closed_card_limit is None else closed_card_limit
    return None


def load_board(
    db: Database,
    filters: BoardFilters,
    currency: str,
    acting: Acting = None,
    *,
    closed_card_limit: int | None = None,
    first: int | None = None,
) -> Board:
    """The column figures and the cards; with ``first``, only each column's first ``first``
    cards (a screenful and some: the board paints them at once and reads the rest with
    ``load_more``)."""
    big = 1 << 30
    windows: dict[DealStage, tuple[int, int]] = {}
    for stage in filters.stages():
        cap = stage_limit(stage, closed_card_limit)
        take = min(x for x in (cap, first, big) if x is not None)
        windows[stage] = (0, take)
    with db.read() as s:
        actor = resolve_actor(s, db, acting)
        conds = _where(filters, deal_scope(actor))
        columns = _columns(s, conds, filters, currency)
        cards = _cards(s, conds, filters, windows)
    return Board(filters, currency, columns, cards)


def load_more(
    db: Database,
    filters: BoardFilters,
    drawn: dict[DealStage, int],
    acting: Acting = None,
    *,
    closed_card_limit: int | None = None,
) -> dict[DealStage, list[Card]]:
    """The cards after the ``drawn[stage]`` first of each column, up to the column's limit."""
    windows: dict[DealStage, tuple[int, int]] = {}
    for stage, skip in drawn.items():
        cap = stage_limit(stage, closed_card_limit)
        windows[stage] = (skip, (1 << 30) if cap is None else cap - skip)
    with db.read() as s:
        actor = resolve_actor(s, db, acting)
        conds = _where(filters, deal_scope(actor))
        return _cards(s, conds, filters, windows)


def load_figures(
    db: Database, filters: BoardFilters, currency: str, acting: Acting = None
) -> list[ColumnFigures]:
    """Only the column figures (after a move: the cards are already where they belong)."""
    with db.read() as s:
        actor = resolve_actor(s, db, acting)
        return _columns(s, _where(filters, deal_scope(actor)), filters, currency)


def board_choices(db: Database, acting: Acting = None) -> BoardChoices:
    with db.read() as s:
        actor = resolve_actor(s, db, acting)
        scope = deal_scope(actor)
        people = sa.select(User.id, User.first_name, User.last_name).where(
            User.id.in_(sa.select(Deal.agent_id).distinct())
        )
        if scope is not None:
            people = people.where(scope)
        agents = [
            (int(i), f"{f} {last}".strip())
            for i, f, last in s.execute(people.order_by(User.first_name, User.last_name))
        ]
        visible = sa.select(Deal).join(User, User.id == Deal.agent_id)
        if scope is not None:
            visible = visible.where(scope)
        sub = visible.subquery()
        assets = list(s.scalars(sa.select(sub.c.asset_type).distinct().order_by(sub.c.asset_type)))
        types = list(s.scalars(sa.select(sub.c.deal_type).distinct().order_by(sub.c.deal_type)))
    return BoardChoices(agents, assets, types)
