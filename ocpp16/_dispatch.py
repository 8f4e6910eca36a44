"""Frame in, frame out: what a receiver makes of one OCPP-J text message. Pure, no I/O.

:func:`receive` sorts a message into a valid CALL (typed request), an invalid one (with the
CALLERROR to answer), an answer to one of our own CALLs, or a frame to ignore. The CALLERROR
codes follow OCPP-J 1.6:

=============================================  ================================
what is wrong                                  code
=============================================  ================================
not JSON, not an array, extra elements          FormationViolation
too few elements, unique id over 36 characters  ProtocolError
action unknown                                  NotImplemented
action the sender's role never sends            NotSupported
required field missing                          OccurenceConstraintViolation
field of the wrong JSON type                    TypeConstraintViolation
bad value, too long, not in the enumeration     PropertyConstraintViolation
=============================================  ================================

The description names the JSON path and constraint of every violation (``$.chargePointModel:
violates required (missing)``, several joined by ``; ``, bounded: see ``_violations.describe``)
and the details carry the first one's as ``{"path": ..., "constraint": ...}``; the code is the
first one's.
"""

from __future__ import annotations

import json
from typing import Any, Final

import attrs

from ocpp16._action import Action, Sender
from ocpp16._convert import parse
from ocpp16._generated.actions import ACTIONS
from ocpp16._model import Model
from ocpp16._violations import describe
from ocpp16.errors import (
    ERROR_CODES,
    CallError,
    ErrorCode,
    FrameError,
    UnknownAction,
)
from ocpp16.frames import (
    Call,
    CallErrorFrame,
    CallResult,
    Unknown,
    decode,
    from_items,
    loads,
)
from ocpp16.limits import MAX_VIOLATIONS_COUNTED
from ocpp16.registry import resolve_action

__all__ = [
    "UNKNOWN_ID",
    "Answer",
    "Ignored",
    "Incoming",
    "Invalid",
    "Valid",
    "call_error_frame",
    "error_frame",
    "receive",
    "result_frame",
]

#: The unique id of a CALLERROR answering text whose own id cannot be read (as OCPP 2.0.1 says).
UNKNOWN_ID: Final = "-1"
_UNPARSED: Final = object()


@attrs.frozen
class Valid:
    """A CALL that passed every check: ``request`` is the typed payload."""

    frame: Call
    action: Action
    request: Model


@attrs.frozen
class Invalid:
    """A message to answer with ``reply``, a CALLERROR; ``raw`` is the JSON (or text) received."""

    raw: Any
    reply: CallErrorFrame
    action: str | None = None

    @property
    def problem(self) -> str:
        """The code and description of the reply, as one line."""
        return f"{self.reply.code}: {self.reply.description}"


@attrs.frozen
class Answer:
    """A CALLRESULT or CALLERROR: the answer to a CALL we sent (if its id matches one)."""

    frame: CallResult | CallErrorFrame


@attrs.frozen
class Ignored:
    """A frame with an unknown message type id, which OCPP-J says to ignore."""

    frame: Unknown
    reason: str


Incoming = Valid | Invalid | Answer | Ignored


def error_frame(
    unique_id: str, code: ErrorCode, description: str, details: dict[str, Any] | None = None
) -> CallErrorFrame:
    return CallErrorFrame(unique_id, code, description, details if details is not None else {})


def call_error_frame(unique_id: str, error: CallError) -> CallErrorFrame:
    """The CALLERROR answering a CALL whose handler raised ``error``; a code that is not one
    of OCPP 1.6's goes out as GenericError."""
    code = error.code if error.code in ERROR_CODES else "GenericError"
    return error_frame(unique_id, code, error.description, error.details)


def result_frame(call: Valid, response: Model) -> CallResult:
    """The CALLRESULT answering ``call`` with a handler's ``response``; TypeError when the
    handler returned another class than the action's response."""
    if not isinstance(response, call.action.response):
        expected = call.action.response.__name__
        raise TypeError(f"the handler returned {type(response).__name__}, not {expected}")
    return CallResult(call.frame.unique_id, response.to_dict())


def receive(text: str | bytes, peer: Sender, parsed: Any = _UNPARSED) -> Incoming:
    """Classify one message that ``peer`` (``Sender.CP`` or ``Sender.CS``) sent; ``parsed`` is
    its JSON when the caller has parsed it already (it is not parsed twice)."""
    try:
        frame = decode(text) if parsed is _UNPARSED else from_items(parsed)
    except FrameError as exc:
        raw = _raw(text) if parsed is _UNPARSED else parsed
        action = raw[2] if isinstance(raw, list) and len(raw) > 2 else None
        reply = error_frame(_salvage_id(raw), exc.code, str(exc))
        return Invalid(raw, reply, action if isinstance(action, str) else None)
    if isinstance(frame, Unknown):
        return Ignored(frame, f"unknown message type id {json.dumps(frame.message_type)}")
    if not isinstance(frame, Call):
        return Answer(frame)
    return _check_call(frame, peer)


def _check_call(frame: Call, peer: Sender) -> Valid | Invalid:
    action = ACTIONS.get(frame.action)
    if action is None:
        return _invalid(frame, "NotImplemented", _unknown(frame.action))
    if action.sender not in (peer, Sender.BOTH):
        if action.sender is Sender.CS:
            why = f"{action.name} goes from central system to charge point, not the other way"
        else:
            why = f"{action.name} goes from charge point to central system, not the other way"
        return _invalid(frame, "NotSupported", why)
    # One pass: the typed request, or every violation in document order.
    # A peer's CALL: violations are counted only so far (the answer lists a few anyway), so a
    # payload with thousands of bad elements costs no more than a hundred of them.
    request, found = parse(frame.payload, action.request, cap=MAX_VIOLATIONS_COUNTED)
    if request is None:
        first = found[0]
        details = {"path": first.path, "constraint": first.constraint}
        return _invalid(frame, first.code, describe(found), details)
    return Valid(frame, action, request)


def _invalid(
    frame: Call, code: ErrorCode, description: str, details: dict[str, Any] | None = None
) -> Invalid:
    reply = error_frame(frame.unique_id, code, description, details)
    return Invalid(frame.to_list(), reply, frame.action)


def _unknown(name: str) -> str:
    # resolve_action forgives case and a Request suffix, which the wire does not: what it finds
    # (or suggests) is the hint.
    try:
        hint: str | None = resolve_action(name).name
    except UnknownAction as exc:
        hint = exc.suggestions[0] if exc.suggestions else None
    return f"unknown action {name!r}" + (f"; did you mean {hint}?" if hint else "")


def _raw(text: str | bytes) -> Any:
    try:
        return loads(text)  # depth-limited: a frame refused for its depth stays text
    except FrameError:
        return text if isinstance(text, str) else text.decode("utf-8", "replace")


def _salvage_id(raw: Any) -> str:
    """The unique id of a broken frame when one can be read, else UNKNOWN_ID."""
    if isinstance(raw, list) and len(raw) > 1 and isinstance(raw[1], str):
        return raw[1]
    return UNKNOWN_ID
