"""Blocks of cells as spreadsheets put them on the clipboard: tab between cells, a newline
between rows, and a cell holding a tab, a newline or a quote wrapped in double quotes."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence


def parse_block(text: str) -> list[list[str]]:
    """The rows of cells of a copied block (a trailing line break ends the block)."""
    if not text:
        return []
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if text.endswith("\n"):
        text = text[:-1]
    if '"' not in text:  # the common case, and immune to a stray quote
        return [line.split("\t") for line in text.split("\n")]
    return [row if row else [""] for row in csv.reader(io.StringIO(text), dialect="excel-tab")]


def format_block(rows: Sequence[Sequence[str]]) -> str:
    """Rows of cells as a spreadsheet would paste them."""
    out = io.StringIO()
    writer = csv.writer(out, dialect="excel-tab", lineterminator="\n")
    writer.writerows(rows)
    return out.getvalue()
