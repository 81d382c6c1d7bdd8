"""Paints a deal card: title; principal contact and asset type; agent and time since the last
move; estimated value, confidence and weighted value. Colours come from the palette.

Every card has the same height (the views use uniform item sizes, so a column of thousands of
cards lays out at once), and each drawn card is kept as a pixmap until its deal or the width
changes: scrolling blits pixmaps instead of laying out text.
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QFont, QFontMetrics, QPainter, QPalette, QPen, QPixmap
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from app.domain.pipeline import format_duration
from app.gui.dashboard.card_delegate import mix
from app.gui.dashboard.format import short_money
from app.gui.pipeline.board_model import CARD_ROLE
from app.services.pipeline.board import Card

Index = QModelIndex | QPersistentModelIndex
MARGIN = 4
PAD = 8
RADIUS = 6.0
LINE_GAP = 2
PIXMAP_CACHE_SIZE = 400


def since(card: Card, now: dt.datetime) -> str:
    return format_duration(int((now - card.last_move_at).total_seconds()))


class CardFonts:
    def __init__(self, base: QFont) -> None:
        size = base.pointSizeF() if base.pointSizeF() > 0 else 9.0
        self.title = QFont(base)
        self.title.setWeight(QFont.Weight.DemiBold)
        self.small = QFont(base)
        self.small.setPointSizeF(size * 0.9)
        self.value = QFont(base)
        self.value.setWeight(QFont.Weight.DemiBold)


class DealCardDelegate(QStyledItemDelegate):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._fonts: CardFonts | None = None
        self._font_key = ""
        self._pixmaps: OrderedDict[tuple[object, ...], QPixmap] = OrderedDict()
        self.now = dt.datetime.now(dt.UTC)

    def fonts(self, base: QFont) -> CardFonts:
        if self._fonts is None or base.key() != self._font_key:
            self._fonts = CardFonts(base)
            self._font_key = base.key()
            self._pixmaps.clear()
        return self._fonts

    def set_now(self, now: dt.datetime) -> None:
        """The time 'since the last move' is counted to (the board sets it on each load)."""
        self.now = now
        self._pixmaps.clear()

    def clear_cache(self) -> None:
        self._pixmaps.clear()

    def card_height(self, base: QFont) -> int:
        f = self.fonts(base)
        small = QFontMetrics(f.small).height()
        return (
            2 * MARGIN
            + 2 * PAD
            + QFontMetrics(f.title).height()
            + 2 * small
            + QFontMetrics(f.value).height()
            + 3 * LINE_GAP
        )

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        return QSize(max(option.rect.width(), 200), self.card_height(option.font))

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        card = index.data(CARD_ROLE)
        if not isinstance(card, Card):
            return
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        focused = bool(option.state & QStyle.StateFlag.State_HasFocus)
        rect = option.rect
        ratio = painter.device().devicePixelRatioF() if painter.device() else 1.0
        key = (
            card,
            rect.width(),
            rect.height(),
            selected,
            focused,
            ratio,
            option.palette.cacheKey(),
        )
        pixmap = self._pixmaps.get(key)
        if pixmap is None:
            pixmap = QPixmap(QSize(rect.width(), rect.height()) * ratio)
            pixmap.setDevicePixelRatio(ratio)
            pixmap.fill(Qt.GlobalColor.transparent)
            p = QPainter(pixmap)
            try:
                self._paint_card(p, option, QRect(0, 0, rect.width(), rect.height()), card,
                                 selected, focused)  # fmt: skip
            finally:
                p.end()
            self._pixmaps[key] = pixmap
            if len(self._pixmaps) > PIXMAP_CACHE_SIZE:
                self._pixmaps.popitem(last=False)
        else:
            self._pixmaps.move_to_end(key)
        painter.drawPixmap(rect.topLeft(), pixmap)

    def _paint_card(
        self,
        p: QPainter,
        option: QStyleOptionViewItem,
        rect: QRect,
        card: Card,
        selected: bool,
        focused: bool,
    ) -> None:
        f = self.fonts(option.font)
        pal = option.palette
        base = pal.color(QPalette.ColorRole.Base)
        text = pal.color(QPalette.ColorRole.Text)
        muted = pal.color(QPalette.ColorRole.PlaceholderText)
        accent = pal.color(QPalette.ColorRole.Highlight)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        box = QRectF(rect.adjusted(MARGIN, MARGIN, -MARGIN, -MARGIN))
        border = accent if selected else mix(base, text, 0.18)
        p.setPen(QPen(border, 2.0 if selected else 1.0))
        p.setBrush(mix(base, accent, 0.10) if selected else base)
        p.drawRoundedRect(box, RADIUS, RADIUS)
        if focused:
            p.setPen(QPen(accent, 1.0, Qt.PenStyle.DotLine))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRoundedRect(box.adjusted(2, 2, -2, -2), RADIUS - 2, RADIUS - 2)
        inner = box.toRect().adjusted(PAD, PAD, -PAD, -PAD)
        width = inner.width()
        y = inner.top()
        left = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter

        title_fm = QFontMetrics(f.title)
        p.setFont(f.title)
        p.setPen(text)
        p.drawText(QRect(inner.left(), y, width, title_fm.height()), left,
                   title_fm.elidedText(card.title, Qt.TextElideMode.ElideRight, width))  # fmt: skip
        y += title_fm.height() + LINE_GAP

        small_fm = QFontMetrics(f.small)
        p.setFont(f.small)
        p.setPen(muted)
        who = card.principal or "No principal contact"
        line = f"{who} · {card.asset_type.replace('_', ' ')}"
        p.drawText(QRect(inner.left(), y, width, small_fm.height()), left,
                   small_fm.elidedText(line, Qt.TextElideMode.ElideRight, width))  # fmt: skip
        y += small_fm.height() + LINE_GAP

        moved = since(card, self.now)
        moved_w = small_fm.horizontalAdvance(moved) + 4
        p.drawText(QRect(inner.left(), y, width - moved_w, small_fm.height()), left,
                   small_fm.elidedText(card.agent_name, Qt.TextElideMode.ElideRight,
                                       width - moved_w))  # fmt: skip
        p.drawText(QRect(inner.left(), y, width, small_fm.height()), right, moved)
        y += small_fm.height() + LINE_GAP

        value_fm = QFontMetrics(f.value)
        p.setFont(f.value)
        p.setPen(text)
        value = short_money(card.estimated_value, card.currency)
        p.drawText(QRect(inner.left(), y, width, value_fm.height()), left, value)
        weighted = f"{short_money(card.weighted_value, card.currency)} weighted"
        p.setFont(f.small)
        p.setPen(muted)
        p.drawText(QRect(inner.left(), y, width, value_fm.height()), right, weighted)
        conf = f"{card.confidence * 100:.0f}%"
        mid_x = inner.left() + value_fm.horizontalAdvance(value) + 10
        bar = QRectF(mid_x, y + value_fm.height() / 2 - 3, 36, 6)
        weighted_w = small_fm.horizontalAdvance(weighted) + 8
        if bar.right() + small_fm.horizontalAdvance(conf) + 4 < inner.right() - weighted_w:
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(mix(base, text, 0.12))
            p.drawRoundedRect(bar, 3, 3)
            p.setBrush(accent)
            p.drawRoundedRect(QRectF(bar.left(), bar.top(), bar.width() * float(card.confidence),
                                     bar.height()), 3, 3)  # fmt: skip
            p.setPen(muted)
            p.drawText(QRect(int(bar.right()) + 4, y, 40, value_fm.height()), left, conf)
