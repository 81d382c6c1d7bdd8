"""The tables of the buyer and buy-box pages: one model per table, described by columns, over
the service's frozen rows (the model and the proxy that filters and sorts them are
``app.gui.row_models``').

Colours: a grade A to D, a buy box's WARNING (amber) and CRITICAL (red), and a score or rate
below 60 (amber) or 40 (red), the lines SPEC §9 draws for buy boxes.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from PySide6.QtGui import QColor, QGuiApplication, QPalette

from app.gui import theme
from app.gui.row_models import ID_ROLE, ROW_ROLE, SORT_ROLE, Column, RowFilterProxy, RowTableModel
from app.services.postclose.catalog import STRATEGY_LABELS, BuyBoxRow, BuyerRow, PastDeal

__all__ = ["ID_ROLE", "ROW_ROLE", "SORT_ROLE", "Column", "RowFilterProxy", "RowTableModel"]

WARNING_LINE = Decimal(60)
CRITICAL_LINE = Decimal(40)
_LIGHT = {"A": "#1e7b34", "B": "#1f6f8b", "C": "#9a6700", "D": "#b3261e", "amber": "#9a6700"}
_DARK = {"A": "#7ee787", "B": "#79c0ff", "C": "#e3b341", "D": "#ff9b8f", "amber": "#e3b341"}


def _dark() -> bool:
    """Whether the palette in use is dark (the system's scheme, or one chosen in the app)."""
    window = QGuiApplication.palette().color(QPalette.ColorRole.Window)
    return window.lightness() < 128


def _palette() -> dict[str, str]:
    return _DARK if _dark() else _LIGHT


def _theme(name: str) -> QColor:
    return QColor(theme.colors(_dark())[name])


def grade_color(grade: str | None) -> QColor | None:
    name = _palette().get(grade or "")
    return QColor(name) if name and grade in ("A", "B", "C", "D") else None


def level_color(level: str | None) -> QColor | None:
    if level == "CRITICAL":
        return _theme("error")
    if level == "WARNING":
        return QColor(_palette()["amber"])
    return None


def band_color(value: Decimal | None) -> QColor | None:
    """A score or rate: red below 40, amber below 60, green otherwise; none when unknown."""
    if value is None:
        return None
    if value < CRITICAL_LINE:
        return level_color("CRITICAL")
    if value < WARNING_LINE:
        return level_color("WARNING")
    return _theme("ok")


def strategy_label(strategy: str) -> str:
    return STRATEGY_LABELS.get(strategy, strategy)


def number(value: Decimal | None, suffix: str = "") -> str:
    """'72.5' → '72.50' (two decimals, as stored); '—' when there is none."""
    return "—" if value is None else f"{value:,.2f}{suffix}"


def _float(value: Decimal | None) -> float:
    return -1.0 if value is None else float(value)


# -- the three tables -----------------------------------------------------------------------


def _score_tip(row: BuyerRow) -> str | None:
    if row.engagement_score is None:
        return "No score yet: none of their properties has a month entered"
    return None


BUYER_COLUMNS: tuple[Column, ...] = (
    Column("Name", lambda r: r.name),
    Column(
        "Engagement",
        lambda r: number(r.engagement_score),
        sort_key=lambda r: _float(r.engagement_score),
        numeric=True,
        color=lambda r: band_color(r.engagement_score),
        bold=lambda r: r.engagement_score is not None,
        tooltip=_score_tip,
    ),
    Column(
        "Deals",
        lambda r: f"{r.records:,}",
        lambda r: float(r.records),
        numeric=True,
        tooltip=lambda _r: "Properties bought and followed after close",
    ),
    Column("Email", lambda r: r.email or ""),
    Column("Phone", lambda r: r.phone or ""),
)
BUYER_NAME, BUYER_SCORE, BUYER_RECORDS, BUYER_EMAIL, BUYER_PHONE = range(len(BUYER_COLUMNS))


def _level_text(row: BuyBoxRow) -> str:
    return row.warning_level or ("OK" if row.performance_rate is not None else "—")


def _level_tip(row: BuyBoxRow) -> str | None:
    if row.warning_level == "CRITICAL":
        return "Fewer than 40% of its properties are graded A or B"
    if row.warning_level == "WARNING":
        return "Fewer than 60% of its properties are graded A or B"
    if row.performance_rate is None:
        return "No graded properties yet"
    return "At least 60% of its properties are graded A or B"


BUY_BOX_COLUMNS: tuple[Column, ...] = (
    Column("Ref", lambda r: r.ref or ""),
    Column("Name", lambda r: r.name),
    Column("Market", lambda r: r.market_key),
    Column("Strategy", lambda r: strategy_label(r.strategy)),
    Column(
        "Min DSCR",
        lambda r: f"{r.min_dscr:.2f}",
        lambda r: float(r.min_dscr),
        numeric=True,
        tooltip=lambda _r: "The DSCR its properties must reach (their grades' required DSCR)",
    ),
    Column("Buyer", lambda r: r.buyer_name or ""),
    Column(
        "Deals",
        lambda r: f"{r.records:,}",
        lambda r: float(r.records),
        numeric=True,
        tooltip=lambda _r: "Properties bought and followed after close",
    ),
    Column(
        "Performance",
        lambda r: number(r.performance_rate, "%"),
        lambda r: _float(r.performance_rate),
        numeric=True,
        color=lambda r: level_color(r.warning_level),
        tooltip=lambda _r: "Share of its properties graded A or B",
    ),
    Column(
        "Level",
        _level_text,
        color=lambda r: (
            level_color(r.warning_level)
            or (band_color(r.performance_rate) if r.performance_rate is not None else None)
        ),
        bold=lambda r: r.warning_level is not None,
        tooltip=_level_tip,
    ),
)
(
    BOX_REF,
    BOX_NAME,
    BOX_MARKET,
    BOX_STRATEGY,
    BOX_MIN_DSCR,
    BOX_BUYER,
    BOX_RECORDS,
    BOX_RATE,
    BOX_LEVEL,
) = range(len(BUY_BOX_COLUMNS))


def _grade_tip(deal: PastDeal) -> str | None:
    return "No month entered yet" if deal.current_grade is None else None


PAST_DEAL_COLUMNS: tuple[Column, ...] = (
    Column("Ref", lambda d: d.ref or f"#{d.id}"),
    Column(
        "Grade",
        lambda d: d.current_grade or "—",
        lambda d: d.current_grade or "z",
        color=lambda d: grade_color(d.current_grade),
        bold=lambda d: d.current_grade is not None,
        tooltip=_grade_tip,
    ),
    Column("Closed", lambda d: d.closed_date.isoformat()),
    Column("Market", lambda d: d.market_key),
    Column("Strategy", lambda d: strategy_label(d.strategy)),
    Column("Buy box", lambda d: d.buy_box_name or "—", tooltip=lambda d: d.buy_box_name),
)
DEAL_REF, DEAL_GRADE, DEAL_CLOSED, DEAL_MARKET, DEAL_STRATEGY, DEAL_BOX = range(
    len(PAST_DEAL_COLUMNS)
)


def buyers_model(parent: Any = None) -> RowTableModel:
    return RowTableModel(BUYER_COLUMNS, parent)


def buy_boxes_model(parent: Any = None) -> RowTableModel:
    return RowTableModel(BUY_BOX_COLUMNS, parent)


def past_deals_model(parent: Any = None) -> RowTableModel:
    return RowTableModel(PAST_DEAL_COLUMNS, parent)
