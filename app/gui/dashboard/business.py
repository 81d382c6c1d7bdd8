"""My Business: the acting broker's own pipeline, apart from the team's (SPEC §1) — own leads
by source, this week's appointments, own production year to date."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QPersistentModelIndex,
    QRect,
    QSize,
    Qt,
    Signal,
    Slot,
)
from PySide6.QtGui import QFont, QFontMetrics, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListView,
    QSizePolicy,
    QStackedWidget,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from app.gui.dashboard.card_delegate import CardFonts, Groups, figures_height, mix, paint_figures
from app.gui.dashboard.cards import Metric
from app.gui.dashboard.format import count, full_money, plural, short_money
from app.services.dashboard import BusinessOwners, MyBusiness, SourceCount, WeekAppointment

APPOINTMENT_ROLE = Qt.ItemDataRole.UserRole + 1  # the WeekAppointment

Index = QModelIndex | QPersistentModelIndex

#: Appointments shown at once in This week (more scroll).
WEEK_ROWS = 10
_STATUS = {"completed": "Done", "no_show": "No-show", "scheduled": ""}


class FigureRow(QWidget):
    """Own production year to date and what is active now, drawn like a card's figures."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("businessFigures")
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.groups: Groups = ()

    def set_groups(self, groups: Groups) -> None:
        self.groups = groups
        self.setAccessibleName(
            "; ".join(
                f"{caption}: " + ", ".join(f"{m.label} {m.value}" for m in metrics)
                for caption, metrics in groups
            )
        )
        self.setToolTip("\n".join(f"{m.label}: {m.tip or m.value}" for _, ms in groups for m in ms))
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(300, figures_height(CardFonts(self.font())) + 2)

    def minimumSizeHint(self) -> QSize:
        return QSize(150, self.sizeHint().height())

    def paintEvent(self, event: QPaintEvent) -> None:
        if not self.groups:
            return
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        paint_figures(p, CardFonts(self.font()), self.palette(), self.rect(), self.groups)
        p.end()


class SourceBars(QWidget):
    """Leads by source as labelled bars, the longest for the source with most leads."""

    ROW_GAP = 6

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("leadSources")
        self._sources: tuple[SourceCount, ...] = ()
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)

    def set_sources(self, sources: Sequence[SourceCount], period: str) -> None:
        self._sources = tuple(sources)
        self.setAccessibleName(
            "Leads by source: "
            + "; ".join(f"{s.source} {s.total} ({s.new} new in {period})" for s in sources)
        )
        self._period = period
        self.updateGeometry()
        self.update()

    def sources(self) -> tuple[SourceCount, ...]:
        return self._sources

    def _row_h(self) -> int:
        return self.fontMetrics().height() + self.ROW_GAP

    def sizeHint(self) -> QSize:
        return QSize(240, max(len(self._sources), 1) * self._row_h())

    def minimumSizeHint(self) -> QSize:
        return QSize(160, self.sizeHint().height())

    def paintEvent(self, event: QPaintEvent) -> None:
        if not self._sources:
            return
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        pal = self.palette()
        fm = self.fontMetrics()
        base = pal.color(QPalette.ColorRole.Base)
        accent = pal.color(QPalette.ColorRole.Highlight)
        text = pal.color(QPalette.ColorRole.WindowText)
        muted = pal.color(QPalette.ColorRole.PlaceholderText)
        label_w = min(max(fm.horizontalAdvance(s.source) for s in self._sources) + 10, 130)
        most = max(s.total for s in self._sources) or 1
        figures = [f"{s.total:,}" + (f"  +{s.new:,}" if s.new else "") for s in self._sources]
        figure_w = max(fm.horizontalAdvance(f) for f in figures) + 8
        bar_left = label_w
        bar_room = max(self.width() - bar_left - figure_w, 20)
        row_h = self._row_h()
        for i, source in enumerate(self._sources):
            top = i * row_h
            p.setPen(text)
            p.drawText(
                QRect(0, top, label_w - 8, row_h),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                fm.elidedText(source.source, Qt.TextElideMode.ElideRight, label_w - 8),
            )
            bar_h = max(fm.height() - 6, 6)
            y = top + (row_h - bar_h) // 2
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(mix(base, text, 0.08))
            p.drawRoundedRect(QRect(bar_left, y, bar_room, bar_h), 3, 3)
            width = max(int(bar_room * source.total / most), 3)
            p.setBrush(mix(base, accent, 0.75))
            p.drawRoundedRect(QRect(bar_left, y, width, bar_h), 3, 3)
            p.setPen(text)
            x = bar_left + bar_room + 8
            total = f"{source.total:,}"
            p.drawText(
                QRect(x, top, figure_w, row_h),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                total,
            )
            if source.new:
                p.setPen(muted)
                p.drawText(
                    QRect(x + fm.horizontalAdvance(total + "  "), top, figure_w, row_h),
                    Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                    f"+{source.new:,}",
                )
        p.end()


def local(when: dt.datetime) -> dt.datetime:
    return when.astimezone()


class WeekModel(QAbstractListModel):
    """This week's appointments, by start."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[WeekAppointment] = []

    def set_appointments(self, rows: Sequence[WeekAppointment]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.column() != 0 or not 0 <= index.row() < len(self._rows):
            return None
        a = self._rows[index.row()]
        if role in (
            Qt.ItemDataRole.DisplayRole,
            Qt.ItemDataRole.ToolTipRole,
            Qt.ItemDataRole.AccessibleTextRole,
        ):
            start = local(a.start_time)
            words = [f"{start:%a %d %b %H:%M}", a.title]
            if a.location:
                words.append(a.location)
            if _STATUS.get(a.status):
                words.append(_STATUS[a.status])
            return " · ".join(words)
        if role == APPOINTMENT_ROLE:
            return a
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return (
            Qt.ItemFlag.ItemIsEnabled
            | Qt.ItemFlag.ItemIsSelectable
            | Qt.ItemFlag.ItemNeverHasChildren
        )


class WeekDelegate(QStyledItemDelegate):
    """One line: day and time, the title, where; "Done" or "No-show" once it has happened."""

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        return QSize(200, QFontMetrics(option.font).height() + 8)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        a = index.data(APPOINTMENT_ROLE)
        if not isinstance(a, WeekAppointment):
            super().paint(painter, option, index)
            return
        painter.save()
        try:
            self._paint(painter, option, a)
        finally:
            painter.restore()

    def _paint(self, p: QPainter, option: QStyleOptionViewItem, a: WeekAppointment) -> None:
        pal: QPalette = option.palette
        rect: QRect = option.rect
        base = pal.color(QPalette.ColorRole.Base)
        accent = pal.color(QPalette.ColorRole.Highlight)
        text = pal.color(QPalette.ColorRole.Text)
        muted = pal.color(QPalette.ColorRole.PlaceholderText)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        if option.state & QStyle.StateFlag.State_Selected:
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(mix(base, accent, 0.16))
            p.drawRoundedRect(rect.adjusted(1, 1, -1, -1), 4, 4)
        fm = QFontMetrics(option.font)
        bold = QFont(option.font)
        bold.setWeight(QFont.Weight.DemiBold)
        bold_fm = QFontMetrics(bold)
        start = local(a.start_time)
        upcoming = a.status == "scheduled"
        baseline = rect.top() + (rect.height() - fm.height()) // 2 + fm.ascent()
        x = rect.left() + 4
        day = f"{start:%a %d}"
        p.setFont(bold)
        p.setPen(text if upcoming else muted)
        p.drawText(x, baseline, day)
        x += bold_fm.horizontalAdvance("Wed 00") + 8
        p.setFont(option.font)
        p.setPen(muted)
        p.drawText(x, baseline, f"{start:%H:%M}")
        x += fm.horizontalAdvance("00:00") + 10

        status = _STATUS.get(a.status, a.status.replace("_", " ").capitalize())
        chip_w = fm.horizontalAdvance(status) + 12 if status else 0
        room = rect.right() - x - (chip_w + 8 if chip_w else 4)
        title = fm.elidedText(a.title, Qt.TextElideMode.ElideRight, room)
        p.setPen(text if upcoming else muted)
        p.drawText(x, baseline, title)
        where = a.location or ("private" if a.is_private else "")
        used = fm.horizontalAdvance(title)
        if where and used < room - 30:
            p.setPen(muted)
            p.drawText(
                x + used,
                baseline,
                fm.elidedText(f" · {where}", Qt.TextElideMode.ElideRight, room - used),
            )
        if chip_w:
            chip = QRect(rect.right() - chip_w - 4, rect.top() + 3, chip_w, rect.height() - 6)
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(mix(base, text, 0.08))
            p.drawRoundedRect(chip, chip.height() / 2, chip.height() / 2)
            p.setPen(muted)
            p.drawText(chip, Qt.AlignmentFlag.AlignCenter, status)


class BusinessSection(QWidget):
    """My Business. ``broker_chosen(email)`` when a broker is picked from the combo."""

    broker_chosen = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("businessSection")
        self.title = QLabel("My Business")
        self.title.setProperty("role", "sectionTitle")
        self.who_label = QLabel()
        self.who_label.setObjectName("businessPerson")
        self.who_label.setProperty("role", "hint")
        self.broker_combo = QComboBox()
        self.broker_combo.setObjectName("brokerChoice")
        self.broker_combo.setAccessibleName("Whose business")
        self.broker_combo.setToolTip("The broker whose own pipeline is shown")
        self.broker_combo.activated.connect(self._broker_activated)
        self.broker_combo.hide()

        self.figures = FigureRow()

        self.leads_label = QLabel()
        self.leads_label.setObjectName("businessLeads")
        self.leads_label.setProperty("role", "subTitle")
        self.leads_note = QLabel()
        self.leads_note.setObjectName("businessLeadsNote")
        self.leads_note.setProperty("role", "hint")
        self.sources = SourceBars()

        self.week_label = QLabel()
        self.week_label.setObjectName("businessWeek")
        self.week_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.week_label.setProperty("role", "subTitle")
        self.week_model = WeekModel(self)
        self.week_view = QListView()
        self.week_view.setObjectName("weekAppointments")
        self.week_view.setAccessibleName("This week's appointments")
        self.week_view.setModel(self.week_model)
        self.week_view.setItemDelegate(WeekDelegate(self.week_view))
        self.week_view.setUniformItemSizes(True)
        self.week_view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.week_view.setFrameShape(QListView.Shape.NoFrame)
        self.week_view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.week_view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.week_view.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.week_empty = QLabel("Nothing planned this week.")
        self.week_empty.setProperty("role", "hint")

        content = QWidget()
        body = QVBoxLayout(content)
        body.setContentsMargins(0, 0, 0, 0)
        body.setSpacing(6)
        body.addWidget(self.figures)
        body.addSpacing(6)
        leads_head = QHBoxLayout()
        leads_head.addWidget(self.leads_label, 1)
        leads_head.addWidget(self.leads_note)
        self.leads_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        body.addLayout(leads_head)
        body.addWidget(self.sources)
        body.addSpacing(6)
        body.addWidget(self.week_label)
        body.addWidget(self.week_view)
        body.addWidget(self.week_empty)
        body.addStretch(1)

        self.empty_label = QLabel()
        self.empty_label.setObjectName("businessEmpty")
        self.empty_label.setProperty("role", "hint")
        self.empty_label.setWordWrap(True)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.body = QStackedWidget()
        self.body.addWidget(content)
        self.body.addWidget(self.empty_label)
        self.content = content

        head = QHBoxLayout()
        head.addWidget(self.title)
        head.addWidget(self.who_label, 1)
        head.addWidget(self.broker_combo)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        layout.addLayout(head)
        layout.addWidget(self.body)
        self.business: MyBusiness | None = None
        self.show_problem("Reading…")

    # -- who -------------------------------------------------------------------------------

    def set_owners(self, owners: BusinessOwners) -> None:
        person = owners.person
        choose = not owners.fixed and len(owners.choices) > 1
        self.broker_combo.blockSignals(True)
        try:
            self.broker_combo.clear()
            if choose:
                if person is None:
                    self.broker_combo.addItem("Choose a broker…", "")
                for p in owners.choices:
                    self.broker_combo.addItem(p.name, p.email)
                index = self.broker_combo.findData(person.email) if person is not None else 0
                self.broker_combo.setCurrentIndex(max(index, 0))
        finally:
            self.broker_combo.blockSignals(False)
        self.broker_combo.setVisible(choose)
        self.who_label.setText("" if choose or person is None else f"— {person.name}")

    @Slot(int)
    def _broker_activated(self, _index: int) -> None:
        email = self.broker_combo.currentData()
        if isinstance(email, str) and email:
            self.broker_chosen.emit(email)

    def choose_broker(self, email: str) -> bool:
        index = self.broker_combo.findData(email)
        if index < 0:
            return False
        self.broker_combo.setCurrentIndex(index)
        self._broker_activated(index)
        return True

    # -- what -----------------------------------------------------------------------------

    def show_problem(self, text: str) -> None:
        self.business = None
        self.empty_label.setText(text)
        self.body.setCurrentWidget(self.empty_label)

    def set_business(self, b: MyBusiness, currency: str) -> None:
        self.business = b
        period = f"{b.period.period_days} d"
        production = (
            Metric(count(b.escrows_ytd), "Escrows", "Active, pending or closed, opened this year"),
            Metric(
                short_money(b.volume_ytd, currency), "Volume", full_money(b.volume_ytd, currency)
            ),
            Metric(
                short_money(b.commission_ytd, currency),
                "Commission",
                full_money(b.commission_ytd, currency),
            ),
        )
        active = (
            Metric(count(b.active_clients), "Clients", "Clients whose status is active"),
            Metric(count(b.active_listings), "Listings", "Listings whose status is active"),
        )
        self.figures.set_groups((("PRODUCTION YTD", production), ("ACTIVE NOW", active)))

        self.leads_label.setText(
            f"My leads · {b.leads_total:,}"
            + (f"  (+{b.leads_new:,} in {period})" if b.leads_new else "")
        )
        if b.leads_total == 0:
            note, tip = "none yet", ""
        elif b.leads_private == b.leads_total:
            note, tip = "all private", "Only you see them; they count on nobody's card."
        elif b.leads_private:
            note = f"{b.leads_private:,} private"
            tip = "Only you see the private ones; the others count for your broker."
        else:
            note, tip = "none private", "Your broker sees their counts."
        self.leads_note.setText(note)
        self.leads_note.setToolTip(tip)
        self.sources.set_sources(b.sources, period)
        self.sources.setVisible(bool(b.sources))

        first = local(b.week_start)
        last = local(b.week_end - dt.timedelta(seconds=1))
        scheduled = b.appointments_scheduled
        self.week_label.setText(
            f"This week · {plural(len(b.appointments), 'appointment')}"
            + (f"  ({scheduled:,} to come)" if scheduled else "")
        )
        self.week_label.setToolTip(f"{first:%a %d %b} – {last:%a %d %b}")
        self.week_model.set_appointments(b.appointments)
        rows = len(b.appointments)
        self.week_view.setVisible(rows > 0)
        self.week_empty.setVisible(rows == 0)
        if rows:
            # All of a usual week; a busy one scrolls, starting at the next appointment to come.
            row_h = self.week_view.sizeHintForRow(0)
            shown = min(rows, WEEK_ROWS)
            self.week_view.setFixedHeight(row_h * shown + 2 * self.week_view.frameWidth() + 2)
            upcoming = next((i for i, a in enumerate(b.appointments) if a.status == "scheduled"), 0)
            self.week_view.scrollTo(
                self.week_model.index(upcoming, 0), QAbstractItemView.ScrollHint.PositionAtTop
            )
        self.body.setCurrentWidget(self.content)
