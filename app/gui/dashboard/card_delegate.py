"""Paints an agent card (the seed's mock-up): who and when, then leads, appointments and
production year to date as rows of figures. Colours come from the palette; the one accent is
the palette's highlight (selection, the activity dot, the initials)."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPoint, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPalette, QPen, QPixmap
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from app.gui.dashboard.cards import CARD_ROLE, CardText, Metric

Index = QModelIndex | QPersistentModelIndex

#: Gap around each card (half of it on each side), padding inside.
GAP = 12
PAD = 14
RADIUS = 8.0
CELL_GAP = 6
#: A card is never narrower than this; the grid fits as many columns as the width allows.
MIN_CARD_WIDTH = 300
MAX_CARD_WIDTH = 420
#: Cards kept drawn (a screenful is 6–20; scrolling back finds them still there).
PIXMAP_CACHE_SIZE = 120


def mix(a: QColor, b: QColor, t: float) -> QColor:
    """``a`` moved ``t`` of the way towards ``b``."""
    return QColor.fromRgbF(
        a.redF() + (b.redF() - a.redF()) * t,
        a.greenF() + (b.greenF() - a.greenF()) * t,
        a.blueF() + (b.blueF() - a.blueF()) * t,
        1.0,
    )


class CardFonts:
    """The fonts of a card, derived from the view's font."""

    def __init__(self, base: QFont) -> None:
        size = base.pointSizeF() if base.pointSizeF() > 0 else 9.0
        self.name = QFont(base)
        self.name.setPointSizeF(size * 1.15)
        self.name.setWeight(QFont.Weight.DemiBold)
        self.small = QFont(base)
        self.small.setPointSizeF(size * 0.88)
        self.caption = QFont(self.small)
        self.caption.setWeight(QFont.Weight.DemiBold)
        self.caption.setLetterSpacing(QFont.SpacingType.PercentageSpacing, 106)
        self.value = QFont(base)
        self.value.setPointSizeF(size * 1.12)
        self.value.setWeight(QFont.Weight.DemiBold)
        self.initials = QFont(base)
        self.initials.setPointSizeF(size * 0.95)
        self.initials.setWeight(QFont.Weight.Bold)


Groups = tuple[tuple[str, tuple[Metric, ...]], ...]  # captioned groups of figures in a row


def figures_height(f: CardFonts) -> int:
    """A row of figures: the caption, the numbers, what they count."""
    return (
        QFontMetrics(f.caption).height()
        + 4
        + QFontMetrics(f.value).height()
        + QFontMetrics(f.small).height()
    )


def cell_widths(f: CardFonts, metrics: list[Metric], room: int) -> list[int]:
    """Equal columns when every figure fits one; else each as wide as it needs plus an
    equal share of what is left (elided only when even that does not fit)."""
    n = len(metrics)
    gaps = CELL_GAP * (n - 1)
    value_fm, small_fm = QFontMetrics(f.value), QFontMetrics(f.small)
    need = [
        max(value_fm.horizontalAdvance(m.value), small_fm.horizontalAdvance(m.label))
        for m in metrics
    ]
    equal = (room - gaps) // n
    if all(w <= equal for w in need):
        return [equal] * n
    spare = room - gaps - sum(need)
    if spare >= 0:
        return [w + spare // n for w in need]
    return [max(int(w * (room - gaps) / sum(need)), 1) for w in need]


def paint_figures(p: QPainter, f: CardFonts, pal: QPalette, rect: QRect, groups: Groups) -> None:
    """Captioned groups of figures side by side: each caption over its group's first figure,
    each figure a number over its label."""
    muted = pal.color(QPalette.ColorRole.PlaceholderText)
    text_color = pal.color(QPalette.ColorRole.Text)
    caption_fm = QFontMetrics(f.caption)
    value_fm = QFontMetrics(f.value)
    small_fm = QFontMetrics(f.small)
    metrics = [m for _, group in groups for m in group]
    captions = [c for c, group in groups for _ in group]
    first = [i == 0 for _, group in groups for i in range(len(group))]
    widths = cell_widths(f, metrics, rect.width())
    top = rect.top() + caption_fm.height() + 4
    x = rect.left()
    for metric, caption, starts, w in zip(metrics, captions, first, widths, strict=True):
        if starts:
            p.setFont(f.caption)
            p.setPen(muted)
            p.drawText(
                QRect(x, rect.top(), rect.right() - x, caption_fm.height()),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                caption,
            )
        p.setFont(f.value)
        p.setPen(text_color)
        p.drawText(
            QRect(x, top, w, value_fm.height()),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            value_fm.elidedText(metric.value, Qt.TextElideMode.ElideRight, w),
        )
        p.setFont(f.small)
        p.setPen(muted)
        p.drawText(
            QRect(x, top + value_fm.height(), w, small_fm.height()),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            small_fm.elidedText(metric.label, Qt.TextElideMode.ElideRight, w),
        )
        x += w + CELL_GAP


class AgentCardDelegate(QStyledItemDelegate):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._fonts: CardFonts | None = None
        self._font_key = ""
        self.card_width = MIN_CARD_WIDTH
        self._pixmaps: dict[tuple[object, ...], tuple[CardText, QPixmap]] = {}

    def fonts(self, base: QFont) -> CardFonts:
        key = base.key()
        if self._fonts is None or key != self._font_key:
            self._fonts = CardFonts(base)
            self._font_key = key
        return self._fonts

    # -- geometry -------------------------------------------------------------------------

    def _lines(self, base: QFont) -> tuple[int, int, int, int]:
        f = self.fonts(base)
        name_h = QFontMetrics(f.name).height()
        small_h = QFontMetrics(f.small).height()
        value_h = QFontMetrics(f.value).height()
        caption_h = QFontMetrics(f.caption).height()
        return name_h, small_h, value_h, caption_h

    def header_height(self, base: QFont) -> int:
        name_h, small_h, _, _ = self._lines(base)
        return max(name_h + small_h + 2, 40)

    def section_height(self, base: QFont) -> int:
        return figures_height(self.fonts(base)) + 10

    def card_height(self, base: QFont) -> int:
        return PAD + self.header_height(base) + 12 + 3 * self.section_height(base) + PAD - 8

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        return QSize(self.card_width + GAP, self.card_height(option.font) + GAP)

    # -- painting -------------------------------------------------------------------------

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        """A card is drawn once into a pixmap and blitted from then on (until its texts, size,
        state or palette change): a page switch or a scroll repaints the visible cards in a
        few milliseconds instead of some 20, which matters while a worker wants the GIL."""
        text = index.data(CARD_ROLE)
        if not isinstance(text, CardText):
            super().paint(painter, option, index)
            return
        state = option.state
        ratio = painter.device().devicePixelRatioF() if painter.device() else 1.0
        key = (
            id(text),
            option.rect.width(),
            option.rect.height(),
            bool(state & QStyle.StateFlag.State_Selected),
            bool(state & QStyle.StateFlag.State_MouseOver),
            bool(state & QStyle.StateFlag.State_HasFocus),
            option.palette.cacheKey(),
            option.font.key(),
            ratio,
        )
        cached = self._pixmaps.get(key)
        if cached is None or cached[0] is not text:
            pixmap = self._render(option, text, ratio)
            if len(self._pixmaps) >= PIXMAP_CACHE_SIZE:
                self._pixmaps.pop(next(iter(self._pixmaps)))  # the oldest
            self._pixmaps[key] = (text, pixmap)  # the text kept alive: its id stays its own
        else:
            pixmap = cached[1]
        painter.drawPixmap(option.rect.topLeft(), pixmap)

    def _render(self, option: QStyleOptionViewItem, text: CardText, ratio: float) -> QPixmap:
        size = option.rect.size()
        pixmap = QPixmap(max(1, round(size.width() * ratio)), max(1, round(size.height() * ratio)))
        pixmap.setDevicePixelRatio(ratio)
        pixmap.fill(Qt.GlobalColor.transparent)
        local = QStyleOptionViewItem(option)
        local.rect = QRect(QPoint(0, 0), size)
        painter = QPainter(pixmap)
        try:
            self._paint(painter, local, text)
        finally:
            painter.end()
        return pixmap

    def clear_cache(self) -> None:
        self._pixmaps.clear()

    def _paint(self, p: QPainter, option: QStyleOptionViewItem, text: CardText) -> None:
        pal: QPalette = option.palette
        state = option.state
        selected = bool(state & QStyle.StateFlag.State_Selected)
        hovered = bool(state & QStyle.StateFlag.State_MouseOver)
        focused = bool(state & QStyle.StateFlag.State_HasFocus)
        f = self.fonts(option.font)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)

        half = GAP // 2
        card = QRectF(option.rect.adjusted(half, half, -half, -half)).adjusted(0.5, 0.5, -0.5, -0.5)
        base = pal.color(QPalette.ColorRole.Base)
        text_color = pal.color(QPalette.ColorRole.Text)
        muted = pal.color(QPalette.ColorRole.PlaceholderText)
        accent = pal.color(QPalette.ColorRole.Highlight)
        line = mix(base, text_color, 0.16)
        fill = mix(base, accent, 0.05) if (selected or hovered) else base
        border = accent if selected else mix(base, text_color, 0.32 if hovered else 0.2)
        p.setPen(QPen(border, 2.0 if selected else 1.0))
        p.setBrush(fill)
        p.drawRoundedRect(card, RADIUS, RADIUS)
        if focused and not selected:
            p.setPen(QPen(accent, 1.0, Qt.PenStyle.DashLine))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRoundedRect(card.adjusted(3, 3, -3, -3), RADIUS - 2, RADIUS - 2)

        inner = card.toRect().adjusted(PAD, PAD, -PAD, -PAD)
        header_h = self.header_height(option.font)

        # Who: initials in a soft accent circle, name, team; when: the activity, right.
        d = min(header_h, 38)
        circle = QRect(inner.left(), inner.top() + (header_h - d) // 2, d, d)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(mix(base, accent, 0.16))
        p.drawEllipse(circle)
        p.setFont(f.initials)
        p.setPen(mix(accent, text_color, 0.25))
        p.drawText(circle, Qt.AlignmentFlag.AlignCenter, text.initials)

        small_fm = QFontMetrics(f.small)
        activity_w = small_fm.horizontalAdvance(text.activity) + 14
        name_fm = QFontMetrics(f.name)
        left = circle.right() + 11
        name_w = inner.right() - left - activity_w - 8
        name_rect = QRect(left, inner.top() + 1, name_w, name_fm.height())
        p.setFont(f.name)
        p.setPen(text_color)
        p.drawText(
            name_rect,
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            name_fm.elidedText(text.name, Qt.TextElideMode.ElideRight, name_w),
        )
        p.setFont(f.small)
        p.setPen(muted)
        team_rect = QRect(left, name_rect.bottom() + 2, inner.right() - left, small_fm.height())
        p.drawText(
            team_rect,
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            small_fm.elidedText(text.team, Qt.TextElideMode.ElideRight, team_rect.width()),
        )
        act_rect = QRect(
            inner.right() - activity_w, name_rect.top(), activity_w, name_rect.height()
        )
        dot = 7
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(accent if text.recent else mix(base, muted, 0.6))
        p.drawEllipse(act_rect.left(), act_rect.center().y() - dot // 2 + 1, dot, dot)
        p.setPen(text_color if text.recent else muted)
        p.drawText(
            act_rect, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, text.activity
        )

        y = inner.top() + header_h + 8
        p.setPen(QPen(line, 1.0))
        p.drawLine(inner.left(), y, inner.right(), y)
        y += 6
        section_h = self.section_height(option.font)
        for groups in self.rows(text):
            paint_figures(p, f, pal, QRect(inner.left(), y, inner.width(), section_h), groups)
            y += section_h

    @staticmethod
    def rows(text: CardText) -> tuple[Groups, ...]:
        """The card's rows of figures, each one or more captioned groups."""
        return (
            (("LEADS", text.leads),),
            (("APPOINTMENTS", text.appointments),),
            (("PRODUCTION YTD", text.production), ("ACTIVE NOW", text.active)),
        )
