"""What an import reports when it refuses a file: every problem, each with where it is."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from app.domain.errors import PerfDeskError


@dataclass(frozen=True)
class RowError:
    """One problem in an imported file.

    ``row`` counts records as a spreadsheet shows them: the header is row 1, the first data
    row is row 2; ``None`` means the file as a whole. ``column`` is ``None`` when the problem
    is the row as a whole (e.g. it repeats an earlier row).
    """

    file: str
    row: int | None
    column: str | None
    reason: str

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.column:
            where += f", column {self.column}"
        return f"{where}: {self.reason}"


class ImportFailed(PerfDeskError):
    """The file was refused; nothing was written. ``errors`` lists every problem found."""

    def __init__(self, file: str, errors: Sequence[RowError]) -> None:
        self.file = file
        self.errors: tuple[RowError, ...] = tuple(errors)
        super().__init__(self._text())

    def _text(self) -> str:
        if len(self.errors) == 1:
            return f"{self.errors[0]} (nothing imported)"
        lines = [f"{self.file}: {len(self.errors)} errors, nothing imported"]
        lines.extend(str(e) for e in self.errors)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self._text()


class ImportCancelled(PerfDeskError):
    """The person cancelled the import before it was written; nothing was imported."""


class UnknownKind(PerfDeskError):
    """No import of that kind exists."""
