"""The five record pages, registered for the navigation list (first in the navigation)."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from app.gui.context import AppContext
from app.gui.pages import page
from app.gui.records.kinds import APPOINTMENTS, CLIENTS, ESCROWS, LEADS, LISTINGS, KindView
from app.gui.records.page import RecordPage


def _register(view: KindView) -> None:
    def build(ctx: AppContext) -> QWidget:
        return RecordPage(ctx, view)

    page(view.key, view.title, order=view.order, icon=view.key, tooltip=view.tooltip)(build)


for _view in (LEADS, APPOINTMENTS, CLIENTS, LISTINGS, ESCROWS):
    _register(_view)
