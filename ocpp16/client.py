"""The charge point side of OCPP-J: typed calls, and answers to the server's calls meanwhile.

::

    import ocpp16

    with ocpp16.connect("ws://localhost:9000/ocpp/CP001") as cp:
        response = cp.call(ocpp16.HeartbeatRequest())  # a HeartbeatResponse
        print(response.current_time)

One CALL is in flight at a time (OCPP-J): :meth:`ChargePoint.call` sends it and reads frames until
its answer arrives or ``timeout`` passes. CALLs the server sends meanwhile are answered by
``on_call`` (by default with a random valid response) and reported to ``on_event`` with frames that
are ignored (an unknown message type, an answer to no CALL of ours) or malformed.
:meth:`ChargePoint.exchange` and :meth:`ChargePoint.call_raw` return a :class:`CallRecord` of the
whole exchange instead of raising, for tools that show every frame.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from time import perf_counter
from typing import Any, Literal, NoReturn, TypeVar, cast

import attrs

from ocpp16 import _dispatch
from ocpp16._action import Action, Sender
from ocpp16._generated.actions import ACTIONS
from ocpp16._model import Model, Request, Response
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
from ocpp16.frames import CALL, CALLERROR, CALLRESULT, Call, CallErrorFrame, CallResult, encode
from ocpp16.frames import new_id as _new_id
from ocpp16.registry import resolve_action
from ocpp16.transport import Connection, endpoint, tls_context

__all__ = [
    "CallRecord",
    "ChargePoint",
    "ClientEvent",
    "Handler",
    "answer_not_implemented",
    "answer_random",
    "connect",
]

R = TypeVar("R", bound=Response)

#: Answers a CALL from the server: gets the typed request, returns the typed response, or raises
#: CallError to answer with a CALLERROR (any other exception answers InternalError).
Handler = Callable[[Any], Model]

Verdict = Literal["ok", "callerror", "invalid", "malformed", "timeout", "closed"]


def answer_random(request: Any) -> Model:
    """The default handler: a random valid response with the required fields only."""
    return ACTIONS[request.ACTION].response.random()


def answer_not_implemented(request: Any) -> NoReturn:
    """A handler answering every CALL with CALLERROR NotImplemented."""
    raise CallError("NotImplemented", f"this charge point does not handle {request.ACTION}")


@attrs.frozen
class ClientEvent:
    """Something that arrived while a call waited for its answer.

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
    FrameError (a malformed answer), CallTimeout or ConnectionClosed; ``events`` happened while
    waiting.
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
        error = self.error
        if error is None:
            return "ok"
        if isinstance(error, CallError):
            return "callerror"
        if isinstance(error, InvalidResponse):
            return "invalid"
        if isinstance(error, FrameError):
            return "malformed"
        return "timeout" if isinstance(error, CallTimeout) else "closed"


class ChargePoint:
    """An open connection to a central system, speaking as charge point ``identity``.

    Use :func:`connect` to make one; it is a context manager that closes the connection.
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
        self.timeout = timeout
        self.on_call = on_call
        self.on_event = on_event
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<ChargePoint {self.identity!r} at {self.url}>"

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

    def close(self) -> None:
        self.connection.close()

    def call(self, request: Request[R], timeout: float | None = None) -> R:
        """Send ``request`` and return the typed response.

        Raises CallError (a CALLERROR came back, with its code, description and details),
        InvalidResponse (the CALLRESULT breaks the response schema), FrameError (the answer is not
        OCPP-J), CallTimeout (no answer within ``timeout`` seconds, default the connection's) or
        ConnectionClosed.
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
        read frames until the answer to ``unique_id``, or with None the first CALLRESULT or
        CALLERROR that arrives. The record's ``request`` holds the text sent."""
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
        wait = self.timeout if timeout is None else timeout
        events: list[ClientEvent] = []
        answer: Any = None
        outcome: CallResult | CallErrorFrame | OcppError
        with self._lock:
            start = perf_counter()
            try:
                self.connection.send(text, wait)
                answer, outcome = self._wait(unique_id, start + wait, events)
            except CallTimeout as exc:
                outcome = CallTimeout(f"no answer to {what or 'the frame'} within {wait:g} s")
                outcome.__cause__ = exc
            except ConnectionClosed as exc:
                outcome = exc
            elapsed = perf_counter() - start
        return answer, outcome, elapsed, events

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
                    error = _invalid(call.action, action, outcome.payload, exc)
        elif isinstance(outcome, CallErrorFrame):
            details = outcome.details if isinstance(outcome.details, dict) else {}
            error = CallError(outcome.code, outcome.description, details, action=call.action)
        else:
            error = outcome
        request = call.to_list()
        return CallRecord(call.action, request, answer, elapsed, response, error, tuple(events))

    def _wait(
        self, unique_id: str | None, deadline: float, events: list[ClientEvent]
    ) -> tuple[Any, CallResult | CallErrorFrame | FrameError]:
        """Read frames until the answer to ``unique_id`` (None: any answer): its JSON and its
        frame (or defect)."""
        while True:
            data = self.connection.recv(deadline - perf_counter())
            if isinstance(data, bytes):
                text = data.decode("utf-8", "replace")
                self._event(events, ClientEvent("malformed", text, None, "not a UTF-8 text frame"))
                continue
            # The usual case first, parsed once: our answer, a well-formed CALLRESULT.
            try:
                items = json.loads(data)
            except ValueError:
                items = None
            if (
                type(items) is list
                and len(items) == 3
                and type(items[0]) is int
                and items[0] == CALLRESULT
                and (items[1] == unique_id or unique_id is None)
            ):
                return items, CallResult(items[1], items[2])
            incoming = _dispatch.receive(data, Sender.CS)
            if isinstance(incoming, _dispatch.Answer):
                frame = incoming.frame
                if frame.unique_id == unique_id or unique_id is None:
                    return frame.to_list(), frame
                detail = f"answers no CALL of ours (id {frame.unique_id!r})"
                self._event(events, ClientEvent("ignored", frame.to_list(), None, detail))
            elif isinstance(incoming, _dispatch.Valid):
                self._event(events, self._answer(incoming, deadline))
            elif isinstance(incoming, _dispatch.Invalid):
                raw = incoming.raw
                kind = raw[0] if isinstance(raw, list) and len(raw) > 1 else None
                if kind in (CALLRESULT, CALLERROR) and unique_id in (raw[1], None):
                    return raw, FrameError(f"the answer is not OCPP-J: {incoming.problem}")
                if kind == CALL:
                    self.connection.send(encode(incoming.reply), deadline - perf_counter())
                    reply = incoming.reply.to_list()
                    event = ClientEvent("server-call", raw, reply, incoming.problem)
                else:
                    event = ClientEvent("malformed", raw, None, incoming.problem)
                self._event(events, event)
            else:
                self._event(
                    events, ClientEvent("ignored", incoming.frame.to_list(), None, incoming.reason)
                )

    def _answer(self, incoming: _dispatch.Valid, deadline: float) -> ClientEvent:
        """Answer a valid CALL from the server with ``on_call``."""
        unique_id = incoming.frame.unique_id
        reply: CallResult | CallErrorFrame
        detail = ""
        try:
            response = self.on_call(incoming.request)
            if not isinstance(response, incoming.action.response):
                expected = incoming.action.response.__name__
                raise TypeError(f"the handler returned {type(response).__name__}, not {expected}")
            reply = _dispatch.result_frame(unique_id, response)
        except CallError as exc:
            reply = _dispatch.call_error_frame(unique_id, exc)
        except Exception as exc:
            detail = f"the handler failed: {type(exc).__name__}: {exc}"
            reply = _dispatch.error_frame(unique_id, "InternalError", detail)
        self.connection.send(encode(reply), deadline - perf_counter())
        return ClientEvent("server-call", incoming.frame.to_list(), reply.to_list(), detail)

    def _event(self, events: list[ClientEvent], event: ClientEvent) -> None:
        events.append(event)
        if self.on_event is not None:
            self.on_event(event)


def _invalid(name: str, action: Action, payload: Any, first: ValidationError) -> InvalidResponse:
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
    on_call: Handler = answer_random,
    on_event: Callable[[ClientEvent], None] | None = None,
) -> ChargePoint:
    """Connect to the central system at ``url`` as a charge point.

    ``url`` is ``ws://``, ``wss://``, ``http://`` or ``https://`` (the last two mean ws and wss);
    ``identity`` is appended to its path (percent-encoded), or taken from the path's last segment
    when None. ``password`` sends HTTP Basic auth with the identity as username (security
    profiles 1 and 2). ``ca`` verifies the server against a CA bundle instead of the system's,
    ``cert`` and ``key`` present a client certificate (profile 3), ``insecure`` skips server
    verification. ``timeout`` bounds the connection and is the default of every call.
    """
    where = endpoint(url, identity)
    tls = None
    if ca is not None or cert is not None or key is not None or insecure:
        tls = tls_context(_path(ca), _path(cert), _path(key), insecure)
    connection = Connection.open(where, password=password, tls=tls, timeout=timeout)
    return ChargePoint(connection, timeout=timeout, on_call=on_call, on_event=on_event)


def _path(value: str | os.PathLike[str] | None) -> str | None:
    return None if value is None else os.fspath(value)
