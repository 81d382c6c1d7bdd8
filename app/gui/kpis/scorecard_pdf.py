"""Scorecards as PDF (A4 portrait): a title, the figures, and a table whose header repeats on
each page, with a footer naming the report and the page. Safe on a worker thread (the
``QTextDocument`` and ``QPdfWriter`` are made and used there)."""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

from PySide6.QtCore import QMarginsF, QRectF, QSizeF, Qt
from PySide6.QtGui import QColor, QFont, QPageLayout, QPageSize, QPainter, QPdfWriter, QTextDocument

from app.services.kpis.scorecards import Scorecard, TeamView

GREY, RED, AMBER, GREEN = "#5f6368", "#b3261e", "#9a6700", "#1e7b34"
STYLE = """
h1 { font-size: 16pt; font-weight: 600; margin-bottom: 2px; }
h2 { font-size: 12pt; font-weight: 600; margin-top: 12px; margin-bottom: 4px; }
th { font-weight: 600; }
"""


def pct_color(value: Decimal | None) -> str:
    if value is None:
        return GREY
    return GREEN if value >= 100 else AMBER if value >= 75 else RED


def number(value: Decimal | None, places: int = 2) -> str:
    if value is None:
        return "—"
    text = f"{value:,.{places}f}"
    return text.rstrip("0").rstrip(".") if places > 2 else text


def _cell(text: str, *, right: bool = False, color: str | None = None, bold: bool = False) -> str:
    style = [f"color:{color}"] if color else []
    if bold:
        style.append("font-weight:600")
    attrs = ' align="right"' if right else ""
    if style:
        attrs += f' style="{";".join(style)}"'
    return f"<td{attrs}>{html.escape(text)}</td>"


def _table(header: Sequence[tuple[str, bool]], rows: list[str]) -> str:
    head = "".join(
        f'<th align="{"right" if right else "left"}">{html.escape(h)}</th>' for h, right in header
    )
    striped = [
        r.replace("<tr>", '<tr style="background-color:#f4f6f8">', 1) if i % 2 else r
        for i, r in enumerate(rows)
    ]
    return (
        '<table width="100%" cellspacing="0" cellpadding="4" border="0">'
        f'<thead><tr style="background-color:#e3e7eb">{head}</tr></thead>'
        f"<tbody>{''.join(striped)}</tbody></table>"
    )


def scorecard_html(card: Scorecard) -> str:
    rows = []
    for c in card.cards:
        latest = c.latest
        rows.append(
            "<tr>" + _cell(c.kpi, bold=True) + _cell(c.period.capitalize())
            + _cell(latest.period_start.isoformat() if latest else "—")
            + _cell(number(latest.actual, 4) if latest else "—", right=True)
            + _cell(c.unit or "")
            + _cell(number(c.latest_target or c.target, 4), right=True)
            + _cell(f"{number(c.achievement)} %" if c.achievement is not None else "—",
                    right=True, bold=True, color=pct_color(c.achievement))
            + _cell(number(c.weight), right=True) + "</tr>"
        )  # fmt: skip
    header = [
        ("KPI", False), ("Period", False), ("Latest period", False), ("Actual", True),
        ("Unit", False), ("Target", True), ("Achievement", True), ("Weight", True),
    ]  # fmt: skip
    overall = f"{number(card.overall)}" if card.overall is not None else "—"
    body = _table(header, rows) if rows else "<p>No KPIs are assigned.</p>"
    return (
        f"<h1>Scorecard: {html.escape(card.name)}</h1>"
        f"<p>{html.escape(card.email)} · as of {card.as_of.isoformat()}</p>"
        f'<p>Overall score <span style="font-size:15pt; font-weight:600; '
        f'color:{pct_color(card.overall)}">{overall}</span>'
        f" · weights add up to {number(card.weights_total)}</p>" + body
    )


def team_html(view: TeamView) -> str:
    rows = [
        "<tr>" + _cell(m.name, bold=True) + _cell(m.team or "")
        + _cell(number(m.overall), right=True, bold=True, color=pct_color(m.overall))
        + _cell(str(m.kpis), right=True) + _cell(str(m.below_target), right=True)
        + _cell(str(m.unmeasured), right=True) + "</tr>"
        for m in view.members
    ]  # fmt: skip
    header = [("Member", False), ("Team", False), ("Overall score", True), ("KPIs", True),
              ("Below target", True), ("Not measured", True)]  # fmt: skip
    kpi_rows = [
        "<tr>" + _cell(k.kpi, bold=True) + _cell(str(k.members), right=True)
        + _cell(f"{number(k.average_achievement)} %", right=True,
                color=pct_color(k.average_achievement)) + "</tr>"
        for k in view.by_kpi
    ]  # fmt: skip
    average = number(view.average) if view.average is not None else "—"
    return (
        f"<h1>Team view: {html.escape(view.title)}</h1>"
        f"<p>As of {view.as_of.isoformat()} · {len(view.members)} members · team average "
        f'<span style="font-weight:600; color:{pct_color(view.average)}">{average}</span></p>'
        + (_table(header, rows) if rows else "<p>No members.</p>")
        + "<h2>By KPI</h2>"
        + (_table([("KPI", False), ("Members measured", True), ("Average achievement", True)],
                  kpi_rows) if kpi_rows else "<p>No measurement yet.</p>")
    )  # fmt: skip


def write_pdf(title: str, body_html: str, path: str | Path) -> int:
    """``body_html`` laid out on A4 pages with a footer; returns the number of pages."""
    writer = QPdfWriter(str(path))
    writer.setTitle(title)
    writer.setCreator("PerfDesk")
    writer.setResolution(150)
    writer.setPageLayout(
        QPageLayout(
            QPageSize(QPageSize.PageSizeId.A4),
            QPageLayout.Orientation.Portrait,
            QMarginsF(14, 12, 14, 12),
            QPageLayout.Unit.Millimeter,
        )
    )
    page = writer.pageLayout().paintRectPixels(writer.resolution())
    font = QFont()
    font.setPointSizeF(9)
    doc = QTextDocument()
    doc.documentLayout().setPaintDevice(writer)
    doc.setDefaultFont(font)
    doc.setDefaultStyleSheet(STYLE)
    doc.setDocumentMargin(0)
    doc.setHtml(body_html)
    footer = int(writer.resolution() * 0.3)
    body = QSizeF(page.width(), page.height() - footer)
    doc.setPageSize(body)
    count = doc.pageCount()
    stamp = dt.datetime.now().strftime("%d %b %Y %H:%M")
    painter = QPainter(writer)
    try:
        for n in range(count):
            if n:
                writer.newPage()
            top = n * body.height()
            painter.save()
            painter.translate(0, -top)
            doc.drawContents(painter, QRectF(0, top, body.width(), body.height()))
            painter.restore()
            small = QFont(font)
            small.setPointSizeF(7.5)
            painter.setFont(small)
            painter.setPen(QColor(GREY))
            line = QRectF(0, body.height(), body.width(), footer)
            bottom = Qt.AlignmentFlag.AlignBottom
            painter.drawText(line, int(Qt.AlignmentFlag.AlignLeft | bottom),
                             f"PerfDesk · {title} · exported {stamp}")  # fmt: skip
            painter.drawText(line, int(Qt.AlignmentFlag.AlignRight | bottom),
                             f"Page {n + 1} of {count}")  # fmt: skip
    finally:
        painter.end()
    return count
