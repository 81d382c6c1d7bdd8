"""The agent report window: one agent's months for a date range, three charts, the month
table, "Message agent" and PDF/XLSX export. Imports pyqtgraph, so it is imported only when
a report is opened (``app.gui.dashboard.team.open_agent_report``)."""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable
from functools import partial

import pyqtgraph as pg
from PySide6.QtCore import (
    QDate,
    QMarginsF,
    QSizeF,
    Qt,
    QUrl,
    QUrlQuery,
)
from PySide6.QtGui import (
    QDesktopServices,
    QImage,
    QPageLayout,
    QPageSize,
    QPdfWriter,
    QTextDocument,
)
from PySide6.QtWidgets import (
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.domain.agent_kpis import AgentKpis
from app.domain.errors import PerfDeskError
from app.gui.agent_report.model import HistoryModel, cell_text
from app.gui.context import AppContext
from app.services.reports.agent_history import COLUMNS, AgentHistory, agent_history, to_xlsx

#: ``choose(parent, caption, suggested_path, name_filter) -> path or None``: tests replace it.
FileChooser = Callable[[QWidget, str, str, str], str | None]
UrlOpener = Callable[[QUrl], bool]

BAR = (70, 130, 180)
LINE = (230, 126, 34)
SECOND = (46, 160, 90)


def choose_save_path(parent: QWidget, caption: str, suggested: str, name_filter: str) -> str | None:
    path, _ = QFileDialog.getSaveFileName(parent, caption, suggested, name_filter)
    return path or None


def open_url(url: QUrl) -> bool:
    return bool(QDesktopServices.openUrl(url))


def default_range(today: dt.date) -> tuple[dt.date, dt.date]:
    """The last 12 months: from the 1st of the month 11 months ago to today."""
    index = today.year * 12 + today.month - 1 - 11
    return dt.date(index // 12, index % 12 + 1, 1), today


def mailto(email: str, subject: str) -> QUrl:
    url = QUrl(f"mailto:{email}")
    query = QUrlQuery()
    query.addQueryItem("subject", subject)
    url.setQuery(query)
    return url


def _qdate(day: dt.date) -> QDate:
    return QDate(day.year, day.month, day.day)


def _date(day: QDate) -> dt.date:
    return dt.date(day.year(), day.month(), day.day())


class AgentReportDialog(QDialog):
    def __init__(
        self,
        ctx: AppContext,
        agent: AgentKpis,
        parent: QWidget | None = None,
        *,
        today: dt.date | None = None,
        acting_email: str | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.agent = agent
        self.acting_email = acting_email
        self.choose_file: FileChooser = choose_save_path
        self.open_url: UrlOpener = open_url
        self._generation = 0
        self.volume_scale = 1e3  # the volume chart's unit (thousands or millions)
        self._loading = False
        self.setObjectName("agentReport")
        self.setWindowTitle(f"Agent report: {agent.name}")
        self.setWindowFlag(Qt.WindowType.WindowMaximizeButtonHint, True)
        self.resize(1100, 820)

        start, end = default_range(today or dt.datetime.now(dt.UTC).date())
        self.title = QLabel(f"<b>{html.escape(agent.name)}</b> &lt;{html.escape(agent.email)}&gt;")
        self.title.setTextFormat(Qt.TextFormat.RichText)
        self.start_edit = self._date_edit("reportStart", "From", start)
        self.end_edit = self._date_edit("reportEnd", "To", end)
        self.status = QLabel()
        self.status.setObjectName("reportStatus")
        self.status.setProperty("role", "hint")
        range_bar = QHBoxLayout()
        range_bar.addWidget(self.title)
        range_bar.addStretch(1)
        for text, edit in (("&From", self.start_edit), ("&To", self.end_edit)):
            label = QLabel(text)
            label.setBuddy(edit)
            range_bar.addWidget(label)
            range_bar.addWidget(edit)
        range_bar.addWidget(self.status)

        # Three charts, created once; each load only sets their data.
        self.leads_plot = self._plot("leadsChart", "Leads and conversions", "leads")
        self.new_bars = pg.BarGraphItem(x=[], height=[], width=0.6, brush=pg.mkBrush(*BAR))
        self.leads_plot.addItem(self.new_bars)
        self.converted_line = self.leads_plot.plot(
            [],
            [],
            pen=pg.mkPen(LINE, width=2),
            symbol="o",
            symbolBrush=LINE,
            name="Converted (all leads to date)",
        )
        self.leads_plot.plotItem.legend.addItem(self.new_bars, "New leads")

        self.appointments_plot = self._plot(
            "appointmentsChart", "Appointments and show rate", "appointments"
        )
        self.scheduled_bars = pg.BarGraphItem(x=[], height=[], width=0.6, brush=pg.mkBrush(*BAR))
        self.appointments_plot.addItem(self.scheduled_bars)
        self.appointments_plot.plotItem.legend.addItem(self.scheduled_bars, "Scheduled")
        self.completed_line = self.appointments_plot.plot(
            [], [], pen=pg.mkPen(SECOND, width=2), symbol="s", symbolBrush=SECOND, name="Completed"
        )
        # The show rate on its own axis (0–100 %), on the right.
        item = self.appointments_plot.plotItem
        self.rate_box = pg.ViewBox()
        item.showAxis("right")
        item.scene().addItem(self.rate_box)
        item.getAxis("right").linkToView(self.rate_box)
        item.getAxis("right").setLabel("show rate %")
        self.rate_box.setXLink(item)
        self.rate_box.setYRange(0, 105)
        self.rate_box.setMouseEnabled(x=False, y=False)
        self.show_rate_line = pg.PlotDataItem(
            [],
            [],
            pen=pg.mkPen(LINE, width=2, style=Qt.PenStyle.DashLine),
            symbol="t",
            symbolBrush=LINE,
        )
        self.rate_box.addItem(self.show_rate_line)
        item.legend.addItem(self.show_rate_line, "Show rate %")
        item.vb.sigResized.connect(self._sync_rate_box)

        self.volume_plot = self._plot("volumeChart", "Volume", "volume")
        self.volume_bars = pg.BarGraphItem(x=[], height=[], width=0.6, brush=pg.mkBrush(*SECOND))
        self.volume_plot.addItem(self.volume_bars)
        self.volume_plot.plotItem.legend.addItem(self.volume_bars, "Volume (production)")

        charts = QWidget()
        charts_layout = QHBoxLayout(charts)
        charts_layout.setContentsMargins(0, 0, 0, 0)
        for plot in self.plots():
            charts_layout.addWidget(plot)

        self.model = HistoryModel(self)
        self.table = QTableView()
        self.table.setObjectName("reportTable")
        self.table.setAccessibleName("Months")
        self.table.setModel(self.model)
        self.table.setAlternatingRowColors(True)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(charts)
        splitter.addWidget(self.table)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)

        self.message_button = QPushButton(f"&Message {agent.name}…")
        self.message_button.setObjectName("messageAgent")
        self.message_button.setToolTip(f"Write to {agent.email} in your mail program")
        self.message_button.clicked.connect(self.message_agent)
        self.pdf_button = QPushButton("Export &PDF…")
        self.pdf_button.setObjectName("exportPdf")
        self.pdf_button.clicked.connect(self.export_pdf)
        self.xlsx_button = QPushButton("Export &XLSX…")
        self.xlsx_button.setObjectName("exportXlsx")
        self.xlsx_button.clicked.connect(self.export_xlsx)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.message_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.pdf_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.xlsx_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addLayout(range_bar)
        layout.addWidget(splitter, 1)
        layout.addWidget(buttons)

        self.start_edit.dateChanged.connect(self._range_changed)
        self.end_edit.dateChanged.connect(self._range_changed)
        self._enable_exports()
        self.reload()

    # -- building --------------------------------------------------------------------------

    def _date_edit(self, name: str, accessible: str, day: dt.date) -> QDateEdit:
        edit = QDateEdit(_qdate(day))
        edit.setObjectName(name)
        edit.setAccessibleName(accessible)
        edit.setCalendarPopup(True)
        edit.setDisplayFormat("d MMM yyyy")
        return edit

    def _plot(self, name: str, title: str, left: str) -> pg.PlotWidget:
        plot = pg.PlotWidget(background="w")
        plot.setObjectName(name)
        plot.setAccessibleName(title)
        plot.setTitle(title, color="#333", size="11pt")
        plot.setLabel("left", left)
        plot.showGrid(y=True, alpha=0.2)
        plot.setMouseEnabled(x=False, y=False)
        plot.setMenuEnabled(False)
        plot.hideButtons()
        plot.addLegend(offset=(8, 8), labelTextColor="#333", brush=pg.mkBrush(255, 255, 255, 200))
        plot.setMinimumSize(260, 220)
        return plot

    def plots(self) -> tuple[pg.PlotWidget, pg.PlotWidget, pg.PlotWidget]:
        return (self.leads_plot, self.appointments_plot, self.volume_plot)

    def _sync_rate_box(self) -> None:
        self.rate_box.setGeometry(self.appointments_plot.plotItem.vb.sceneBoundingRect())
        self.rate_box.linkedViewChanged(self.appointments_plot.plotItem.vb, self.rate_box.XAxis)

    # -- loading ---------------------------------------------------------------------------

    def date_range(self) -> tuple[dt.date, dt.date]:
        return _date(self.start_edit.date()), _date(self.end_edit.date())

    def set_range(self, start: dt.date, end: dt.date) -> None:
        for edit, day in ((self.start_edit, start), (self.end_edit, end)):
            edit.blockSignals(True)
            edit.setDate(_qdate(day))
            edit.blockSignals(False)
        self.reload()

    def _range_changed(self) -> None:
        self.reload()

    def is_loading(self) -> bool:
        return self._loading

    def reload(self) -> None:
        db = self.ctx.database.db
        if db is None:
            self._show_problem("No database is open.")
            return
        start, end = self.date_range()
        if start > end:
            self._show_problem("The start is after the end.")
            return
        self._generation += 1
        generation = self._generation
        self._loading = True
        self.status.setText("Reading…")

        def loaded(history: AgentHistory) -> None:
            if generation == self._generation:
                self._loading = False
                self.show_history(history)

        def failed(exc: BaseException) -> None:
            if generation != self._generation:
                return
            self._loading = False
            if isinstance(exc, PerfDeskError):
                self._show_problem(str(exc))
            else:
                self._show_problem("The report could not be read.")
                self.ctx.ops.present(exc, self)

        self.ctx.ops.run(
            partial(agent_history, db, self.agent.user_id, start, end, self.acting_email),
            label="Reading the agent report…",
            on_success=loaded,
            on_error=failed,
            parent=self,
        )

    def _show_problem(self, text: str) -> None:
        self.status.setText(text)
        self.model.set_history(None)
        self._set_charts(None)
        self._enable_exports()

    def show_history(self, history: AgentHistory) -> None:
        self.model.set_history(history)
        self._set_charts(history)
        n = len(history.months)
        stored = sum(1 for m in history.months if m.stored_at is not None)
        text = f"{n} month{'s' if n != 1 else ''}"
        if stored:
            text += f" ({stored} read from the monthly snapshots, the rest counted now)"
        self.status.setText(text)
        self._enable_exports()

    def _enable_exports(self) -> None:
        ready = self.model.history is not None
        self.pdf_button.setEnabled(ready)
        self.xlsx_button.setEnabled(ready)

    def _set_charts(self, history: AgentHistory | None) -> None:
        months = [] if history is None else list(history.months)
        x = list(range(len(months)))
        # Short labels so 12 months fit (the year is in the range above); beyond 12, every
        # other month is labelled.
        form = "%b %y" if len(months) <= 6 else "%b"
        labels = [(i, m.month.strftime(form)) for i, m in enumerate(months)]
        ticks = [labels if len(months) <= 12 else labels[::2]]
        for plot in self.plots():
            plot.getAxis("bottom").setTicks(ticks)
            plot.setXRange(-0.6, max(len(months), 1) - 0.4, padding=0)
        self.new_bars.setOpts(x=x, height=[m.new_leads for m in months])
        self.converted_line.setData(x, [m.converted_leads for m in months])
        self.scheduled_bars.setOpts(x=x, height=[m.appointments_scheduled for m in months])
        self.completed_line.setData(x, [m.appointments_completed for m in months])
        rated = [(i, float(m.show_rate_pct)) for i, m in enumerate(months) if m.show_rate_pct]
        self.show_rate_line.setData([i for i, _ in rated], [r for _, r in rated])
        volumes = [float(m.volume) for m in months]
        top_volume = max([1.0, *volumes])
        scale, unit = (1e6, "millions") if top_volume >= 1e6 else (1e3, "thousands")
        self.volume_bars.setOpts(x=x, height=[v / scale for v in volumes])
        currency = history.currency if history is not None else ""
        self.volume_plot.setLabel("left", f"volume ({unit} {currency})".replace(" )", ")"))
        self.volume_scale = scale
        leads_top = max([1, *(max(m.new_leads, m.converted_leads) for m in months)])
        self.leads_plot.setYRange(0, leads_top * 1.15, padding=0)
        appointments_top = max([1, *(m.appointments_scheduled for m in months)])
        self.appointments_plot.setYRange(0, appointments_top * 1.15, padding=0)
        self.volume_plot.setYRange(0, top_volume / scale * 1.15, padding=0)
        self._sync_rate_box()

    # -- actions ---------------------------------------------------------------------------

    def mailto_url(self) -> QUrl:
        start, end = self.date_range()
        return mailto(self.agent.email, f"Your performance report, {start:%b %Y} to {end:%b %Y}")

    def message_agent(self) -> bool:
        return self.open_url(self.mailto_url())

    def _suggested(self, extension: str) -> str:
        start, end = self.date_range()
        stem = self.agent.name.replace(" ", "-") or self.agent.email
        return f"{stem}-report-{start:%Y-%m}-to-{end:%Y-%m}.{extension}"

    def export_xlsx(self) -> None:
        history = self.model.history
        if history is None:
            return
        path = self.choose_file(
            self, "Export the report as XLSX", self._suggested("xlsx"), "Excel workbook (*.xlsx)"
        )
        if not path:
            return
        if not path.lower().endswith(".xlsx"):
            path += ".xlsx"
        self.status.setText("Writing the workbook…")
        self.ctx.ops.run(
            partial(to_xlsx, history, path),
            label="Exporting the report…",
            on_success=lambda _none: self.status.setText(f"Saved {path}"),
            parent=self,
        )

    def export_pdf(self) -> str | None:
        history = self.model.history
        if history is None:
            return None
        path = self.choose_file(
            self, "Export the report as PDF", self._suggested("pdf"), "PDF document (*.pdf)"
        )
        if not path:
            return None
        if not path.lower().endswith(".pdf"):
            path += ".pdf"
        write_pdf(history, [chart_image(p) for p in self.plots()], path)
        self.status.setText(f"Saved {path}")
        return path


def chart_image(plot: pg.PlotWidget) -> QImage:
    if plot.width() < 300 or plot.height() < 220 or not plot.isVisible():
        plot.resize(max(plot.width(), 420), max(plot.height(), 280))
    image: QImage = plot.grab().toImage()
    return image


def report_html(history: AgentHistory, charts: list[str]) -> str:
    e = html.escape
    head = "".join(f"<th>{e(header)}</th>" for header, _, _ in COLUMNS)
    rows = []
    for figures in (*history.months, history.totals):
        cells = []
        for index, (_, attribute, kind) in enumerate(COLUMNS):
            text = cell_text(figures, attribute, kind, history.currency)
            if figures is history.totals and index == 0:
                text = "Total"
            align = "left" if index == 0 else "right"
            cells.append(f'<td align="{align}">{e(text)}</td>')
        style = ' style="font-weight:bold"' if figures is history.totals else ""
        rows.append(f"<tr{style}>{''.join(cells)}</tr>")
    images = "".join(f'<img src="{name}" width="320">&nbsp;' for name in charts)
    team = f", {e(history.team)}" if history.team else ""
    return (
        f"<h2>Agent report: {e(history.name)}</h2>"
        f"<p>{e(history.email)}{team}<br>{history.start:%d %b %Y} to {history.end:%d %b %Y}"
        f" · amounts in {e(history.currency)}</p>"
        f"<p>{images}</p>"
        '<table border="1" cellspacing="0" cellpadding="3" width="100%" '
        'style="border-collapse:collapse; font-size:8pt">'
        f"<tr>{head}</tr>{''.join(rows)}</table>"
    )


def write_pdf(history: AgentHistory, charts: list[QImage], path: str) -> None:
    """The report as a PDF: a title, the charts as images and the month table (landscape A4)."""
    writer = QPdfWriter(path)
    writer.setTitle(f"Agent report: {history.name}")
    writer.setCreator("PerfDesk")
    writer.setResolution(150)
    writer.setPageLayout(
        QPageLayout(
            QPageSize(QPageSize.PageSizeId.A4),
            QPageLayout.Orientation.Landscape,
            QMarginsF(12, 12, 12, 12),
            QPageLayout.Unit.Millimeter,
        )
    )
    doc = QTextDocument()
    names = []
    for index, image in enumerate(charts):
        name = f"chart{index}.png"
        doc.addResource(QTextDocument.ResourceType.ImageResource, QUrl(name), image)
        names.append(name)
    doc.setHtml(report_html(history, names))
    layout = writer.pageLayout()
    rect = layout.paintRectPixels(writer.resolution())
    doc.setPageSize(QSizeF(rect.width(), rect.height()))
    doc.print_(writer)
