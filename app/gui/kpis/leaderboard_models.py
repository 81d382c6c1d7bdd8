"""The Leaderboard page's boards and team cards: a table model per board (rank, name, value),
the delegate that paints a medal (a filled gold, silver or bronze circle with the rank in it:
no emoji font needed), and the list model and delegate of the team performance cards.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QRect,
    QRectF,
    QSize,
    Qt,
)
from PySide6.QtGui import QColor, QFont, QPainter, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

from app.domain.money import format_money
from app.services.kpis.leaderboard import Place, TeamCard

ROW_ROLE = Qt.ItemDataRole.UserRole + 1  # the Place / TeamCard
ID_ROLE = Qt.ItemDataRole.UserRole + 2  # the person's id (a board) or the team's id (a card)
MEDAL_ROLE = Qt.ItemDataRole.UserRole + 3  # "gold", "silver", "bronze" or None
MINE_ROLE = Qt.ItemDataRole.UserRole + 4  # bool: the acting person's own row

Index = QModelIndex | QPersistentModelIndex

BY_REVENUE, BY_ORDERS, BY_CONVERSION = "by_revenue", "by_orders", "by_conversion"
BOARD_TITLES = {BY_REVENUE: "Revenue", BY_ORDERS: "Orders", BY_CONVERSION: "Conversion %"}
COL_RANK, COL_NAME, COL_VALUE = range(3)
HEADERS = ("#", "Name")

#: (fill, text) of each medal; the same in light and dark palettes (they are filled).
MEDAL_COLORS: dict[str, tuple[str, str]] = {
    "gold": ("#d4a017", "#2b2100"),
    "silver": ("#a8b0b8", "#1c2126"),
    "bronze": ("#b8733e", "#ffffff"),
}
ORDINALS = {1: "1st", 2: "2nd", 3: "3rd"}
DASH = "—"


def ordinal(n: int) -> str:
    if n in ORDINALS:
        return ORDINALS[n]
    if 10 <= n % 100 <= 20:
        return f"{n}th"
    suffix = {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def value_text(board: str, value: Decimal, currency: str) -> str:
    """Revenue as money in the office's currency, orders as a count, conversion as a rate
    with 2 decimals."""
    if board == BY_REVENUE:
        return format_money(value, currency)
    if board == BY_ORDERS:
        return f"{int(value):,}"
    return f"{value:,.2f}%"


def own_row_color() -> QColor:
    """The acting person's row: the palette's highlight, faint enough to read over."""
    color = QColor(QApplication.palette().color(QPalette.ColorRole.Highlight))
    color.setAlpha(60)
    return color


class BoardModel(QAbstractTableModel):
    """One leaderboard: its places in rank order (ties share a rank: 1, 1, 3)."""

    def __init__(self, board: str, parent: Any = None) -> None:
        super().__init__(parent)
        self.board = board
        self.currency = "USD"
        self.me: int | None = None
        self._places: list[Place] = []
        self._ties: set[int] = set()
        self._bold = QFont()
        self._bold.setBold(True)

    def set_places(self, places: Sequence[Place], currency: str, me: int | None) -> None:
        self.beginResetModel()
        self._places = list(places)
        self.currency = currency
        self.me = me
        ranks = [p.rank for p in self._places]
        self._ties = {r for r in ranks if ranks.count(r) > 1}
        self.endResetModel()

    def places(self) -> list[Place]:
        return list(self._places)

    def row_of_user(self, user_id: int) -> int:
        return next((r for r, p in enumerate(self._places) if p.user_id == user_id), -1)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._places)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else 3

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < 3:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[section] if section < COL_VALUE else BOARD_TITLES[self.board]
        if role == Qt.ItemDataRole.TextAlignmentRole and section == COL_VALUE:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole and section == COL_RANK:
            return "Rank: equal values share one (1, 1, 3); medals for the first three"
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._places):
            return None
        column = index.column()
        if not 0 <= column < 3:
            return None
        place = self._places[index.row()]
        mine = self.me is not None and place.user_id == self.me
        if role == Qt.ItemDataRole.DisplayRole:
            if column == COL_RANK:
                return str(place.rank)
            if column == COL_NAME:
                return f"{place.name} (you)" if mine else place.name
            return value_text(self.board, place.value, self.currency)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            if column == COL_VALUE:
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if column == COL_RANK:
                return int(Qt.AlignmentFlag.AlignCenter)
            return None
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == COL_RANK:
                shared = "Shared " if place.rank in self._ties else ""
                medal = f" — {place.medal} medal" if place.medal else ""
                return f"{shared}{ordinal(place.rank)} place{medal}"
            if column == COL_NAME:
                return place.email
            return None
        if role == Qt.ItemDataRole.AccessibleTextRole and column == COL_RANK:
            return f"{ordinal(place.rank)}, {place.medal} medal" if place.medal else None
        if role == Qt.ItemDataRole.FontRole and mine:
            return self._bold
        if role == Qt.ItemDataRole.BackgroundRole and mine:
            return own_row_color()
        if role == ROW_ROLE:
            return place
        if role == ID_ROLE:
            return place.user_id
        if role == MEDAL_ROLE:
            return place.medal
        if role == MINE_ROLE:
            return mine
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return (
            Qt.ItemFlag.ItemIsEnabled
            | Qt.ItemFlag.ItemIsSelectable
            | Qt.ItemFlag.ItemNeverHasChildren
        )


class MedalDelegate(QStyledItemDelegate):
    """The rank cell: a filled circle in the medal's colour with the rank in it (ranks 1–3),
    the plain rank otherwise."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        colors = MEDAL_COLORS.get(str(index.data(MEDAL_ROLE)))
        if colors is None:
            super().paint(painter, option, index)
            return
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        widget = opt.widget
        style = widget.style() if widget is not None else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)
        fill, text = colors
        size = max(8, min(opt.rect.height() - 4, opt.fontMetrics.height() + 6))
        circle = QRectF(
            opt.rect.center().x() - size / 2 + 0.5,
            opt.rect.center().y() - size / 2 + 0.5,
            size,
            size,
        )
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QColor(fill).darker(130))
        painter.setBrush(QColor(fill))
        painter.drawEllipse(circle)
        font = QFont(opt.font)
        font.setBold(True)
        painter.setFont(font)
        painter.setPen(QColor(text))
        painter.drawText(circle, int(Qt.AlignmentFlag.AlignCenter), str(index.data()))
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        size = super().sizeHint(option, index)
        side = option.fontMetrics.height() + 10
        return QSize(max(size.width(), side + 8), max(size.height(), side))


# -- team cards -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CardText:
    """What a team card says, written once when the figures arrive."""

    team: str
    members: str
    figures: tuple[tuple[str, str], ...]  # (caption, value)
    top: str


def card_text(card: TeamCard, currency: str) -> CardText:
    members = f"{card.members:,} {'member' if card.members == 1 else 'members'}"
    conversion = DASH if card.conversion_rate is None else f"{card.conversion_rate:,.2f}%"
    if card.top_performer is None:
        top = "Top performer: nobody earned yet"
    else:
        top = f"Top performer: {card.top_performer} ({format_money(card.top_revenue, currency)})"
    return CardText(
        card.team or "A team",
        members,
        (
            ("Revenue", format_money(card.revenue, currency)),
            ("Orders", f"{card.orders:,}"),
            ("Conversion", conversion),
        ),
        top,
    )


class TeamCardsModel(QAbstractListModel):
    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._cards: list[TeamCard] = []
        self._texts: list[CardText] = []

    def set_cards(self, cards: Sequence[TeamCard], currency: str) -> None:
        self.beginResetModel()
        self._cards = list(cards)
        self._texts = [card_text(c, currency) for c in self._cards]
        self.endResetModel()

    def cards(self) -> list[TeamCard]:
        return list(self._cards)

    def text(self, row: int) -> CardText:
        return self._texts[row]

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._cards)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._cards) or index.column():
            return None
        text = self._texts[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return text.team
        if role in (Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.AccessibleTextRole):
            figures = ", ".join(f"{c} {v}" for c, v in text.figures)
            return f"{text.team}: {text.members}; {figures}. {text.top}"
        if role == ROW_ROLE:
            return self._cards[index.row()]
        if role == ID_ROLE:
            return self._cards[index.row()].team_id
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return (
            Qt.ItemFlag.ItemIsEnabled
            | Qt.ItemFlag.ItemIsSelectable
            | Qt.ItemFlag.ItemNeverHasChildren
        )


CARD_WIDTH = 340
#: The share of a card's width each figure gets (revenue needs the most).
FIGURE_SHARES = (0.44, 0.22, 0.34)
PAD = 10


class TeamCardDelegate(QStyledItemDelegate):
    """A card: the team and its members, three figures side by side, the top performer."""

    def __init__(self, model: TeamCardsModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        line = option.fontMetrics.height()
        big = int(line * 1.3)
        return QSize(CARD_WIDTH, PAD * 2 + line * 3 + big + 12)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        if not index.isValid() or not 0 <= index.row() < self.model.rowCount():
            return
        text = self.model.text(index.row())
        pal = option.palette
        rect = QRect(option.rect).adjusted(3, 3, -3, -3)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        border = pal.color(QPalette.ColorRole.Highlight if selected else QPalette.ColorRole.Mid)
        painter.setPen(border)
        painter.setBrush(pal.color(QPalette.ColorRole.Base))
        painter.drawRoundedRect(QRectF(rect).adjusted(0.5, 0.5, -0.5, -0.5), 6, 6)
        inner = rect.adjusted(PAD, PAD, -PAD, -PAD)
        base = QFont(option.font)
        metrics = option.fontMetrics
        line = metrics.height()
        text_color = pal.color(QPalette.ColorRole.Text)
        hint_color = pal.color(QPalette.ColorRole.PlaceholderText)

        title = QFont(base)
        title.setBold(True)
        painter.setFont(title)
        painter.setPen(text_color)
        top = QRect(inner.left(), inner.top(), inner.width(), line)
        members_width = metrics.horizontalAdvance(text.members) + 4
        painter.drawText(
            top.adjusted(0, 0, -members_width - 6, 0),
            int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
            metrics.elidedText(text.team, Qt.TextElideMode.ElideRight, top.width() - members_width),
        )
        painter.setFont(base)
        painter.setPen(hint_color)
        painter.drawText(
            top, int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter), text.members
        )

        big = QFont(base)
        big.setPointSizeF(max(base.pointSizeF(), 1.0) * 1.2)
        big.setBold(True)
        y = top.bottom() + 6
        x = inner.left()
        for i, (caption, value) in enumerate(text.figures):
            share = FIGURE_SHARES[i] if i < len(FIGURE_SHARES) else 1 / len(text.figures)
            cell = int(inner.width() * share)
            painter.setFont(base)
            painter.setPen(hint_color)
            painter.drawText(
                QRect(x, y, cell - 4, line),
                int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                caption,
            )
            painter.setFont(big)
            painter.setPen(text_color)
            big_line = int(line * 1.3)
            shown = painter.fontMetrics().elidedText(value, Qt.TextElideMode.ElideRight, cell - 4)
            painter.drawText(
                QRect(x, y + line, cell - 4, big_line),
                int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                shown,
            )
            x += cell
        painter.setFont(base)
        painter.setPen(hint_color)
        bottom = QRect(inner.left(), inner.bottom() - line + 1, inner.width(), line)
        painter.drawText(
            bottom,
            int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
            metrics.elidedText(text.top, Qt.TextElideMode.ElideRight, bottom.width()),
        )
        painter.restore()
