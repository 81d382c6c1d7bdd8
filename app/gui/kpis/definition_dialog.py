"""New/Edit KPI definition: the general fields, then a part per calculation (manual range,
query SQL with "Test query", formula with its inputs, API provider settings). The form's text
goes to ``save_definition`` in the background; each problem it finds is said under its field
and the dialog keeps what was typed. A built-in definition's calculation cannot change.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.domain.enums import CalculationType, PeriodType, TargetType
from app.domain.errors import ConflictError, PerfDeskError, PermissionDenied, ValidationError
from app.domain.kpi_sources import BUILTIN_METRICS
from app.domain.periods import period_of
from app.gui.context import AppContext
from app.gui.field_message import FieldMessage
from app.gui.form_fields import FieldSet, invalid_style, sentence
from app.gui.kpis.definition_inputs import InputLine, InputsEditor
from app.services import users
from app.services.dberrors import is_connection_lost
from app.services.kpis import adapters, definitions, query
from app.services.kpis.definitions import (
    CALCULATION_LABELS,
    FIELD_LABELS,
    PERIOD_LABELS,
    TARGET_LABELS,
    DefinitionError,
    DefinitionRow,
    DefinitionSaved,
)
from app.services.records import resolve_actor

if TYPE_CHECKING:
    from app.services.database import Database

#: ``confirm(parent, title, text) -> bool``: tests replace it.
Confirm = Callable[[QWidget, str, str], bool]

BUILTIN = "builtin"  # the calculation combo's entry for the built-in library
MANUAL = CalculationType.MANUAL.value
QUERY = CalculationType.QUERY.value
FORMULA = CalculationType.FORMULA.value
API = CalculationType.API.value
HTTP_JSON = "http_json"
GENERAL = (
    "name",
    "description",
    "category",
    "unit",
    "aggregation_period",
    "target_type",
    "calculation_type",
)

QUERY_HINT = (
    "Parameters: :user_id (the person), :start_date (the period's first day) and :end_date "
    "(the day after its last: the end is exclusive). The query runs read-only and must give "
    "one number."
)
QUERY_PLACEHOLDER = (
    "SELECT count(*) FROM leads\n"
    "WHERE owner_id = :user_id\n"
    "  AND created_at >= :start_date AND created_at < :end_date"
)
FORMULA_HINT = "Numbers, the inputs' names, + - * /, parentheses, min(), max() and abs()."


def ask_discard(parent: QWidget, title: str, text: str) -> bool:
    answer = QMessageBox.question(
        parent,
        title,
        text,
        QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
        QMessageBox.StandardButton.Cancel,
    )
    return answer == QMessageBox.StandardButton.Discard


def field_label(name: str) -> str:
    return FIELD_LABELS.get(name, name.replace("_", " ").capitalize())


def plain_number(value: Decimal | None) -> str:
    """A stored bound as typed: 100.0000 → '100', 2.5000 → '2.5'."""
    if value is None:
        return ""
    return format(value.normalize(), "f")


# -- "Test query", on a worker ------------------------------------------------------------------


@dataclass(frozen=True)
class QueryTried:
    value: Decimal | None
    person: str
    start: dt.date
    end: dt.date  # the period's last day


def try_query(
    db: Database, sql: str, period: str, acting: str | None, today: dt.date | None = None
) -> QueryTried:
    """Runs on a worker: the query's value for the acting person (or, when nobody is named,
    the first active person, as saving tries it) over the current period of ``period``."""
    with db.read() as s:
        actor = resolve_actor(s, db, acting)
        person = definitions._dry_run_person(s, actor)
    if person is None:
        raise ValidationError(
            "there is no one in the office yet to try the query for; add a person first"
        )
    email = actor.email if actor is not None else ""
    if not email:
        email = next((u.email for u in users.list_users(db) if u.id == person), f"#{person}")
    day = today or dt.datetime.now(dt.UTC).date()
    span = period_of(PeriodType(period), day)
    value = query.dry_run(db, sql, person, span.start, span.end)
    return QueryTried(value, email, span.start, span.end)


def tried_text(result: QueryTried) -> str:
    when = f"{result.start.isoformat()} to {result.end.isoformat()}"
    if result.value is None:
        return f"The query gives no value (nothing counted) for {result.person}, {when}."
    return f"The query gives {plain_number(result.value)} for {result.person}, {when}."


# -- the API part ---------------------------------------------------------------------------------


class ApiSourceBox(QObject):
    """The rows of the API part, in ``form``: provider, metric, for HTTP JSON the URL and JSON
    path, an optional base URL, the message for the data source, and Save token…;
    ``changed`` on any edit."""

    changed = Signal()

    def __init__(self, form: QFormLayout, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.form = form
        self.provider_combo = QComboBox()
        self.provider_combo.setObjectName("providerCombo")
        for key, label in adapters.PROVIDERS.items():
            self.provider_combo.addItem(label, key)
        self.metric_combo = QComboBox()
        self.metric_combo.setObjectName("metricCombo")
        self.url_edit = QLineEdit()
        self.url_edit.setObjectName("urlEdit")
        self.url_edit.setPlaceholderText(
            "https://example.com/stats?email={user_email}&from={start_date}&to={end_date}"
        )
        self.url_edit.setToolTip(
            "{user_email}, {start_date} and {end_date} are replaced by the person's email and "
            "the period's first and last day"
        )
        self.json_path_edit = QLineEdit()
        self.json_path_edit.setObjectName("jsonPathEdit")
        self.json_path_edit.setPlaceholderText("e.g. data.total or $.items[0].value")
        self.base_url_edit = QLineEdit()
        self.base_url_edit.setObjectName("baseUrlEdit")
        self.base_url_edit.setPlaceholderText("Optional: another address of the provider's API")
        self.token_button = QPushButton("Save to&ken…")
        self.token_button.setObjectName("saveTokenButton")
        self.token_button.setToolTip(
            "Keep the provider's token in this computer's system keyring (never in a file)"
        )
        self.message = FieldMessage()
        self.message.setObjectName("apiMessage")
        self.token_message = FieldMessage()
        self.token_message.setObjectName("tokenMessage")
        token_row = QHBoxLayout()
        token_row.setContentsMargins(0, 0, 0, 0)
        token_row.addWidget(self.token_button)
        token_row.addStretch(1)

        self.form.addRow("Pro&vider:", self.provider_combo)
        self.form.addRow("&Metric:", self.metric_combo)
        self.form.addRow("UR&L:", self.url_edit)
        self.form.addRow("&JSON path:", self.json_path_edit)
        self.form.addRow("&Base URL:", self.base_url_edit)
        self.form.addRow("", self.message)
        self.form.addRow("", token_row)
        self.form.addRow("", self.token_message)

        self.provider_combo.currentIndexChanged.connect(self._provider_chosen)
        self.metric_combo.currentIndexChanged.connect(self._emit_changed)
        for edit in (self.url_edit, self.json_path_edit, self.base_url_edit):
            edit.textEdited.connect(self._emit_changed)
        self._provider_chosen()

    def provider(self) -> str:
        return str(self.provider_combo.currentData() or "")

    def provider_label(self) -> str:
        return self.provider_combo.currentText()

    @Slot()
    def _provider_chosen(self) -> None:
        provider = self.provider()
        adapter = adapters.ADAPTERS.get(provider)
        metrics = adapter.metrics if adapter is not None else {}
        self.metric_combo.blockSignals(True)
        self.metric_combo.clear()
        for key, label in metrics.items():
            self.metric_combo.addItem(f"{key} — {label}", key)
        if not metrics:
            self.metric_combo.addItem(f"Not used by {self.provider_label()}", "")
        self.metric_combo.setEnabled(bool(metrics))
        self.metric_combo.blockSignals(False)
        http = provider == HTTP_JSON
        self.form.setRowVisible(self.url_edit, http)
        self.form.setRowVisible(self.json_path_edit, http)
        self.token_message.clear_message()
        self._emit_changed()

    @Slot()
    def _emit_changed(self) -> None:
        self.changed.emit()

    def value(self) -> dict[str, str]:
        """The provider's settings as the service reads them (empty settings left out)."""
        provider = self.provider()
        out = {"provider": provider}
        metric = str(self.metric_combo.currentData() or "")
        if metric:
            out["metric"] = metric
        if provider == HTTP_JSON:
            out["url"] = self.url_edit.text().strip()
            out["json_path"] = self.json_path_edit.text().strip()
        base = self.base_url_edit.text().strip()
        if base:
            out["base_url"] = base
        return out

    def state(self) -> tuple[str, ...]:
        return (
            self.provider(),
            str(self.metric_combo.currentData() or ""),
            self.url_edit.text(),
            self.json_path_edit.text(),
            self.base_url_edit.text(),
        )

    def fill(self, doc: Mapping[str, Any]) -> None:
        at = self.provider_combo.findData(str(doc.get("provider") or ""))
        self.provider_combo.setCurrentIndex(max(at, 0))
        self._provider_chosen()
        metric = self.metric_combo.findData(str(doc.get("metric") or ""))
        if metric >= 0:
            self.metric_combo.setCurrentIndex(metric)
        self.url_edit.setText(str(doc.get("url") or ""))
        self.json_path_edit.setText(str(doc.get("json_path") or ""))
        self.base_url_edit.setText(str(doc.get("base_url") or ""))


# -- the dialog -----------------------------------------------------------------------------------


class DefinitionDialog(QDialog):
    saved = Signal(object)  # the service's DefinitionSaved

    def __init__(
        self,
        ctx: AppContext,
        db: Database,
        row: DefinitionRow | None = None,
        *,
        kpis: Sequence[str] = (),
        categories: Sequence[str] = (),
        acting: str | None = None,
        confirm: Confirm = ask_discard,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.db = db
        self.row = row
        self.acting = acting
        self.confirm = confirm
        self._saving = False
        self.setObjectName("kpiDefinitionDialog")
        self.setWindowTitle("Edit KPI definition" if row is not None else "New KPI definition")
        self.setMinimumWidth(600)
        self.setStyleSheet(invalid_style())
        outer = QVBoxLayout(self)
        self.field_sets: list[FieldSet] = []

        # -- what it is ---------------------------------------------------------------------------
        general = self.general_fields = self._field_set(outer)
        self.name_edit = self._line("nameEdit", "e.g. Calls made")
        general.add("name", "&Name:", self.name_edit)
        self.description_edit = QPlainTextEdit()
        self.description_edit.setObjectName("descriptionEdit")
        self.description_edit.setTabChangesFocus(True)
        self.description_edit.setPlaceholderText("What it measures, for the people it is assigned")
        self.description_edit.setFixedHeight(self.fontMetrics().lineSpacing() * 3 + 12)
        general.add("description", "&Description:", self.description_edit)
        self.category_combo = QComboBox()
        self.category_combo.setObjectName("categoryCombo")
        self.category_combo.setEditable(True)
        self.category_combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.category_combo.addItems(sorted({c for c in categories if c}, key=str.casefold))
        self.category_combo.setCurrentIndex(-1)
        category_edit = self.category_combo.lineEdit()
        if category_edit is not None:
            category_edit.setPlaceholderText("Optional, e.g. sales")
        general.add("category", "Ca&tegory:", self.category_combo)
        self.unit_edit = self._line("unitEdit", "Optional, e.g. count, $, %, minutes")
        general.add("unit", "&Unit:", self.unit_edit)
        self.period_combo = self._combo("periodCombo", PERIOD_LABELS)
        self.period_combo.setCurrentIndex(self.period_combo.findData(PeriodType.MONTHLY.value))
        general.add("aggregation_period", "&Period:", self.period_combo)
        self.target_combo = self._combo("targetCombo", TARGET_LABELS)
        self.target_combo.setCurrentIndex(
            self.target_combo.findData(TargetType.HIGHER_BETTER.value)
        )
        general.add("target_type", "Tar&get type:", self.target_combo)
        self.calculation_combo = self._combo("calculationCombo", CALCULATION_LABELS)
        general.add("calculation_type", "&Calculation:", self.calculation_combo)

        # -- how it is computed -------------------------------------------------------------------
        self.stack = QStackedWidget()
        self.stack.setObjectName("calculationStack")
        outer.addWidget(self.stack)
        self.pages: dict[str, QWidget] = {}
        self._build_manual()
        self._build_query()
        self._build_formula(kpis)
        self._build_api()
        self._build_builtin()

        # -- a stale save, a refusal, the buttons -------------------------------------------------
        self.conflict_bar = QFrame()
        self.conflict_bar.setObjectName("conflictBar")
        self.conflict_message = FieldMessage()
        self.conflict_message.setObjectName("conflictMessage")
        self.reload_button = QPushButton("&Reload")
        self.reload_button.setToolTip("Show the KPI as it is stored now (your edits go)")
        self.reload_button.clicked.connect(self.reload_row)
        bar = QHBoxLayout(self.conflict_bar)
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(self.conflict_message, 1)
        bar.addWidget(self.reload_button)
        self.conflict_bar.hide()
        outer.addWidget(self.conflict_bar)
        self.form_message = FieldMessage()
        self.form_message.setObjectName("formMessage")
        outer.addWidget(self.form_message)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText(self._ok_text)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        outer.addWidget(self.buttons)

        self.calculation_combo.currentIndexChanged.connect(self._calculation_chosen)
        if row is not None:
            self.fill(row)
        self._calculation_chosen()
        self._align_labels()
        self._initial = self.state()

    # -- building -------------------------------------------------------------------------------

    def _field_set(
        self, layout: QVBoxLayout | None = None, page: QWidget | None = None
    ) -> FieldSet:
        form = QFormLayout(page) if page is not None else QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        if page is not None:
            form.setContentsMargins(0, 0, 0, 0)
        if layout is not None:
            layout.addLayout(form)
        fields = FieldSet(form, field_label)
        self.field_sets.append(fields)
        return fields

    def _align_labels(self) -> None:
        """One label column for the general part and every calculation's part."""
        labels: list[QWidget] = []
        for fields in self.field_sets:
            form = fields.form
            for n in range(form.rowCount()):
                item = form.itemAt(n, QFormLayout.ItemRole.LabelRole)
                widget = item.widget() if item is not None else None
                if widget is not None:
                    labels.append(widget)
        width = max((w.sizeHint().width() for w in labels), default=0)
        for widget in labels:
            widget.setMinimumWidth(width)

    def _page(self, calculation: str) -> tuple[QWidget, FieldSet]:
        page = QWidget()
        page.setObjectName(f"{calculation}Page")
        fields = self._field_set(page=page)
        self.pages[calculation] = page
        self.stack.addWidget(page)
        return page, fields

    @staticmethod
    def _line(name: str, placeholder: str = "") -> QLineEdit:
        edit = QLineEdit()
        edit.setObjectName(name)
        edit.setPlaceholderText(placeholder)
        return edit

    @staticmethod
    def _combo(name: str, labels: Mapping[str, str]) -> QComboBox:
        combo = QComboBox()
        combo.setObjectName(name)
        for value, label in labels.items():
            combo.addItem(label, value)
        return combo

    def _build_manual(self) -> None:
        _page, fields = self._page(MANUAL)
        self.min_edit = self._line("minEdit", "Optional")
        self.min_edit.setToolTip("A value entered below it is refused")
        fields.add("min_value", "Allowed &minimum:", self.min_edit)
        self.max_edit = self._line("maxEdit", "Optional")
        self.max_edit.setToolTip("A value entered above it is refused")
        fields.add("max_value", "Allowed ma&ximum:", self.max_edit)

    def _build_query(self) -> None:
        _page, fields = self._page(QUERY)
        self.query_fields = fields
        self.query_edit = QPlainTextEdit()
        self.query_edit.setObjectName("queryEdit")
        self.query_edit.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.query_edit.setTabChangesFocus(True)
        self.query_edit.setPlaceholderText(QUERY_PLACEHOLDER)
        self.query_edit.setMinimumHeight(self.fontMetrics().lineSpacing() * 7)
        fields.add("query", "S&QL:", self.query_edit)
        hint = QLabel(QUERY_HINT)
        hint.setObjectName("queryHint")
        hint.setProperty("role", "hint")
        hint.setWordWrap(True)
        fields.form.addRow("", hint)
        self.test_button = QPushButton("T&est query")
        self.test_button.setObjectName("testQueryButton")
        self.test_button.setToolTip(
            "Run it now, read-only, for you (or the first person of the office) over the "
            "current period"
        )
        self.test_button.clicked.connect(self.test_query)
        row = QHBoxLayout()
        row.addWidget(self.test_button)
        row.addStretch(1)
        fields.form.addRow("", row)

    def _build_formula(self, kpis: Sequence[str]) -> None:
        _page, fields = self._page(FORMULA)
        self.formula_edit = self._line("formulaEdit", "e.g. won / leads * 100")
        self.formula_edit.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.formula_edit.setToolTip(FORMULA_HINT)
        fields.add("formula", "&Formula:", self.formula_edit)
        self.inputs_editor = InputsEditor(kpis)
        self.inputs_editor.setObjectName("inputsEditor")
        fields.add("inputs", "Inputs:", self.inputs_editor)

    def _build_api(self) -> None:
        _page, fields = self._page(API)
        self.api_box = ApiSourceBox(fields.form, self)
        self.api_box.token_button.clicked.connect(self.save_token)
        # The data source's problem is said under all its rows; the provider is marked.
        fields.inputs["api"] = self.api_box.provider_combo
        fields.messages["api"] = self.api_box.message
        self.api_box.changed.connect(partial(fields.clear_field, "api"))

    def _build_builtin(self) -> None:
        page = QWidget()
        page.setObjectName("builtinPage")
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        self.builtin_label = QLabel()
        self.builtin_label.setObjectName("builtinNote")
        self.builtin_label.setWordWrap(True)
        self.builtin_label.setProperty("role", "hint")
        layout.addWidget(self.builtin_label)
        layout.addStretch(1)
        self.pages[BUILTIN] = page
        self.stack.addWidget(page)

    # -- the calculation ------------------------------------------------------------------------

    def calculation(self) -> str:
        return str(self.calculation_combo.currentData() or MANUAL)

    @Slot()
    def _calculation_chosen(self) -> None:
        self.stack.setCurrentWidget(self.pages.get(self.calculation(), self.pages[MANUAL]))

    @property
    def is_builtin(self) -> bool:
        return self.row is not None and self.row.is_builtin

    # -- reading and showing the form -----------------------------------------------------------

    def values(self) -> dict[str, Any]:
        """The form as ``save_definition`` reads it: the general fields, and the current
        calculation's own."""
        calculation = self.calculation()
        out: dict[str, Any] = {
            "name": self.name_edit.text(),
            "description": self.description_edit.toPlainText(),
            "category": self.category_combo.currentText(),
            "unit": self.unit_edit.text(),
            "aggregation_period": str(self.period_combo.currentData() or ""),
            "target_type": str(self.target_combo.currentData() or ""),
            "calculation_type": calculation,
        }
        if calculation == BUILTIN and self.row is not None:
            out["calculation_type"] = self.row.calculation_type
        elif calculation == MANUAL:
            out["min_value"] = self.min_edit.text()
            out["max_value"] = self.max_edit.text()
        elif calculation == QUERY:
            out["query"] = self.query_edit.toPlainText()
        elif calculation == FORMULA:
            out["formula"] = self.formula_edit.text()
            out["inputs"] = self.inputs_editor.values()
        elif calculation == API:
            out["api"] = self.api_box.value()
        return out

    def state(self) -> tuple[Any, ...]:
        """Everything typed, on every calculation's part (to know whether to ask on Esc)."""
        values = self.values()
        return (
            tuple(str(values[k]) for k in GENERAL),
            self.min_edit.text(),
            self.max_edit.text(),
            self.query_edit.toPlainText(),
            self.formula_edit.text(),
            tuple(self.inputs_editor.model.lines()),
            self.api_box.state(),
        )

    def is_dirty(self) -> bool:
        return self.state() != self._initial

    def fill(self, row: DefinitionRow) -> None:
        self.name_edit.setText(row.name)
        self.description_edit.setPlainText(row.description or "")
        self.category_combo.setCurrentText(row.category or "")
        self.unit_edit.setText(row.unit or "")
        self.period_combo.setCurrentIndex(
            max(self.period_combo.findData(row.aggregation_period), 0)
        )
        self.target_combo.setCurrentIndex(max(self.target_combo.findData(row.target_type), 0))
        doc: Mapping[str, Any] = row.data_source or {}
        if row.is_builtin:
            if self.calculation_combo.findData(BUILTIN) < 0:
                self.calculation_combo.addItem("Built-in", BUILTIN)
            self.calculation_combo.setCurrentIndex(self.calculation_combo.findData(BUILTIN))
            self.calculation_combo.setEnabled(False)
            self.calculation_combo.setToolTip("The built-in library's calculation cannot change")
            metric = BUILTIN_METRICS.get(str(doc.get("metric") or ""))
            what = metric.label if metric is not None else str(doc.get("metric") or "")
            self.builtin_label.setText(f"Computed by PerfDesk from its own records: {what}.")
            return
        at = self.calculation_combo.findData(row.calculation_type)
        self.calculation_combo.setCurrentIndex(max(at, 0))
        self.min_edit.setText(plain_number(row.min_value))
        self.max_edit.setText(plain_number(row.max_value))
        if row.calculation_type == QUERY:
            self.query_edit.setPlainText(str(doc.get("query") or ""))
        elif row.calculation_type == FORMULA:
            self.formula_edit.setText(str(doc.get("formula") or ""))
            self.inputs_editor.set_lines([InputLine.of(i) for i in definitions.input_rows(row)])
        elif row.calculation_type == API:
            self.api_box.fill(doc)

    # -- saving ---------------------------------------------------------------------------------

    @property
    def _ok_text(self) -> str:
        return "&Save" if self.row is not None else "&Add"

    @Slot()
    def submit(self) -> None:
        if self._saving:
            return
        self.clear_errors()
        row = self.row
        task = partial(
            definitions.save_definition,
            self.db,
            self.values(),
            row.id if row is not None else None,
            row.version if row is not None else None,
            self.acting,
        )
        self._busy(True)
        self.ctx.ops.run(
            task,
            label="Saving the KPI definition…",
            on_success=self._saved,
            on_error=self._refused,
            on_finished=lambda: self._busy(False),
            parent=self,
        )

    def _busy(self, busy: bool) -> None:
        self._saving = busy
        self.ok_button.setEnabled(not busy)
        self.ok_button.setText("Saving…" if busy else self._ok_text)

    def _saved(self, result: DefinitionSaved) -> None:
        self._saving = False
        self.saved.emit(result)
        self.accept()

    def _refused(self, exc: BaseException) -> None:
        if isinstance(exc, DefinitionError):
            self.show_errors(exc.errors)
        elif isinstance(exc, ConflictError):
            self.show_conflict(str(exc))
        elif isinstance(exc, ValidationError | PermissionDenied):
            self.form_message.show_error(sentence(str(exc)))
        elif is_connection_lost(exc):
            self.form_message.show_error(
                "Nothing was saved: the connection to the server was lost. Everything you "
                "typed is still here; save again once PerfDesk has reconnected."
            )
        else:
            self.ctx.ops.present(exc, self)

    # -- problems -------------------------------------------------------------------------------

    def show_errors(self, errors: Mapping[str, str]) -> None:
        """Each problem under its field (the first one focused); others under the form."""
        known = {name for fields in self.field_sets for name in fields.inputs}
        for fields in reversed(self.field_sets):  # the first set last: its field has focus
            fields.place_errors({k: v for k, v in errors.items() if k in fields.inputs})
        elsewhere = [f"{field_label(k)}: {v}" for k, v in errors.items() if k not in known]
        if elsewhere:
            self.form_message.show_error(sentence("; ".join(elsewhere)))

    def clear_errors(self) -> None:
        for fields in self.field_sets:
            fields.clear()
        self.form_message.clear_message()

    def field_error(self, name: str) -> str:
        for fields in self.field_sets:
            if name in fields.inputs:
                return fields.error(name)
        raise KeyError(name)

    # -- Test query -----------------------------------------------------------------------------

    @Slot()
    def test_query(self) -> None:
        sql = self.query_edit.toPlainText()
        message = self.query_fields.messages["query"]
        self.query_fields.clear_field("query")
        if not sql.strip():
            self.query_fields.place_errors({"query": "type the query to test first"})
            return
        period = str(self.period_combo.currentData() or PeriodType.MONTHLY.value)
        self.test_button.setEnabled(False)
        self.test_button.setText("Testing…")

        def tried(result: QueryTried) -> None:
            if self.query_edit.toPlainText() == sql:  # not changed while it ran
                message.show_ok(tried_text(result))

        def refused(exc: BaseException) -> None:
            if self.query_edit.toPlainText() != sql:
                return
            if isinstance(exc, PerfDeskError):
                self.query_fields.place_errors({"query": str(exc)})
            else:
                self.ctx.ops.present(exc, self)

        def done() -> None:
            self.test_button.setEnabled(True)
            self.test_button.setText("T&est query")

        self.ctx.ops.run(
            partial(try_query, self.db, sql, period, self.acting),
            label="Testing the query…",
            on_success=tried,
            on_error=refused,
            on_finished=done,
            parent=self,
        )

    # -- Save token… ----------------------------------------------------------------------------

    @Slot()
    def save_token(self) -> None:
        provider, label = self.api_box.provider(), self.api_box.provider_label()
        how = " (written as api_id:api_token)" if provider == "aircall" else ""
        token = self.ctx.prompts.ask_password(
            self,
            f"The {label} token{how}. PerfDesk keeps it in this computer's system keyring, "
            "never in a file:",
        )
        if token is None:
            return
        box = self.api_box
        box.token_button.setEnabled(False)
        box.token_message.clear_message()

        def stored(_result: object) -> None:
            box.token_message.show_ok(
                f"The {label} token is saved in this computer's system keyring."
            )

        def refused(exc: BaseException) -> None:
            # KeyringUnavailable says there is no keyring to keep it in; say it as it is.
            text = str(exc).strip() or type(exc).__name__
            if not isinstance(exc, PerfDeskError):
                text = f"The token was not saved: {text}"
            box.token_message.show_error(sentence(text))

        def done() -> None:
            box.token_button.setEnabled(True)

        self.ctx.ops.run(
            partial(adapters.save_token, provider, token),
            label=f"Saving the {label} token…",
            on_success=stored,
            on_error=refused,
            on_finished=done,
            parent=self,
        )

    # -- a stale save ---------------------------------------------------------------------------

    def show_conflict(self, text: str) -> None:
        if self.row is None:
            self.form_message.show_error(text)
            return
        self.conflict_message.show_error(text)
        self.reload_button.show()
        self.conflict_bar.show()
        self.reload_button.setFocus()

    @Slot()
    def reload_row(self) -> None:
        row = self.row
        if row is None:
            return

        def reloaded(fresh: DefinitionRow) -> None:
            self.row = fresh
            self.clear_errors()
            self.fill(fresh)
            self._calculation_chosen()
            self._initial = self.state()
            self.conflict_bar.hide()
            self.form_message.show_ok(
                "These are the values saved on the other workstation. "
                "Make your change again, then save."
            )

        def failed(exc: BaseException) -> None:
            if isinstance(exc, ValidationError | PermissionDenied):
                self.conflict_message.show_error(sentence(str(exc)))
                self.reload_button.hide()  # there is nothing left to reload
            else:
                self.ctx.ops.present(exc, self)

        self.reload_button.setEnabled(False)
        self.ctx.ops.run(
            partial(definitions.get_definition, self.db, row.id),
            label="Reloading the KPI definition…",
            on_success=reloaded,
            on_error=failed,
            on_finished=lambda: self.reload_button.setEnabled(True),
            parent=self,
        )

    # -- leaving --------------------------------------------------------------------------------

    def reject(self) -> None:
        """Esc, Cancel or the close button: what was typed is not thrown away unasked."""
        if self._saving:
            return  # it is being written; closing now would hide whether it was
        if self.is_dirty() and not self.confirm(
            self,
            "Discard your changes?",
            "What you typed in this KPI definition has not been saved. Discard it?",
        ):
            return
        super().reject()
