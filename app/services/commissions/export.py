"""The filtered ledger written to a CSV file or an XLSX workbook, streamed page by page.

Both files hold the same columns as the ledger: money and rates as plain numbers (CSV: "1234.50",
rates "0.0250"; XLSX: numeric cells formatted with the deal's currency), times in UTC ISO 8601.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from app.services.commissions.ledger import read_page
from app.services.commissions.query import reading
from app.services.commissions.rows import CommissionRow, LedgerFilters, LedgerSort
from app.services.database import Database
from app.services.records import Acting, resolve_actor

ProgressFn = Callable[[int, int, str], None]
CancelledFn = Callable[[], bool]

EXPORT_PAGE = 2000

#: (header, value of a row).
COLUMNS: tuple[tuple[str, Callable[[CommissionRow], Any]], ...] = (
    ("id", lambda r: r.id),
    ("deal_ref", lambda r: r.deal_ref or ""),
    ("deal", lambda r: r.deal_title or ""),
    ("agent_email", lambda r: r.agent_email),
    ("agent", lambda r: r.agent_name),
    ("commission_type", lambda r: r.commission_type.value),
    ("currency", lambda r: r.currency or ""),
    ("basis_amount", lambda r: r.basis_amount),
    ("commission_rate", lambda r: r.commission_rate),
    ("commission_amount", lambda r: r.commission_amount),
    ("adjustments", lambda r: r.adjustments_total),
    ("net", lambda r: r.net_amount),
    ("status", lambda r: r.status.value),
    ("created_at", lambda r: r.created_at),
    ("status_changed_at", lambda r: r.status_changed_at),
    ("introduced_at", lambda r: r.introduced_at),
    ("confirmed_at", lambda r: r.confirmed_at),
    ("invoiced_at", lambda r: r.invoiced_at),
    ("paid_at", lambda r: r.paid_at),
    ("disputed_at", lambda r: r.disputed_at),
    ("resolved_at", lambda r: r.resolved_at),
    ("written_off_at", lambda r: r.written_off_at),
    ("dispute_reason", lambda r: r.dispute_reason or ""),
)
MONEY_COLUMNS = frozenset({"basis_amount", "commission_amount", "adjustments", "net"})


class ExportCancelled(Exception):
    """The person stopped the export; the partial file has been removed."""


def iter_rows(
    db: Database,
    filters: LedgerFilters,
    *,
    sort: LedgerSort = LedgerSort.CREATED,
    descending: bool = True,
    acting: Acting = None,
    page_size: int = EXPORT_PAGE,
) -> Iterator[CommissionRow]:
    """Every row of the filtered ledger, in the ledger's order, a page at a time."""
    offset = 0
    while True:
        with reading(db) as s:
            actor = resolve_actor(s, db, acting)
            page = read_page(s, actor, filters, sort, descending, offset, page_size)
        yield from page.rows
        if not page.has_more:
            return
        offset += len(page.rows)


def _utc(value: dt.datetime | None) -> str:
    if value is None:
        return ""
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _text(name: str, value: Any) -> str:
    if isinstance(value, dt.datetime):
        return _utc(value)
    if isinstance(value, Decimal):
        return f"{value:.4f}" if name == "commission_rate" else f"{value:.2f}"
    return "" if value is None else str(value)


def _watch(
    total: int, progress: ProgressFn | None, cancelled: CancelledFn | None
) -> Callable[[int], None]:
    def tick(done: int) -> None:
        if done % 500:
            return
        if cancelled is not None and cancelled():
            raise ExportCancelled("Export cancelled.")
        if progress is not None:
            progress(done, total, f"Writing {done:,} of {total:,} commissions…")

    return tick


def write_csv(
    db: Database,
    path: str | Path,
    filters: LedgerFilters,
    *,
    sort: LedgerSort = LedgerSort.CREATED,
    descending: bool = True,
    total: int = 0,
    acting: Acting = None,
    progress: ProgressFn | None = None,
    cancelled: CancelledFn | None = None,
) -> int:
    """Write the filtered ledger as UTF-8 CSV (header row); return the rows written."""
    target = Path(path)
    tick = _watch(total, progress, cancelled)
    done = 0
    try:
        with target.open("w", encoding="utf-8", newline="") as fh:
            out = csv.writer(fh)
            out.writerow([name for name, _ in COLUMNS])
            for row in iter_rows(db, filters, sort=sort, descending=descending, acting=acting):
                out.writerow([_text(name, get(row)) for name, get in COLUMNS])
                done += 1
                tick(done)
    except ExportCancelled:
        target.unlink(missing_ok=True)
        raise
    return done


def _money_format(currency: str | None) -> str:
    code = "".join(ch for ch in (currency or "") if ch.isalnum()) or "USD"
    return f'#,##0.00 "{code}"'


def write_xlsx(
    db: Database,
    path: str | Path,
    filters: LedgerFilters,
    *,
    sort: LedgerSort = LedgerSort.CREATED,
    descending: bool = True,
    total: int = 0,
    acting: Acting = None,
    progress: ProgressFn | None = None,
    cancelled: CancelledFn | None = None,
) -> int:
    """Write the filtered ledger as a one-sheet workbook (streamed, write-only)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    target = Path(path)
    tick = _watch(total, progress, cancelled)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Commissions")
    bold = Font(bold=True)
    header = []
    for name, _ in COLUMNS:
        cell = WriteOnlyCell(ws, value=name)
        cell.font = bold
        header.append(cell)
    ws.append(header)
    ws.freeze_panes = "A2"
    done = 0
    for row in iter_rows(db, filters, sort=sort, descending=descending, acting=acting):
        cells = []
        for name, get in COLUMNS:
            value = get(row)
            if isinstance(value, dt.datetime):
                value = value.astimezone(dt.UTC).replace(tzinfo=None)
            cell = WriteOnlyCell(ws, value=value)
            if name in MONEY_COLUMNS:
                cell.number_format = _money_format(row.currency)
            elif name == "commission_rate":
                cell.number_format = "0.00%"
            elif isinstance(value, dt.datetime):
                cell.number_format = "yyyy-mm-dd hh:mm:ss"
            cells.append(cell)
        ws.append(cells)
        done += 1
        try:
            tick(done)
        except ExportCancelled:
            wb.close()
            raise
    wb.save(str(target))
    return done
