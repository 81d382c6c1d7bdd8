"""Award badge… (a person, a badge and any day of the period it is for) and New badge rule… /
Edit rule… (key, name, description, what it counts, threshold, period type).

Saving runs in the background; what the service refuses is said in the dialog (under the
field it is about, when it names one), and the dialog stays open with what was typed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QDate, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QCompleter,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QWidget,
)

from app.domain.enums import PeriodType
from app.domain.errors import PermissionDenied, ValidationError
from app.domain.periods import period_of
from app.gui.context import AppContext
from app.gui.field_message import FieldMessage
from app.gui.form_fields import FieldSet, invalid_style, sentence
from app.gui.kpis.assignment_models import period_label, period_name, plain
from app.gui.kpis.badge_models import metric_label
from app.services.dberrors import is_connection_lost
from app.services.kpis.achievements import (
    KPI_PREFIX,
    BadgeRule,
    award_manually,
    metric_choices,
    save_rule,
)
from app.services.records import Acting

if TYPE_CHECKING:
    from app.services.database import Database

DATE_FORMAT = "yyyy-MM-dd"
KPI_CHOICE = KPI_PREFIX  # the metric combo's "KPI…" item: a KPI's name is typed beside it
RULE_LABELS = {
    "key": "Key",
    "name": "Name",
    "description": "Description",
    "metric": "Counts",
    "threshold": "Threshold",
    "period_type": "Period",
}
AWARD_LABELS = {"person": "Person", "badge": "Badge", "day": "Day"}


def qdate(day: dt.date) -> QDate:
    return QDate(day.year, day.month, day.day)


def pydate(value: QDate) -> dt.date:
    return dt.date(value.year(), value.month(), value.day())


def field_errors(message: str, fields: Sequence[str]) -> dict[str, str]:
    """ "key: lower-case letters…; name: required" → {"key": …, "name": …}; a part naming no
    field is kept under "" (said under the form)."""
    errors: dict[str, str] = {}
    for part in message.split("; "):
        name, sep, reason = part.partition(": ")
        if sep and name.strip() in fields:
            errors[name.strip()] = reason
        else:
            errors[""] = f"{errors[''] + '; ' if '' in errors else ''}{part}"
    return errors


class BadgeFormDialog(QDialog):
    """A form (a FieldSet), a message under it and Save/Cancel; saving runs in the background
    and the service's refusal is said in the dialog."""

    saved = Signal(object)  # what the service returned

    def __init__(
        self,
        ctx: AppContext,
        db: Database,
        acting: Acting,
        labels: Mapping[str, str],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.db = db
        self.acting = acting
        self.setStyleSheet(invalid_style())
        self.form = QFormLayout(self)
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.fields = FieldSet(self.form, lambda name: labels.get(name, name))

    def finish_form(self, ok_text: str) -> None:
        self.form_message = FieldMessage()
        self.form_message.setObjectName("formMessage")
        self.form.addRow(self.form_message)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self._ok_text = ok_text
        self.ok_button.setText(ok_text)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        self.form.addRow(self.buttons)

    def save_task(self) -> Callable[[], Any]:
        raise NotImplementedError

    def ready(self) -> bool:
        """Whether there is something to save (a subclass says why not in the form)."""
        return True

    @Slot()
    def submit(self) -> None:
        if not self.ok_button.isEnabled():
            return
        self.fields.clear()
        self.form_message.clear_message()
        if not self.ready():
            return
        self._busy(True)
        self.ctx.ops.run(
            self.save_task(),
            label="Saving…",
            on_success=self._saved,
            on_error=self._refused,
            on_finished=lambda: self._busy(False),
            parent=self,
        )

    def _busy(self, busy: bool) -> None:
        self.ok_button.setEnabled(not busy)
        self.ok_button.setText("Saving…" if busy else self._ok_text)

    def _saved(self, result: object) -> None:
        self.saved.emit(result)
        self.accept()

    def _refused(self, exc: BaseException) -> None:
        if isinstance(exc, ValidationError):
            self.show_errors(field_errors(str(exc), list(self.fields.inputs)))
        elif isinstance(exc, PermissionDenied):
            self.form_message.show_error(sentence(str(exc)))
        elif is_connection_lost(exc):
            self.form_message.show_error(
                "Nothing was saved: the connection to the server was lost. Everything you "
                "typed is still here; save again once PerfDesk has reconnected."
            )
        else:
            self.ctx.ops.present(exc, self)

    def show_errors(self, errors: Mapping[str, str]) -> None:
        placed = {k: v for k, v in errors.items() if k}
        elsewhere = self.fields.place_errors(placed)
        if "" in errors:
            elsewhere.append(errors[""])
        if elsewhere:
            self.form_message.show_error(sentence("; ".join(elsewhere)))

    def field_error(self, name: str) -> str:
        return self.fields.error(name)


# -- Award badge… -------------------------------------------------------------------------------


class AwardDialog(BadgeFormDialog):
    """A badge for a person, for the period (of the badge's type) holding the day chosen."""

    def __init__(
        self,
        ctx: AppContext,
        db: Database,
        people: Sequence[tuple[int, str, str]],
        rules: Sequence[BadgeRule],
        acting: Acting = None,
        today: dt.date | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(ctx, db, acting, AWARD_LABELS, parent)
        self.setObjectName("awardDialog")
        self.setWindowTitle("Award a badge")
        self.setMinimumWidth(440)
        self.today = today or dt.date.today()
        self.rules = [r for r in rules if r.is_active]

        self.person_combo = QComboBox()
        self.person_combo.setObjectName("personCombo")
        for user_id, name, email in people:
            self.person_combo.addItem(f"{name} ({email})", user_id)
        self.fields.add("person", "&Person:", self.person_combo)

        self.badge_combo = QComboBox()
        self.badge_combo.setObjectName("badgeCombo")
        for rule in self.rules:
            self.badge_combo.addItem(rule.name, rule.id)
            self.badge_combo.setItemData(
                self.badge_combo.count() - 1,
                rule.description or metric_label(rule.metric),
                Qt.ItemDataRole.ToolTipRole,
            )
        self.badge_combo.currentIndexChanged.connect(self._show_period)
        self.fields.add("badge", "&Badge:", self.badge_combo)

        self.day_edit = QDateEdit(qdate(self.today))
        self.day_edit.setObjectName("dayEdit")
        self.day_edit.setCalendarPopup(True)
        self.day_edit.setDisplayFormat(DATE_FORMAT)
        self.day_edit.setToolTip("Any day of the period the badge is for")
        self.day_edit.dateChanged.connect(self._show_period)
        self.period_label = QLabel()
        self.period_label.setObjectName("periodLabel")
        self.period_label.setStyleSheet("font-weight: 600;")
        picker = QWidget()
        row = QHBoxLayout(picker)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.day_edit)
        row.addWidget(self.period_label, 1)
        self.fields.add("day", "&Day:", picker)
        self.day_edit.dateChanged.connect(partial(self.fields.clear_field, "day"))
        self.finish_form("&Award")
        if not people:
            self.form_message.show_error("There is nobody you may award a badge to.")
        elif not self.rules:
            self.form_message.show_error("There are no active badges; an admin adds them.")
        self._show_period()

    def rule(self) -> BadgeRule | None:
        rule_id = self.badge_combo.currentData()
        return next((r for r in self.rules if r.id == rule_id), None)

    def day(self) -> dt.date:
        return pydate(self.day_edit.date())

    def person_name(self) -> str:
        text = self.person_combo.currentText()
        return text.rsplit(" (", 1)[0]

    @Slot()
    def _show_period(self) -> None:
        rule = self.rule()
        if rule is None:
            self.period_label.setText("")
            return
        kind = PeriodType(rule.period_type)
        p = period_of(kind, self.day())
        self.period_label.setText(period_label(kind, self.day()))
        self.period_label.setToolTip(
            f"{period_name(rule.period_type)} period: {p.start.isoformat()} to {p.end.isoformat()}"
        )

    def ready(self) -> bool:
        errors: dict[str, str] = {}
        if self.person_combo.currentData() is None:
            errors["person"] = "choose a person"
        if self.rule() is None:
            errors["badge"] = "choose a badge"
        if errors:
            self.show_errors(errors)
        return not errors

    def save_task(self) -> Callable[[], Any]:
        rule = self.rule()
        assert rule is not None  # ready() said so
        return partial(
            award_manually,
            self.db,
            int(self.person_combo.currentData()),
            rule.id,
            self.day(),
            self.acting,
        )


# -- New badge rule… / Edit rule… ---------------------------------------------------------------


class RuleDialog(BadgeFormDialog):
    """A badge rule: earned by whoever's figure for a period of its type reaches the
    threshold. "KPI…" counts a KPI's measured value (``kpi:<name>``)."""

    def __init__(
        self,
        ctx: AppContext,
        db: Database,
        rule: BadgeRule | None = None,
        kpi_names: Sequence[str] = (),
        acting: Acting = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(ctx, db, acting, RULE_LABELS, parent)
        self.rule = rule
        self.setObjectName("ruleDialog")
        self.setWindowTitle("Edit badge rule" if rule is not None else "New badge rule")
        self.setMinimumWidth(480)

        self.key_edit = QLineEdit()
        self.key_edit.setObjectName("keyEdit")
        self.key_edit.setPlaceholderText("first_10k: lower-case letters, digits and _")
        self.key_edit.setMaxLength(60)
        self.fields.add("key", "&Key:", self.key_edit)
        self.name_edit = QLineEdit()
        self.name_edit.setObjectName("nameEdit")
        self.name_edit.setPlaceholderText("First $10K")
        self.name_edit.setMaxLength(120)
        self.fields.add("name", "&Name:", self.name_edit)
        self.description_edit = QPlainTextEdit()
        self.description_edit.setObjectName("descriptionEdit")
        self.description_edit.setPlaceholderText("What it is for (shown with the badge)")
        self.description_edit.setFixedHeight(self.fontMetrics().height() * 3 + 12)
        self.fields.add("description", "&Description:", self.description_edit)

        self.metric_combo = QComboBox()
        self.metric_combo.setObjectName("metricCombo")
        for key, label in metric_choices():
            self.metric_combo.addItem(label, key)
        self.metric_combo.addItem("KPI…", KPI_CHOICE)
        self.metric_combo.currentIndexChanged.connect(self._metric_changed)
        self.kpi_edit = QLineEdit()
        self.kpi_edit.setObjectName("kpiEdit")
        self.kpi_edit.setPlaceholderText("The KPI's name")
        self.kpi_edit.setToolTip("The badge counts this KPI's measured value for the period")
        if kpi_names:
            completer = QCompleter(list(kpi_names), self.kpi_edit)
            completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
            self.kpi_edit.setCompleter(completer)
        picker = QWidget()
        row = QHBoxLayout(picker)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.metric_combo)
        row.addWidget(self.kpi_edit, 1)
        self.fields.add("metric", "&Counts:", picker)
        self.kpi_edit.textEdited.connect(partial(self.fields.clear_field, "metric"))
        self.metric_combo.currentIndexChanged.connect(partial(self.fields.clear_field, "metric"))

        self.threshold_edit = QLineEdit()
        self.threshold_edit.setObjectName("thresholdEdit")
        self.threshold_edit.setPlaceholderText("10000")
        self.threshold_edit.setToolTip("Earned when the figure for a period reaches this")
        self.fields.add("threshold", "&Threshold:", self.threshold_edit)
        self.period_combo = QComboBox()
        self.period_combo.setObjectName("periodCombo")
        for kind in PeriodType:
            self.period_combo.addItem(period_name(kind.value), kind.value)
        self.period_combo.setCurrentIndex(self.period_combo.findData(PeriodType.MONTHLY.value))
        self.fields.add("period_type", "&Period:", self.period_combo)
        self.active_check = QCheckBox("&Active: awarded by the scheduled job")
        self.active_check.setObjectName("activeCheck")
        self.active_check.setChecked(True)
        self.form.addRow("", self.active_check)
        self.finish_form("&Save")
        if rule is not None:
            self._fill(rule)
        self._metric_changed()

    def _fill(self, rule: BadgeRule) -> None:
        self.key_edit.setText(rule.key)
        self.name_edit.setText(rule.name)
        self.description_edit.setPlainText(rule.description or "")
        if rule.metric.startswith(KPI_PREFIX):
            self.metric_combo.setCurrentIndex(self.metric_combo.findData(KPI_CHOICE))
            self.kpi_edit.setText(rule.metric[len(KPI_PREFIX) :])
        else:
            index = self.metric_combo.findData(rule.metric)
            if index < 0:  # a figure offered by the service but not by the list
                self.metric_combo.insertItem(
                    self.metric_combo.count() - 1, metric_label(rule.metric), rule.metric
                )
                index = self.metric_combo.findData(rule.metric)
            self.metric_combo.setCurrentIndex(index)
        self.threshold_edit.setText(plain(rule.threshold).replace(",", ""))
        index = self.period_combo.findData(rule.period_type)
        if index >= 0:
            self.period_combo.setCurrentIndex(index)
        self.active_check.setChecked(rule.is_active)

    @Slot()
    def _metric_changed(self) -> None:
        kpi = self.metric_combo.currentData() == KPI_CHOICE
        self.kpi_edit.setEnabled(kpi)
        self.kpi_edit.setVisible(kpi)

    def chosen_metric(self) -> str:
        chosen = str(self.metric_combo.currentData())
        if chosen == KPI_CHOICE:
            return f"{KPI_PREFIX}{self.kpi_edit.text().strip()}"
        return chosen

    def values(self) -> dict[str, Any]:
        return {
            "key": self.key_edit.text().strip(),
            "name": self.name_edit.text().strip(),
            "description": self.description_edit.toPlainText().strip(),
            "metric": self.chosen_metric(),
            "threshold": self.threshold_edit.text().strip(),
            "period_type": self.period_combo.currentData(),
            "icon": self.rule.icon if self.rule is not None else None,
            "is_active": self.active_check.isChecked(),
        }

    def ready(self) -> bool:
        if self.chosen_metric() == KPI_PREFIX:
            self.show_errors({"metric": "type the name of the KPI the badge counts"})
            return False
        return True

    def save_task(self) -> Callable[[], Any]:
        return partial(
            save_rule,
            self.db,
            self.values(),
            self.rule.id if self.rule is not None else None,
            self.acting,
        )
