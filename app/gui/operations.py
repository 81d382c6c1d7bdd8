"""The one way the window runs work off the GUI thread.

A task is a plain function, ``task(progress, cancelled) -> T`` (or a no-argument callable).
It runs on a worker of a ``QThreadPool``; it may call ``progress(done, total, text)`` and
should poll ``cancelled()``, stopping with ``raise OperationCancelled`` (or returning an
``OperationCancelled``) when it returns True. Progress, result and error travel back through
queued signals to slots of an ``Operation``, a QObject living on the GUI thread, which then
calls the caller's callbacks there. (In PySide6 a lambda connected to a signal emitted in a
worker runs in the worker: only slots of GUI-thread objects are safe receivers.)

Errors are logged with their traceback and, unless the caller handles them, shown to the
person in plain words through an injectable presenter.

    op = ctx.ops.run(
        lambda progress, cancelled: demo.generate(db, progress=progress, cancelled=cancelled),
        label="Filling with demo data…",
        progress="dialog",
        on_success=self._demo_ready,
        parent=self,
    )
"""

from __future__ import annotations

import inspect
import logging
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, Literal, Protocol, TypeVar

import shiboken6
from PySide6.QtCore import QObject, Qt, QThread, QThreadPool, Signal, Slot
from PySide6.QtWidgets import QProgressDialog, QWidget

from app.domain.errors import PerfDeskError
from app.gui.errors import ErrorPresenter, UserMessage, describe_error, show_error_box

log = logging.getLogger(__name__)

T = TypeVar("T")
ProgressFn = Callable[[int, int, str], None]
CancelledFn = Callable[[], bool]
ProgressMode = Literal["none", "dialog", "status"]

# Progress reports closer together than this are dropped (the last one of a run is kept),
# so a task reporting every row cannot flood the GUI thread's event queue.
PROGRESS_INTERVAL_S = 0.05


class OperationCancelled(Exception):
    """Raised (or returned) by a task that stopped because cancelling was asked for."""


@dataclass(frozen=True)
class _Callbacks:
    on_success: Callable[[Any], None] | None = None
    on_progress: Callable[[int, int, str], None] | None = None
    on_cancelled: Callable[[], None] | None = None
    on_finished: Callable[[], None] | None = None


@dataclass
class _Outcome:
    value: Any = None
    error: BaseException | None = None
    cancelled: bool = False


class _Relay(QObject):
    """Signals emitted from the worker; received by an Operation on the GUI thread."""

    progressed = Signal(int, int, str)
    finished = Signal(object)


class _ProgressThrottle:
    def __init__(self, relay: _Relay) -> None:
        self._relay = relay
        self._last = 0.0

    def __call__(self, done: int, total: int, text: str = "") -> None:
        now = time.monotonic()
        final = total > 0 and done >= total
        if final or now - self._last >= PROGRESS_INTERVAL_S:
            self._last = now
            self._relay.progressed.emit(int(done), int(total), str(text))


def _as_task(task: Callable[..., Any]) -> Callable[[ProgressFn, CancelledFn], Any]:
    """Accept ``task(progress, cancelled)`` or ``task()``."""
    try:
        params = inspect.signature(task).parameters.values()
    except (TypeError, ValueError):
        return lambda _progress, _cancelled: task()
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    required = [p for p in params if p.kind in positional and p.default is p.empty]
    takes_varargs = any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in params)
    if len(required) == 2 or (takes_varargs and len(required) < 2):
        return task
    if not required:
        return lambda _progress, _cancelled: task()
    raise TypeError(
        f"{task!r} must take (progress, cancelled) or no arguments, not {len(required)}"
    )


def _execute(
    task: Callable[[ProgressFn, CancelledFn], Any], progress: ProgressFn, cancel: threading.Event
) -> _Outcome:
    try:
        value = task(progress, cancel.is_set)
    except OperationCancelled:
        return _Outcome(cancelled=True)
    except BaseException as exc:  # delivered to the GUI thread, never lost in the worker
        if cancel.is_set():
            log.info("Task stopped after cancelling was asked for", exc_info=exc)
            return _Outcome(cancelled=True)
        return _Outcome(error=exc)
    if isinstance(value, OperationCancelled):
        return _Outcome(cancelled=True)
    return _Outcome(value=value)


class Operation(QObject, Generic[T]):
    """One background task as seen from the GUI thread; all its signals fire there."""

    progressed = Signal(int, int, str)
    succeeded = Signal(object)
    failed = Signal(object)
    cancelled = Signal()
    finished = Signal()  # always last, whatever the outcome

    def __init__(
        self,
        label: str,
        cancellable: bool,
        callbacks: _Callbacks,
        guard: QWidget | None,
        report_error: Callable[[BaseException, bool], None],
    ) -> None:
        super().__init__()
        self.label = label
        self.cancellable = cancellable
        self.result: T | None = None
        self.error: BaseException | None = None
        self.was_cancelled = False
        self._cancel = threading.Event()
        self._done = False
        self._callbacks = callbacks
        self._guard = guard
        self._report_error = report_error
        self._relay = _Relay()
        self._relay.progressed.connect(self._on_progress, Qt.ConnectionType.QueuedConnection)
        self._relay.finished.connect(self._on_finished, Qt.ConnectionType.QueuedConnection)

    @property
    def done(self) -> bool:
        return self._done

    def cancel(self) -> None:
        """Ask the task to stop; it notices the next time it polls ``cancelled()``."""
        if self.cancellable and not self._done:
            self._cancel.set()

    def cancel_requested(self) -> bool:
        return self._cancel.is_set()

    def guard_alive(self) -> bool:
        """False once the widget the callbacks belong to has been deleted."""
        return self._guard is None or shiboken6.isValid(self._guard)

    def _call(self, callback: Callable[..., None] | None, *args: Any) -> None:
        if callback is not None and self.guard_alive():
            callback(*args)

    @Slot(int, int, str)
    def _on_progress(self, done: int, total: int, text: str) -> None:
        if self._done:
            return
        self.progressed.emit(done, total, text)
        self._call(self._callbacks.on_progress, done, total, text)

    @Slot(object)
    def _on_finished(self, outcome: _Outcome) -> None:
        self._done = True
        self._relay.progressed.disconnect(self._on_progress)
        try:
            if outcome.cancelled:
                self.was_cancelled = True
                self.cancelled.emit()
                self._call(self._callbacks.on_cancelled)
            elif outcome.error is not None:
                self.error = outcome.error
                self._report_error(outcome.error, self.guard_alive())
                self.failed.emit(outcome.error)
            else:
                self.result = outcome.value
                self.succeeded.emit(outcome.value)
                self._call(self._callbacks.on_success, outcome.value)
        finally:
            self._call(self._callbacks.on_finished)
            self.finished.emit()


class _ProgressDialog(QObject):
    """A window-modal QProgressDialog following one operation; Cancel cancels it."""

    def __init__(self, op: Operation[Any], parent: QWidget | None) -> None:
        super().__init__(op)
        dialog = QProgressDialog(op.label, "Cancel" if op.cancellable else "", 0, 0, parent)
        dialog.setObjectName("operationProgress")
        dialog.setWindowTitle(op.label.rstrip("…."))
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setMinimumDuration(300)
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        if not op.cancellable:
            dialog.setCancelButton(None)
        dialog.canceled.connect(op.cancel)
        self.dialog = dialog
        op.progressed.connect(self._show_progress)
        op.finished.connect(self._close)

    @Slot(int, int, str)
    def _show_progress(self, done: int, total: int, text: str) -> None:
        if total > 0:
            self.dialog.setMaximum(total)
            self.dialog.setValue(min(done, total))
        if text:
            self.dialog.setLabelText(text)

    @Slot()
    def _close(self) -> None:
        self.dialog.canceled.disconnect()
        self.dialog.reset()
        self.dialog.close()
        self.dialog.deleteLater()


class StatusProgressSink(Protocol):
    """What a status-bar progress widget offers to Operations (see status_progress.py)."""

    def track(self, op: Operation[Any]) -> None: ...


class Operations(QObject):
    """Runs tasks on its own thread pool and keeps the list of those not finished yet."""

    _instances: weakref.WeakSet[Operations] = weakref.WeakSet()

    def __init__(
        self,
        parent: QObject | None = None,
        *,
        present_error: ErrorPresenter = show_error_box,
        max_threads: int = 4,
    ) -> None:
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(max_threads)
        self.present_error = present_error
        self.default_parent: QWidget | None = None
        self.status_progress: StatusProgressSink | None = None
        self._active: set[Operation[Any]] = set()
        Operations._instances.add(self)

    @classmethod
    def instances(cls) -> list[Operations]:
        return list(cls._instances)

    def run(
        self,
        task: Callable[..., T],
        *,
        label: str = "Working…",
        on_success: Callable[[T], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        on_progress: Callable[[int, int, str], None] | None = None,
        on_cancelled: Callable[[], None] | None = None,
        on_finished: Callable[[], None] | None = None,
        progress: ProgressMode = "none",
        cancellable: bool = True,
        parent: QWidget | None = None,
    ) -> Operation[T]:
        """Start ``task`` on a worker; callbacks run on the GUI thread.

        ``on_error`` replaces the default (log and show); errors are logged either way.
        When ``parent`` is given it parents dialogs, and callbacks are skipped if it has
        been deleted by the time the task ends.
        """
        if QThread.currentThread() is not self.thread():
            raise RuntimeError("Operations.run must be called on the GUI thread")
        call = _as_task(task)
        dialog_parent = parent or self.default_parent

        def report_error(exc: BaseException, guard_alive: bool) -> None:
            level = logging.WARNING if isinstance(exc, PerfDeskError) else logging.ERROR
            log.log(level, "%s failed", label, exc_info=exc)
            if not guard_alive:
                return
            if on_error is not None:
                on_error(exc)
            else:
                self.present(exc, dialog_parent)

        # No Qt parent: the set of active operations (then the caller) keeps it alive.
        op: Operation[T] = Operation(
            label,
            cancellable,
            _Callbacks(on_success, on_progress, on_cancelled, on_finished),
            parent,
            report_error,
        )
        op.finished.connect(self._forget)
        if progress == "dialog":
            _ProgressDialog(op, dialog_parent)
        elif progress == "status" and self.status_progress is not None:
            self.status_progress.track(op)
        self._active.add(op)

        relay = op._relay
        cancel = op._cancel
        throttle = _ProgressThrottle(relay)

        def work() -> None:
            relay.finished.emit(_execute(call, throttle, cancel))

        self.pool.start(work)
        return op

    def present(self, exc: BaseException, parent: QWidget | None = None) -> UserMessage:
        """Show an error in plain words (the default for tasks without ``on_error``)."""
        message = describe_error(exc)
        self.present_error(parent or self.default_parent, message)
        return message

    @Slot()
    def _forget(self) -> None:
        op = self.sender()
        if isinstance(op, Operation):
            self._active.discard(op)

    def active(self) -> list[Operation[Any]]:
        """Operations whose result has not been delivered yet."""
        return list(self._active)

    def cancel_all(self) -> None:
        for op in list(self._active):
            op.cancel()

    def wait_for_done(self, msecs: int = 5000) -> bool:
        """Block until every worker has returned (for shutdown and tests)."""
        return bool(self.pool.waitForDone(msecs))
