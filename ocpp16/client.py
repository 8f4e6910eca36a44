"""The charge point side of OCPP-J: typed calls, and answers to the server's calls meanwhile.

::

    import ocpp16

    with ocpp16.connect("ws://localhost:9000/ocpp/CP001") as cp:
        response = cp.call(ocpp16.HeartbeatRequest())  # a HeartbeatResponse
        print(response.current_time)

A reader thread reads frames at all times. One CALL of ours is in flight at a time (OCPP-J):
:meth:`ChargePoint.call` sends it and waits until its answer arrives or ``timeout`` passes. CALLs
the server sends, whenever they come, are answered by ``on_call`` (by default with a random valid
response) on a handler thread, so a handler may call back (TriggerMessage), and reported to
``on_event`` with frames that are ignored (an unknown message type, an answer to no CALL of ours)
or malformed (not OCPP-J, nested too deep, not Unicode text). The protocol itself (ids, the CALL
in flight, matching answers, bounds) is the sans-I/O :class:`ocpp16._protocol.Session`; this
module is its threaded driver.
:meth:`ChargePoint.exchange` and :meth:`ChargePoint.call_raw` return a :class:`CallRecord` of the
whole exchange instead of raising, for tools that show every frame.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import queue
import threading
from collections import deque
from collections.abc import Callable
from time import perf_counter
from typing import Any, Final, Literal, NoReturn, TypeVar, cast

import attrs

from ocpp16 import _dispatch
from ocpp16._action import Action, Sender
from ocpp16._generated.actions import ACTIONS
from ocpp16._model import Model, Request, Response
from ocpp16._protocol import Answered, Note, PeerCall, Reply, Session
from ocpp16._text import printable, shorten
from ocpp16._violations import check_payload, violations
from ocpp16.errors import (
    CallError,
    CallTimeout,
    ConnectionClosed,
    FrameError,
    InvalidResponse,
    OcppError,
    SchemaViolations,
    UnknownAction,
    ValidationError,
)
from ocpp16.frames import Call, CallErrorFrame, CallResult, encode
from ocpp16.frames import new_id as _new_id
from ocpp16.limits import MAX_FRAME_BYTES, MAX_HELD_EVENTS
from ocpp16.registry import resolve_action
from ocpp16.transport import Connection, checked_timeout, endpoint, safe_url, tls_context

__all__ = [
    "CallRecord",
    "ChargePoint",
    "ClientEvent",
    "Handler",
    "answer_not_implemented",
    "answer_random",
    "connect",
    "verdict_of",
]

R = TypeVar("R", bound=Response)

_log: Final = logging.getLogger("ocpp16.client")

#: Answers a CALL from the server: gets the typed request, returns the typed response, or raises
#: CallError to answer with a CALLERROR (any other exception answers InternalError).
Handler = Callable[[Any], Model]

Verdict = Literal["ok", "callerror", "invalid", "malformed", "timeout", "closed"]


def verdict_of(error: OcppError | None) -> Verdict:
    """What an exchange that ended with ``error`` (None: a valid answer) counts as."""
    if error is None:
        return "ok"
    if isinstance(error, CallError):
        return "callerror"
    if isinstance(error, InvalidResponse):
        return "invalid"
    if isinstance(error, FrameError):
        return "malformed"
    return "timeout" if isinstance(error, CallTimeout) else "closed"


def answer_random(request: Any) -> Model:
    """The default handler: a random valid response with the required fields only."""
    return ACTIONS[request.ACTION].response.random()


def answer_not_implemented(request: Any) -> NoReturn:
    """A handler answering every CALL with CALLERROR NotImplemented."""
    raise CallError("NotImplemented", f"this charge point does not handle {request.ACTION}")


@attrs.frozen
class ClientEvent:
    """Something that arrived besides the answers to our calls.

    ``kind`` is ``server-call`` (the server called us: ``reply`` is the frame we answered with,
    ``detail`` what was wrong when the CALL was invalid or the handler failed), ``ignored`` (a
    well-formed frame that matches nothing, as OCPP-J says) or ``malformed`` (not an OCPP-J frame).
    ``frame`` is the frame as JSON, or the text as received when it is not JSON.
    """

    kind: Literal["server-call", "ignored", "malformed"]
    frame: Any
    reply: list[Any] | None = None
    detail: str = ""


@attrs.frozen
class CallRecord:
    """One exchange: the CALL sent, its answer, the time between them, and what was wrong.

    ``request`` and ``answer`` are the frames as JSON (``answer`` None when none came);
    ``elapsed`` is in seconds; ``response`` is the typed response
    of a valid CALLRESULT; ``error`` is None, or CallError, InvalidResponse (with every violation),
    FrameError (a malformed answer), CallTimeout or ConnectionClosed; ``events`` happened since
    the previous exchange ended (the last 100 of them) and while waiting (the first 100).
    """

    action: str
    request: list[Any]
    answer: Any
    elapsed: float
    response: Model | None = None
    error: OcppError | None = None
    events: tuple[ClientEvent, ...] = ()

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def verdict(self) -> Verdict:
        return verdict_of(self.error)


class _Waiter:
    """Our CALL in flight: what answers it, and what happened while it waited."""

    __slots__ = ("_finished", "answer", "done", "events", "outcome", "unique_id")

    def __init__(self, unique_id: str | None, events: list[ClientEvent]) -> None:
        self.unique_id = unique_id
        self.events = events
        self.answer: Any = None
        self.outcome: CallResult | CallErrorFrame | OcppError | None = None
        self.done = False
        self._finished = threading.Lock()
        self._finished.acquire()

    def matches(self, unique_id: Any) -> bool:
        return self.unique_id is None or unique_id == self.unique_id

    def finish(self, answer: Any, outcome: CallResult | CallErrorFrame | OcppError) -> None:
        """Called once, under the charge point's state lock."""
        self.answer, self.outcome, self.done = answer, outcome, True
        self._finished.release()

    def wait(self, timeout: float) -> bool:
        return self._finished.acquire(timeout=max(timeout, 0.0))


class ChargePoint:
    """An open connection to a central system, speaking as charge point ``identity``.

    Use :func:`connect` to make one; it is a context manager that closes the connection.

    A reader thread reads frames at all times: the central system's CALLs are answered whether
    or not a call of ours waits (by ``on_call``, on a handler thread of its own, so a handler
    may itself :meth:`call`), answers go to the call waiting for them, and everything else is
    reported to ``on_event`` (which runs on the reader or the handler thread). Our own CALLs go
    one at a time, as OCPP-J wants: a call waits its turn at most its timeout.
    """

    def __init__(
        self,
        connection: Connection,
        *,
        timeout: float = 30.0,
        on_call: Handler = answer_random,
        on_event: Callable[[ClientEvent], None] | None = None,
    ) -> None:
        self.connection = connection
        self.timeout = checked_timeout(timeout)
        self.on_call = on_call
        self.on_event = on_event
        self._turn = threading.Lock()  # callers wait here for their CALL's turn
        self._state = threading.Lock()  # guards the session and the three after it
        self._session = Session(Sender.CS)
        self._waiter: _Waiter | None = None  # the caller of the session's CALL in flight
        self._held: deque[ClientEvent] = deque(maxlen=MAX_HELD_EVENTS)
        self._closed: ConnectionClosed | None = None
        self._worker: threading.Thread | None = None
        # Bounded by the session, which refuses CALLs beyond MAX_QUEUED_CALLS + 1.
        self._calls: queue.Queue[_dispatch.Valid | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, name="ocpp16 reader", daemon=True)
        self._reader.start()

    def __repr__(self) -> str:
        return f"<ChargePoint '{printable(self.identity)}' at {safe_url(self.url)}>"

    def __enter__(self) -> ChargePoint:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @property
    def identity(self) -> str:
        return self.connection.endpoint.identity

    @property
    def url(self) -> str:
        return self.connection.endpoint.url

    def closed_reason(self, wait: float = 1.0) -> ConnectionClosed | None:
        """Why the connection ended (None while it is open). The transport may report a closed
        connection a moment before the reader has recorded why: wait up to ``wait`` seconds for
        it (never on the reader itself)."""
        if self._closed is None and threading.current_thread() is not self._reader:
            self._reader.join(wait if self.connection.closed else 0)
        return self._closed

    def close(self) -> None:
        """Close the connection. A call waiting in another thread ends at once with
        ConnectionClosed; idempotent."""
        with self._state:
            if self._closed is None:
                self._closed = ConnectionClosed("the connection was closed by this charge point")
            self._session.cancel()
            waiter, self._waiter = self._waiter, None
            if waiter is not None:
                waiter.finish(None, ConnectionClosed(str(self._closed)))
        self.connection.close()
        if threading.current_thread() is not self._reader:
            self._reader.join(5)
        self._calls.put_nowait(None)  # the handler thread stops

    def call(self, request: Request[R], timeout: float | None = None) -> R:
        """Send ``request`` and return the typed response.

        Raises CallError (a CALLERROR came back, with its code, description and details),
        InvalidResponse (the CALLRESULT breaks the response schema), FrameError (the answer is not
        OCPP-J), CallTimeout (no answer within ``timeout`` seconds, default the connection's, or
        no turn within it while another call of ours waited) or ConnectionClosed.
        """
        record = self.exchange(request, timeout)
        if record.error is not None:
            raise record.error
        return cast(R, record.response)

    def exchange(self, request: Model, timeout: float | None = None) -> CallRecord:
        """Send ``request`` (any request class, e.g. ``ACTIONS[name].request.random()``); the
        record of the exchange, whether the answer was valid or not."""
        if not isinstance(request, Request):
            raise TypeError(f"{type(request).__name__} is not a request message")
        action = ACTIONS[request.ACTION]
        return self._exchange(Call(_new_id(), action.name, request.to_dict()), action, timeout)

    def call_raw(
        self,
        action: str,
        payload: Any,
        *,
        validate: bool = False,
        timeout: float | None = None,
        unique_id: str | None = None,
    ) -> CallRecord:
        """Send a CALL with ``payload`` as it is, for negative tests: any action name, any JSON.

        ``validate`` first checks the payload against the action's request schema and raises
        SchemaViolations listing every violation (UnknownAction for an unknown action). The
        answer is checked against the response schema when the action is known.
        """
        known = ACTIONS.get(action)
        if validate:
            if known is None:
                # The exact name is sent: suggest it even when only the case differs.
                raise UnknownAction(action, [resolve_action(action).name])
            check_payload(payload, known.request)
        call = Call(_new_id() if unique_id is None else unique_id, action, payload)
        return self._exchange(call, known, timeout)

    # The exchange ----------------------------------------------------------------------------

    def send_text(
        self, text: str, unique_id: str | None, timeout: float | None = None
    ) -> CallRecord:
        """Send ``text`` as one message, as it is (not even JSON, for frame-level tests), and
        wait for the answer to ``unique_id``, or with None the first CALLRESULT or CALLERROR
        that arrives. The record's ``request`` holds the text sent."""
        answer, outcome, elapsed, events = self._send_and_wait(text, unique_id, "", timeout)
        record = CallRecord("", [text], answer, elapsed, events=tuple(events))
        if isinstance(outcome, CallResult):
            return record
        if isinstance(outcome, CallErrorFrame):
            details = outcome.details if isinstance(outcome.details, dict) else {}
            return attrs.evolve(record, error=CallError(outcome.code, outcome.description, details))
        return attrs.evolve(record, error=outcome)

    def _send_and_wait(
        self, text: str, unique_id: str | None, what: str, timeout: float | None
    ) -> tuple[Any, CallResult | CallErrorFrame | OcppError, float, list[ClientEvent]]:
        wait = self.timeout if timeout is None else checked_timeout(timeout)
        if threading.current_thread() is self._reader:
            raise RuntimeError(
                "on_event runs on the reader thread, which cannot wait for an answer:"
                " call from on_call or another thread"
            )
        if not self._turn.acquire(timeout=max(wait, 0.0)):
            busy = CallTimeout(
                f"{what or 'the frame'} not sent: our previous CALL was still waiting for its"
                f" answer after {wait:g} s (one CALL in flight at a time)"
            )
            return None, busy, 0.0, []
        try:
            with self._state:
                closed = self._closed
                waiter = _Waiter(unique_id, list(self._held))
                self._held.clear()
                if closed is None:
                    start = perf_counter()
                    text = self._session.call(text, unique_id, start + wait)
                    self._waiter = waiter
            if closed is not None:
                return None, ConnectionClosed(str(closed)), 0.0, waiter.events
            try:
                self.connection.send(text, wait)
            except (CallTimeout, ConnectionClosed) as exc:
                with self._state:
                    if self._waiter is waiter:
                        self._waiter = None
                        self._session.cancel()
                return None, exc, perf_counter() - start, waiter.events
            while not waiter.wait(start + wait - perf_counter()):
                with self._state:
                    if waiter.done:
                        break
                    late = self._session.expire(perf_counter(), what or "the frame", wait)
                    if late is not None:
                        self._waiter = None
                        waiter.finish(None, late.error)
                        break
            waiter.wait(0)
            elapsed = perf_counter() - start
            assert waiter.outcome is not None
            return waiter.answer, waiter.outcome, elapsed, waiter.events
        finally:
            self._turn.release()

    def _exchange(self, call: Call, action: Action | None, timeout: float | None) -> CallRecord:
        answer, outcome, elapsed, events = self._send_and_wait(
            encode(call), call.unique_id, call.action, timeout
        )
        response: Model | None = None
        error: OcppError | None = None
        if isinstance(outcome, CallResult):
            if action is not None:
                try:
                    response = action.response.from_dict(outcome.payload)
                except ValidationError as exc:
                    error = invalid_response(call.action, action, outcome.payload, exc)
        elif isinstance(outcome, CallErrorFrame):
            details = outcome.details if isinstance(outcome.details, dict) else {}
            error = CallError(outcome.code, outcome.description, details, action=call.action)
        else:
            error = outcome
        request = call.to_list()
        return CallRecord(call.action, request, answer, elapsed, response, error, tuple(events))

    # The reader thread -----------------------------------------------------------------------

    def _read(self) -> None:
        """Read frames until the connection ends, then fail the call waiting, if any."""
        try:
            while True:
                self._receive(self.connection.recv(math.inf))
        except ConnectionClosed as exc:
            error = exc
        except Exception as exc:  # a bug of ours: the connection cannot go on without a reader
            _log.exception("the reader of %s failed", printable(self.identity))
            error = ConnectionClosed(f"the client's reader failed ({type(exc).__name__})")
            self.connection.close(wait=0)
        with self._state:
            if self._closed is None:
                self._closed = error
            self._session.cancel()
            waiter, self._waiter = self._waiter, None
            if waiter is not None:
                waiter.finish(None, ConnectionClosed(str(self._closed)))
        self._calls.put_nowait(None)

    def _receive(self, data: str | bytes) -> None:
        with self._state:
            happened = self._session.receive(data)
            for event in happened:
                if isinstance(event, Answered) and self._waiter is not None:
                    self._waiter.finish(event.answer, event.outcome)
                    self._waiter = None
        for event in happened:
            if isinstance(event, Note):
                kind = "server-call" if event.kind == "peer-call" else event.kind
                self._event(ClientEvent(kind, event.frame, event.reply, event.detail))
            elif isinstance(event, Reply):
                self._send_reply(event.text)
            elif isinstance(event, PeerCall):
                self._calls.put_nowait(event.call)
                if self._worker is None:
                    self._worker = threading.Thread(
                        target=self._work, name="ocpp16 on_call", daemon=True
                    )
                    self._worker.start()

    def _send_reply(self, text: str) -> None:
        # A peer that takes nothing loses the connection at the deadline; the reader sees it.
        with contextlib.suppress(CallTimeout, ConnectionClosed):
            self.connection.send(text, self.timeout)

    # CALLs from the central system -----------------------------------------------------------

    def _work(self) -> None:
        while True:
            incoming = self._calls.get()
            if incoming is None or self._closed is not None:
                return
            self._answer(incoming)

    def _answer(self, incoming: _dispatch.Valid) -> None:
        """Answer a valid CALL from the server with ``on_call``."""
        unique_id = incoming.frame.unique_id
        reply: CallResult | CallErrorFrame
        detail = ""
        try:
            reply = _dispatch.result_frame(incoming, self.on_call(incoming.request))
        except CallError as exc:
            reply = _dispatch.call_error_frame(unique_id, exc)
        except Exception as exc:
            detail = f"the handler failed: {type(exc).__name__}: {_shown(str(exc))}"
            reply = _dispatch.error_frame(unique_id, "InternalError", detail)
        # Reported before it is sent: the central system may answer our call only once it has
        # our reply, and the event then belongs to that call's record.
        self._event(ClientEvent("server-call", incoming.frame.to_list(), reply.to_list(), detail))
        with self._state:
            text = self._session.reply(unique_id, reply)
        self._send_reply(text)

    def _event(self, event: ClientEvent) -> None:
        with self._state:
            waiter = self._waiter
            if waiter is None:
                self._held.append(event)
            elif len(waiter.events) < MAX_HELD_EVENTS:
                waiter.events.append(event)
        if self.on_event is not None:
            try:
                self.on_event(event)
            except Exception:
                _log.exception("on_event failed; the connection goes on")


def _shown(text: str) -> str:
    return printable(shorten(text))


def invalid_response(
    name: str, action: Action, payload: Any, first: ValidationError
) -> InvalidResponse:
    """The server's conformance failure: its response with every violation listed."""
    found = violations(payload, action.response)
    return InvalidResponse(name, SchemaViolations(found) if found else first, payload)


def connect(
    url: str,
    identity: str | None = None,
    *,
    password: str | bytes | None = None,
    ca: str | os.PathLike[str] | None = None,
    cert: str | os.PathLike[str] | None = None,
    key: str | os.PathLike[str] | None = None,
    insecure: bool = False,
    timeout: float = 30.0,
    max_frame: int = MAX_FRAME_BYTES,
    on_call: Handler = answer_random,
    on_event: Callable[[ClientEvent], None] | None = None,
) -> ChargePoint:
    """Connect to the central system at ``url`` as a charge point.

    ``url`` is ``ws://``, ``wss://``, ``http://`` or ``https://`` (the last two mean ws and wss);
    ``identity`` is appended to its path (percent-encoded), or taken from the path's last segment
    when None. ``password`` sends HTTP Basic auth with the identity as username (security
    profiles 1 and 2). ``ca`` verifies the server against a CA bundle instead of the system's,
    ``cert`` and ``key`` present a client certificate (profile 3), ``insecure`` skips server
    verification. ``timeout`` bounds connecting as a whole (DNS, TCP, TLS, the upgrade) and is
    the default of every call; it is from 0.001 to 86,400 seconds (``ocpp16.limits``), and
    InputError (a ValueError) says so for any other value, ``inf`` and NaN included.
    ``max_frame`` is the largest message accepted from the server (bytes); a bigger one closes
    the connection with 1009.
    """
    checked_timeout(timeout)  # before anything else: nothing is opened for a bad one
    where = endpoint(url, identity)
    tls = None
    if ca is not None or cert is not None or key is not None or insecure:
        tls = tls_context(_path(ca), _path(cert), _path(key), insecure)
    connection = Connection.open(
        where, password=password, tls=tls, timeout=timeout, max_frame=max_frame
    )
    return ChargePoint(connection, timeout=timeout, on_call=on_call, on_event=on_event)


def _path(value: str | os.PathLike[str] | None) -> str | None:
    return None if value is None else os.fspath(value)
