"""The deal panel beside the board: the selected deal's details (editable), contacts,
documents and timeline, each timeline item with its audit badge (SPEC §4, §5).

Everything is read and written through ``ctx.ops`` (off the GUI thread). The panel reads the
deal again when deals or commissions change — here, on the board, or on another workstation
(NOTIFY arrives through ``data_changed``) — keeping what someone is typing in the Details
form: if the stored deal moved on meanwhile, the form says so, and a save would be refused
as stale rather than overwrite the other change. Selecting another deal drops unsaved edits.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from PySide6.QtCore import QModelIndex, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QStackedWidget,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.domain.enums import DealStage
from app.domain.errors import ConflictError, PerfDeskError, PermissionDenied, ValidationError
from app.gui import events
from app.gui.context import AppContext
from app.gui.field_message import FieldMessage
from app.gui.pipeline import detail_dialogs
from app.gui.pipeline.detail_dialogs import ContactDialog, DocumentDialog
from app.gui.pipeline.detail_form import DealForm
from app.gui.pipeline.detail_models import (
    ROW_ID_ROLE,
    ContactsModel,
    DocumentsModel,
    TimelineModel,
    badge_text,
    badge_tooltip,
    event_text,
)
from app.gui.records.dialog import sentence
from app.gui.records.format import local_time
from app.services.dberrors import is_connection_lost
from app.services.pipeline import detail as service
from app.services.pipeline.common import DealNotFound
from app.services.pipeline.detail import (
    ContactRow,
    DealDetail,
    DealEditError,
    DealInfo,
    DocumentRow,
    EditChoices,
    Integrity,
    TimelineItem,
)

if TYPE_CHECKING:
    from app.services.database import Database
    from app.services.schema import SchemaStatus

EMPTY_TEXT = "Select a deal to see its details"
#: Changes arriving close together (a burst of NOTIFYs, a move and its figures) read once.
RELOAD_DEBOUNCE_MS = 200

DETAILS_TAB, CONTACTS_TAB, DOCUMENTS_TAB, TIMELINE_TAB = range(4)


def _table(name: str) -> QTableView:
    view = QTableView()
    view.setObjectName(name)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setAlternatingRowColors(True)
    view.setWordWrap(False)
    view.verticalHeader().hide()
    view.horizontalHeader().setStretchLastSection(True)
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    return view


def _timeline_key(item: TimelineItem) -> tuple[object, ...]:
    return (item.event_type, item.recorded_at, item.stage_event_id, item.audit_entry_id)


class DealDetailPanel(QWidget):
    """``show_deal(id)`` shows a deal (None: the empty state); ``deal_changed(id)`` fires after
    this panel saved a change to it (details, a contact, a document)."""

    deal_changed = Signal(int)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("dealDetailPanel")
        self.ctx = ctx
        self._db: Database | None = ctx.database.db if ctx.database.is_open else None
        self._deal_id: int | None = None
        self._detail: DealDetail | None = None
        self._choices: EditChoices | None = None
        self._generation = 0
        self._saving = False
        self.contact_dialog: ContactDialog | None = None
        self.document_dialog: DocumentDialog | None = None

        self.empty_label = QLabel(EMPTY_TEXT)
        self.empty_label.setObjectName("dealDetailEmpty")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setWordWrap(True)
        self.empty_label.setProperty("role", "hint")

        self.title_label = QLabel()
        self.title_label.setObjectName("dealTitle")
        self.title_label.setProperty("role", "pageTitle")
        self.title_label.setWordWrap(True)
        self.title_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status_label = QLabel()
        self.status_label.setObjectName("dealDetailStatus")
        self.status_label.setWordWrap(True)
        #: A closed-won deal's performance record is made here, at close (SPEC §9).
        self.record_button = QPushButton("Record &performance…")
        self.record_button.setObjectName("recordPerformance")
        self.record_button.setToolTip(
            "Create this deal's performance record: purchase, financing and the pro forma, "
            "locked when saved"
        )
        self.record_button.clicked.connect(self.record_performance)
        self.record_button.hide()
        #: What became of removing a contact or document, when it did not work.
        self.message = FieldMessage()
        self.message.setObjectName("dealDetailMessage")

        self.form = DealForm()
        self.form.save_requested.connect(self.save)
        self.form.revert_requested.connect(self.revert)

        self.contacts = ContactsModel(self)
        self.contacts_view = _table("dealContacts")
        self.contacts_view.setModel(self.contacts)
        self.contacts_view.doubleClicked.connect(self._contact_activated)
        self.add_contact_button = QPushButton("&Add…")
        self.add_contact_button.setObjectName("addContactButton")
        self.add_contact_button.clicked.connect(self.add_contact)
        self.edit_contact_button = QPushButton("&Edit…")
        self.edit_contact_button.setObjectName("editContactButton")
        self.edit_contact_button.clicked.connect(self.edit_contact)
        self.remove_contact_button = QPushButton("&Remove")
        self.remove_contact_button.setObjectName("removeContactButton")
        self.remove_contact_button.clicked.connect(self.remove_contact)
        contacts_tab = self._table_tab(
            self.contacts_view,
            (self.add_contact_button, self.edit_contact_button, self.remove_contact_button),
        )

        self.documents = DocumentsModel(self)
        self.documents_view = _table("dealDocuments")
        self.documents_view.setModel(self.documents)
        self.documents_view.doubleClicked.connect(self._document_activated)
        self.add_document_button = QPushButton("&Add…")
        self.add_document_button.setObjectName("addDocumentButton")
        self.add_document_button.clicked.connect(self.add_document)
        self.open_document_button = QPushButton("&Open")
        self.open_document_button.setObjectName("openDocumentButton")
        self.open_document_button.setToolTip("Open the document with the system's handler")
        self.open_document_button.clicked.connect(self.open_document)
        self.remove_document_button = QPushButton("&Remove")
        self.remove_document_button.setObjectName("removeDocumentButton")
        self.remove_document_button.clicked.connect(self.remove_document)
        documents_tab = self._table_tab(
            self.documents_view,
            (self.add_document_button, self.open_document_button, self.remove_document_button),
        )

        self.timeline = TimelineModel(self)
        self.timeline_view = _table("dealTimeline")
        self.timeline_view.setModel(self.timeline)
        header = self.timeline_view.horizontalHeader()
        for section in range(TimelineModel.EVENT_COLUMN):
            header.setSectionResizeMode(section, QHeaderView.ResizeMode.ResizeToContents)
        self.history_label = QLabel()
        self.history_label.setObjectName("dealHistorySummary")
        self.history_label.setWordWrap(True)
        self.timeline_detail = QLabel()
        self.timeline_detail.setObjectName("dealTimelineDetail")
        self.timeline_detail.setWordWrap(True)
        self.timeline_detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.timeline_detail.setTextFormat(Qt.TextFormat.PlainText)
        self.timeline_view.selectionModel().currentRowChanged.connect(self._timeline_current)
        timeline_tab = QWidget()
        timeline_column = QVBoxLayout(timeline_tab)
        timeline_column.addWidget(self.history_label)
        timeline_column.addWidget(self.timeline_view, 1)
        timeline_column.addWidget(self.timeline_detail)

        self.tabs = QTabWidget()
        self.tabs.setObjectName("dealDetailTabs")
        self.tabs.addTab(self.form, "&Details")
        self.tabs.addTab(contacts_tab, "&Contacts")
        self.tabs.addTab(documents_tab, "Doc&uments")
        self.tabs.addTab(timeline_tab, "&Timeline")

        content = QWidget()
        layout = QVBoxLayout(content)
        layout.setContentsMargins(0, 0, 0, 0)
        title_row = QHBoxLayout()
        title_row.addWidget(self.title_label, 1)
        title_row.addWidget(self.record_button, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(title_row)
        layout.addWidget(self.status_label)
        layout.addWidget(self.message)
        layout.addWidget(self.tabs, 1)

        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty_label)
        self.stack.addWidget(content)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(6, 0, 0, 0)
        outer.addWidget(self.stack)

        save = QShortcut(QKeySequence.StandardKey.Save, self, self.save)
        save.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self._reload_timer = QTimer(self, singleShot=True, interval=RELOAD_DEBOUNCE_MS)
        self._reload_timer.timeout.connect(self.reload)
        for view in (self.contacts_view, self.documents_view):
            view.selectionModel().selectionChanged.connect(self._sync_buttons)

        ctx.database.opened.connect(self._on_opened)
        ctx.database.closed.connect(self._on_closed)
        ctx.database.failed.connect(self._on_closed)
        ctx.events.data_changed.connect(self._on_data_changed)
        self._show_empty(EMPTY_TEXT)

    @staticmethod
    def _table_tab(view: QTableView, buttons: tuple[QPushButton, ...]) -> QWidget:
        tab = QWidget()
        column = QVBoxLayout(tab)
        column.addWidget(view, 1)
        row = QHBoxLayout()
        for button in buttons:
            row.addWidget(button)
        row.addStretch(1)
        column.addLayout(row)
        return tab

    # -- what is shown --------------------------------------------------------------------

    @property
    def deal_id(self) -> int | None:
        return self._deal_id

    @property
    def detail(self) -> DealDetail | None:
        return self._detail

    def show_deal(self, deal_id: int | None) -> None:
        """Show ``deal_id`` (read in the background), or the empty state for None."""
        if deal_id == self._deal_id and (deal_id is None or self._detail is not None):
            return
        self._deal_id = deal_id
        self._detail = None
        self._generation += 1
        self._reload_timer.stop()
        if deal_id is None:
            self._show_empty(EMPTY_TEXT)
            return
        self.status_label.setText("Reading the deal…")
        self.message.clear_message()
        self.reload()

    def _show_empty(self, text: str) -> None:
        self._detail = None
        self.empty_label.setText(text)
        self.stack.setCurrentIndex(0)
        self.contacts.set_rows([])
        self.documents.set_rows([])
        self.timeline.set_items([])

    @Slot()
    def reload(self) -> None:
        """Read the shown deal again."""
        db, deal_id = self._db, self._deal_id
        if deal_id is None:
            return
        if db is None:
            self._show_empty("No database is open.")
            return
        self._generation += 1
        generation = self._generation
        want_choices = self._choices is None

        def read() -> tuple[DealDetail, EditChoices | None]:
            choices = service.edit_choices(db) if want_choices else None
            return service.deal_detail(db, deal_id), choices

        def loaded(result: tuple[DealDetail, EditChoices | None]) -> None:
            if generation == self._generation:
                detail, choices = result
                if choices is not None:
                    self._choices = choices
                self._show(detail)

        def failed(exc: BaseException) -> None:
            if generation != self._generation:
                return
            if isinstance(exc, DealNotFound):
                self._show_empty("This deal is no longer among the deals you see.")
            elif isinstance(exc, PerfDeskError):
                self._show_empty(str(exc))
            elif is_connection_lost(exc):
                self.status_label.setText(
                    "The deal could not be read: the connection to the server was lost."
                )
            else:
                self.status_label.setText("The deal could not be read.")
                self.ctx.ops.present(exc, self)

        self.ctx.ops.run(
            read,
            label="Reading the deal…",
            on_success=loaded,
            on_error=failed,
            parent=self,
        )

    def record_performance(self) -> None:
        """The performance record of this closed-won deal, unless it has one already."""
        from app.gui.postclose.record_dialog import RecordDialog
        from app.services.postclose.records import deals_awaiting_record

        db, detail = self._db, self._detail
        if db is None or detail is None:
            return
        deal_id = detail.deal.id

        def checked(awaiting: bool) -> None:
            if self._detail is None or self._detail.deal.id != deal_id:
                return
            if not awaiting:
                self.status_label.setText(
                    "This deal already has its performance record: see the Rent roll page."
                )
                return
            dialog = RecordDialog(self.ctx, db, deal_id=deal_id, parent=self)
            if dialog.exec() and dialog.created_id is not None:
                self.status_label.setText("Performance record saved; its pro forma is locked.")
                self.ctx.events.changed("rent_roll")

        self.ctx.ops.run(
            lambda: any(d.id == deal_id for d in deals_awaiting_record(db)),
            on_success=checked,
            parent=self,
        )

    def _show(self, detail: DealDetail) -> None:
        previous = self._detail
        self._detail = detail
        info = detail.deal
        same_deal = previous is not None and previous.deal.id == info.id
        ref = f"{info.ref} · " if info.ref else ""
        self.title_label.setText(f"{ref}{info.title}")
        self.status_label.setText("")
        self.record_button.setVisible(info.stage == DealStage.CLOSED_WON)
        if same_deal and self.form.is_dirty():
            # Keep what is being typed; say if the stored deal moved on underneath it.
            self.form.show_facts(info)
            if self.form.info is not None and self.form.info.version != info.version:
                self.form.show_conflict(
                    "This deal was changed on another workstation while you were editing. "
                    "Saving would be refused; Reload shows the stored values."
                )
        elif same_deal and self.form.info is not None and self.form.info.version == info.version:
            self.form.show_facts(info)  # the form already shows these values (and "Saved.")
        else:
            self.form.fill(info, self._choices)
        self._fill_tables(detail)
        self.stack.setCurrentIndex(1)

    def _fill_tables(self, detail: DealDetail) -> None:
        contact_id = self._selected_id(self.contacts_view)
        document_id = self._selected_id(self.documents_view)
        self.contacts.set_rows(detail.contacts)
        self.documents.set_rows(detail.documents)
        current = self.timeline.row_at(self.timeline_view.currentIndex().row())
        self.timeline.set_items(detail.timeline)
        self._timeline_reselect(current)
        self._reselect(self.contacts_view, contact_id)
        self._reselect(self.documents_view, document_id)
        self.tabs.setTabText(CONTACTS_TAB, f"&Contacts ({len(detail.contacts)})")
        self.tabs.setTabText(DOCUMENTS_TAB, f"Doc&uments ({len(detail.documents)})")
        broken = detail.broken
        if broken:
            self.history_label.setProperty("role", "error")
            self.history_label.setText(
                f"{len(broken)} of the deal's history entries do not verify: the history was "
                "changed outside PerfDesk."
                if len(broken) > 1
                else "One of the deal's history entries does not verify: the history was "
                "changed outside PerfDesk."
            )
            self.tabs.setTabText(TIMELINE_TAB, "&Timeline ✗")
        else:
            checked = sum(1 for i in detail.timeline if i.integrity is Integrity.VERIFIED)
            self.history_label.setProperty("role", "ok" if checked else "hint")
            self.history_label.setText(
                f"Every audit entry of this deal verifies ({checked})."
                if checked
                else "This deal has no audit entries yet (its chain starts with the first move)."
            )
            self.tabs.setTabText(TIMELINE_TAB, "&Timeline")
        self.history_label.style().unpolish(self.history_label)
        self.history_label.style().polish(self.history_label)
        self._sync_buttons()

    @staticmethod
    def _selected_id(view: QTableView) -> int | None:
        rows = view.selectionModel().selectedRows()
        if not rows:
            return None
        row = view.model().data(rows[0], ROW_ID_ROLE)
        return row if isinstance(row, int) else None

    @staticmethod
    def _reselect(view: QTableView, row_id: int | None) -> None:
        if row_id is None:
            return
        model = view.model()
        for r in range(model.rowCount()):
            if model.data(model.index(r, 0), ROW_ID_ROLE) == row_id:
                view.selectRow(r)
                return

    def _timeline_reselect(self, item: TimelineItem | None) -> None:
        key = _timeline_key(item) if item is not None else None
        for r, row in enumerate(self.timeline.rows()):
            if key is not None and _timeline_key(row) == key:
                self.timeline_view.selectRow(r)
                self._timeline_current(self.timeline.index(r, 0), QModelIndex())
                return
        self.timeline_detail.clear()

    @Slot(QModelIndex, QModelIndex)
    def _timeline_current(self, current: QModelIndex, _previous: QModelIndex) -> None:
        """The selected item in full (the table's Event column is cut to the panel's width)."""
        item = self.timeline.row_at(current.row()) if current.isValid() else None
        if item is None:
            self.timeline_detail.clear()
            return
        who = f" · {item.who}" if item.who else ""
        self.timeline_detail.setText(
            f"{local_time(item.recorded_at)}{who}\n{event_text(item)}\n"
            f"{badge_text(item)}: {badge_tooltip(item)}"
        )

    @Slot()
    def _sync_buttons(self, *_args: object) -> None:
        has_deal = self._detail is not None
        contact = self.current_contact() is not None
        document = self.current_document() is not None
        self.add_contact_button.setEnabled(has_deal)
        self.edit_contact_button.setEnabled(contact)
        self.remove_contact_button.setEnabled(contact)
        self.add_document_button.setEnabled(has_deal)
        self.open_document_button.setEnabled(document)
        self.remove_document_button.setEnabled(document)

    # -- the database and changes -----------------------------------------------------------

    @Slot(object, object)
    def _on_opened(self, db: Database, _status: SchemaStatus) -> None:
        self._db = db
        self._choices = None
        self._deal_id = None
        self._generation += 1
        self._show_empty(EMPTY_TEXT)

    @Slot()
    def _on_closed(self, *_args: object) -> None:
        self._db = None
        self._choices = None
        self._deal_id = None
        self._generation += 1
        self._reload_timer.stop()
        self._show_empty(EMPTY_TEXT)

    @Slot(str)
    def _on_data_changed(self, kind: str) -> None:
        if self._deal_id is None:
            return
        if events.concerns(kind, events.DEALS, events.COMMISSIONS, events.PEOPLE):
            self._reload_timer.start()

    def _changed(self) -> None:
        """After a save of this panel's: everyone showing deals reads again."""
        deal_id = self._deal_id
        if deal_id is None:
            return
        self.ctx.events.changed(events.DEALS)
        self.deal_changed.emit(deal_id)

    # -- the details form -------------------------------------------------------------------

    @Slot()
    def save(self) -> None:
        """Save the Details form (Ctrl+S): problems by field, a stale save refused."""
        db, detail, info = self._db, self._detail, self.form.info
        if db is None or detail is None or info is None or self._saving:
            return
        if not self.form.is_dirty():
            return
        self.form.clear_messages()
        fields, errors = self.form.collect()
        errors = {**service.check_deal_fields(fields), **errors}
        if errors:
            self.form.show_errors(errors)
            return
        self._saving = True
        self.form.set_busy(True)

        def saved(new: DealInfo) -> None:
            self.form.fill(new, self._choices)
            self.form.form_message.show_ok("Saved.")
            self._changed()

        def refused(exc: BaseException) -> None:
            if isinstance(exc, DealEditError):
                self.form.show_errors(exc.errors)
            elif isinstance(exc, ConflictError):
                self.form.show_conflict(sentence(str(exc)))
            elif isinstance(exc, DealNotFound | ValidationError | PermissionDenied):
                self.form.form_message.show_error(sentence(str(exc)))
            elif is_connection_lost(exc):
                self.form.form_message.show_error(
                    "Nothing was saved: the connection to the server was lost. Your edits "
                    "are still here; save again once PerfDesk has reconnected."
                )
            else:
                self.ctx.ops.present(exc, self)

        def finished() -> None:
            self._saving = False
            self.form.set_busy(False)

        self.ctx.ops.run(
            partial(service.update_deal, db, info.id, fields, info.version),
            label="Saving the deal…",
            on_success=saved,
            on_error=refused,
            on_finished=finished,
            parent=self,
        )

    @Slot()
    def revert(self) -> None:
        """Put back the stored values (reading the deal again when it moved on)."""
        detail = self._detail
        if detail is None:
            return
        self.form.fill(detail.deal, self._choices)
        self.reload()  # the latest stored values fill the (now untouched) form

    # -- contacts ---------------------------------------------------------------------------

    def current_contact(self) -> ContactRow | None:
        rows = self.contacts_view.selectionModel().selectedRows()
        return self.contacts.row_at(rows[0].row()) if rows else None

    @Slot()
    def add_contact(self) -> None:
        self._open_contact(None)

    @Slot()
    def edit_contact(self) -> None:
        contact = self.current_contact()
        if contact is not None:
            self._open_contact(contact)

    @Slot(QModelIndex)
    def _contact_activated(self, index: QModelIndex) -> None:
        contact = self.contacts.row_at(index.row())
        if contact is not None:
            self._open_contact(contact)

    def _open_contact(self, contact: ContactRow | None) -> ContactDialog | None:
        db, deal_id = self._db, self._deal_id
        if db is None or deal_id is None or self._detail is None:
            return None
        dialog = ContactDialog(self.ctx, db, deal_id, contact, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.saved.connect(self._part_saved)
        dialog.open()
        self.contact_dialog = dialog
        return dialog

    @Slot()
    def remove_contact(self) -> None:
        db, deal_id, contact = self._db, self._deal_id, self.current_contact()
        if db is None or deal_id is None or contact is None:
            return
        if not detail_dialogs.confirm(
            self,
            "Remove contact",
            f"Remove {contact.name} from this deal's contacts?",
            "Remove",
        ):
            return
        self._run_part(
            partial(service.delete_contact, db, deal_id, contact.id, contact.version),
            "Removing the contact…",
        )

    # -- documents --------------------------------------------------------------------------

    def current_document(self) -> DocumentRow | None:
        rows = self.documents_view.selectionModel().selectedRows()
        return self.documents.row_at(rows[0].row()) if rows else None

    @Slot()
    def add_document(self) -> DocumentDialog | None:
        db, deal_id = self._db, self._deal_id
        if db is None or deal_id is None or self._detail is None:
            return None
        doc_types = self._choices.doc_types if self._choices is not None else ()
        dialog = DocumentDialog(self.ctx, db, deal_id, doc_types, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.saved.connect(self._part_saved)
        dialog.open()
        self.document_dialog = dialog
        return dialog

    @Slot()
    def open_document(self) -> None:
        document = self.current_document()
        if document is not None:
            self._open(document)

    @Slot(QModelIndex)
    def _document_activated(self, index: QModelIndex) -> None:
        document = self.documents.row_at(index.row())
        if document is not None:
            self._open(document)

    def _open(self, document: DocumentRow) -> None:
        if not detail_dialogs.open_document(document.uri):
            self.ctx.events.say(f"Nothing on this computer opens {document.uri}")

    @Slot()
    def remove_document(self) -> None:
        db, deal_id, document = self._db, self._deal_id, self.current_document()
        if db is None or deal_id is None or document is None:
            return
        if not detail_dialogs.confirm(
            self,
            "Remove document",
            f"Remove {document.title!r} from this deal? The file itself, at "
            f"{document.uri}, is not touched.",
            "Remove",
        ):
            return
        self._run_part(
            partial(service.delete_document, db, deal_id, document.id, document.version),
            "Removing the document…",
        )

    # -- saving a contact or document -------------------------------------------------------

    @Slot(object)
    def _part_saved(self, _row: object) -> None:
        self._changed()

    def _run_part(self, task: partial[None], label: str) -> None:
        self.message.clear_message()

        def failed(exc: BaseException) -> None:
            if isinstance(exc, PerfDeskError):
                self.message.show_error(sentence(str(exc)))
                if isinstance(exc, ConflictError):
                    self.reload()
            elif is_connection_lost(exc):
                self.message.show_error(
                    "Nothing was removed: the connection to the server was lost. Try again "
                    "once PerfDesk has reconnected."
                )
            else:
                self.ctx.ops.present(exc, self)

        self.ctx.ops.run(
            task,
            label=label,
            on_success=lambda _result: self._changed(),
            on_error=failed,
            parent=self,
        )
