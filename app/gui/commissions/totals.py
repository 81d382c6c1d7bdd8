"""The strip above the ledger: per status, how many records and their amount and net, summed by
the database over the whole filtered set (not the rows that happen to be loaded). Clicking a
status filters the ledger to it."""

from __future__ import annotations

from decimal import Decimal

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton, QWidget

from app.domain.commissions import STATUS_LABELS
from app.domain.enums import CommissionStatus
from app.domain.money import format_money
from app.services.commissions import STATUS_ORDER, LedgerTotals


class TotalsStrip(QFrame):
    status_clicked = Signal(object)  # CommissionStatus

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("commissionTotals")
        self.totals: LedgerTotals | None = None
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        self.buttons: dict[CommissionStatus, QToolButton] = {}
        for status in STATUS_ORDER:
            button = QToolButton()
            button.setObjectName(f"total_{status.value}")
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            button.setAutoRaise(True)
            button.clicked.connect(lambda _c=False, s=status: self.status_clicked.emit(s))
            self.buttons[status] = button
            layout.addWidget(button)
        self.all_label = QLabel()
        self.all_label.setObjectName("totalAll")
        self.all_label.setProperty("role", "hint")
        layout.addWidget(self.all_label)
        self.other_label = QLabel()
        self.other_label.setObjectName("totalOther")
        self.other_label.setProperty("role", "hint")
        layout.addWidget(self.other_label)
        layout.addStretch(1)
        self.set_totals(None)

    def set_totals(self, totals: LedgerTotals | None, reading: bool = False) -> None:
        self.totals = totals
        for status, button in self.buttons.items():
            label = STATUS_LABELS[status]
            if totals is None:
                button.setText(f"{label}\n{'…' if reading else '—'}")
                button.setToolTip("")
                continue
            part = totals.by_status[status]
            button.setText(
                f"{label} · {part.count:,}\n{format_money(part.amount, totals.currency)}"
            )
            button.setToolTip(
                f"{part.count:,} {label.lower()} commissions in {totals.currency}: "
                f"amount {format_money(part.amount, totals.currency)}, adjustments "
                f"{format_money(part.adjustments, totals.currency)}, net "
                f"{format_money(part.net, totals.currency)}. Click to show only these."
            )
        if totals is None:
            self.all_label.setText("")
            self.other_label.hide()
            return
        total = totals.total
        self.all_label.setText(
            f"Net {format_money(total.net, totals.currency)} "
            f"({format_money(total.adjustments, totals.currency)} adjustments)"
        )
        if totals.other:
            parts: list[str] = []
            tips: list[str] = []
            for code, per_status in totals.other.items():
                count = sum(t.count for t in per_status.values())
                net = sum((t.net for t in per_status.values()), start=Decimal(0))
                parts.append(f"{count:,} in {code}")
                tips.extend(
                    f"{code} {STATUS_LABELS[s].lower()}: {t.count:,}, "
                    f"{format_money(t.amount, code)} (net {format_money(t.net, code)})"
                    for s, t in per_status.items()
                    if t.count
                )
                tips.append(f"{code} net: {format_money(net, code)}")
            self.other_label.setText("Also " + ", ".join(parts) + " (not added)")
            self.other_label.setToolTip("\n".join(tips))
            self.other_label.show()
        else:
            self.other_label.hide()
