"""One row of the month-end grid as plain Python: what was read, what is typed now, and what
that typing means (each bad field's message, or the grade the month would get).

The grid's Qt model is an adapter over a list of these.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from app.domain.enums import Grade
from app.domain.postclose import assess
from app.domain.rentroll import (
    EXPENSE_PARTS,
    PERIOD_FIELDS,
    PERIOD_PARSERS,
    FieldErrors,
    PeriodValues,
    parse_period,
)
from app.services.postclose.periods import GridRow, SheetRow

MONEY_FIELDS = frozenset(
    (
        "actual_rent_collected",
        *EXPENSE_PARTS,
        "expenses_total",
        "actual_noi",
        "actual_monthly_cash_flow",
    )
)
#: Problems of a saved row that belong to no column (shown on the property's cell).
ROW_FIELDS = ("month", "record")
EMPTIED = "was entered; emptying a month does not remove it — type its figures or Reload"


def same_text(name: str, a: str, b: str) -> bool:
    """Whether two texts of a field say the same ("1200" and "1,200.00"; "5%" and "0.05")."""
    a, b = a.strip(), b.strip()
    if a == b:
        return True
    if not a or not b or name == "notes":
        return False
    parse = PERIOD_PARSERS[name]
    try:
        return parse(a) == parse(b)
    except ValueError:
        return False


@dataclass
class GridLine:
    sheet: SheetRow
    texts: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)
    values: PeriodValues | None = None
    grade: Grade | None = None
    flags: tuple[str, ...] = ()
    #: What the last save said of this row, field -> message (until the row is edited).
    refused: dict[str, str] = field(default_factory=dict)
    #: The fields whose text says something else than what was read.
    edited: set[str] = field(default_factory=set)

    @classmethod
    def read(cls, sheet: SheetRow) -> GridLine:
        line = cls(sheet, {name: sheet.texts.get(name, "") for name in PERIOD_FIELDS})
        line.check()
        return line

    @property
    def performance_id(self) -> int:
        return self.sheet.performance_id

    @property
    def entered(self) -> bool:
        """The month is stored already for this property."""
        return self.sheet.period_id is not None

    def is_empty(self) -> bool:
        return not any(text.strip() for text in self.texts.values())

    def is_changed(self, name: str) -> bool:
        return name in self.edited

    def changed(self) -> bool:
        return bool(self.edited)

    def set_text(self, name: str, text: str) -> bool:
        """Type ``text`` into a field; False when it is what the field holds already."""
        if self.texts[name] == text:
            return False
        self.texts[name] = text
        if same_text(name, text, self.sheet.texts.get(name, "")):
            self.edited.discard(name)
        else:
            self.edited.add(name)
        self.refused = {}
        self.check()
        return True

    def check(self) -> None:
        """Parse the row as the save will: each bad field's message, or the grade."""
        self.errors, self.values, self.grade, self.flags = {}, None, None, ()
        if self.is_empty():
            if self.entered:
                self.errors = {"month": EMPTIED}
            return
        try:
            values = parse_period(self.texts, self.sheet.loan_type)
        except FieldErrors as exc:
            self.errors = exc.errors
            return
        result = assess(self.sheet.projection, values.actuals(), self.sheet.required_dscr)
        self.values, self.grade, self.flags = values, result.grade, tuple(result.flags)

    def problem(self, name: str) -> str | None:
        """What is wrong with a field now (typed) or at the last save, or None."""
        return self.errors.get(name) or self.refused.get(name)

    def row_problem(self) -> str | None:
        """What is wrong with the row as a whole (no column of its own), or None."""
        for name in ROW_FIELDS:
            found = self.problem(name)
            if found:
                return found
        return None

    def computed_total(self) -> Decimal | None:
        """The breakdown's sum when the total is left empty and the row reads well."""
        if self.values is None or self.texts["expenses_total"].strip():
            return None
        return self.values.expenses_total

    def grid_row(self) -> GridRow:
        return GridRow(
            self.performance_id, dict(self.texts), self.sheet.period_id, self.sheet.version
        )
