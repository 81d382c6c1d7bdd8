"""Reading an import file: UTF-8 (a BOM is accepted), one header row, comma separated.

Rules where SPEC.md is silent:
- header names are matched regardless of case and surrounding spaces;
- a blank record (an empty line, or only commas) is skipped, but still counts for the row
  numbers, so that they match what a spreadsheet or text editor shows;
- a record with more values than the header names columns is an error, unless the extra
  values are all empty (trailing commas); one with fewer values is an error;
- row numbers count records (the header is row 1), so a quoted value spanning two lines is
  still one row.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from app.services.importing.errors import ImportFailed, RowError


@dataclass(frozen=True)
class Record:
    """One data row of the file: its row number and its values by (normalised) column name."""

    number: int
    cells: dict[str, str]


@dataclass(frozen=True)
class CsvTable:
    file: str
    columns: tuple[str, ...]
    records: tuple[Record, ...]
    problems: tuple[RowError, ...] = ()
    """Records that could not be split into the header's columns (left out of ``records``)."""


def normalise_header(name: str) -> str:
    return name.strip().lower()


def read_bytes(path: Path, label: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ImportFailed(label, [RowError(label, None, None, "no such file")]) from None
    except IsADirectoryError:
        raise ImportFailed(
            label, [RowError(label, None, None, "is a folder, not a file")]
        ) from None
    except PermissionError:
        raise ImportFailed(
            label, [RowError(label, None, None, "cannot be read (permission denied)")]
        ) from None
    except OSError as exc:
        raise ImportFailed(
            label, [RowError(label, None, None, f"cannot be read ({exc.strerror or exc})")]
        ) from None


def decode(data: bytes, label: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ImportFailed(
            label,
            [
                RowError(
                    label,
                    None,
                    None,
                    f"is not UTF-8 text (byte 0x{data[exc.start]:02x} on line {line}); "
                    "save it as 'CSV UTF-8'",
                )
            ],
        ) from None


def parse_text(
    content: str,
    label: str,
    known: Sequence[str],
    required: Sequence[str],
) -> CsvTable:
    """Split ``content`` into records, checking the header against the known columns.

    Raises ImportFailed naming every header problem (unknown, repeated, unnamed or missing
    required columns), or when the file is empty or not CSV. A record whose number of values
    does not match the header is left out and named in ``problems``, so that the caller can
    report it together with the problems of the other rows.
    """
    reader = csv.reader(io.StringIO(content, newline=""), strict=True)
    errors: list[RowError] = []
    records: list[Record] = []
    header: list[str] | None = None
    number = 0
    try:
        for fields in reader:
            number += 1
            if header is None:
                header = [normalise_header(f) for f in fields]
                errors.extend(_header_errors(label, header, fields, known, required))
                if errors:
                    raise ImportFailed(label, errors)
                continue
            if not any(f.strip() for f in fields):
                continue
            if len(fields) > len(header) and not any(f.strip() for f in fields[len(header) :]):
                fields = fields[: len(header)]
            if len(fields) != len(header):
                errors.append(
                    RowError(
                        label,
                        number,
                        None,
                        f"has {len(fields)} values but the header names {len(header)} columns",
                    )
                )
                continue
            records.append(Record(number, dict(zip(header, fields, strict=True))))
    except csv.Error as exc:
        raise ImportFailed(
            label, [*errors, RowError(label, number + 1, None, f"is not valid CSV ({exc})")]
        ) from None
    if header is None:
        raise ImportFailed(label, [RowError(label, None, None, "is empty; expected a header row")])
    return CsvTable(label, tuple(header), tuple(records), tuple(errors))


def read_table(path: Path, label: str, known: Sequence[str], required: Sequence[str]) -> CsvTable:
    return parse_text(decode(read_bytes(path, label), label), label, known, required)


def _header_errors(
    label: str,
    header: list[str],
    raw: list[str],
    known: Sequence[str],
    required: Sequence[str],
) -> list[RowError]:
    errors: list[RowError] = []
    expected = ", ".join(known)
    if len(header) == 1 and ";" in raw[0] and header[0] not in known:
        return [
            RowError(
                label,
                1,
                None,
                "the header has one column containing ';': the file looks separated by "
                f"semicolons; PerfDesk expects commas (columns: {expected})",
            )
        ]
    seen: set[str] = set()
    for position, name in enumerate(header, start=1):
        if not name:
            errors.append(RowError(label, 1, None, f"column {position} of the header has no name"))
        elif name in seen:
            errors.append(RowError(label, 1, name, "is named twice in the header"))
        elif name not in known:
            errors.append(RowError(label, 1, name, f"unknown column (expected: {expected})"))
        seen.add(name)
    for name in required:
        if name not in seen:
            errors.append(RowError(label, 1, name, "required column is missing"))
    return errors
