"""A grade cell painted as a chip in the grade's colours (those of the record view's badge)."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRectF, Qt
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QApplication, QStyle, QStyledItemDelegate, QStyleOptionViewItem

from app.gui.postclose.record_view import GRADE_COLORS, is_dark


class GradeChipDelegate(QStyledItemDelegate):
    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        grade = index.data(Qt.ItemDataRole.DisplayRole)
        colors = GRADE_COLORS[is_dark(QApplication.palette())].get(str(grade))
        if colors is None:
            super().paint(painter, option, index)
            return
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        widget = opt.widget
        style = widget.style() if widget is not None else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)
        background, text = colors
        metrics = opt.fontMetrics
        height = min(opt.rect.height() - 4, metrics.height() + 4)
        width = max(height + 8, metrics.horizontalAdvance("W") + 14)
        chip = QRectF(
            opt.rect.center().x() - width / 2 + 0.5,
            opt.rect.center().y() - height / 2 + 0.5,
            width,
            height,
        )
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(background))
        painter.drawRoundedRect(chip, height / 2, height / 2)
        font = opt.font
        font.setBold(True)
        painter.setFont(font)
        painter.setPen(QColor(text))
        painter.drawText(chip, int(Qt.AlignmentFlag.AlignCenter), str(grade))
        painter.restore()
