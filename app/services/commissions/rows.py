"""What the commission services take and give back: plain frozen dataclasses, never ORM rows."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from app.domain.commissions import STATUS_LABELS, allowed_targets
from app.domain.enums import AdjustmentType, CommissionStatus, CommissionType

#: The status order of the ledger's totals, filters and reports (the forward path first).
STATUS_ORDER: tuple[CommissionStatus, ...] = (
    CommissionStatus.PENDING,
    CommissionStatus.CONFIRMED,
    CommissionStatus.INVOICED,
    CommissionStatus.PAID,
    CommissionStatus.DISPUTED,
    CommissionStatus.WRITTEN_OFF,
)
ZERO = Decimal("0.00")


class LedgerSort(StrEnum):
    """What the ledger may be ordered by (each ties on the record's id)."""

    CREATED = "created"
    DEAL = "deal"
    AGENT = "agent"
    TYPE = "type"
    BASIS = "basis"
    RATE = "rate"
    AMOUNT = "amount"
    ADJUSTMENTS = "adjustments"
    NET = "net"
    STATUS = "status"
    CHANGED = "changed"


@dataclass(frozen=True)
class LedgerFilters:
    """Which records the ledger lists, totals and exports. ``created_from`` is inclusive and
    ``created_before`` exclusive (both timezone-aware); ``deal_text`` matches a deal's title or
    ref, case-insensitively."""

    agent_id: int | None = None
    status: CommissionStatus | None = None
    deal_id: int | None = None
    deal_text: str = ""
    created_from: dt.datetime | None = None
    created_before: dt.datetime | None = None


@dataclass(frozen=True)
class CommissionRow:
    id: int
    version: int
    deal_id: int
    deal_ref: str | None
    deal_title: str | None  # None: the deal is hidden from the acting person (server rules)
    currency: str | None  # the deal's currency (None when the deal is hidden)
    agent_id: int
    agent_email: str
    agent_name: str
    commission_type: CommissionType
    basis_amount: Decimal
    commission_rate: Decimal
    commission_amount: Decimal
    adjustments_total: Decimal
    net_amount: Decimal
    status: CommissionStatus
    disputed_from: CommissionStatus | None
    dispute_reason: str | None
    dispute_document_uri: str | None
    introduced_at: dt.datetime | None
    confirmed_at: dt.datetime | None
    invoiced_at: dt.datetime | None
    paid_at: dt.datetime | None
    disputed_at: dt.datetime | None
    resolved_at: dt.datetime | None
    written_off_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime | None
    #: The acting person sees the deal, so may change the record (SPEC §1); the commission's
    #: own agent may read a record on a deal they do not see, but not change it.
    writable: bool

    @property
    def deal_label(self) -> str:
        if self.deal_title is None:
            return self.deal_ref or f"Deal #{self.deal_id}"
        return f"{self.deal_ref} · {self.deal_title}" if self.deal_ref else self.deal_title

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def status_changed_at(self) -> dt.datetime:
        """When the record entered its current status (the latest stamp; else created)."""
        stamps = [
            t
            for t in (
                self.confirmed_at,
                self.invoiced_at,
                self.paid_at,
                self.disputed_at,
                self.resolved_at,
                self.written_off_at,
            )
            if t is not None
        ]
        return max(stamps, default=self.created_at)

    def allowed_targets(self) -> list[CommissionStatus]:
        """The statuses SPEC §6 lets this record move to (none when it may not be changed)."""
        if not self.writable:
            return []
        return allowed_targets(self.status, self.disputed_from)


@dataclass(frozen=True)
class AdjustmentRow:
    id: int
    commission_id: int
    adjustment_type: AdjustmentType
    amount: Decimal
    note: str
    created_by_id: int
    created_by_name: str
    created_at: dt.datetime


@dataclass(frozen=True)
class LedgerPage:
    rows: tuple[CommissionRow, ...]
    offset: int
    has_more: bool


@dataclass(frozen=True)
class StatusTotal:
    count: int = 0
    amount: Decimal = ZERO
    adjustments: Decimal = ZERO

    @property
    def net(self) -> Decimal:
        return self.amount + self.adjustments

    def __add__(self, other: StatusTotal) -> StatusTotal:
        return StatusTotal(
            self.count + other.count,
            self.amount + other.amount,
            self.adjustments + other.adjustments,
        )

    def __sub__(self, other: StatusTotal) -> StatusTotal:
        return StatusTotal(
            self.count - other.count,
            self.amount - other.amount,
            self.adjustments - other.adjustments,
        )


@dataclass(frozen=True)
class LedgerTotals:
    """Sums over every record of the filtered set, by status, computed by the database.

    Amounts are in a deal's currency: ``by_status`` holds the office currency's records,
    ``other`` those of each other currency (never added together). ``count`` counts them all.
    """

    currency: str
    by_status: dict[CommissionStatus, StatusTotal]
    other: dict[str, dict[CommissionStatus, StatusTotal]] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return sum(t.count for t in self.by_status.values()) + sum(
            t.count for totals in self.other.values() for t in totals.values()
        )

    def status_count(self, status: CommissionStatus) -> int:
        return self.by_status[status].count + sum(
            totals[status].count for totals in self.other.values()
        )

    @property
    def total(self) -> StatusTotal:
        out = StatusTotal()
        for t in self.by_status.values():
            out = out + t
        return out


@dataclass(frozen=True)
class AgentChoice:
    id: int
    email: str
    name: str
    role: str


@dataclass(frozen=True)
class DealChoice:
    id: int
    ref: str | None
    title: str
    agent_name: str
    currency: str
    estimated_value: Decimal

    @property
    def label(self) -> str:
        return f"{self.ref} · {self.title}" if self.ref else self.title


@dataclass(frozen=True)
class LedgerChoices:
    """What the filter bar offers: the agents of the records the person sees."""

    agents: tuple[AgentChoice, ...]


@dataclass(frozen=True, kw_only=True)
class CommissionFields:
    """A new commission as a form or a caller gives it."""

    deal_id: int
    agent_email: str
    commission_type: str
    basis_amount: Decimal
    commission_rate: Decimal
    introduced_at: dt.datetime | None = None
