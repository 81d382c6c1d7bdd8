"""The inputs of a form, each with its message beneath (``FieldSet``): a refused value is said
under its input, the input and its label marked, until the input changes.

The record dialogs, the deal panel's form and its dialogs share it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial

from PySide6.QtCore import SignalInstance
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QWidget,
)

from app.gui import theme
from app.gui.field_message import ERROR, FieldMessage

INVALID = "invalid"  # dynamic property of an input whose value is refused
_MARKED = ("QLineEdit", "QPlainTextEdit", "QComboBox")


def sentence(reason: str) -> str:
    text = reason.strip()
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "?", "!")) else text + "."


def invalid_style(*types: str) -> str:
    """The stylesheet marking an input of these types (by default a line, a text, a drop-down)
    whose value is refused."""
    error = theme.colors()["error"]
    selectors = ", ".join(f'{name}[{INVALID}="true"]' for name in types or _MARKED)
    return f"{selectors} {{ border: 1px solid {error}; border-radius: 3px; padding: 2px; }}"


def _changed(widget: QWidget) -> SignalInstance | None:
    """The signal that says the user changed the input's value (None: not known)."""
    if isinstance(widget, QLineEdit):
        return widget.textEdited
    if isinstance(widget, QPlainTextEdit):
        return widget.textChanged
    if isinstance(widget, QComboBox):
        # An editable drop-down's value is its text; another's is the item chosen.
        return widget.currentTextChanged if widget.isEditable() else widget.currentIndexChanged
    if isinstance(widget, QCheckBox):
        return widget.toggled
    # An input of our own (a date or time that may be none) says ``changed``.
    changed = getattr(widget, "changed", None)
    return changed if isinstance(changed, SignalInstance) else None


class FieldSet:
    """The inputs of one QFormLayout, by field name, each with a FieldMessage under it.

    ``label`` names a field in a message about it said under the form (a field without an
    input of its own).
    """

    def __init__(self, form: QFormLayout, label: Callable[[str], str]) -> None:
        self.form = form
        self.label = label
        self.inputs: dict[str, QWidget] = {}
        self.messages: dict[str, FieldMessage] = {}

    def add(self, name: str, text: str, widget: QWidget) -> QWidget:
        """A row for the input and one for its message; the message goes when the input
        changes (an input of another kind clears it with ``clear_field``)."""
        self.inputs[name] = widget
        message = FieldMessage()
        message.setObjectName(f"{name}Message")
        self.messages[name] = message
        self.form.addRow(text, widget)
        self.form.addRow("", message)
        changed = _changed(widget)
        if changed is not None:
            changed.connect(partial(self.clear_field, name))
        return widget

    def show_errors(self, errors: Mapping[str, str]) -> list[str]:
        """Each problem under its field, the field marked; returns the others as sentences."""
        return [sentence(text) for text in self.place_errors(errors)]

    def place_errors(self, errors: Mapping[str, str]) -> list[str]:
        """Each problem under its field, the field marked and the first one focused; returns
        the others, each as "Label: reason"."""
        marked = [name for name in self.inputs if name in errors]  # in the form's order
        for name in marked:
            self.messages[name].show_error(sentence(errors[name]))
            self._mark(name, True)
        if marked:
            self.inputs[marked[0]].setFocus()
        return [
            f"{self.label(name)}: {reason}"
            for name, reason in errors.items()
            if name not in self.inputs
        ]

    def clear(self) -> None:
        for name in self.inputs:
            self.clear_field(name)

    def error(self, name: str) -> str:
        """The problem said under the field ("" when none)."""
        message = self.messages[name]
        return message.text() if message.is_error else ""

    def clear_field(self, name: str, *_args: object) -> None:
        self.messages[name].clear_message()
        self._mark(name, False)

    def _mark(self, name: str, invalid: bool) -> None:
        widget = self.inputs[name]
        label = self.form.labelForField(widget)
        if isinstance(label, QLabel):
            label.setProperty("role", ERROR if invalid else None)
            label.style().unpolish(label)
            label.style().polish(label)
        if bool(widget.property(INVALID)) != invalid:
            widget.setProperty(INVALID, invalid)
            widget.style().unpolish(widget)
            widget.style().polish(widget)
