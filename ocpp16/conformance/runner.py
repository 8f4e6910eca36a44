"""Running a conformance check: connect as a charge point, boot, send every case, grade it.

After each negative or frame-level case (and after a case that got no answer) a Heartbeat probes
the connection: a central system that refuses a defect and then drops the connection fails the
case. A silent case is sent together with the probe, so no fixed quiet period is waited: an
answer to it would arrive before the probe's. When the connection drops, the runner reconnects,
boots again and goes on.

Cases with a mutation (the negative cases, and the cases of values only the errata allows) are
planted in a payload of their action that the central system accepted earlier in the run, so a
refusal is about the mutation and nothing else; with no such payload they are not tested.

The run ends early, with one verdict, when the central system does not answer the
BootNotification, when :data:`STOP_AFTER_UNANSWERED` exchanges in a row get no answer, or when
reconnecting fails. Ctrl-C raises :class:`CheckInterrupted` carrying the report so far.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from typing import Any, Final

import attrs

from ocpp16._generated.boot_notification import BootNotificationRequest
from ocpp16._generated.heartbeat import HeartbeatRequest
from ocpp16._text import printable, shorten
from ocpp16.client import CallRecord, ChargePoint, connect
from ocpp16.conformance.cases import Case, Expect, build_cases, planted_text
from ocpp16.conformance.grading import (
    MAX_REASON_CHARS,
    Grade,
    Outcome,
    grade_answer,
    grade_silence,
    peer_text,
)
from ocpp16.conformance.report import Report
from ocpp16.errors import (
    CallTimeout,
    ConnectionClosed,
    FrameError,
    InputError,
    OcppError,
    TransportError,
)
from ocpp16.frames import CALLERROR, CALLRESULT, CallErrorFrame, CallResult
from ocpp16.limits import MAX_FRAME_BYTES
from ocpp16.transport import endpoint

__all__ = ["STOP_AFTER_UNANSWERED", "CheckInterrupted", "CheckOptions", "run_check"]

Progress = Callable[[int, int, Outcome], None]

#: Exchanges (cases or Heartbeat probes) in a row without an answer that end the run.
STOP_AFTER_UNANSWERED: Final = 3

# The accepted positive payloads that mutations are planted in, closest in shape first.
_BASE_RANK: Final = {"full": 0, "enums": 1, "boundaries": 2, "required": 3}


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


class CheckInterrupted(KeyboardInterrupt):
    """Ctrl-C during a check; ``report`` holds the cases run so far (marked incomplete)."""

    def __init__(self, report: Report) -> None:
        super().__init__("check interrupted")
        self.report = report


class _Stop(Exception):
    """Ends the run early; the message is the verdict."""


class _Session:
    """The current connection, reopened (and booted again) when the central system drops it,
    and whether the central system still answers."""

    def __init__(self, options: CheckOptions) -> None:
        self.options = options
        self.reconnects = 0  # successful ones
        self.rng = random.Random(options.seed)
        self.cp: ChargePoint | None = None
        self.identity = _identity(options)
        self.unanswered = 0  # exchanges in a row without an answer
        self.last_answered = ""  # the id of the last case whose exchanges were answered
        self._opened = False

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
        # graded here (the BootNotification cases are), but silence ends the run.
        boot = cp.exchange(BootNotificationRequest.random(rng=self.rng))
        if isinstance(boot.error, CallTimeout | ConnectionClosed):
            cp.close()
            what = "did not answer" if isinstance(boot.error, CallTimeout) else "closed on"
            when = f" after case {self.last_answered}" if self.last_answered else ""
            if self._opened and not when:
                when = " of a reconnect"
            raise _Stop(f"the central system {what} the BootNotification{when} ({boot.error})")
        if self._opened:
            self.reconnects += 1
        self._opened = True
        self.cp = cp
        self.identity = cp.identity
        return cp

    def current(self) -> ChargePoint:
        if self.cp is not None:
            return self.cp
        try:
            return self.open()
        except TransportError as exc:
            lost = f"the connection was lost{self._after()} and reconnecting failed: {exc}"
            raise _Stop(lost) from None

    def drop(self) -> None:
        if self.cp is not None:
            self.cp.close()
            self.cp = None

    def close(self) -> None:
        if self.cp is not None:
            self.cp.close()

    def heard(self, record: CallRecord | None, case: Case) -> None:
        """Count an exchange: answered or not (None: nothing was sent)."""
        if record is None:
            return
        if isinstance(record.error, CallTimeout):
            self.unanswered += 1
        else:
            self.unanswered = 0
            self.last_answered = case.id

    @property
    def silent(self) -> bool:
        """Whether the central system has left enough exchanges in a row unanswered to stop."""
        return self.unanswered >= STOP_AFTER_UNANSWERED

    def check_alive(self) -> None:
        if self.silent:
            raise _Stop(
                f"the central system stopped answering{self._after()}: "
                f"{self.unanswered} exchanges in a row without an answer"
            )

    def _after(self) -> str:
        """Where the run got to: the last case answered, else the boot (or not even that)."""
        if self.last_answered:
            return f" after case {self.last_answered}"
        return " after the BootNotification" if self._opened else " before any case"


def _identity(options: CheckOptions) -> str:
    """The identity the run connects as (from the URL's path when not given), known before the
    first connection: a report of a run that ends at or before the boot still names it."""
    try:
        return endpoint(options.url, options.identity).identity
    except InputError:
        return options.identity or ""  # connecting will say what is wrong with the URL


class _Bases:
    """The payloads of each action that the central system accepted, closest in shape first."""

    def __init__(self) -> None:
        self._by_action: dict[str, list[tuple[int, int, Any]]] = {}

    def add(self, case: Case, outcome: Outcome) -> None:
        if case.kind != "positive" or case.mutation is not None:
            return
        if not (isinstance(outcome.answer, list) and outcome.answer[:1] == [CALLRESULT]):
            return
        rank = _BASE_RANK.get(case.id.rsplit("/", 1)[-1].split("-")[0], len(_BASE_RANK))
        found = self._by_action.setdefault(case.action, [])
        found.append((rank, len(found), json.loads(case.text)[3]))
        found.sort(key=lambda entry: entry[:2])

    def plant(self, case: Case) -> str | Outcome:
        """The text of ``case`` planted in an accepted payload, or why it is not tested."""
        bases = self._by_action.get(case.action, [])
        for _, _, payload in bases:
            text = planted_text(case, payload)
            if text is not None:
                return text
        if not bases:
            reason = f"not tested: base payload refused (no {case.action} payload was accepted)"
        else:
            where = case.mutation.path if case.mutation is not None else "?"
            reason = f"not tested: no accepted {case.action} payload has {where}"
        return Outcome(case, Grade.NOT_TESTED, reason)


def run_check(
    options: CheckOptions,
    cases: list[Case] | None = None,
    progress: Progress | None = None,
) -> Report:
    """Grade the central system at ``options.url``. Raises ConnectError when the first
    connection cannot be opened, and CheckInterrupted (with the report so far) on Ctrl-C."""
    chosen = (
        cases
        if cases is not None
        else build_cases(list(options.actions) or None, options.seed, options.cs_actions)
    )
    session = _Session(options)
    bases = _Bases()
    start = time.perf_counter()
    outcomes: list[Outcome] = []
    stopped = ""

    def report(interrupted: bool = False) -> Report:
        return Report(
            url=options.url,
            identity=session.identity,
            seed=options.seed,
            strict_codes=options.strict_codes,
            outcomes=tuple(outcomes),
            elapsed_s=time.perf_counter() - start,
            reconnects=session.reconnects,
            planned=len(chosen),
            stopped=stopped,
            interrupted=interrupted,
        )

    try:
        try:
            session.open()
            for index, case in enumerate(chosen):
                outcome = _run_case(session, bases, case)
                outcomes.append(outcome)
                bases.add(case, outcome)
                if progress is not None:
                    progress(index + 1, len(chosen), outcome)
                session.check_alive()
        except _Stop as stop:
            # The verdict may quote the peer (an HTTP reason, say).
            stopped = printable(shorten(str(stop), MAX_REASON_CHARS))
        except KeyboardInterrupt:
            raise CheckInterrupted(report(interrupted=True)) from None
    finally:
        session.close()
    return report()


def _run_case(session: _Session, bases: _Bases, case: Case) -> Outcome:
    text = case.text
    if case.mutation is not None:
        planted = bases.plant(case)
        if isinstance(planted, Outcome):
            return planted
        text = planted
    cp = session.current()
    timeout = session.options.timeout
    if case.expect is Expect.SILENCE:
        return _silent_case(session, cp, case, timeout)
    record = cp.send_text(text, case.unique_id, timeout)
    session.heard(record, case)
    grade, reason = _grade_record(case, record)
    sent = None if text == case.text else text
    outcome = Outcome(case, grade, reason, record.answer, record.elapsed * 1000, sent)
    if grade is Grade.DROPPED:
        session.drop()
    elif (case.kind != "positive" or isinstance(record.error, CallTimeout)) and not session.silent:
        # Is the connection still usable (and the central system still answering)? Not asked
        # once it has been silent long enough to stop: the verdict then counts exactly
        # STOP_AFTER_UNANSWERED exchanges, and one timeout less is waited.
        probe = cp.exchange(HeartbeatRequest(), timeout)
        session.heard(probe, case)
        if isinstance(probe.error, ConnectionClosed):
            session.drop()
            after = f"{outcome.reason}, then closed the connection"
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
    session.heard(probe, case)
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
        return Grade.INVALID_RESPONSE, peer_text(str(error))
    if frame is None:
        return Grade.INVALID_RESPONSE, f"the answer is not OCPP-J: {peer_text(record.answer)}"
    return grade_answer(case, frame)


def _frame(answer: Any) -> CallResult | CallErrorFrame | None:
    if not isinstance(answer, list) or len(answer) < 3:
        return None
    if answer[0] == CALLRESULT:
        return CallResult(answer[1], answer[2])
    if answer[0] == CALLERROR and len(answer) == 5:
        return CallErrorFrame(answer[1], answer[2], answer[3], answer[4])
    return None
