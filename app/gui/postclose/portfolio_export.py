"""The Portfolio page's exports, written on a worker from the figures the page shows.

- XLSX: Summary, By market, By strategy, By buyer, Records, Buy boxes and Monthly cash flow
  sheets; numbers are numbers (money in the office's currency format, rates in %, DSCR points
  with a sign), days are dates.
- PDF (A4 landscape): the title, the filters, the summary, the three charts (images drawn on the
  GUI thread beforehand), the buy boxes below 60 % and the three breakdowns, laid out by
  ``QTextDocument`` page by page — a table's header row repeats on each page it spans — with
  a footer naming the report and the page ("Page 2 of 3").
"""

from __future__ import annotations

import datetime as dt
import html
from decimal import Decimal
from pathlib import Path
from typing import Any

from PySide6.QtCore import QMarginsF, QRectF, QSizeF, Qt, QUrl
from PySide6.QtGui import (
    QColor,
    QFont,
    QImage,
    QPageLayout,
    QPageSize,
    QPainter,
    QPdfWriter,
    QTextDocument,
)

from app.gui.postclose.portfolio_data import (
    MONTHS,
    PageData,
    box_label,
    filters_sentence,
    flags_text,
    money,
    rate,
    ratio,
    signed_money,
    strategy_text,
)
from app.gui.postclose.portfolio_models import GRADES, below_the_line
from app.gui.postclose.record_view import GRADE_COLORS
from app.services.postclose.portfolio import PortfolioSummary
from app.services.reports.agent_history import money_format

TITLE = "Portfolio performance"
RATIO_FORMAT = "+0.00;-0.00;0.00"
RATE_FORMAT = '0.00"%"'
#: Light colours for print: below the pro forma, and the buy-box lines of SPEC §9.
RED, AMBER, GREEN, GREY = "#b3261e", "#9a6700", "#1e7b34", "#5f6368"
BREAKDOWN_HEADER = ("Deals", "A", "B", "C", "D", "Not graded", "Performance rate",
                    "Mean CF variance", "Mean DSCR variance")  # fmt: skip


def _now() -> str:
    return dt.datetime.now().strftime("%d %b %Y %H:%M")


def _number(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


# -- XLSX --------------------------------------------------------------------------------------


def write_xlsx(data: PageData, path: str | Path) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    report = data.report
    money_fmt = money_format(data.currency)
    bold = Font(bold=True)
    wb = Workbook()

    def sheet(title: str, header: list[str], rows: list[list[Any]], formats: dict[int, str],
              widths: dict[int, int] | None = None) -> None:  # fmt: skip
        ws = wb.create_sheet(title)
        ws.append(header)
        for cell in ws[1]:
            cell.font = bold
        for row in rows:
            ws.append(row)
        for column, number_format in formats.items():
            for (cell,) in ws.iter_rows(min_row=2, min_col=column, max_col=column):
                cell.number_format = number_format
        for index, text in enumerate(header, start=1):
            width = (widths or {}).get(index, max(12, len(text) + 2))
            ws.column_dimensions[get_column_letter(index)].width = width
        ws.freeze_panes = "B2"
        if rows:
            ws.auto_filter.ref = ws.dimensions

    summary_ws = wb.active
    assert summary_ws is not None
    summary_ws.title = "Summary"
    s = report.summary
    summary_ws.append([TITLE])
    summary_ws["A1"].font = Font(bold=True, size=14)
    summary_ws.append(["Filters", filters_sentence(report)])
    summary_ws.append(["Exported", _now()])
    summary_ws.append([])
    figures: list[tuple[str, Any, str | None]] = [
        ("Deals", s.total_deals, None),
        ("Performance rate", _number(s.performance_rate), RATE_FORMAT),
        ("Mean cash-flow variance", _number(s.average_cash_flow_variance), money_fmt),
        ("Mean DSCR variance", _number(s.average_dscr_variance), RATIO_FORMAT),
        *((f"Grade {g}", s.grade_distribution.get(g, 0), None) for g in GRADES),
        ("Not graded", s.ungraded, None),
    ]
    for name, value, number_format in figures:
        summary_ws.append([name, value])
        if number_format:
            summary_ws.cell(row=summary_ws.max_row, column=2).number_format = number_format
        summary_ws.cell(row=summary_ws.max_row, column=1).font = bold
    summary_ws.column_dimensions["A"].width = 26
    summary_ws.column_dimensions["B"].width = 60

    breakdown_formats = {8: RATE_FORMAT, 9: money_fmt, 10: RATIO_FORMAT}
    for title, groups, strategy in (
        ("By market", report.by_market, False),
        ("By strategy", report.by_strategy, True),
        ("By buyer", report.by_buyer, False),
    ):
        name = title.removeprefix("By ").capitalize()
        rows = [
            [strategy_text(k) if strategy else k, *_summary_cells(v)] for k, v in groups.items()
        ]
        sheet(title, [name, *BREAKDOWN_HEADER], rows, breakdown_formats, {1: 28})

    record_rows = [
        [r.ref or f"#{r.id}", r.market, r.buyer, strategy_text(r.strategy),
         r.buy_box_ref, r.closed_date, r.grade,
         _number(r.cash_flow_variance), _number(r.dscr_variance), _number(r.actual_dscr),
         flags_text(r.flags)]
        for r in report.records
    ]  # fmt: skip
    sheet(
        "Records",
        ["Property", "Market", "Buyer", "Strategy", "Buy box", "Closed", "Grade", "CF variance",
         "DSCR variance", "DSCR", "Flags"],
        record_rows,
        {6: "yyyy-mm-dd", 8: money_fmt, 9: RATIO_FORMAT, 10: "0.00"},
        {3: 26, 11: 60},
    )  # fmt: skip

    box_rows = [
        [b.ref, b.name, _number(b.performance_rate), b.warning or ("OK" if b.performance_rate
                                                                   is not None else None)]
        for b in report.buy_boxes
    ]  # fmt: skip
    sheet("Buy boxes", ["Ref", "Name", "Performance rate", "Level"], box_rows, {3: RATE_FORMAT},
          {2: 32})  # fmt: skip

    month_rows = [
        [dt.date(m.year, m.month, 1), float(m.projected_total), float(m.actual_total),
         float(m.actual_total - m.projected_total)]
        for m in data.monthly
    ]  # fmt: skip
    month_formats = {1: "mmm yyyy", 2: money_fmt, 3: money_fmt, 4: money_fmt}
    sheet("Monthly cash flow", ["Month", "Projected", "Actual", "Variance"], month_rows,
          month_formats, {2: 18, 3: 18, 4: 18})  # fmt: skip
    wb.save(str(path))


def _summary_cells(s: PortfolioSummary) -> list[Any]:
    return [
        s.total_deals,
        *(s.grade_distribution.get(g, 0) for g in GRADES),
        s.ungraded,
        _number(s.performance_rate),
        _number(s.average_cash_flow_variance),
        _number(s.average_dscr_variance),
    ]


# -- PDF ---------------------------------------------------------------------------------------


def _rate_color(value: Decimal | None) -> str:
    if value is None:
        return GREY
    return RED if value < 40 else AMBER if value < 60 else GREEN


def _signed_color(value: Decimal | None) -> str:
    return RED if value is not None and value < 0 else "inherit"


def _cell(text: str, *, right: bool = False, color: str | None = None, bold: bool = False) -> str:
    style = []
    if color and color != "inherit":
        style.append(f"color:{color}")
    if bold:
        style.append("font-weight:600")
    attrs = ' align="right"' if right else ""
    if style:
        attrs += f' style="{";".join(style)}"'
    return f"<td{attrs}>{html.escape(text)}</td>"


def _grade_head(grade: str) -> str:
    background, text = GRADE_COLORS[False][grade]
    return (
        f'<th align="right" width="6%" style="background-color:{background}; color:{text}">'
        f"{grade}</th>"
    )


def _table(head: str, rows: list[str], width: str = "100%") -> str:
    """A table whose header row repeats on every page it spans; rows striped."""
    striped = [
        row.replace("<tr>", '<tr style="background-color:#f4f6f8">', 1) if i % 2 else row
        for i, row in enumerate(rows)
    ]
    return (
        f'<table width="{width}" cellspacing="0" cellpadding="4" border="0">'
        f'<thead><tr style="background-color:#e3e7eb">{head}</tr></thead>'
        f"<tbody>{''.join(striped)}</tbody></table>"
    )


def breakdown_html(title: str, groups: dict[str, PortfolioSummary], currency: str,
                   strategy: bool = False, ungraded: bool = True) -> str:  # fmt: skip
    """A breakdown table; ``ungraded``: with the "Not graded" column."""
    name = title.removeprefix("By ").capitalize()
    head = (
        f'<th align="left" width="{20 if ungraded else 28}%">{html.escape(name)}</th>'
        '<th align="right" width="7%">Deals</th>'
        + "".join(_grade_head(g) for g in GRADES)
        + ('<th align="right" width="8%">Not graded</th>' if ungraded else "")
        + '<th align="right" width="11%">Performance</th>'
        '<th align="right" width="15%">Mean CF variance</th>'
        '<th align="right" width="15%">Mean DSCR variance</th>'
    )
    rows = []
    for key, s in groups.items():
        rows.append(
            "<tr>"
            + _cell(strategy_text(key) if strategy else key, bold=True)
            + _cell(f"{s.total_deals:,}", right=True)
            + "".join(_cell(f"{s.grade_distribution.get(g, 0):,}", right=True) for g in GRADES)
            + (_cell(f"{s.ungraded:,}", right=True) if ungraded else "")
            + _cell(rate(s.performance_rate), right=True, bold=True,
                    color=_rate_color(s.performance_rate))
            + _cell(signed_money(s.average_cash_flow_variance, currency), right=True,
                    color=_signed_color(s.average_cash_flow_variance))
            + _cell(ratio(s.average_dscr_variance), right=True,
                    color=_signed_color(s.average_dscr_variance))
            + "</tr>"
        )  # fmt: skip
    if not rows:
        return f"<h2>{html.escape(title)}</h2><p>No property.</p>"
    return f"<h2>{html.escape(title)}</h2>" + _table(head, rows)


def summary_html(s: PortfolioSummary, currency: str) -> str:
    tiles = [
        ("Deals", f"{s.total_deals:,}", "inherit"),
        ("Performance rate", rate(s.performance_rate), _rate_color(s.performance_rate)),
        ("Mean cash-flow variance", signed_money(s.average_cash_flow_variance, currency),
         _signed_color(s.average_cash_flow_variance)),
        ("Mean DSCR variance", ratio(s.average_dscr_variance),
         _signed_color(s.average_dscr_variance)),
    ]  # fmt: skip
    cells = "".join(
        f'<td width="16%"><span style="color:{GREY}">{html.escape(name)}</span><br>'
        f'<span style="font-size:15pt; font-weight:600; color:{color}">{html.escape(value)}'
        "</span></td>"
        for name, value, color in tiles
    )
    for grade in GRADES:
        background, text = GRADE_COLORS[False][grade]
        cells += (
            f'<td width="8%" align="center" style="background-color:{background}; color:{text}">'
            f'Grade {grade}<br><span style="font-size:15pt; font-weight:600">'
            f"{s.grade_distribution.get(grade, 0):,}</span></td>"
        )
    note = f"<p>{s.ungraded:,} not graded yet (no month entered).</p>" if s.ungraded else ""
    return (
        '<table width="100%" cellspacing="4" cellpadding="6" border="0">'
        f"<tr>{cells}</tr></table>{note}"
    )


def warnings_html(data: PageData) -> str:
    boxes = below_the_line(data.report.buy_boxes)
    if not boxes:
        return "<h2>Buy boxes below 60 %</h2><p>No buy box is below 60 %.</p>"
    head = (
        '<th align="left" width="60%">Buy box</th>'
        '<th align="right" width="20%">Performance</th>'
        '<th align="left" width="20%">Level</th>'
    )
    rows = [
        "<tr>"
        + _cell(box_label(b.ref, b.name), bold=True)
        + _cell(rate(b.performance_rate), right=True, color=_rate_color(b.performance_rate))
        + _cell((b.warning or "").title(), color=RED if b.warning == "CRITICAL" else AMBER,
                bold=True)
        + "</tr>"
        for b in boxes
    ]  # fmt: skip
    return "<h2>Buy boxes below 60 %</h2>" + _table(head, rows, "60%")


def report_html(data: PageData, charts: list[tuple[str, int]]) -> str:
    """``charts``: each image's resource name and width in the document."""
    report = data.report
    images = "".join(
        f'<td align="center"><img src="{name}" width="{width}"></td>' for name, width in charts
    )
    s = report.summary
    ungraded = s.ungraded > 0
    last = data.monthly[-1] if data.monthly else None
    months = ""
    if last is not None:
        months = (
            f" Latest month, {MONTHS[last.month - 1]} {last.year}: projected "
            f"{money(last.projected_total, data.currency)}, actual "
            f"{money(last.actual_total, data.currency)}."
        )
    return (
        f"<h1>{TITLE}</h1>"
        f'<p style="color:{GREY}">{html.escape(filters_sentence(report))} · '
        f"exported {html.escape(_now())} · amounts in {html.escape(data.currency)}</p>"
        + summary_html(s, data.currency)
        + f'<table width="100%" cellspacing="0" cellpadding="2"><tr>{images}</tr></table>'
        + f"<p>{html.escape(months.strip())}</p>"
        + warnings_html(data)
        + '<div style="page-break-before: always"></div>'
        + breakdown_html("By market", report.by_market, data.currency, ungraded=ungraded)
        + breakdown_html("By strategy", report.by_strategy, data.currency, True, ungraded)
        + breakdown_html("By buyer", report.by_buyer, data.currency, ungraded=ungraded)
    )


STYLE = """
h1 { font-size: 17pt; font-weight: 600; margin-bottom: 2px; }
h2 { font-size: 12pt; font-weight: 600; margin-top: 14px; margin-bottom: 4px; }
th { font-weight: 600; }
"""


def pdf_writer(path: str | Path) -> QPdfWriter:
    writer = QPdfWriter(str(path))
    writer.setTitle(TITLE)
    writer.setCreator("PerfDesk")
    writer.setResolution(150)
    writer.setPageLayout(
        QPageLayout(
            QPageSize(QPageSize.PageSizeId.A4),
            QPageLayout.Orientation.Landscape,
            QMarginsF(12, 10, 12, 10),
            QPageLayout.Unit.Millimeter,
        )
    )
    return writer


class ReportPages:
    """The report laid out on the writer's pages; ``paint(painter, n)`` draws page n."""

    def __init__(self, data: PageData, charts: list[QImage], writer: QPdfWriter) -> None:
        self.data = data
        page = writer.pageLayout().paintRectPixels(writer.resolution())
        to_css = 96 / writer.resolution()  # the document's units (CSS pixels) per device pixel
        self.font = QFont()
        self.font.setPointSizeF(9)
        doc = QTextDocument()
        doc.documentLayout().setPaintDevice(writer)
        doc.setDefaultFont(self.font)
        doc.setDefaultStyleSheet(STYLE)
        doc.setDocumentMargin(0)
        # The charts side by side across the page, in proportion to their widths.
        room = page.width() * to_css - 8 * len(charts)
        total = sum(image.width() for image in charts) or 1
        placed = []
        for index, image in enumerate(charts):
            name = f"chart{index}.png"
            doc.addResource(QTextDocument.ResourceType.ImageResource, QUrl(name), image)
            placed.append((name, int(room * image.width() / total)))
        doc.setHtml(report_html(data, placed))
        self.footer_height = int(writer.resolution() * 0.3)  # 0.3 in
        self.body = QSizeF(page.width(), page.height() - self.footer_height)
        doc.setPageSize(self.body)
        self.doc = doc
        self.count = doc.pageCount()

    def paint(self, painter: QPainter, number: int) -> None:
        body = self.body
        top = number * body.height()
        painter.save()
        painter.translate(0, -top)
        self.doc.drawContents(painter, QRectF(0, top, body.width(), body.height()))
        painter.restore()
        footer_font = QFont(self.font)
        footer_font.setPointSizeF(7.5)
        painter.setFont(footer_font)
        painter.setPen(QColor(GREY))
        line = QRectF(0, body.height(), body.width(), self.footer_height)
        bottom = Qt.AlignmentFlag.AlignBottom
        left = f"PerfDesk · {TITLE} · {filters_sentence(self.data.report)}"
        painter.drawText(line, int(Qt.AlignmentFlag.AlignLeft | bottom), left)
        right = f"Page {number + 1} of {self.count}"
        painter.drawText(line, int(Qt.AlignmentFlag.AlignRight | bottom), right)


def write_pdf(data: PageData, charts: list[QImage], path: str | Path) -> int:
    """The report as a PDF; returns its number of pages. Safe on a worker thread (a
    ``QTextDocument`` and a ``QPdfWriter`` made and used there)."""
    writer = pdf_writer(path)
    pages = ReportPages(data, charts, writer)
    painter = QPainter(writer)
    try:
        for number in range(pages.count):
            if number:
                writer.newPage()
            pages.paint(painter, number)
    finally:
        painter.end()
    return pages.count
