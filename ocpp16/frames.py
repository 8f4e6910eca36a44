"""OCPP-J frames: CALL, CALLRESULT and CALLERROR, encoded and decoded.

``decode`` checks the frame's structure only (array, message type id, unique id, field types);
payloads are parsed into typed messages by the caller, which knows the action. Frames with an
unknown message type id decode to :class:`Unknown`: the spec says to ignore them, and the caller
decides how to report that.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any, Final

import attrs

from ocpp16.errors import FrameError
from ocpp16.limits import MAX_NESTING_DEPTH

__all__ = [
    "CALL",
    "CALLERROR",
    "CALLRESULT",
    "MAX_ID_LENGTH",
    "SUBPROTOCOL",
    "Call",
    "CallErrorFrame",
    "CallResult",
    "Frame",
    "Unknown",
    "check_depth",
    "decode",
    "encode",
    "loads",
    "new_id",
    "strict_loads",
    "too_deep",
]

CALL: Final = 2
CALLRESULT: Final = 3
CALLERROR: Final = 4
#: The WebSocket subprotocol of OCPP 1.6-J.
SUBPROTOCOL: Final = "ocpp1.6"
#: The longest unique id OCPP-J allows.
MAX_ID_LENGTH: Final = 36


@attrs.frozen
class Call:
    unique_id: str
    action: str
    payload: Any

    def to_list(self) -> list[Any]:
        return [CALL, self.unique_id, self.action, self.payload]


@attrs.frozen
class CallResult:
    unique_id: str
    payload: Any

    def to_list(self) -> list[Any]:
        return [CALLRESULT, self.unique_id, self.payload]


@attrs.frozen
class CallErrorFrame:
    unique_id: str
    code: str
    description: str = ""
    details: Any = attrs.field(factory=dict)

    def to_list(self) -> list[Any]:
        return [CALLERROR, self.unique_id, self.code, self.description, self.details]


@attrs.frozen
class Unknown:
    """A frame whose message type id is not 2, 3 or 4 (to be ignored, per OCPP-J)."""

    message_type: Any
    raw: list[Any]

    @property
    def unique_id(self) -> str | None:
        return self.raw[1] if len(self.raw) > 1 and isinstance(self.raw[1], str) else None

    def to_list(self) -> list[Any]:
        return self.raw


Frame = Call | CallResult | CallErrorFrame | Unknown


def new_id() -> str:
    """A fresh unique id: a UUID4 string, exactly 36 characters."""
    # What str(uuid.uuid4()) makes, in half the time (it is on every call's path).
    raw = bytearray(os.urandom(16))
    raw[6] = raw[6] & 0x0F | 0x40  # version 4
    raw[8] = raw[8] & 0x3F | 0x80  # RFC 4122 variant
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


_ENCODE: Final = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def encode(frame: Frame) -> str:
    """The frame as compact JSON text."""
    return _ENCODE(frame.to_list())


def _id(items: list[Any], check_length: bool) -> str:
    unique_id = items[1]
    if not isinstance(unique_id, str):
        raise FrameError(f"unique id must be a string, got {json.dumps(unique_id)}")
    if check_length and len(unique_id) > MAX_ID_LENGTH:
        raise FrameError(
            f"unique id is {len(unique_id)} characters, at most {MAX_ID_LENGTH} allowed",
            code="ProtocolError",
        )
    return unique_id


# Every byte but quotes and brackets, deleted by bytes.translate at C speed.
_NOT_STRUCTURE: Final = bytes(c for c in range(256) if c not in b'"[]{}')
# A string that still holds something once the rest is deleted: a bracket that does not nest.
_STRING: Final = re.compile(rb'"[^"]*"')


def too_deep(text: str | bytes, limit: int = MAX_NESTING_DEPTH) -> bool:
    """Whether the JSON ``text`` nests arrays and objects more than ``limit`` levels deep.

    Decided by C-speed passes only (a fuzzer's 10,000-element arrays made a per-token Python
    scan the server's largest cost), so that json.loads is never asked to recurse deeper than
    ``limit``: Python's parser fails with RecursionError near 1,000 levels. Escaped backslashes
    and quotes go first (so every quote left opens or closes a string), then everything but
    quotes and brackets; then strings (what is in them does not nest; one left open runs to the
    end, as the parser reads it), and every innermost pair at once, level by level. Brackets
    left unmatched count as open throughout: an upper bound, exact for JSON, and text that is
    not JSON fails in the parser before it nests deeper than the bound.
    """
    if isinstance(text, str):
        if text.count("[") + text.count("{") <= limit:
            return False  # the common case, decided by two C-speed counts
        data = text.encode("utf-8", "surrogatepass")
    else:
        data = text
        if data.count(b"[") + data.count(b"{") <= limit:
            return False
    if b"\\" in data:  # a one-byte search runs at memchr speed, the two-byte ones do not
        data = data.replace(b"\\\\", b"").replace(b'\\"', b"")
    data = data.translate(None, _NOT_STRUCTURE)
    # Two quotes side by side are an empty string, or the end of one and the start of the
    # next: either way dropping them leaves every bracket as inside or outside as it was.
    data = data.replace(b'""', b"")
    if b'"' in data:
        data = _STRING.sub(b"", data)
        data = data.partition(b'"')[0]  # a string left open: the rest is inside it
    brackets = data.replace(b"{", b"[").replace(b"}", b"]")  # kinds that differ fail in the parser
    if b"[" * (limit + 1) in brackets:
        return True  # a run of openers alone goes too deep: no need to peel it level by level
    levels = 0
    while brackets:
        fewer = brackets.replace(b"[]", b"")
        if len(fewer) == len(brackets):
            break  # only unmatched brackets left
        brackets = fewer
        levels += 1
        if levels > limit:
            return True
    return levels + brackets.count(b"[") > limit


def check_depth(text: str | bytes, limit: int = MAX_NESTING_DEPTH) -> None:
    """FrameError (FormationViolation) when the JSON ``text`` nests deeper than ``limit``; run
    it before ``json.loads`` where the text is parsed by other means than :func:`loads`."""
    if too_deep(text, limit):
        raise FrameError(f"JSON nested deeper than {limit} levels")


def _no_constant(name: str) -> Any:
    raise FrameError(f"not valid JSON: {name} is not a JSON value")


#: ``json.loads`` without Python's extensions: it reads ``NaN``, ``Infinity`` and ``-Infinity``,
#: which no other JSON parser does, so a frame holding them is not JSON (and copied into a
#: ``--json`` record, it would make that line unreadable elsewhere too).
_DECODE: Final = json.JSONDecoder(parse_constant=_no_constant).decode


def strict_loads(text: str | bytes) -> Any:
    """``json.loads`` that refuses ``NaN`` and ``Infinity`` with a FrameError; other text that
    is not JSON raises ValueError, as ``json.loads`` does."""
    if isinstance(text, str):
        return _DECODE(text)
    return json.loads(text, parse_constant=_no_constant)


def loads(text: str | bytes, limit: int = MAX_NESTING_DEPTH) -> Any:
    """``json.loads``; text nested deeper than ``limit`` is a FrameError (FormationViolation),
    and so is ``NaN`` or ``Infinity`` (not JSON)."""
    check_depth(text, limit)
    try:
        return strict_loads(text)
    except FrameError:
        raise
    except (ValueError, UnicodeDecodeError) as exc:
        raise FrameError(f"not valid JSON: {exc}") from None
    except RecursionError:  # cannot happen below the limit; a guard all the same
        raise FrameError(f"JSON nested deeper than {limit} levels") from None


def decode(text: str | bytes, check_id_length: bool = True) -> Frame:
    """Parse one frame; FrameError (with the CALLERROR code to answer) when it is malformed,
    nested deeper than :data:`~ocpp16.limits.MAX_NESTING_DEPTH` included."""
    return from_items(loads(text), check_id_length)


def from_items(items: Any, check_id_length: bool = True) -> Frame:
    """The frame in JSON already parsed (by a reader that had to look at it first), checked as
    :func:`decode` checks it."""
    if not isinstance(items, list) or not items:
        raise FrameError(f"a frame is a JSON array, got {_kind(items)}")
    message_type = items[0]
    if message_type not in (CALL, CALLRESULT, CALLERROR) or type(message_type) is not int:
        return Unknown(message_type, items)
    expected = {CALL: 4, CALLRESULT: 3, CALLERROR: 5}[message_type]
    if len(items) != expected:
        raise FrameError(
            f"a message type {message_type} frame has {expected} elements, got {len(items)}",
            code="ProtocolError" if len(items) < expected else "FormationViolation",
        )
    unique_id = _id(items, check_id_length)
    if message_type == CALL:
        action, payload = items[2], items[3]
        if not isinstance(action, str):
            raise FrameError(f"action must be a string, got {json.dumps(action)}")
        if not isinstance(payload, dict):
            raise FrameError(f"CALL payload must be a JSON object, got {_kind(payload)}")
        return Call(unique_id, action, payload)
    if message_type == CALLRESULT:
        return CallResult(unique_id, items[2])
    code, description, details = items[2], items[3], items[4]
    if not isinstance(code, str) or not isinstance(description, str):
        raise FrameError("CALLERROR code and description must be strings")
    return CallErrorFrame(unique_id, code, description, details)


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an empty array" if not value else "an array"
    return f"{type(value).__name__} {json.dumps(value)[:40]}"
