"""Errors shown to a person: plain words first, the technical detail one click away."""

from __future__ import annotations

import traceback
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget

from app import APP_NAME
from app.domain.errors import PerfDeskError
from app.services.dberrors import is_connection_lost

#: Said for an error that is only a lost server connection (the banner says the rest).
CONNECTION_LOST_TEXT = (
    "The connection to the database server was lost, so this was not done. "
    "PerfDesk reconnects on its own; try again once it has."
)


@dataclass(frozen=True)
class UserMessage:
    """What the window says about an error: the sentence, and optional detail to expand.

    ``connection_lost``: the error is the server connection going away, which the window's
    banner already tells (the window may then leave out a message box).
    """

    text: str
    details: str | None = None
    connection_lost: bool = False


ErrorPresenter = Callable[[QWidget | None, UserMessage], None]


def describe_error(exc: BaseException) -> UserMessage:
    """A PerfDeskError speaks for itself; a lost connection is said plainly; anything else is
    unexpected and keeps its traceback."""
    lost = is_connection_lost(exc)
    if isinstance(exc, PerfDeskError):
        return UserMessage(str(exc) or type(exc).__name__, connection_lost=lost)
    details = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    if lost:
        return UserMessage(CONNECTION_LOST_TEXT, details, connection_lost=True)
    what = str(exc).strip() or type(exc).__name__
    return UserMessage(f"Something went wrong: {what}", details)


def show_error_box(parent: QWidget | None, message: UserMessage) -> None:
    """A window-modal message box that does not block the caller."""
    box = QMessageBox(QMessageBox.Icon.Warning, APP_NAME, message.text, parent=parent)
    box.setObjectName("errorBox")
    box.setStandardButtons(QMessageBox.StandardButton.Ok)
    if message.details:
        box.setDetailedText(message.details)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
