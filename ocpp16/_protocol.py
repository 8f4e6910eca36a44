"""One OCPP-J connection, either role, without I/O: text in, what happened and text to send out.

As h11 and wsproto do for HTTP and WebSocket, :class:`Session` holds what OCPP-J defines for a
connection and nothing else: the CALL of ours in flight (one at a time) and its deadline, the
peer's CALLs waiting for an answer (a bounded number), which answer matches which CALL, and how to
answer what arrives broken. It never touches a socket, a thread or the clock: the driver feeds it
the text it received (:meth:`Session.receive`) and the time (:meth:`Session.expire`), sends the
text it returns, and runs the handlers. :mod:`ocpp16.client` drives it with a reader thread.

Every frame is checked before it is parsed (nesting depth, lone surrogates), so nothing a peer
sends can exhaust the recursion or leave text that cannot be printed.
"""

from __future__ import annotations

import re
from typing import Any, Final, Literal

import attrs

from ocpp16 import _dispatch
from ocpp16._action import Sender
from ocpp16._text import has_lone_surrogate, printable, scrub, shorten
from ocpp16.errors import CallTimeout, ErrorCode, FrameError
from ocpp16.frames import (
    CALL,
    CALLERROR,
    CALLRESULT,
    CallErrorFrame,
    CallResult,
    check_depth,
    encode,
    strict_loads,
)
from ocpp16.limits import MAX_PRINTED_FRAME_BYTES, MAX_QUEUED_CALLS

__all__ = ["Answered", "Busy", "Note", "PeerCall", "Reply", "Session", "TimedOut"]


@attrs.frozen
class Answered:
    """The answer to our CALL in flight: ``answer`` is its JSON (escaped where it held lone
    surrogates), ``outcome`` the frame, or FrameError when it is not OCPP-J."""

    unique_id: str | None
    answer: Any
    outcome: CallResult | CallErrorFrame | FrameError


@attrs.frozen
class TimedOut:
    """Our CALL in flight got no answer before its deadline; a late answer is ignored."""

    unique_id: str | None
    error: CallTimeout


@attrs.frozen
class PeerCall:
    """A valid CALL from the peer, for the driver's handler; answer it with
    :meth:`Session.reply`."""

    call: _dispatch.Valid


@attrs.frozen
class Note:
    """Something to report: ``peer-call`` (a CALL, or text that cannot be one, the session
    answered itself: ``reply``), ``ignored`` (well formed, matching nothing) or ``malformed``
    (not OCPP-J, and not answered: a broken answer, a binary frame). ``exact`` is False when
    ``frame`` is not simply the received JSON (its lone surrogates escaped as text)."""

    kind: Literal["peer-call", "ignored", "malformed"]
    frame: Any
    reply: list[Any] | None = None
    detail: str = ""
    exact: bool = True


@attrs.frozen
class Reply:
    """Text to send: an answer the session made (to a broken CALL, or one over the bound)."""

    text: str


Event = Answered | TimedOut | PeerCall | Note | Reply


class Busy(Exception):
    """A CALL of ours is already in flight (OCPP-J allows one)."""


#: Text a peer can put in a string that no UTF-8 output can carry (half of a UTF-16 pair).
SURROGATE_PROBLEM: Final = "a string holds a lone surrogate (a \\ud800-\\udfff escape), not text"
#: The message type and unique id at the start of a frame that cannot be parsed as a whole.
_HEAD: Final = re.compile(r'\s*\[\s*([234])\s*,\s*"([^"\\]{0,36})"')
_ANY: Final = object()  # in flight, answered by any CALLRESULT or CALLERROR (send_text)


class Session:
    """The state of one OCPP-J connection as seen by one end; ``peer`` is who sends to us."""

    __slots__ = ("_deadline", "_in_flight", "_pending", "max_pending", "peer")

    def __init__(self, peer: Sender, max_queued: int = MAX_QUEUED_CALLS) -> None:
        self.peer = peer
        #: The peer's CALLs handed out at once: the one being answered and ``max_queued`` behind.
        self.max_pending = max_queued + 1
        self._in_flight: object = None  # the unique id of our CALL in flight, _ANY, or None
        self._deadline = 0.0
        self._pending: set[str] = set()  # the peer's CALLs handed out, not answered yet

    # Our CALLs ---------------------------------------------------------------------------------

    @property
    def in_flight(self) -> bool:
        return self._in_flight is not None

    def call(self, text: str, unique_id: str | None, deadline: float) -> str:
        """Put our CALL ``text`` in flight until ``deadline``; the text to send. ``unique_id``
        None takes the first answer that comes (for text whose id cannot be known). Busy while
        another is in flight."""
        if self._in_flight is not None:
            raise Busy("a CALL is already in flight")
        self._in_flight = _ANY if unique_id is None else unique_id
        self._deadline = deadline
        return text

    def cancel(self) -> None:
        """Our CALL in flight is given up (it could not be sent, the connection ended)."""
        self._in_flight = None

    def expire(self, now: float, what: str = "the frame", timeout: float = 0.0) -> TimedOut | None:
        """TimedOut when our CALL in flight has passed its deadline at ``now``."""
        if self._in_flight is None or now < self._deadline:
            return None
        unique_id = self._in_flight if isinstance(self._in_flight, str) else None
        self._in_flight = None
        return TimedOut(unique_id, CallTimeout(f"no answer to {what} within {timeout:g} s"))

    def _answers(self, unique_id: Any) -> bool:
        flight = self._in_flight
        if flight is None or not (flight is _ANY or unique_id == flight):
            return False
        self._in_flight = None
        return True

    # The peer's CALLs --------------------------------------------------------------------------

    def reply(self, unique_id: str, frame: CallResult | CallErrorFrame) -> str:
        """The text answering the peer's CALL ``unique_id``, which frees its place."""
        self._pending.discard(unique_id)
        return encode(frame)

    # Receiving ---------------------------------------------------------------------------------

    def receive(self, data: str | bytes) -> list[Event]:
        """What one received message means, and what to send for it."""
        if isinstance(data, bytes):
            text = shorten(data.decode("utf-8", "replace"), MAX_PRINTED_FRAME_BYTES)
            # Only binary messages arrive as bytes (text that is not UTF-8 fails the connection
            # with 1007 in the transport). OCPP-J is text only and a binary frame carries no
            # unique id to answer: it is reported and ignored, and the session goes on.
            return [Note("malformed", text, None, "a binary frame: OCPP-J is text only")]
        try:
            check_depth(data)
            items = strict_loads(data)
        except FrameError as exc:
            return self._broken(data, str(exc), None)
        except ValueError:
            return self._classified(_dispatch.receive(data, self.peer))  # says why
        else:
            if has_lone_surrogate(data, items):
                return self._broken(data, SURROGATE_PROBLEM, items)
        # The usual case first, parsed once: our answer, a well-formed CALLRESULT.
        if (
            type(items) is list
            and len(items) == 3
            and type(items[0]) is int
            and items[0] == CALLRESULT
            and self._answers(items[1])
        ):
            return [Answered(items[1], items, CallResult(items[1], items[2]))]
        return self._classified(_dispatch.receive(data, self.peer, items))

    def _classified(self, incoming: _dispatch.Incoming) -> list[Event]:
        if isinstance(incoming, _dispatch.Answer):
            frame = incoming.frame
            if self._answers(frame.unique_id):
                return [Answered(frame.unique_id, frame.to_list(), frame)]
            detail = f"answers no CALL of ours (id {_shown(frame.unique_id)})"
            return [Note("ignored", frame.to_list(), None, detail)]
        if isinstance(incoming, _dispatch.Valid):
            return self._peer_call(incoming)
        if isinstance(incoming, _dispatch.Invalid):
            raw = incoming.raw
            kind = raw[0] if isinstance(raw, list) and len(raw) > 1 else None
            problem = _shown(incoming.problem)
            if kind in (CALLRESULT, CALLERROR) and self._answers(raw[1]):
                error = FrameError(f"the answer is not OCPP-J: {problem}")
                return [Answered(raw[1], raw, error)]
            shown = _cut(raw) if isinstance(raw, str) else raw
            if kind in (CALLRESULT, CALLERROR):  # a broken answer is not answered
                return [Note("malformed", shown, None, problem)]
            # A CALL, or text that cannot even say what it is (not JSON, not an array, no
            # message type): the CALLERROR answers it, with id "-1" when none can be read.
            reply = incoming.reply
            return [Note("peer-call", shown, reply.to_list(), problem), Reply(encode(reply))]
        return [Note("ignored", incoming.frame.to_list(), None, _shown(incoming.reason))]

    def _peer_call(self, incoming: _dispatch.Valid) -> list[Event]:
        unique_id = incoming.frame.unique_id
        if len(self._pending) < self.max_pending and unique_id not in self._pending:
            self._pending.add(unique_id)
            return [PeerCall(incoming)]
        if unique_id in self._pending:
            code: ErrorCode = "GenericError"
            description = f"a CALL with the id {_shown(unique_id)} is already being answered"
        else:
            code = "ProtocolError"
            description = (
                f"{incoming.action.name} arrived while {self.max_pending} earlier CALLs were"
                " still being answered; OCPP-J allows one outstanding CALL: wait for each answer"
            )
        reply = _dispatch.error_frame(unique_id, code, description)
        detail = f"{reply.code}: {reply.description}"
        note = Note("peer-call", incoming.frame.to_list(), reply.to_list(), detail)
        return [note, Reply(encode(reply))]

    def _broken(self, text: str, problem: str, items: Any) -> list[Event]:
        """A frame that cannot be taken as it is (too deep, or not Unicode text)."""
        found = _HEAD.match(text[:200])
        kind, unique_id = (int(found.group(1)), found.group(2)) if found else (None, None)
        frame = scrub(items) if items is not None else _cut(text)
        if kind in (CALLRESULT, CALLERROR) and self._answers(unique_id):
            return [Answered(unique_id, frame, FrameError(f"the answer is not OCPP-J: {problem}"))]
        if kind in (CALLRESULT, CALLERROR):  # a broken answer to no CALL of ours
            return [Note("malformed", frame, None, problem, exact=False)]
        # A CALL answers with its own id when it can be read safely, else with "-1".
        answer_id = unique_id if kind == CALL and unique_id is not None else _dispatch.UNKNOWN_ID
        reply = _dispatch.error_frame(answer_id, "FormationViolation", problem)
        note = Note("peer-call", frame, reply.to_list(), problem, exact=False)
        return [note, Reply(encode(reply))]


def _shown(text: str) -> str:
    return printable(shorten(text))


def _cut(text: str) -> str:
    return shorten(text, MAX_PRINTED_FRAME_BYTES)
