"""Errors shown to a person: plain words first, the technical detail one click away."""

from __future__ import annotations

import traceback
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget

from app import APP_NAME
from app.domain.errors import PerfDeskError


@dataclass(frozen=True)
class UserMessage:
    """What the window says about an error: the sentence, and optional detail to expand."""

    text: str
    details: str | None = None


ErrorPresenter = Callable[[QWidget | None, UserMessage], None]


def describe_error(exc: BaseException) -> UserMessage:
    """A PerfDeskError speaks for itself; anything else is unexpected and keeps its traceback."""
    if isinstance(exc, PerfDeskError):
        return UserMessage(str(exc) or type(exc).__name__)
    what = str(exc).strip() or type(exc).__name__
    details = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
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
