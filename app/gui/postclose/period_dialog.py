"""The rent-roll entry form: one month of a property's actuals (SPEC §9).

While the person types, the right-hand side shows what the month will get — the variances
against the locked pro forma, the flags and the grade — computed by the same domain rules
the save uses. A second entry for a month already entered is refused with an offer to open
the existing one; editing keeps who entered it and says who changed it last.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from app.domain.errors import ConflictError
from app.domain.money import format_money
from app.domain.postclose import Assessment, assess
from app.domain.rentroll import EXPENSE_PARTS, LABELS, FieldErrors, money, parse_period
from app.gui.context import AppContext
from app.gui.form_fields import FieldSet, invalid_style
from app.gui.postclose.record_view import GradeBadge, flag_words
from app.services.database import Database
from app.services.postclose.periods import (
    PeriodExists,
    PeriodRow,
    PeriodSaved,
    add_period,
    get_period,
    month_label,
    update_period,
)
from app.services.postclose.records import RecordInfo

Ask = Callable[[QWidget, str, str], bool]

_PLACEHOLDERS = {
    "actual_rent_collected": "e.g. 2,450.00",
    "actual_vacancy_rate": "5% or 0.05",
    "expenses_total": "sum of the breakdown",
    "actual_noi": "may be negative",
    "actual_monthly_cash_flow": "may be negative",
    "actual_dscr": "e.g. 1.32",
}


def ask(parent: QWidget, title: str, text: str) -> bool:
    answer = QMessageBox.question(parent, title, text)
    return answer == QMessageBox.StandardButton.Yes


def _pct(value: Decimal | None) -> str:
    return "—" if value is None else f"{value:+,.2f}%"


def _signed(value: Decimal, currency: str) -> str:
    text = format_money(value, currency)
    return text if value < 0 else f"+{text}"


class PreviewPanel(QFrame):
    """What the month will get: grade, variances against the pro forma, flags."""

    def __init__(self, currency: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("periodPreview")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.currency = currency
        self.badge = GradeBadge()
        self.state = QLabel()
        self.state.setObjectName("previewState")
        self.state.setWordWrap(True)
        self.grid = QGridLayout()
        self.cells: dict[tuple[str, int], QLabel] = {}
        for c, heading in enumerate(("", "Actual", "Pro forma", "Variance", "%")):
            label = QLabel(f"<b>{heading}</b>")
            label.setAlignment(Qt.AlignmentFlag.AlignRight)
            self.grid.addWidget(label, 0, c)
        for r, key in enumerate(("cash_flow", "rent", "expenses", "dscr"), start=1):
            name = {"cash_flow": "Cash flow", "rent": "Rent", "expenses": "Expenses"}.get(
                key, "DSCR"
            )
            self.grid.addWidget(QLabel(name), r, 0)
            for c in range(1, 5):
                cell = QLabel("—")
                cell.setObjectName(f"preview_{key}_{c}")
                cell.setAlignment(Qt.AlignmentFlag.AlignRight)
                self.grid.addWidget(cell, r, c)
                self.cells[(key, c)] = cell
        self.flags = QLabel()
        self.flags.setObjectName("previewFlags")
        self.flags.setWordWrap(True)
        layout = QVBoxLayout(self)
        title = QLabel("<b>What this month will get</b>")
        top = QHBoxLayout()
        top.addWidget(title)
        top.addStretch(1)
        top.addWidget(self.badge)
        layout.addLayout(top)
        layout.addWidget(self.state)
        layout.addLayout(self.grid)
        layout.addWidget(QLabel("<b>Flags</b>"))
        layout.addWidget(self.flags)
        layout.addStretch(1)
        self.grade: str | None = None

    def show_missing(self, text: str) -> None:
        self.grade = None
        self.badge.set_grade(None)
        self.state.setText(text)
        for cell in self.cells.values():
            cell.setText("—")
        self.flags.setText("—")

    def show_assessment(self, info: RecordInfo, actual: dict[str, Decimal], a: Assessment) -> None:
        p, cur = info.projection, self.currency
        self.grade = a.grade.value
        self.badge.set_grade(a.grade.value)
        self.state.setText(
            f"Against the pro forma locked at close (required DSCR {info.required_dscr})."
        )
        rows = {
            "cash_flow": (
                actual["cash_flow"], p.cash_flow, a.cash_flow_variance, a.cash_flow_variance_pct
            ),
            "rent": (actual["rent"], p.rent, a.rent_variance, a.rent_variance_pct),
            "expenses": (
                actual["expenses"], p.expenses, a.expense_variance, a.expense_variance_pct
            ),
        }  # fmt: skip
        for key, (act, proj, var, pct) in rows.items():
            self.cells[(key, 1)].setText(format_money(act, cur))
            self.cells[(key, 2)].setText(format_money(proj, cur))
            self.cells[(key, 3)].setText(_signed(var, cur))
            self.cells[(key, 4)].setText(_pct(pct))
        self.cells[("dscr", 1)].setText(f"{actual['dscr']:.2f}")
        self.cells[("dscr", 2)].setText(f"{p.dscr:.2f}")
        self.cells[("dscr", 3)].setText(f"{a.dscr_variance:+.2f}")
        self.cells[("dscr", 4)].setText("")
        self.flags.setText(
            "\n".join(f"• {flag_words(f)}" for f in a.flags) if a.flags else "None — on plan."
        )


class PeriodDialog(QDialog):
    """Enter a month (``period`` None) or change one. ``saved`` carries the PeriodSaved."""

    saved = Signal(object)

    def __init__(
        self,
        ctx: AppContext,
        db: Database,
        info: RecordInfo,
        period: PeriodRow | None = None,
        month: tuple[int, int] | None = None,
        currency: str = "USD",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("periodDialog")
        self.ctx, self.db, self.info, self.period = ctx, db, info, period
        self.ask: Ask = ask
        self.result_saved: PeriodSaved | None = None
        self._dirty = False
        self._saving = False
        self.setStyleSheet(invalid_style())

        head = QLabel(
            f"<b>{info.ref or f'#{info.id}'}</b> · {info.market_key} · {info.buyer_name}"
            + (f" · buy box {info.buy_box_name}" if info.buy_box_name else "")
        )
        head.setObjectName("periodHeader")
        self.month_edit = QDateEdit()
        self.month_edit.setObjectName("monthEdit")
        self.month_edit.setDisplayFormat("MMMM yyyy")
        self.month_edit.setCalendarPopup(False)
        today = dt.date.today()
        self.month_edit.setMaximumDate(QDate(today.year, today.month, 1))
        self.month_edit.setMinimumDate(QDate(info.closed_date.year, info.closed_date.month, 1))
        if period is not None:
            y, m = period.year, period.month
        elif month is not None:
            y, m = month
        else:
            prev = today.replace(day=1) - dt.timedelta(days=1)
            y, m = prev.year, prev.month
        self.month_edit.setDate(QDate(y, m, 1))
        self.month_edit.setEnabled(period is None)

        form = QFormLayout()
        self.fields = FieldSet(form, lambda name: LABELS.get(name, name))
        self.fields.add("month", "&Month", self.month_edit)
        self.inputs: dict[str, QLineEdit] = {}
        for name in ("actual_rent_collected", "actual_vacancy_rate"):
            self._line(name, form)
        expenses = QGroupBox("Expenses")
        exp_form = QFormLayout(expenses)
        self.exp_fields = FieldSet(exp_form, lambda name: LABELS.get(name, name))
        for name in (*EXPENSE_PARTS, "expenses_total"):
            self._line(name, exp_form, self.exp_fields)
        self.sum_label = QLabel()
        self.sum_label.setObjectName("expensesSum")
        exp_form.addRow("", self.sum_label)
        form2 = QFormLayout()
        self.fields2 = FieldSet(form2, lambda name: LABELS.get(name, name))
        for name in ("actual_noi", "actual_monthly_cash_flow", "actual_dscr"):
            self._line(name, form2, self.fields2)
        self.notes = QPlainTextEdit()
        self.notes.setObjectName("notes")
        self.notes.setFixedHeight(60)
        self.notes.textChanged.connect(self._edited)
        self.fields2.add("notes", "N&otes", self.notes)

        left = QVBoxLayout()
        left.addLayout(form)
        left.addWidget(expenses)
        left.addLayout(form2)
        self.preview = PreviewPanel(currency)
        self.preview.setMinimumWidth(420)
        self.stamp = QLabel()
        self.stamp.setObjectName("periodStamp")
        self.stamp.setWordWrap(True)
        self.problem = QLabel()
        self.problem.setObjectName("periodProblem")
        self.problem.setWordWrap(True)
        self.problem.setProperty("role", "error")
        right = QVBoxLayout()
        right.addWidget(self.preview, 1)
        right.addWidget(self.stamp)
        right.addWidget(self.problem)

        body = QHBoxLayout()
        body.addLayout(left, 3)
        body.addLayout(right, 2)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        QShortcut(QKeySequence.StandardKey.Save, self, self.save)
        layout = QVBoxLayout(self)
        layout.addWidget(head)
        layout.addLayout(body)
        layout.addWidget(self.buttons)
        self.setWindowTitle(
            f"{'Change' if period else 'Enter'} a month — {info.ref or f'#{info.id}'}"
        )
        if period is not None:
            self._fill(period)
        self._update_preview()
        self._dirty = False
        self.inputs["actual_rent_collected"].setFocus()

    # -- building ------------------------------------------------------------------------

    def _line(self, name: str, form: QFormLayout, fields: FieldSet | None = None) -> None:
        edit = QLineEdit()
        edit.setObjectName(name)
        edit.setPlaceholderText(_PLACEHOLDERS.get(name, ""))
        edit.setAlignment(Qt.AlignmentFlag.AlignRight)
        edit.textEdited.connect(self._edited)
        self.inputs[name] = edit
        (fields or self.fields).add(name, f"{LABELS[name]}", edit)

    def _fill(self, period: PeriodRow) -> None:
        for name, edit in self.inputs.items():
            edit.setText(period.texts.get(name, ""))
        self.notes.setPlainText(period.texts.get("notes", ""))
        self._stamp(period)

    def _stamp(self, period: PeriodRow) -> None:
        stamp = f"Entered by {period.entered_by} on {period.entered_at:%d %b %Y}"
        if period.updated_by and period.updated_at:
            stamp += f"; last changed by {period.updated_by} on {period.updated_at:%d %b %Y}"
        self.stamp.setText(stamp + ".")

    # -- reading what was typed --------------------------------------------------------------

    def texts(self) -> dict[str, str]:
        out = {name: edit.text() for name, edit in self.inputs.items()}
        out["notes"] = self.notes.toPlainText()
        return out

    def year_month(self) -> tuple[int, int]:
        d = self.month_edit.date()
        return d.year(), d.month()

    def _edited(self, *_args: object) -> None:
        self._dirty = True
        self.problem.clear()
        self._update_preview()

    def _update_preview(self) -> None:
        texts = self.texts()
        parts: list[Decimal] = []
        for name in EXPENSE_PARTS:
            try:
                parts.append(money(texts[name]))
            except ValueError:
                continue  # empty or refused: said under the field on save
        total = sum(parts, Decimal(0))
        self.sum_label.setText(
            f"Breakdown total: {format_money(total, self.preview.currency)}"
            if any(texts[n].strip() for n in EXPENSE_PARTS)
            else "Give the breakdown, or the total alone."
        )
        try:
            values = parse_period(texts, self.info.loan_type)
        except FieldErrors as exc:
            names = ", ".join(LABELS.get(n, n) for n in exc.errors)
            required = all(m.startswith("required") for m in exc.errors.values())
            self.preview.show_missing(f"{'To fill in' if required else 'To correct'}: {names}.")
            return
        a = assess(self.info.projection, values.actuals(), self.info.required_dscr)
        actual = {
            "cash_flow": values.actual_monthly_cash_flow,
            "rent": values.actual_rent_collected,
            "expenses": values.expenses_total,
            "dscr": values.actual_dscr,
        }
        self.preview.show_assessment(self.info, actual, a)

    # -- saving -------------------------------------------------------------------------

    def save(self) -> None:
        if self._saving:
            return
        self._saving = True
        self.buttons.setEnabled(False)
        texts = self.texts()
        db, info, period = self.db, self.info, self.period
        year, month = self.year_month()
        if period is None:
            task: Callable[[], PeriodSaved] = lambda: add_period(db, info.id, year, month, texts)  # noqa: E731
        else:
            version = period.version
            task = lambda: update_period(db, period.id, texts, version)  # noqa: E731
        self.ctx.ops.run(
            task,
            label="Saving the month…",
            on_success=self._saved,
            on_error=self._failed,
            on_finished=self._finished,
            parent=self,
        )

    def _finished(self) -> None:
        self._saving = False
        self.buttons.setEnabled(True)

    def _saved(self, result: PeriodSaved) -> None:
        self.result_saved = result
        self._dirty = False
        self.saved.emit(result)
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        if isinstance(exc, PeriodExists):
            year, month = self.year_month()
            if self.ask(
                self,
                "Month already entered",
                f"{month_label(year, month)} is entered already for "
                f"{self.info.ref or f'#{self.info.id}'}. Open it to change it?",
            ):
                self._open_existing(exc.period_id)
            return
        if isinstance(exc, FieldErrors):
            rest: list[str] = []
            for fields in (self.fields, self.exp_fields, self.fields2):
                errors = {k: v for k, v in exc.errors.items() if k in fields.inputs}
                fields.place_errors(errors)
            known = set(self.fields.inputs) | set(self.exp_fields.inputs) | set(self.fields2.inputs)
            rest = [f"{LABELS.get(k, k)}: {v}" for k, v in exc.errors.items() if k not in known]
            self.problem.setText("\n".join(rest) or "Correct the marked fields; nothing was saved.")
            return
        if isinstance(exc, ConflictError):
            self.problem.setText(str(exc))
            return
        self.ctx.ops.present(exc, self)

    def _open_existing(self, period_id: int) -> None:
        db = self.db

        def loaded(row: PeriodRow) -> None:
            # What was typed stays as typed: the person came to change the month to it.
            self.period = row
            self.month_edit.setEnabled(False)
            self._stamp(row)
            self.setWindowTitle(f"Change a month — {self.info.ref or f'#{self.info.id}'}")
            self.problem.setText(
                "Opened the month already entered, with what you typed over it: Save to change it."
            )
            self._update_preview()

        self.ctx.ops.run(lambda: get_period(db, period_id), on_success=loaded, parent=self)

    # -- closing ------------------------------------------------------------------------

    def reject(self) -> None:
        if self._dirty and not self.ask(
            self, "Discard this month?", "What you typed has not been saved. Discard it?"
        ):
            return
        super().reject()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._dirty and not self.ask(
            self, "Discard this month?", "What you typed has not been saved. Discard it?"
        ):
            event.ignore()
            return
        self._dirty = False
        super().closeEvent(event)
