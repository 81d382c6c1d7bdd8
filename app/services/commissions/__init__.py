"""The commission ledger (SPEC §6): reading it (``ledger``), changing it (``actions``), its
report (``report``) and its export (``export``). Rows are plain frozen dataclasses (``rows``);
the SQL shared by all of them is in ``query``."""

from app.services.commissions.actions import (
    add_adjustment,
    change_status,
    create_commission,
    dispute,
    resolve,
    write_off,
)
from app.services.commissions.ledger import (
    PAGE_SIZE,
    Ledger,
    agent_choices,
    find_deals,
    get_commission,
    ledger_choices,
    ledger_totals,
    list_adjustments,
    list_page,
    open_ledger,
)
from app.services.commissions.rows import (
    STATUS_ORDER,
    AdjustmentRow,
    AgentChoice,
    CommissionFields,
    CommissionRow,
    DealChoice,
    LedgerChoices,
    LedgerFilters,
    LedgerPage,
    LedgerSort,
    LedgerTotals,
    StatusTotal,
)

__all__ = [
    "PAGE_SIZE",
    "STATUS_ORDER",
    "AdjustmentRow",
    "AgentChoice",
    "CommissionFields",
    "CommissionRow",
    "DealChoice",
    "Ledger",
    "LedgerChoices",
    "LedgerFilters",
    "LedgerPage",
    "LedgerSort",
    "LedgerTotals",
    "StatusTotal",
    "add_adjustment",
    "agent_choices",
    "change_status",
    "create_commission",
    "dispute",
    "find_deals",
    "get_commission",
    "ledger_choices",
    "ledger_totals",
    "list_adjustments",
    "list_page",
    "open_ledger",
    "resolve",
    "write_off",
]
