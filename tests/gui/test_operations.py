"""The background-operation helper: results, errors, progress and cancelling, on the GUI thread."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator

import pytest
from PySide6.QtWidgets import QProgressDialog, QPushButton, QWidget

from app.domain.errors import ValidationError
from app.gui.errors import UserMessage, describe_error
from app.gui.operations import Operation, OperationCancelled, Operations
from app.gui.status_progress import StatusProgress


@pytest.fixture
def shown() -> list[UserMessage]:
    return []


@pytest.fixture
def ops(qapp, shown: list[UserMessage]) -> Iterator[Operations]:
    runner = Operations(present_error=lambda _parent, message: shown.append(message))
    yield runner
    runner.cancel_all()
    runner.wait_for_done()


def wait_done(qtbot, op: Operation) -> None:
    qtbot.waitUntil(lambda: op.done, timeout=5000)


def test_result_is_delivered_on_the_gui_thread(qtbot, ops: Operations) -> None:
    main = threading.get_ident()
    seen: dict[str, int] = {}

    def task() -> int:
        seen["task"] = threading.get_ident()
        return 42

    def success(value: int) -> None:
        seen["callback"] = threading.get_ident()
        seen["value"] = value

    op = ops.run(task, on_success=success)
    with qtbot.waitSignal(op.succeeded, timeout=5000) as blocker:
        pass
    assert blocker.args == [42]
    assert seen["task"] != main
    assert seen["callback"] == main
    assert seen["value"] == 42
    assert op.result == 42
    assert ops.wait_for_done()
    assert ops.active() == []
    assert ops.pool.activeThreadCount() == 0


def test_unexpected_error_is_logged_and_shown_in_plain_words(
    qtbot, ops: Operations, shown: list[UserMessage], caplog: pytest.LogCaptureFixture
) -> None:
    def task() -> None:
        raise ValueError("the disk is full")

    with caplog.at_level(logging.ERROR, logger="app.gui.operations"):
        op = ops.run(task, label="Saving")
        with qtbot.waitSignal(op.failed, timeout=5000):
            pass
    assert isinstance(op.error, ValueError)
    assert [m.text for m in shown] == ["Something went wrong: the disk is full"]
    assert shown[0].details is not None and "ValueError" in shown[0].details
    record = next(r for r in caplog.records if r.name == "app.gui.operations")
    assert record.levelno == logging.ERROR and record.exc_info is not None
    assert "Saving failed" in record.getMessage()


def test_perfdesk_error_is_shown_as_is(qtbot, ops: Operations, shown: list[UserMessage]) -> None:
    def task() -> None:
        raise ValidationError("The port is a whole number from 1 to 65535.")

    op = ops.run(task)
    wait_done(qtbot, op)
    assert shown == [UserMessage("The port is a whole number from 1 to 65535.")]


def test_on_error_replaces_the_default_presentation(
    qtbot, ops: Operations, shown: list[UserMessage]
) -> None:
    handled: list[BaseException] = []

    def task() -> None:
        raise ValidationError("nope")

    op = ops.run(task, on_error=handled.append)
    wait_done(qtbot, op)
    assert shown == []
    assert [str(e) for e in handled] == ["nope"]


def test_progress_reaches_the_gui_thread_and_the_last_report_is_kept(
    qtbot, ops: Operations
) -> None:
    main = threading.get_ident()
    reports: list[tuple[int, int, str, int]] = []

    def task(progress, cancelled) -> str:
        for i in range(1, 201):
            progress(i, 200, f"row {i}")
        return "done"

    op = ops.run(task, on_progress=lambda d, t, s: reports.append((d, t, s, threading.get_ident())))
    wait_done(qtbot, op)
    assert reports, "no progress was reported"
    assert reports[-1][:3] == (200, 200, "row 200")
    assert {r[3] for r in reports} == {main}
    assert len(reports) < 200  # throttled: a chatty task cannot flood the event queue


def test_cancel_stops_a_task_that_polls(qtbot, ops: Operations) -> None:
    started = threading.Event()
    outcomes: list[str] = []

    def task(progress, cancelled) -> str:
        started.set()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if cancelled():
                raise OperationCancelled
            time.sleep(0.005)
        return "ran to the end"

    op = ops.run(
        task,
        on_success=lambda _v: outcomes.append("success"),
        on_cancelled=lambda: outcomes.append("cancelled"),
        on_finished=lambda: outcomes.append("finished"),
    )
    assert started.wait(5)
    op.cancel()
    with qtbot.waitSignal(op.cancelled, timeout=5000):
        pass
    qtbot.waitUntil(lambda: op.done)
    assert outcomes == ["cancelled", "finished"]
    assert op.was_cancelled and op.result is None


def test_returning_cancelled_or_failing_after_cancel_counts_as_cancelled(
    qtbot, ops: Operations, shown: list[UserMessage]
) -> None:
    gate = threading.Event()

    def returns_marker(progress, cancelled):
        gate.wait(5)
        return OperationCancelled() if cancelled() else "finished"

    def fails_after_cancel(progress, cancelled):
        gate.wait(5)
        raise RuntimeError("connection closed while stopping")

    first = ops.run(returns_marker)
    second = ops.run(fails_after_cancel)
    first.cancel()
    second.cancel()
    gate.set()
    wait_done(qtbot, first)
    wait_done(qtbot, second)
    assert first.was_cancelled and second.was_cancelled
    assert shown == []


def test_a_task_that_ignores_cancel_still_delivers_its_result(qtbot, ops: Operations) -> None:
    gate = threading.Event()
    op = ops.run(lambda: gate.wait(5) and "committed")
    op.cancel()
    gate.set()
    wait_done(qtbot, op)
    assert op.result == "committed" and not op.was_cancelled


def test_not_cancellable_ignores_cancel(qtbot, ops: Operations) -> None:
    op = ops.run(lambda progress, cancelled: cancelled(), cancellable=False)
    op.cancel()
    wait_done(qtbot, op)
    assert op.result is False


def test_task_signature_must_be_progress_cancelled_or_nothing(ops: Operations) -> None:
    with pytest.raises(TypeError, match="progress, cancelled"):
        ops.run(lambda only_one: only_one)


def test_progress_dialog_cancel_button_cancels(qtbot, ops: Operations) -> None:
    parent = QWidget()
    qtbot.addWidget(parent)
    parent.show()

    def task(progress, cancelled) -> None:
        progress(1, 10, "first step")
        while not cancelled():
            time.sleep(0.005)
        raise OperationCancelled

    op = ops.run(task, label="Generating…", progress="dialog", parent=parent)
    dialog = parent.findChild(QProgressDialog, "operationProgress")
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.labelText() == "first step", timeout=5000)
    assert dialog.maximum() == 10 and dialog.value() == 1
    cancel_button = dialog.findChild(QPushButton)
    assert cancel_button is not None and cancel_button.text() == "Cancel"
    cancel_button.click()
    with qtbot.waitSignal(op.finished, timeout=5000):
        pass
    assert op.was_cancelled
    qtbot.waitUntil(lambda: parent.findChild(QProgressDialog, "operationProgress") is None)


def test_status_bar_progress_follows_and_cancels(qtbot, ops: Operations) -> None:
    status = StatusProgress()
    qtbot.addWidget(status)
    ops.status_progress = status

    def task(progress, cancelled) -> None:
        progress(3, 4, "almost")
        while not cancelled():
            time.sleep(0.005)
        raise OperationCancelled

    op = ops.run(task, label="Importing…", progress="status")
    assert status.isVisibleTo(status.parentWidget()) or not status.isHidden()
    assert status.current() is op
    qtbot.waitUntil(lambda: status.bar.value() == 3, timeout=5000)
    assert status.label.text() == "almost" and status.bar.maximum() == 4
    status.cancel_button.click()
    wait_done(qtbot, op)
    assert op.was_cancelled
    assert status.isHidden() and status.current() is None


def test_callbacks_are_skipped_once_their_widget_is_gone(qtbot, ops: Operations) -> None:
    called: list[object] = []
    gate = threading.Event()
    widget = QWidget()
    op = ops.run(lambda: gate.wait(5), on_success=called.append, parent=widget)
    widget.deleteLater()
    qtbot.waitUntil(lambda: not _alive(widget))
    gate.set()
    wait_done(qtbot, op)
    assert called == []


def _alive(widget: QWidget) -> bool:
    import shiboken6

    return bool(shiboken6.isValid(widget))


def test_describe_error() -> None:
    assert describe_error(ValidationError("Plain.")) == UserMessage("Plain.")
    message = describe_error(KeyError("x"))
    assert message.text == "Something went wrong: 'x'"
    assert message.details and "KeyError" in message.details
