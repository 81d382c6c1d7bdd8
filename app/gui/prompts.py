"""Everything that stops to ask the person something, in one injectable bundle.

The window uses real dialogs; tests pass functions that answer at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QInputDialog, QLineEdit, QMessageBox, QWidget

from app import APP_NAME
from app.gui.errors import ErrorPresenter, show_error_box


class FirstRunChoice(Enum):
    DEMO = "demo"
    EMPTY = "empty"


PasswordPrompt = Callable[[QWidget | None, str], str | None]
"""(parent, question) -> the password typed ("" allowed), or None when the person cancels."""

Notice = Callable[[QWidget | None, str], None]
TextPrompt = Callable[[QWidget | None, str, str, bool], str | None]
"""(parent, title, question, required) -> the text typed (stripped), or None when cancelled.
With ``required`` an empty text is asked for again."""
FirstRunChooser = Callable[[QWidget | None], FirstRunChoice | None]


def ask_password_dialog(parent: QWidget | None, question: str) -> str | None:
    text, ok = QInputDialog.getText(parent, APP_NAME, question, QLineEdit.EchoMode.Password)
    return text if ok else None


def show_notice_box(parent: QWidget | None, text: str) -> None:
    box = QMessageBox(QMessageBox.Icon.Information, APP_NAME, text, parent=parent)
    box.setObjectName("noticeBox")
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()


def ask_text_dialog(
    parent: QWidget | None, title: str, question: str, required: bool
) -> str | None:
    label = question
    while True:
        text, ok = QInputDialog.getMultiLineText(parent, title, label)
        if not ok:
            return None
        if text.strip() or not required:
            return text.strip()
        label = f"{question}\n(This is required.)"


def _ask_first_run(parent: QWidget | None) -> FirstRunChoice | None:
    from app.gui.first_run import FirstRunDialog

    return FirstRunDialog.ask(parent)


@dataclass
class Prompts:
    ask_password: PasswordPrompt = ask_password_dialog
    notice: Notice = show_notice_box
    ask_text: TextPrompt = ask_text_dialog
    present_error: ErrorPresenter = show_error_box
    choose_first_run: FirstRunChooser = field(default=_ask_first_run)
