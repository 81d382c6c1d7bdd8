"""The Buy boxes page: every buy box with its market, strategy, minimum DSCR, buyer and how
its properties perform (WARNING below 60% graded A or B, CRITICAL below 40%, in colour);
New buy box… and Edit… for closers, brokers, managers and admins."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QWidget

from app.gui.context import AppContext
from app.gui.pages import page
from app.gui.postclose.catalog_dialogs import BuyBoxDialog, CatalogDialog
from app.gui.postclose.catalog_models import BOX_NAME, buy_boxes_model
from app.gui.postclose.catalog_page import BUY_BOXES, BUYERS, CatalogPage, Loaded
from app.services.postclose import catalog
from app.services.postclose.catalog import BuyerRow

if TYPE_CHECKING:
    from app.services.database import Database


@dataclass(frozen=True)
class BoxChoices:
    """What the buy-box form offers: the buyers, and the markets already named."""

    buyers: list[BuyerRow]
    markets: list[str]


def load_buy_boxes(db: Database) -> Loaded:
    """Runs on a worker: every buy box, what the form offers, and whether this person may
    change them."""
    choices = BoxChoices(catalog.list_buyers(db), catalog.market_keys(db))
    return Loaded(catalog.list_buy_boxes(db), catalog.may_edit(db), choices)


class BuyBoxesPage(CatalogPage):
    key = "buy_boxes"
    title = "Buy boxes"
    noun = "buy box"
    plural = "buy boxes"
    kinds = (BUY_BOXES, BUYERS)  # buyer names show in the list
    sort_column = BOX_NAME
    filter_hint = "Filter by reference, name, market, strategy, buyer or level (Ctrl+F)"
    load = staticmethod(load_buy_boxes)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, buy_boxes_model(), parent)
        self.model.setParent(self)
        self.place_body(self.body)

    def make_dialog(self, db: Database, loaded: Loaded, row: Any) -> CatalogDialog:
        choices = loaded.extra
        assert isinstance(choices, BoxChoices)
        return BuyBoxDialog(self.ctx, db, choices.buyers, choices.markets, row, self)


@page(
    "buy_boxes", "Buy boxes", order=170, icon="listings",
    tooltip="What each buyer buys, and how those properties perform",
)  # fmt: skip
def build_buy_boxes_page(ctx: AppContext) -> QWidget:
    return BuyBoxesPage(ctx)
