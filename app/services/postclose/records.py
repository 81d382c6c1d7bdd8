"""Performance records: created once at close with the pro forma locked (SPEC §9), and read.

Who (SPEC §1): a closer creates a record at close, as do brokers, managers and admins;
everyone reads. In shared mode the server's grants and policies say the same (0002, 0004),
and its trigger refuses any change to the locked pro forma.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from app.db.models import BuyBox, Buyer, Deal, DealPerformance, User
from app.domain.enums import DealStage, Role
from app.domain.errors import ConflictError, PermissionDenied, ValidationError
from app.domain.postclose import DEFAULT_REQUIRED_DSCR, Projection
from app.domain.rentroll import FieldErrors, parse_record
from app.services.database import Database
from app.services.pipeline.common import acting_user_id
from app.services.records import Acting, Actor, resolve_actor

R = DealPerformance
CREATORS = (Role.CLOSER, Role.BROKER, Role.MANAGER, Role.ADMIN)
WRITERS = (Role.BROKER, Role.MANAGER, Role.ADMIN)


class RecordNotFound(ValidationError):
    """The performance record does not exist (any more)."""


@dataclass(frozen=True)
class RecordInfo:
    id: int
    ref: str | None
    market_key: str
    strategy: str
    closed_date: dt.date
    buyer_id: int
    buyer_name: str
    buy_box_id: int | None
    buy_box_name: str | None
    deal_id: int | None
    deal_title: str | None
    purchase_price: Decimal
    rehab_cost_actual: Decimal | None
    loan_type: str | None
    interest_rate: Decimal | None
    ltv: Decimal | None
    amortization_years: int | None
    projection: Projection
    required_dscr: Decimal
    assumptions: tuple[str, ...]
    locked_at: dt.datetime
    locked_by: str
    current_grade: str | None
    current_flags: tuple[str, ...]

    @property
    def label(self) -> str:
        return f"{self.ref or f'#{self.id}'} · {self.market_key}"


def allowed(actor: Actor | None, roles: tuple[Role, ...], doing: str) -> None:
    """PermissionDenied unless the actor holds one of ``roles`` (local, nobody named: all)."""
    if actor is not None and Role(actor.role) not in roles:
        who = ", ".join(r.value for r in roles[:-1]) + f" or {roles[-1].value}"
        raise PermissionDenied(f"Only a {who} may {doing}; you are signed in as {actor.role}.")


@contextmanager
def writing(db: Database, table: str = "deal_performances") -> Iterator[Session]:
    """A write transaction. On SQLite the write lock is taken first (a no-op UPDATE of
    ``table``), so writers queue and the version read is the one written over; a lock held
    past the busy timeout is a conflict."""
    try:
        with db.session() as s:
            if db.is_local:
                s.execute(sa.text(f"UPDATE {table} SET version = version WHERE 0"))
            yield s
    except sa.exc.OperationalError as exc:
        if db.is_local and "locked" in str(exc.orig).lower():
            raise ConflictError(
                "Another workstation was changing the database at the same moment; reload "
                "and try again. Nothing was saved."
            ) from None
        raise


def _query() -> Any:
    locker = aliased(User)
    return (
        sa.select(
            R,
            Buyer.name,
            BuyBox.name,
            BuyBox.min_dscr,
            Deal.title,
            locker.first_name,
            locker.last_name,
        )
        .join(Buyer, Buyer.id == R.buyer_id)
        .outerjoin(BuyBox, BuyBox.id == R.buy_box_id)
        .outerjoin(Deal, Deal.id == R.deal_id)
        .join(locker, locker.id == R.locked_by)
    )


def _info(row: Any) -> RecordInfo:
    r, buyer, box, min_dscr, title, first, last = row
    return RecordInfo(
        id=r.id, ref=r.ref, market_key=r.market_key, strategy=r.strategy,
        closed_date=r.closed_date, buyer_id=r.buyer_id, buyer_name=buyer,
        buy_box_id=r.buy_box_id, buy_box_name=box, deal_id=r.deal_id, deal_title=title,
        purchase_price=r.purchase_price, rehab_cost_actual=r.rehab_cost_actual,
        loan_type=r.loan_type, interest_rate=r.interest_rate, ltv=r.ltv,
        amortization_years=r.amortization_years,
        projection=Projection(
            r.projected_rent, r.projected_noi, r.projected_monthly_cash_flow, r.projected_dscr
        ),
        required_dscr=DEFAULT_REQUIRED_DSCR if min_dscr is None else min_dscr,
        assumptions=tuple(r.assumptions or ()), locked_at=r.locked_at,
        locked_by=f"{first} {last}", current_grade=r.current_grade,
        current_flags=tuple(r.current_flags or ()),
    )  # fmt: skip


def load_info(s: Session, performance_id: int) -> RecordInfo:
    row = s.execute(_query().where(R.id == performance_id)).one_or_none()
    if row is None:
        raise RecordNotFound(f"There is no performance record #{performance_id}.")
    return _info(row)


def record_info(db: Database, performance_id: int) -> RecordInfo:
    with db.read() as s:
        return load_info(s, performance_id)


def list_records(db: Database, search: str = "") -> list[RecordInfo]:
    """Every record (newest close first), optionally those whose ref, market or buyer match."""
    stmt = _query().order_by(R.closed_date.desc(), R.id.desc())
    text = search.strip()
    if text:
        like = f"%{text.lower()}%"
        stmt = stmt.where(
            sa.or_(
                sa.func.lower(sa.func.coalesce(R.ref, "")).like(like),
                sa.func.lower(R.market_key).like(like),
                sa.func.lower(Buyer.name).like(like),
            )
        )
    with db.read() as s:
        return [_info(row) for row in s.execute(stmt)]


@dataclass(frozen=True)
class ClosedDeal:
    id: int
    title: str
    closed: dt.date | None


def deals_awaiting_record(db: Database) -> list[ClosedDeal]:
    """Closed-won deals that have no performance record yet (newest first)."""
    with db.read() as s:
        rows = s.execute(
            sa.select(Deal.id, Deal.title, Deal.actual_close_date)
            .outerjoin(R, R.deal_id == Deal.id)
            .where(Deal.pipeline_stage == DealStage.CLOSED_WON, R.id.is_(None))
            .order_by(Deal.actual_close_date.desc().nulls_last(), Deal.id.desc())
        )
        return [ClosedDeal(i, t, c) for i, t, c in rows]


def create_record(
    db: Database,
    texts: Mapping[str, str | None],
    buyer_id: int | None,
    buy_box_id: int | None = None,
    deal_id: int | None = None,
    acting: Acting = None,
    today: dt.date | None = None,
) -> int:
    """A new record with its pro forma locked now, by the acting person. FieldErrors names
    every bad field; nothing is written then."""
    day = today or dt.date.today()
    errors: dict[str, str] = {}
    try:
        values = parse_record(texts, day)
    except FieldErrors as exc:
        errors.update(exc.errors)
        values = None
    if buyer_id is None:
        errors["buyer"] = "required: choose the buyer"
    with writing(db) as s:
        actor = resolve_actor(s, db, acting)
        allowed(actor, CREATORS, "create a performance record")
        if buyer_id is not None and s.get(Buyer, buyer_id) is None:
            errors["buyer"] = f"there is no buyer #{buyer_id}"
        if buy_box_id is not None and s.get(BuyBox, buy_box_id) is None:
            errors["buy_box"] = f"there is no buy box #{buy_box_id}"
        if deal_id is not None:
            deal = s.get(Deal, deal_id)
            if deal is None:
                errors["deal"] = f"there is no deal #{deal_id}"
            elif deal.pipeline_stage != DealStage.CLOSED_WON:
                errors["deal"] = f"{deal.title} has not closed (won) yet"
            elif s.scalar(sa.select(R.id).where(R.deal_id == deal_id)) is not None:
                errors["deal"] = f"{deal.title} already has a performance record"
        if (
            values is not None
            and values.ref
            and s.scalar(sa.select(R.id).where(R.ref == values.ref))
        ):
            errors["ref"] = f"{values.ref} is taken by another record"
        if errors or values is None:
            raise FieldErrors(errors)
        record = R(
            ref=values.ref or None, deal_id=deal_id, buyer_id=buyer_id, buy_box_id=buy_box_id,
            strategy=values.strategy, market_key=values.market_key,
            closed_date=values.closed_date, purchase_price=values.purchase_price,
            rehab_cost_actual=values.rehab_cost_actual, loan_type=values.loan_type,
            interest_rate=values.interest_rate, ltv=values.ltv,
            amortization_years=values.amortization_years,
            projected_rent=values.projected_rent, projected_noi=values.projected_noi,
            projected_monthly_cash_flow=values.projected_monthly_cash_flow,
            projected_dscr=values.projected_dscr, assumptions=list(values.assumptions),
            locked_at=dt.datetime.now(dt.UTC), locked_by=acting_user_id(s, actor),
            current_flags=[],
        )  # fmt: skip
        s.add(record)
        s.flush()
        return record.id
