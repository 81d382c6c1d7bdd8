"""One performance record, read only (SPEC §9): the purchase, the financing and the pro forma
that was locked when the record was saved, with who locked it and when, and the record's
current grade and flags.

Everything here is a label: the pro forma can never change, so nothing on this panel offers to
change it (the database refuses it too).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from PySide6.QtCore import QEvent, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPalette, QPen, QPixmap
from PySide6.QtWidgets import (
    QApplication,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QStackedLayout,
    QVBoxLayout,
    QWidget,
)

from app.domain.money import format_money
from app.gui.records.format import full_time
from app.services.postclose.records import RecordInfo

EMPTY_TEXT = "Choose a performance record to see its purchase, financing and locked pro forma."

STRATEGY_WORDS = {"buy_hold": "Buy & hold", "commercial": "Commercial"}
LOAN_WORDS = {
    "DSCR": "DSCR loan",
    "conventional": "Conventional loan",
    "commercial": "Commercial loan",
    "cash": "Cash (no loan)",
}

#: What each flag of SPEC §9 says, in plain words, and when it is raised.
FLAG_WORDS: dict[str, tuple[str, str]] = {
    "significant_cash_flow_shortfall": (
        "Significant cash-flow shortfall",
        "Cash flow more than 20 % below the pro forma",
    ),
    "moderate_cash_flow_shortfall": (
        "Moderate cash-flow shortfall",
        "Cash flow 10–20 % below the pro forma",
    ),
    "dscr_below_projection": ("DSCR below projection", "DSCR more than 0.20 below the pro forma"),
    "dscr_below_minimum": ("DSCR below minimum", "DSCR below the buy box's required DSCR"),
    "rent_collection_shortfall": (
        "Rent collection shortfall",
        "Rent collected more than 15 % below the pro forma",
    ),
    "high_vacancy_rate": ("High vacancy rate", "Vacancy above 10 %"),
    "elevated_vacancy_rate": ("Elevated vacancy rate", "Vacancy above 5 %, at most 10 %"),
    "expense_overrun": ("Expense overrun", "Expenses more than 20 % above the pro forma"),
}

#: Grade badge colours (background, text), for a light and for a dark palette.
GRADE_COLORS: dict[bool, dict[str, tuple[str, str]]] = {
    False: {
        "A": ("#1e7b34", "#ffffff"),
        "B": ("#00796b", "#ffffff"),
        "C": ("#f0b429", "#3d2900"),
        "D": ("#b3261e", "#ffffff"),
    },
    True: {
        "A": ("#1f4d2b", "#7ee787"),
        "B": ("#0f403b", "#5fd4c4"),
        "C": ("#4d3a0f", "#f5c451"),
        "D": ("#4a1f1c", "#ff9b8f"),
    },
}
GRADE_MEANING = {
    "A": "Cash flow at or above the pro forma and DSCR at or above the requirement",
    "B": "Close to the pro forma",
    "C": "Below the pro forma",
    "D": "Negative cash flow or DSCR below 1.00",
}


def flag_words(flag: str) -> str:
    """'dscr_below_minimum' → 'DSCR below minimum' (a flag this version does not know: its
    name in words)."""
    known = FLAG_WORDS.get(flag)
    if known is not None:
        return known[0]
    words = flag.replace("_", " ").strip()
    words = " ".join("DSCR" if w.lower() == "dscr" else w for w in words.split())
    return words[:1].upper() + words[1:]


def day_text(value: dt.date) -> str:
    """29 Nov 2025."""
    return f"{value.day} {value:%b %Y}"


def percent_text(value: Decimal | None) -> str:
    """0.0696 → '6.96%'; None → '—'."""
    if value is None:
        return "—"
    return f"{(value * 100).normalize():f}%"


def locked_text(info: RecordInfo) -> str:
    """'Locked 29 Nov 2025 by Dana Kessler' (the day in this computer's time zone)."""
    return f"Locked {day_text(info.locked_at.astimezone().date())} by {info.locked_by}"


def is_dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


def lock_pixmap(size: int, color: QColor, ratio: float = 1.0) -> QPixmap:
    """A closed padlock, drawn in ``color``."""
    pixmap = QPixmap(round(size * ratio), round(size * ratio))
    pixmap.setDevicePixelRatio(ratio)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    s = float(size)
    pen = QPen(color, max(1.5, s / 9))
    painter.setPen(pen)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    shackle = QPainterPath()
    shackle.moveTo(s * 0.32, s * 0.48)
    shackle.lineTo(s * 0.32, s * 0.32)
    shackle.arcTo(QRectF(s * 0.32, s * 0.12, s * 0.36, s * 0.36), 180, -180)
    shackle.lineTo(s * 0.68, s * 0.48)
    painter.drawPath(shackle)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(color)
    painter.drawRoundedRect(QRectF(s * 0.2, s * 0.44, s * 0.6, s * 0.46), s * 0.08, s * 0.08)
    painter.end()
    return pixmap


class LockIcon(QLabel):
    """A padlock in the palette's text colour (redrawn when the palette changes)."""

    def __init__(self, size: int = 16, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._size = size
        self.setObjectName("lockIcon")
        self.setAccessibleName("Locked")
        self.setFixedSize(size, size)
        self._draw()

    def _draw(self) -> None:
        color = self.palette().color(QPalette.ColorRole.WindowText)
        self.setPixmap(lock_pixmap(self._size, color, self.devicePixelRatioF()))

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._draw()


class GradeBadge(QLabel):
    """The current grade as a coloured chip (A green, B teal, C amber, D red), or "Not graded
    yet" before any month is entered."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("gradeBadge")
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.grade: str | None = None
        self._dark = is_dark(QApplication.palette())
        self.set_grade(None)

    def set_grade(self, grade: str | None) -> None:
        self.grade = str(grade) if grade is not None else None
        self._paint()

    def colors(self) -> tuple[str, str] | None:
        """(background, text) of the badge; None when there is no grade."""
        if self.grade is None:
            return None
        return GRADE_COLORS[self._dark].get(self.grade)

    def _paint(self) -> None:
        colors = self.colors()
        if self.grade is None or colors is None:
            self.setText("Not graded yet" if self.grade is None else f"Grade {self.grade}")
            self.setToolTip("No month of actuals has been entered yet")
            self._style(
                "QLabel#gradeBadge { border: 1px solid palette(mid); border-radius: 10px;"
                " padding: 2px 10px; color: palette(placeholder-text); }"
            )
            return
        background, text = colors
        self.setText(f"Grade {self.grade}")
        self.setToolTip(GRADE_MEANING.get(self.grade, ""))
        self._style(
            f"QLabel#gradeBadge {{ background: {background}; color: {text};"
            " border-radius: 10px; padding: 2px 12px; font-weight: 600; }"
        )

    def _style(self, sheet: str) -> None:
        if self.styleSheet() != sheet:
            self.setStyleSheet(sheet)

    def changeEvent(self, event: QEvent) -> None:
        """The application's palette turned light or dark: the badge follows. (Its own
        palette is the stylesheet's, so the application's is the one to ask.)"""
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            dark = is_dark(QApplication.palette())
            if dark != self._dark:
                self._dark = dark
                self._paint()


def _value_label(name: str) -> QLabel:
    label = QLabel()
    label.setObjectName(name)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


class RecordView(QWidget):
    """A performance record as stored: ``set_info(info)``; None shows the empty state."""

    def __init__(self, currency: str = "USD", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("recordView")
        self.currency = currency
        self.info: RecordInfo | None = None
        self.values: dict[str, QLabel] = {}

        self.stack = QStackedLayout(self)
        self.empty_label = QLabel(EMPTY_TEXT)
        self.empty_label.setObjectName("recordEmpty")
        self.empty_label.setProperty("role", "hint")
        self.empty_label.setWordWrap(True)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.stack.addWidget(self.empty_label)

        self.content = QWidget()
        column = QVBoxLayout(self.content)
        column.setContentsMargins(8, 8, 8, 8)
        column.setSpacing(10)

        header = QHBoxLayout()
        self.title_label = _value_label("recordTitle")
        self.title_label.setProperty("role", "pageTitle")
        header.addWidget(self.title_label, 1)
        self.grade_badge = GradeBadge()
        header.addWidget(self.grade_badge, 0, Qt.AlignmentFlag.AlignTop)
        column.addLayout(header)
        self.flags_label = _value_label("recordFlags")
        column.addWidget(self.flags_label)

        details = QHBoxLayout()
        details.setSpacing(12)
        left = QVBoxLayout()
        left.addWidget(
            self._group(
                "Property",
                [
                    ("buyer", "Buyer:"),
                    ("buy_box", "Buy box:"),
                    ("deal", "From deal:"),
                    ("market", "Market:"),
                    ("strategy", "Strategy:"),
                    ("closed", "Closed on:"),
                ],
            )
        )
        left.addWidget(
            self._group(
                "Purchase and financing",
                [
                    ("purchase", "Purchase price:"),
                    ("rehab", "Rehab cost:"),
                    ("loan", "Loan type:"),
                    ("rate", "Interest rate:"),
                    ("ltv", "LTV:"),
                    ("amortization", "Amortisation:"),
                ],
            )
        )
        left.addStretch(1)
        details.addLayout(left, 1)
        details.addWidget(self._pro_forma_group(), 1, Qt.AlignmentFlag.AlignTop)
        column.addLayout(details)
        column.addStretch(1)
        self.stack.addWidget(self.content)
        self.set_info(None)

    def _group(self, title: str, rows: list[tuple[str, str]]) -> QGroupBox:
        group = QGroupBox(title)
        form = QFormLayout(group)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        for name, text in rows:
            self.values[name] = _value_label(f"{name}Value")
            form.addRow(text, self.values[name])
        return group

    def _pro_forma_group(self) -> QGroupBox:
        group = QGroupBox("Pro forma")
        group.setObjectName("proFormaGroup")
        form = QFormLayout(group)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        locked = QFrame()
        locked.setObjectName("lockedLine")
        line = QHBoxLayout(locked)
        line.setContentsMargins(0, 0, 0, 4)
        line.setSpacing(6)
        self.lock_icon = LockIcon(16)
        line.addWidget(self.lock_icon)
        self.locked_label = _value_label("lockedLabel")
        font = self.locked_label.font()
        font.setBold(True)
        self.locked_label.setFont(font)
        line.addWidget(self.locked_label, 1)
        form.addRow(locked)
        monthly = QLabel("Monthly figures, as projected at close.")
        monthly.setProperty("role", "hint")
        form.addRow(monthly)
        for name, text in (
            ("rent", "Projected rent:"),
            ("noi", "Projected NOI:"),
            ("expenses", "Projected expenses:"),
            ("cash_flow", "Monthly cash flow:"),
            ("dscr", "Projected DSCR:"),
            ("assumptions", "Assumptions:"),
        ):
            self.values[name] = _value_label(f"{name}Value")
            form.addRow(text, self.values[name])
        self.values["expenses"].setToolTip("Projected rent − projected NOI")
        return group

    # -- showing a record -----------------------------------------------------------------

    def set_info(self, info: RecordInfo | None) -> None:
        self.info = info
        if info is None:
            self.stack.setCurrentWidget(self.empty_label)
            return
        money = self.money
        v = self.values
        self.title_label.setText(info.label)
        self.grade_badge.set_grade(info.current_grade)
        if info.current_flags:
            self.flags_label.setText(
                "Flags: " + ", ".join(flag_words(f) for f in info.current_flags)
            )
            self.flags_label.setToolTip(
                "\n".join(
                    f"{flag_words(f)}: {FLAG_WORDS[f][1]}"
                    for f in info.current_flags
                    if f in FLAG_WORDS
                )
            )
            self.flags_label.setProperty("role", "error")
        else:
            self.flags_label.setText(
                "No flags." if info.current_grade is not None else "No month entered yet."
            )
            self.flags_label.setToolTip("")
            self.flags_label.setProperty("role", "hint")
        self.flags_label.style().unpolish(self.flags_label)
        self.flags_label.style().polish(self.flags_label)

        v["buyer"].setText(info.buyer_name)
        required = f"required DSCR {info.required_dscr:.2f}"
        if info.buy_box_name:
            v["buy_box"].setText(f"{info.buy_box_name} ({required})")
        else:
            v["buy_box"].setText(f"None ({required}, the default)")
        v["deal"].setText(info.deal_title or "On its own (no deal)")
        v["market"].setText(info.market_key)
        v["strategy"].setText(STRATEGY_WORDS.get(str(info.strategy), str(info.strategy)))
        v["closed"].setText(day_text(info.closed_date))

        v["purchase"].setText(money(info.purchase_price))
        v["rehab"].setText(money(info.rehab_cost_actual))
        loan = str(info.loan_type) if info.loan_type is not None else None
        v["loan"].setText(LOAN_WORDS.get(loan, loan) if loan else "—")
        v["rate"].setText(percent_text(info.interest_rate))
        v["ltv"].setText(percent_text(info.ltv))
        years = info.amortization_years
        v["amortization"].setText(f"{years} years" if years is not None else "—")

        p = info.projection
        self.locked_label.setText(locked_text(info))
        self.locked_label.setToolTip(
            f"Locked {full_time(info.locked_at)} by {info.locked_by}; it can never change."
        )
        v["rent"].setText(money(p.rent))
        v["noi"].setText(money(p.noi))
        v["expenses"].setText(money(p.expenses))
        v["cash_flow"].setText(money(p.cash_flow))
        v["dscr"].setText(f"{p.dscr:.2f} (required {info.required_dscr:.2f})")
        v["assumptions"].setText(
            "\n".join(f"• {a}" for a in info.assumptions) if info.assumptions else "None given"
        )
        self.stack.setCurrentWidget(self.content)

    def money(self, value: Decimal | None) -> str:
        return format_money(value, self.currency)
