"""New/Edit buyer and New/Edit buy box: the form's text goes to the service in the background;
each problem it finds is said under its field, a stale save offers to reload, a refusal (role)
is said under the form.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QWidget,
)

from app.domain.enums import Strategy
from app.domain.errors import ConflictError, PermissionDenied, ValidationError
from app.gui.context import AppContext
from app.gui.field_message import FieldMessage
from app.gui.form_fields import FieldSet, invalid_style, sentence
from app.gui.postclose.catalog_models import strategy_label
from app.services.dberrors import is_connection_lost
from app.services.postclose import catalog
from app.services.postclose.catalog import BuyBoxRow, BuyerRow

if TYPE_CHECKING:
    from app.services.database import Database


class CatalogDialog(QDialog):
    """The form both dialogs share. A dialog adds its inputs in ``build``, reads them back in
    ``values``, shows a stored row in ``fill`` and names the service calls."""

    saved = Signal(object)  # what the service returned
    noun: ClassVar[str]

    def __init__(
        self, ctx: AppContext, db: Database, row: Any = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.db = db
        self.row = row
        self.setObjectName(f"{self.noun.replace(' ', '')}Dialog")
        self.setWindowTitle(f"Edit {self.noun}" if row is not None else f"New {self.noun}")
        self.setMinimumWidth(460)
        self.setStyleSheet(invalid_style())

        self.form = QFormLayout(self)
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.fields = FieldSet(self.form, catalog.field_label)
        self.build()

        self.conflict_bar = QFrame()
        self.conflict_bar.setObjectName("conflictBar")
        self.conflict_message = FieldMessage()
        self.conflict_message.setObjectName("conflictMessage")
        self.reload_button = QPushButton("&Reload")
        self.reload_button.setToolTip(f"Show the {self.noun} as it is stored now (your edits go)")
        self.reload_button.clicked.connect(self.reload_row)
        bar = QHBoxLayout(self.conflict_bar)
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(self.conflict_message, 1)
        bar.addWidget(self.reload_button)
        self.conflict_bar.hide()
        self.form.addRow(self.conflict_bar)

        self.form_message = FieldMessage()
        self.form_message.setObjectName("formMessage")
        self.form.addRow(self.form_message)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText(self._ok_text)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        self.form.addRow(self.buttons)
        if row is not None:
            self.fill(row)

    # -- for each dialog ------------------------------------------------------------------
    build: Callable[[], None]
    values: Callable[[], dict[str, str]]
    fill: Callable[[Any], None]
    #: ``save(db, values, id, version)`` and ``read(db, id)``, run on a worker.
    save: ClassVar[Callable[..., Any]]
    read: ClassVar[Callable[..., Any]]

    def line(self, name: str, label: str, placeholder: str = "") -> QLineEdit:
        edit = QLineEdit()
        edit.setObjectName(f"{name}Edit")
        edit.setPlaceholderText(placeholder)
        self.fields.add(name, label, edit)
        return edit

    # -- saving ---------------------------------------------------------------------------

    @property
    def _ok_text(self) -> str:
        return "&Save" if self.row is not None else "&Add"

    @Slot()
    def submit(self) -> None:
        self.clear_errors()
        row = self.row
        task = partial(
            type(self).save,
            self.db,
            self.values(),
            row.id if row is not None else None,
            row.version if row is not None else None,
        )
        self._busy(True)
        self.ctx.ops.run(
            task,
            label=f"Saving the {self.noun}…",
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
        if isinstance(exc, catalog.CatalogError):
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

    # -- problems -------------------------------------------------------------------------

    def show_errors(self, errors: Mapping[str, str]) -> None:
        elsewhere = self.fields.place_errors(errors)
        if elsewhere:
            self.form_message.show_error(sentence("; ".join(elsewhere)))

    def clear_errors(self) -> None:
        self.fields.clear()
        self.form_message.clear_message()

    def field_error(self, name: str) -> str:
        return self.fields.error(name)

    # -- a stale save ---------------------------------------------------------------------

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

        def reloaded(fresh: Any) -> None:
            self.row = fresh
            self.clear_errors()
            self.fill(fresh)
            self.conflict_bar.hide()
            self.form_message.show_ok(
                "These are the values saved on the other workstation. "
                "Make your change again, then save."
            )

        def failed(exc: BaseException) -> None:
            if isinstance(exc, ConflictError | PermissionDenied):
                self.conflict_message.show_error(sentence(str(exc)))
                self.reload_button.hide()  # there is nothing left to reload
            else:
                self.ctx.ops.present(exc, self)

        self.reload_button.setEnabled(False)
        self.ctx.ops.run(
            partial(type(self).read, self.db, row.id),
            label=f"Reloading the {self.noun}…",
            on_success=reloaded,
            on_error=failed,
            on_finished=lambda: self.reload_button.setEnabled(True),
            parent=self,
        )


class BuyerDialog(CatalogDialog):
    noun = "buyer"
    save = staticmethod(catalog.save_buyer)
    read = staticmethod(catalog.get_buyer)

    def build(self) -> None:
        self.name_edit = self.line("name", "&Name:", "Acme Holdings LLC")
        self.email_edit = self.line("email", "&Email:", "acquisitions@acme.example")
        self.phone_edit = self.line("phone", "&Phone:", "(661) 555-0100")

    def values(self) -> dict[str, str]:
        return {
            "name": self.name_edit.text(),
            "email": self.email_edit.text(),
            "phone": self.phone_edit.text(),
        }

    def fill(self, row: BuyerRow) -> None:
        self.name_edit.setText(row.name)
        self.email_edit.setText(row.email or "")
        self.phone_edit.setText(row.phone or "")


class BuyBoxDialog(CatalogDialog):
    noun = "buy box"
    save = staticmethod(catalog.save_buy_box)
    read = staticmethod(catalog.get_buy_box)

    def __init__(
        self,
        ctx: AppContext,
        db: Database,
        buyers: Sequence[BuyerRow],
        markets: Sequence[str],
        row: BuyBoxRow | None = None,
        parent: QWidget | None = None,
    ) -> None:
        self._buyers = list(buyers)
        self._markets = list(markets)
        super().__init__(ctx, db, row, parent)

    def build(self) -> None:
        self.name_edit = self.line("name", "&Name:", "Bakersfield SFR cash flow")
        self.ref_edit = self.line("ref", "&Reference:", "optional, e.g. BB-0012")
        self.market_combo = QComboBox()
        self.market_combo.setObjectName("marketCombo")
        self.market_combo.setEditable(True)
        self.market_combo.addItems(self._markets)
        self.market_combo.setCurrentIndex(-1)
        market_edit = self.market_combo.lineEdit()
        if market_edit is not None:
            market_edit.setPlaceholderText("e.g. CA-BAKERSFIELD")
        self.fields.add("market_key", "&Market:", self.market_combo)
        self.strategy_combo = QComboBox()
        self.strategy_combo.setObjectName("strategyCombo")
        for strategy in Strategy:
            self.strategy_combo.addItem(strategy_label(strategy.value), strategy.value)
        self.fields.add("strategy", "&Strategy:", self.strategy_combo)
        self.min_dscr_edit = self.line("min_dscr", "Minimum &DSCR:", "1.25")
        self.min_dscr_edit.setToolTip(
            "The DSCR its properties must reach; their grades are measured against it"
        )
        if self.row is None:
            self.min_dscr_edit.setText("1.25")
        self.buyer_combo = QComboBox()
        self.buyer_combo.setObjectName("buyerCombo")
        self.buyer_combo.addItem("No buyer", None)
        for buyer in sorted(self._buyers, key=lambda b: b.name.casefold()):
            self.buyer_combo.addItem(buyer.name, buyer.id)
        self.fields.add("buyer_id", "&Buyer:", self.buyer_combo)

    def values(self) -> dict[str, str]:
        buyer = self.buyer_combo.currentData()
        return {
            "ref": self.ref_edit.text(),
            "name": self.name_edit.text(),
            "market_key": self.market_combo.currentText(),
            "strategy": str(self.strategy_combo.currentData() or ""),
            "min_dscr": self.min_dscr_edit.text(),
            "buyer_id": "" if buyer is None else str(buyer),
        }

    def fill(self, row: BuyBoxRow) -> None:
        self.name_edit.setText(row.name)
        self.ref_edit.setText(row.ref or "")
        self.market_combo.setCurrentText(row.market_key)
        self.strategy_combo.setCurrentIndex(max(self.strategy_combo.findData(row.strategy), 0))
        self.min_dscr_edit.setText(f"{row.min_dscr:.2f}")
        index = self.buyer_combo.findData(row.buyer_id) if row.buyer_id is not None else 0
        if index < 0:  # a buyer added since the list was read
            self.buyer_combo.addItem(row.buyer_name or f"Buyer {row.buyer_id}", row.buyer_id)
            index = self.buyer_combo.count() - 1
        self.buyer_combo.setCurrentIndex(index)
