"""The Benchmarks table: one model over the service's ``BenchmarkItem``s and the proxy that
filters it (metric or source text, cohort, current rows only) and sorts it. A superseded row
is greyed; each row says whether it is in force, superseded or not yet effective."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex
from PySide6.QtGui import QColor, QGuiApplication, QPalette

from app.domain.benchmarks import COHORT_LABELS, COHORTS
from app.gui.row_models import ID_ROLE, ROW_ROLE, SORT_ROLE, Column, RowFilterProxy, RowTableModel
from app.services.analytics.benchmarks import BenchmarkItem

__all__ = [
    "COLUMNS",
    "ID_ROLE",
    "ROW_ROLE",
    "SORT_ROLE",
    "BenchmarkFilterProxy",
    "BenchmarkTableModel",
]

ANY = "Any"
CURRENT, SUPERSEDED, FUTURE = "Current", "Superseded", "Future"


def plain_number(value: Decimal) -> str:
    """A figure as it reads: 92, 42.5, 0.0255, 1,250 (no unit, no trailing zeros)."""
    if value == 0:
        return "0"
    return f"{value.normalize():,f}"


def value_text(item: BenchmarkItem) -> str:
    if item.value_numeric is not None:
        return plain_number(item.value_numeric)
    return item.value_text or ""


def _value_sort(item: BenchmarkItem) -> float:
    return float(item.value_numeric) if item.value_numeric is not None else float("inf")


def _value_tip(item: BenchmarkItem) -> str | None:
    """The text of the row (beside its number, or whole where the column elides it)."""
    return item.value_text or None


def status_text(item: BenchmarkItem) -> str:
    if item.current:
        return CURRENT
    return FUTURE if item.future else SUPERSEDED


def _status_tip(item: BenchmarkItem) -> str:
    if item.current:
        return "In force: the newest row of its metric, asset type, deal type and cohort"
    if item.future:
        return f"Takes effect on {item.effective_date.isoformat()}"
    return "Replaced by a newer row of the same metric, asset type, deal type and cohort"


def cohort_label(cohort: str) -> str:
    return COHORT_LABELS.get(cohort, cohort)


def _cohort_order(cohort: str) -> int:
    return COHORTS.index(cohort) if cohort in COHORTS else len(COHORTS)


def _series_sort(item: BenchmarkItem) -> str:
    """Metric, asset type, deal type ("any" first), cohort, newest effective first."""
    newest_first = 99_999_999 - item.effective_date.toordinal()
    return "\t".join(
        (
            item.metric_key.casefold(),
            (item.asset_type or "").casefold(),
            (item.deal_type or "").casefold(),
            str(_cohort_order(item.cohort)),
            f"{newest_first:08d}",
        )
    )


def superseded_color() -> QColor:
    """The palette's disabled text colour: how a superseded row is greyed."""
    return QGuiApplication.palette().color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text)


def _grey(item: BenchmarkItem) -> QColor | None:
    return superseded_color() if item.superseded else None


COLUMNS: tuple[Column, ...] = (
    Column("Metric", lambda i: i.metric_key, sort_key=_series_sort, color=_grey),
    Column("Asset type", lambda i: i.asset_type or ANY, color=_grey),
    Column("Deal type", lambda i: i.deal_type or ANY, color=_grey),
    Column(
        "Cohort",
        lambda i: cohort_label(i.cohort),
        sort_key=lambda i: float(_cohort_order(i.cohort)),
        color=_grey,
    ),
    Column(
        "Value",
        value_text,
        sort_key=_value_sort,
        numeric=True,
        color=_grey,
        tooltip=_value_tip,
    ),
    Column("Source", lambda i: i.source, color=_grey, tooltip=lambda i: i.source),
    Column("Effective", lambda i: i.effective_date.isoformat(), color=_grey),
    Column("Status", status_text, color=_grey, tooltip=_status_tip),
)
METRIC, ASSET, DEAL, COHORT, VALUE, SOURCE, EFFECTIVE, STATUS = range(len(COLUMNS))


class BenchmarkTableModel(RowTableModel):
    """Benchmarks, one per row, in the order the service lists them."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(COLUMNS, parent)


Index = QModelIndex | QPersistentModelIndex


class BenchmarkFilterProxy(RowFilterProxy):
    """Shows the rows whose metric or source holds the search text (any case), of the cohort
    chosen (None: all), and only the rows in force while ``current_only``."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._text = ""
        self._cohort: str | None = None
        self._current_only = True

    @property
    def current_only(self) -> bool:
        return self._current_only

    def set_search(self, text: str) -> None:
        folded = text.strip().casefold()
        if folded != self._text:
            self.refilter(lambda: setattr(self, "_text", folded))

    def set_cohort(self, cohort: str | None) -> None:
        if cohort != self._cohort:
            self.refilter(lambda: setattr(self, "_cohort", cohort))

    def set_current_only(self, on: bool) -> None:
        if on != self._current_only:
            self.refilter(lambda: setattr(self, "_current_only", on))

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        model = self.sourceModel()
        if model is None:
            return False
        item = model.index(source_row, 0, source_parent).data(ROW_ROLE)
        if not isinstance(item, BenchmarkItem):
            return False
        if self._current_only and not item.current:
            return False
        if self._cohort is not None and item.cohort != self._cohort:
            return False
        text = self._text
        return not text or text in item.metric_key.casefold() or text in item.source.casefold()
