"""Running a conformance check: connect as a charge point, boot, send every case, grade it.

After each negative or frame-level case a Heartbeat probes the connection: a central system that
refuses a defect and then drops the connection fails the case. A silent case is sent together
with the probe, so no fixed quiet period is waited: an answer to it would arrive before the
probe's. When the connection drops, the runner reconnects, boots again and goes on.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

import attrs

from ocpp16._generated.boot_notification import BootNotificationRequest
from ocpp16._generated.heartbeat import HeartbeatRequest
from ocpp16.client import CallRecord, ChargePoint, connect
from ocpp16.conformance.cases import Case, Expect, build_cases
from ocpp16.conformance.grading import Grade, Outcome, grade_answer, grade_silence
from ocpp16.conformance.report import Report
from ocpp16.errors import CallTimeout, ConnectionClosed, FrameError, OcppError, TransportError
from ocpp16.frames import CALLERROR, CALLRESULT, CallErrorFrame, CallResult
from ocpp16.limits import MAX_FRAME_BYTES

__all__ = ["CheckOptions", "run_check"]

Progress = Callable[[int, int, Outcome], None]


@attrs.frozen
class CheckOptions:
    """Where and how to check. ``password`` is used for Basic auth and never reported."""

    url: str
    identity: str | None = None
    password: str | None = attrs.field(default=None, repr=False)
    ca: str | None = None
    cert: str | None = None
    key: str | None = None
    insecure: bool = False
    timeout: float = 5.0
    max_frame: int = MAX_FRAME_BYTES
    seed: int = 0
    actions: tuple[str, ...] = ()
    cs_actions: bool = False
    strict_codes: bool = False


class _Session:
    """The current connection, reopened (and booted again) when the central system drops it."""

    def __init__(self, options: CheckOptions) -> None:
        self.options = options
        self.reconnects = 0
        self.rng = random.Random(options.seed)
        self.cp: ChargePoint | None = None

    def open(self) -> ChargePoint:
        o = self.options
        cp = connect(
            o.url,
            o.identity,
            password=o.password,
            ca=o.ca,
            cert=o.cert,
            key=o.key,
            insecure=o.insecure,
            timeout=o.timeout,
            max_frame=o.max_frame,
        )
        # Central systems may refuse other calls before a BootNotification; its answer is not
        # graded here (the BootNotification cases are).
        cp.exchange(BootNotificationRequest.random(rng=self.rng))
        self.cp = cp
        return cp

    def current(self) -> ChargePoint:
        return self.cp if self.cp is not None else self.open()

    def drop(self) -> None:
        if self.cp is not None:
            self.cp.close()
            self.cp = None
            self.reconnects += 1

    def close(self) -> None:
        if self.cp is not None:
            self.cp.close()


def run_check(
    options: CheckOptions,
    cases: list[Case] | None = None,
    progress: Progress | None = None,
) -> Report:
    """Grade the central system at ``options.url``. Raises ConnectError when the first
    connection cannot be opened; a later failure to reconnect fails the remaining cases."""
    chosen = (
        cases
        if cases is not None
        else build_cases(list(options.actions) or None, options.seed, options.cs_actions)
    )
    session = _Session(options)
    start = time.perf_counter()
    session.open()
    outcomes: list[Outcome] = []
    try:
        for index, case in enumerate(chosen):
            outcome = _run_case(session, case)
            outcomes.append(outcome)
            if progress is not None:
                progress(index + 1, len(chosen), outcome)
    finally:
        session.close()
    identity = session.cp.identity if session.cp is not None else options.identity or ""
    return Report(
        url=options.url,
        identity=identity,
        seed=options.seed,
        strict_codes=options.strict_codes,
        outcomes=tuple(outcomes),
        elapsed_s=time.perf_counter() - start,
        reconnects=session.reconnects,
    )


def _run_case(session: _Session, case: Case) -> Outcome:
    try:
        cp = session.current()
    except TransportError as exc:
        return Outcome(case, Grade.DROPPED, f"could not reconnect: {exc}")
    timeout = session.options.timeout
    if case.expect is Expect.SILENCE:
        return _silent_case(session, cp, case, timeout)
    record = cp.send_text(case.text, case.unique_id, timeout)
    grade, reason = _grade_record(case, record)
    outcome = Outcome(case, grade, reason, record.answer, record.elapsed * 1000)
    if grade is Grade.DROPPED:
        session.drop()
    elif case.kind != "positive" and grade is not Grade.TIMEOUT:
        probe = cp.exchange(HeartbeatRequest(), timeout)
        if isinstance(probe.error, ConnectionClosed):
            session.drop()
            after = f"{reason}, then closed the connection"
            return attrs.evolve(outcome, grade=Grade.DROPPED, reason=after)
    return outcome


def _silent_case(session: _Session, cp: ChargePoint, case: Case, timeout: float) -> Outcome:
    started = time.perf_counter()
    try:
        cp.connection.send(case.text, timeout)
    except ConnectionClosed as exc:
        session.drop()
        return Outcome(case, Grade.DROPPED, f"connection closed: {exc}")
    probe = cp.exchange(HeartbeatRequest(), timeout)
    elapsed = (time.perf_counter() - started) * 1000
    for event in probe.events:
        frame = event.frame
        if isinstance(frame, list) and len(frame) > 1 and frame[1] == case.unique_id:
            reason = "answered a frame that OCPP-J says to ignore"
            return Outcome(case, Grade.ANSWERED_IGNORABLE, reason, frame, elapsed)
    if isinstance(probe.error, ConnectionClosed):
        session.drop()
        return Outcome(case, Grade.DROPPED, "closed the connection instead of ignoring the frame")
    if isinstance(probe.error, CallTimeout):
        return Outcome(case, Grade.TIMEOUT, "no answer to the Heartbeat sent after it")
    grade, reason = grade_silence(case)
    return Outcome(case, grade, reason, None, elapsed)


def _grade_record(case: Case, record: CallRecord) -> tuple[Grade, str]:
    error: OcppError | None = record.error
    if isinstance(error, ConnectionClosed):
        return Grade.DROPPED, f"connection closed: {error}"
    if isinstance(error, CallTimeout):
        return grade_silence(case)
    frame = _frame(record.answer)
    if isinstance(error, FrameError) and (frame is None or frame.unique_id != case.unique_id):
        # The client refuses, say, an answer echoing our over-long id; graded as the case's
        # answer all the same when it is one.
        return Grade.INVALID_RESPONSE, str(error)
    if frame is None:
        return Grade.INVALID_RESPONSE, f"the answer is not OCPP-J: {record.answer!r}"
    return grade_answer(case, frame)


def _frame(answer: Any) -> CallResult | CallErrorFrame | None:
    if not isinstance(answer, list) or len(answer) < 3:
        return None
    if answer[0] == CALLRESULT:
        return CallResult(answer[1], answer[2])
    if answer[0] == CALLERROR and len(answer) == 5:
        return CallErrorFrame(answer[1], answer[2], answer[3], answer[4])
    return None
