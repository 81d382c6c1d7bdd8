"""The Buyers page: every buyer with their engagement score; the selected buyer's score,
grades and past deals beside the list (what a closer checks before sending them a deal);
New buyer… and Edit… for closers, brokers, managers and admins."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QByteArray, Qt, Slot
from PySide6.QtWidgets import QSplitter, QWidget

from app.gui.context import AppContext
from app.gui.pages import page
from app.gui.postclose.catalog_dialogs import BuyerDialog, CatalogDialog
from app.gui.postclose.catalog_models import BUYER_NAME, ID_ROLE, buyers_model
from app.gui.postclose.catalog_page import BUY_BOXES, BUYERS, CatalogPage, Loaded
from app.gui.postclose.catalog_panel import BuyerPanel
from app.services.postclose import catalog

if TYPE_CHECKING:
    from app.services.database import Database

SPLITTER_KEY = "buyers/splitter"
PANEL_MIN_WIDTH = 360


def load_buyers(db: Database) -> Loaded:
    """Runs on a worker: every buyer, and whether this person may change them."""
    return Loaded(catalog.list_buyers(db), catalog.may_edit(db))


class BuyersPage(CatalogPage):
    key = "buyers"
    title = "Buyers"
    noun = "buyer"
    plural = "buyers"
    kinds = (BUYERS, BUY_BOXES)  # box names show among the past deals
    sort_column = BUYER_NAME
    filter_hint = "Filter by name, email or phone (Ctrl+F)"
    load = staticmethod(load_buyers)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, buyers_model(), parent)
        self.model.setParent(self)
        self.panel = BuyerPanel(ctx, self)
        self.panel.setMinimumWidth(PANEL_MIN_WIDTH)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("buyersSplitter")
        self.splitter.addWidget(self.body)
        self.splitter.addWidget(self.panel)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setCollapsible(0, False)
        state = ctx.settings.qsettings.value(SPLITTER_KEY)
        if not (isinstance(state, QByteArray) and self.splitter.restoreState(state)):
            self.splitter.setSizes([600, 400])  # shares, scaled to the page's width
        self.splitter.splitterMoved.connect(self._save_splitter)
        self._shown_id: int | None = None
        self.place_body(self.splitter)

    @Slot()
    def _save_splitter(self) -> None:
        self.ctx.settings.qsettings.setValue(SPLITTER_KEY, self.splitter.saveState())

    def current_changed(self) -> None:
        buyer_id = self.current_id()
        if buyer_id == self._shown_id and (buyer_id is not None or self._db is not None):
            return
        self._shown_id = buyer_id
        self.panel.show_buyer(self._db, buyer_id)

    def _show(self, result: Loaded) -> None:
        self._shown_id = None  # read the selected buyer again: their grades may have moved
        super()._show(result)
        if self.current_id() is None and result.rows:
            self.select_id(self.proxy.index(0, 0).data(ID_ROLE))

    def make_dialog(self, db: Database, loaded: Loaded, row: Any) -> CatalogDialog:
        return BuyerDialog(self.ctx, db, row, self)


@page("buyers", "Buyers", order=160, icon="clients", tooltip="Investors who buy the office's deals")
def build_buyers_page(ctx: AppContext) -> QWidget:
    return BuyersPage(ctx)
