"""Scorecards to files (issue item 7): My KPIs and Team view as CSV and XLSX, the same
figures the pages show (the PDF is laid out by the window, app/gui/kpis/scorecard_pdf.py).

CSV: one header row, UTF-8 with a BOM (spreadsheet programs then read the accents right),
numbers written plainly (no thousands separators), empty where there is no value.
XLSX: numbers are numbers, achievements formatted as percentages, periods as dates.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from app.services.kpis.scorecards import Card, Scorecard, TeamView

SCORECARD_HEADER = (
    "KPI", "Category", "Period", "Period start", "Actual", "Unit", "Target", "Achievement %",
    "Weight",
)  # fmt: skip
TEAM_HEADER = ("Member", "Email", "Team", "Overall score", "KPIs", "Below target", "Not measured")
KPI_AVERAGE_HEADER = ("KPI", "Members measured", "Average achievement %")


def _num(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def scorecard_rows(card: Scorecard) -> list[list[Any]]:
    rows: list[list[Any]] = []
    for c in card.cards:
        rows.append(_card_row(c))
    return rows


def _card_row(c: Card) -> list[Any]:
    latest = c.latest
    return [
        c.kpi,
        c.category,
        c.period,
        latest.period_start if latest else None,
        latest.actual if latest else None,
        c.unit,
        c.latest_target if c.latest_target is not None else c.target,
        c.achievement,
        c.weight,
    ]


def team_rows(view: TeamView) -> list[list[Any]]:
    return [
        [m.name, m.email, m.team, m.overall, m.kpis, m.below_target, m.unmeasured]
        for m in view.members
    ]


def _write_csv(path: str | Path, header: Sequence[str], rows: Sequence[Sequence[Any]],
               preamble: Sequence[Sequence[str]] = ()) -> None:  # fmt: skip
    with open(path, "w", newline="", encoding="utf-8-sig") as fh:
        out = csv.writer(fh)
        for line in preamble:
            out.writerow(line)
        out.writerow(header)
        for row in rows:
            out.writerow([_text(v) for v in row])


def scorecard_csv(card: Scorecard, path: str | Path) -> None:
    overall = _text(card.overall)
    preamble = [
        ["Scorecard", card.name, card.email],
        ["As of", card.as_of.isoformat(), "Overall score", overall],
        [],
    ]
    _write_csv(path, SCORECARD_HEADER, scorecard_rows(card), preamble)


def team_csv(view: TeamView, path: str | Path) -> None:
    preamble = [
        ["Team view", view.title],
        ["As of", view.as_of.isoformat(), "Team average", _text(view.average)],
        [],
    ]
    _write_csv(path, TEAM_HEADER, team_rows(view), preamble)


def _sheet(wb: Any, title: str, header: Sequence[str], rows: Sequence[Sequence[Any]],
           formats: dict[int, str]) -> None:  # fmt: skip
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet(title)
    ws.append(list(header))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append([_num(v) if isinstance(v, Decimal) else v for v in row])
    for column, number_format in formats.items():
        for (cell,) in ws.iter_rows(min_row=2, min_col=column, max_col=column):
            cell.number_format = number_format
    for index, text in enumerate(header, start=1):
        ws.column_dimensions[get_column_letter(index)].width = max(12, len(text) + 4)
    ws.column_dimensions["A"].width = 30
    ws.freeze_panes = "B2"


def _title_sheet(wb: Any, lines: Sequence[Sequence[Any]]) -> None:
    from openpyxl.styles import Font

    ws = wb.active
    ws.title = "Summary"
    for line in lines:
        ws.append([_num(v) if isinstance(v, Decimal) else v for v in line])
    ws["A1"].font = Font(bold=True, size=14)
    ws.column_dimensions["A"].width = 24
    ws.column_dimensions["B"].width = 40


def scorecard_xlsx(card: Scorecard, path: str | Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    _title_sheet(wb, [
        [f"Scorecard: {card.name}"], ["Email", card.email], ["As of", card.as_of],
        ["Overall score", card.overall], ["Weights total", card.weights_total],
    ])  # fmt: skip
    _sheet(wb, "KPIs", SCORECARD_HEADER, scorecard_rows(card),
           {4: "yyyy-mm-dd", 5: "0.####", 7: "0.####", 8: "0.00", 9: "0.00"})  # fmt: skip
    wb.save(str(path))


def team_xlsx(view: TeamView, path: str | Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    _title_sheet(wb, [
        [f"Team view: {view.title}"], ["As of", view.as_of], ["Team average", view.average],
        ["Members", len(view.members)],
    ])  # fmt: skip
    _sheet(wb, "Members", TEAM_HEADER, team_rows(view), {4: "0.00"})
    averages = [[k.kpi, k.members, k.average_achievement] for k in view.by_kpi]
    _sheet(wb, "By KPI", KPI_AVERAGE_HEADER, averages, {3: "0.00"})
    wb.save(str(path))
