"""Payload and frame mutations: what the fuzzer does to a random valid CALL.

A payload mutation changes one place of a payload (a value, a key, an array), chosen among the
places the payload and its schema have, and says what it did (:class:`Applied`: kind, path,
detail). Mutations stack: :func:`mutate_payload` applies one to several. A frame mutation breaks
the OCPP-J framing around a payload instead (unique ids, message type ids, elements, size, binary
frames). Everything is drawn from the ``random.Random`` passed in, so one seed gives one case.

Kinds (``Applied.kind``): ``type`` (another JSON type), ``number`` (edges and beyond),
``string`` (lengths, NUL and control characters, lone surrogates, bidi and combining characters,
injection payloads), ``date-time`` (far years, offsets, no zone, a leap second, garbage),
``structure`` (missing, extra and duplicate keys, null, deep nesting, arrays of 0, 1 and 10,000).
"""

from __future__ import annotations

import copy
import json
import random
from functools import cache
from typing import Any, Final

import attrs

from ocpp16.conformance.cases import Mutation
from ocpp16.frames import CALL, CALLERROR, CALLRESULT, MAX_ID_LENGTH
from ocpp16.schemas import load_schema

__all__ = [
    "FRAME_KINDS",
    "PAYLOAD_KINDS",
    "Applied",
    "FrameCase",
    "Slot",
    "encode",
    "frame_mutation",
    "mutate_payload",
    "slots",
]

JSON = dict[str, Any]

#: Most mutations stacked on one CALL.
MAX_STACKED: Final = 3
#: Elements of the "many" array and characters of the "huge" string mutations.
MANY_ITEMS: Final = 10_000
HUGE_STRING: Final = 64 * 1024
#: Depths of the deep-nesting mutation; the deeper one passes most recursion limits.
DEPTHS: Final = (100, 2_000)
#: Bytes of a "huge frame": past the 1 MiB that many servers (websockets' default) accept.
HUGE_FRAME_BYTES: Final = 1536 * 1024

PAYLOAD_KINDS: Final = ("type", "number", "string", "date-time", "structure")

_OTHER_TYPES: Final[tuple[Any, ...]] = (0, "", True, None, [], {}, "1", 1.5)
_NUMBERS: Final[tuple[tuple[str, Any], ...]] = (
    ("-1", -1),
    ("0", 0),
    ("2^31-1", 2**31 - 1),
    ("2^31", 2**31),
    ("2^63", 2**63),
    ("1e308", 1e308),
    ("-0", -0.0),
    ("a fraction", 0.5),
    ("400 digits", int("9" * 400)),
)
_STRINGS: Final[tuple[tuple[str, str], ...]] = (
    ("empty", ""),
    ("NUL", "A\x00B"),
    ("control characters", "\x01\x07\x08\x1b[31mred\x1b[0m\r\n"),
    ("lone surrogate", "\ud800x\udfff"),
    ("right-to-left", "\u202eABC\u202c"),
    ("combining characters", "e" + "\u0301" * 40),
    ("format string", "%s%s%n%x{0}${jndi:x}"),
    ("SQL", "' OR '1'='1'; DROP TABLE charge_points;--"),
    ("path", "../../../../etc/passwd"),
)
_DATE_TIMES: Final[tuple[tuple[str, str], ...]] = (
    ("year 0001", "0001-01-01T00:00:00Z"),
    ("year 9999", "9999-12-31T23:59:59.999Z"),
    ("year 222222017", "222222017-10-27T10:00:00Z"),
    ("offset +14:00", "2025-06-01T12:00:00+14:00"),
    ("offset -12:00", "2025-06-01T12:00:00-12:00"),
    ("no zone", "2025-06-01T12:00:00"),
    ("leap second", "2016-12-31T23:59:60Z"),
    ("garbage", "yesterday at noon"),
    ("date only", "2025-06-01"),
)


@attrs.frozen
class Applied:
    """One mutation as applied: its kind, the JSON path it changed and what it did there."""

    kind: str
    path: str
    detail: str
    #: How to apply it alone to the unmutated payload (``ocpp16.conformance.cases.Mutation``
    #: ops: "set", "delete", "add"); "raw" when it only exists as text (it is then the last).
    op: str = "set"
    value: Any = None

    def alone(self) -> Mutation | None:
        """This mutation as a conformance Mutation, to plant it alone (None: raw text only)."""
        if self.op == "raw":
            return None
        return Mutation(self.path, self.kind, (), self.op, self.value)

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind, "path": self.path, "detail": self.detail}


@attrs.frozen
class Slot:
    """A place in a payload: the steps to it, its schema, and whether it is present."""

    steps: tuple[str | int, ...]
    schema: JSON
    present: bool

    @property
    def path(self) -> str:
        return _path(self.steps)


def _path(steps: tuple[str | int, ...]) -> str:
    text = "$"
    for step in steps:
        text += f"[{step}]" if isinstance(step, int) else f".{step}"
    return text


@cache
def _schema(action: str) -> JSON:
    return load_schema(action)


def slots(action: str, payload: Any) -> list[Slot]:
    """Every property of ``payload`` at any depth (present ones, and absent ones whose parent is
    present), in document order."""
    found: list[Slot] = []
    _walk(_schema(action), payload, (), found)
    return found


def _walk(schema: JSON, node: Any, steps: tuple[str | int, ...], found: list[Slot]) -> None:
    if not isinstance(node, dict):
        return
    for name, sub in schema.get("properties", {}).items():
        here = (*steps, name)
        present = name in node
        found.append(Slot(here, sub, present))
        if not present:
            continue
        value = node[name]
        if sub.get("type") == "object":
            _walk(sub, value, here, found)
        elif sub.get("type") == "array" and isinstance(value, list):
            items = sub.get("items", {})
            for index, item in enumerate(value[:2]):  # the first two items are enough
                if items.get("type") == "object":
                    _walk(items, item, (*here, index), found)


def _parent(payload: Any, steps: tuple[str | int, ...]) -> Any:
    node = payload
    for step in steps[:-1]:
        node = node[step]
    return node


def _pick(rng: random.Random, items: tuple[Any, ...] | list[Any]) -> Any:
    return items[int(rng.random() * len(items))]


def mutate_payload(
    action: str,
    payload: JSON,
    rng: random.Random,
    count: int | None = None,
    kinds: tuple[str, ...] = PAYLOAD_KINDS,
) -> tuple[JSON, list[Applied], str | None]:
    """A mutated copy of ``payload``, the mutations applied (1 to MAX_STACKED unless ``count``;
    of the ``kinds`` given), and, for a duplicate-key or deep-nesting mutation, the payload as
    raw JSON text (else None)."""
    if count is None:
        count = 1 + int(rng.random() ** 2 * MAX_STACKED)
    changed = copy.deepcopy(payload)
    applied: list[Applied] = []
    raw: str | None = None
    for _ in range(count):
        places = [s for s in slots(action, changed) if _reachable(changed, s.steps)]
        kind = _pick(rng, kinds)
        result = _mutate_one(kind, changed, places, rng)
        if result is None:
            continue
        changed, one, text = result
        applied.append(one)
        if text is not None:
            raw = text
            break  # the raw text is final: nothing can be stacked on it
    if not applied:  # always change something: an unknown property fits every payload
        changed["fuzzExtra"] = "x"
        applied.append(Applied("structure", "$.fuzzExtra", "extra key", "add", "x"))
    return changed, applied, raw


def _reachable(payload: Any, steps: tuple[str | int, ...]) -> bool:
    node = payload
    for step in steps[:-1]:
        if isinstance(step, int):
            if not isinstance(node, list) or step >= len(node):
                return False
        elif not isinstance(node, dict) or step not in node:
            return False
        node = node[step]
    return isinstance(node, dict)


def _mutate_one(
    kind: str, payload: JSON, places: list[Slot], rng: random.Random
) -> tuple[JSON, Applied, str | None] | None:
    present = [s for s in places if s.present]
    if kind == "number":
        present = [s for s in present if s.schema.get("type") in ("integer", "number")]
    elif kind == "string":
        present = [s for s in present if s.schema.get("type") == "string"]
    elif kind == "date-time":
        present = [s for s in present if s.schema.get("format") == "date-time"]
    if kind == "structure":
        return _structure(payload, places, rng)
    if not present:
        return None
    slot: Slot = _pick(rng, present)
    parent = _parent(payload, slot.steps)
    name = slot.steps[-1]
    if kind == "type":
        current = parent[name]
        choices = [v for v in _OTHER_TYPES if type(v) is not type(current)]
        value = copy.deepcopy(_pick(rng, choices))
        parent[name] = value
        detail = f"{json.dumps(value)} instead"
        return payload, Applied("type", slot.path, detail, "set", value), None
    if kind == "number":
        label, number = _pick(rng, _NUMBERS)
        parent[name] = number
        return payload, Applied("number", slot.path, label, "set", number), None
    if kind == "date-time":
        label, text = _pick(rng, _DATE_TIMES)
        parent[name] = text
        return payload, Applied("date-time", slot.path, label, "set", text), None
    label, text = _string_value(slot.schema, rng)
    parent[name] = text
    return payload, Applied("string", slot.path, label, "set", text), None


def _string_value(schema: JSON, rng: random.Random) -> tuple[str, str]:
    limit = schema.get("maxLength")
    choices: list[tuple[str, str]] = [*_STRINGS, ("64 KiB", "x" * HUGE_STRING)]
    if limit is not None:
        choices += [("maxLength - 1", "x" * (limit - 1)), ("maxLength + 1", "x" * (limit + 1))]
    label, text = _pick(rng, choices)
    return label, text


def _structure(
    payload: JSON, places: list[Slot], rng: random.Random
) -> tuple[JSON, Applied, str | None] | None:
    present = [s for s in places if s.present]
    absent = [s for s in places if not s.present]
    arrays = [s for s in present if s.schema.get("type") == "array"]
    ops = ["extra key", "duplicate key", "deep nesting"]
    if present:
        ops += ["missing", "null"]
    if absent:
        ops.append("absent added")
    if arrays:
        ops.append("array")
    op = _pick(rng, ops)
    if op == "extra key":
        key = _pick(rng, ("fuzzExtra", "__proto__", "constructor", "x" * 100))
        where = _pick(rng, [s for s in present if s.schema.get("type") == "object"] or [None])
        target = payload if where is None else _parent(payload, where.steps)[where.steps[-1]]
        base = "$" if where is None else where.path
        target[key] = "x"
        return payload, Applied("structure", f"{base}.{key}", "extra key", "add", "x"), None
    if op == "duplicate key":
        keys = list(payload)
        if not keys:
            return None
        key = _pick(rng, keys)
        label, other = _pick(rng, (("string", "dup"), ("number", -1), ("null", None)))
        body = _dumps(payload)
        text = "{" + json.dumps(key) + ":" + json.dumps(other) + ("," if body != "{}" else "")
        text += body[1:]
        applied = Applied("structure", f"$.{key}", f"duplicate key ({label} first)", "raw")
        return payload, applied, text
    if op == "deep nesting":
        # Built as text: encoders (ours included) stop at their recursion limit. The payload
        # keeps a one-level stand-in of the same JSON type, for the schema check.
        depth = _pick(rng, DEPTHS)
        opens, closes, first = [], [], None
        for _ in range(depth):
            array = rng.random() < 0.5
            first = first if first is not None else array
            opens.append("[" if array else '{"a":')
            closes.append("]" if array else "}")
        nested = "".join(opens) + '"x"' + "".join(reversed(closes))
        slot = _pick(rng, present) if present else None
        steps = ("fuzzDeep",) if slot is None else slot.steps
        parent = _parent(payload, steps)
        parent[steps[-1]] = _DEEP
        text = _dumps(payload).replace(json.dumps(_DEEP), nested, 1)
        parent[steps[-1]] = ["x"] if first else {"a": "x"}
        return payload, Applied("structure", _path(steps), f"nesting {depth} deep", "raw"), text
    if op == "absent added":
        slot = _pick(rng, absent)
        value = _pick(rng, ("x", 1, {}, []))
        _parent(payload, slot.steps)[slot.steps[-1]] = copy.deepcopy(value)
        detail = "absent field added, wrong value"
        return payload, Applied("structure", slot.path, detail, "add", value), None
    if op == "array":
        slot = _pick(rng, arrays)
        parent = _parent(payload, slot.steps)
        items = parent[slot.steps[-1]]
        size = _pick(rng, (0, 1, MANY_ITEMS))
        item = items[0] if isinstance(items, list) and items else "x"
        detail = f"{size} elements"
        if size < MANY_ITEMS:
            parent[slot.steps[-1]] = [item] * size
            return payload, Applied("structure", slot.path, detail, "set", [item] * size), None
        # Built as text from the item's text (encoding 10,000 objects one by one is slow); no
        # schema bounds the number of items, so one item stands in for the schema check. The
        # item keeps only what its schema requires: 10,000 of a full one (a meter value with
        # all its samples) make megabytes, which a server with the common 1 MiB frame limit
        # refuses unread; the "huge frame" mutation is the one that tests that limit.
        item = _required_only(item, slot.schema.get("items", {}))
        parent[slot.steps[-1]] = _MANY
        many = "[" + ",".join([_dumps(item)] * size) + "]"
        text = _dumps(payload).replace(json.dumps(_MANY), many, 1)
        parent[slot.steps[-1]] = [item]
        return payload, Applied("structure", slot.path, detail, "raw"), text
    slot = _pick(rng, present)
    parent = _parent(payload, slot.steps)
    if op == "missing":
        del parent[slot.steps[-1]]
        return payload, Applied("structure", slot.path, "missing", "delete"), None
    parent[slot.steps[-1]] = None
    return payload, Applied("structure", slot.path, "null", "set", None), None


def _required_only(value: Any, schema: JSON) -> Any:
    """``value`` with only the properties ``schema`` requires (at every level), and only the
    first element of its arrays."""
    if isinstance(value, dict) and schema.get("type") == "object":
        properties = schema.get("properties", {})
        required = [key for key in schema.get("required", ()) if key in value]
        return {key: _required_only(value[key], properties.get(key, {})) for key in required}
    if isinstance(value, list) and schema.get("type") == "array":
        return [_required_only(value[0], schema.get("items", {}))] if value else []
    return value


_DEEP: Final = "@fuzz-deep@"
_MANY: Final = "@fuzz-many@"
_DUMPS: Final = json.JSONEncoder(separators=(",", ":"), ensure_ascii=True).encode


def _dumps(value: Any) -> str:
    return _DUMPS(value)


def encode(frame: Any, raw_payload: str | None = None) -> str:
    """A frame (usually a list) as JSON text; ASCII-only, so lone surrogates travel as
    ``\\ud800`` escapes. With ``raw_payload`` the last element is that text as it is."""
    if raw_payload is None:
        return _dumps(frame)
    head = _dumps(frame[:-1])
    return head[:-1] + "," + raw_payload + "]"


#: Frame mutations: what each does, and whether the CALL's answer can still be expected.
FRAME_KINDS: Final = (
    "id empty",
    "id too long",
    "id not a string",
    "id reused in flight",
    "message type unknown",
    "message type as string",
    "CALLRESULT for no CALL",
    "CALLERROR for no CALL",
    "element missing",
    "element extra",
    "not an array",
    "not JSON",
    "huge frame",
    "binary frame",
    "action unknown",
)


@attrs.frozen
class FrameCase:
    """Frames to send for one frame mutation; ``expect`` holds the unique ids that must be
    answered, ``invalid`` whether a CALLRESULT to them means a defective frame was accepted."""

    frames: tuple[str | bytes, ...]
    expect: tuple[str, ...]
    kind: str
    invalid: bool = False


def frame_mutation(
    action: str, payload: JSON, unique_id: str, rng: random.Random, kind: str | None = None
) -> FrameCase:
    """One frame-level mutation (of ``kind``, else a random one) of the CALL
    ``[2, unique_id, action, payload]``."""
    kind = kind or _pick(rng, FRAME_KINDS)
    call = [CALL, unique_id, action, payload]
    frames, expect, invalid = _frame(kind, call, unique_id, rng)
    return FrameCase(frames, expect, kind, invalid)


def _frame(
    kind: str, call: list[Any], uid: str, rng: random.Random
) -> tuple[tuple[str | bytes, ...], tuple[str, ...], bool]:
    frames: tuple[str | bytes, ...]
    expect: tuple[str, ...] = ()
    invalid = False
    if kind == "id empty":
        frames, expect = (encode([CALL, "", *call[2:]]),), ("",)
    elif kind == "id too long":
        long_id = uid + "-" * (MAX_ID_LENGTH + 1 - len(uid)) + "x" * int(rng.random() * 4000)
        frames, invalid = (encode([CALL, long_id, *call[2:]]),), True
    elif kind == "id not a string":
        frames = (encode([CALL, _pick(rng, (1, None, [], {}, 1.5)), *call[2:]]),)
    elif kind == "id reused in flight":
        frames, expect = (encode(call), encode(call)), (uid,)
    elif kind == "message type unknown":
        frames = (encode([_pick(rng, (0, 1, 5, 7, -1, 2**40)), *call[1:]]),)
    elif kind == "message type as string":
        frames = (encode(["2", *call[1:]]),)
    elif kind == "CALLRESULT for no CALL":
        frames = (encode([CALLRESULT, uid, call[3]]),)
    elif kind == "CALLERROR for no CALL":
        frames = (encode([CALLERROR, uid, "GenericError", "", {}]),)
    elif kind == "element missing":
        frames = (encode(call[:3]),)
    elif kind == "element extra":
        frames = (encode([*call, {"extra": True}]),)
    elif kind == "not an array":
        frames = (encode({"messageTypeId": CALL, "uniqueId": uid, "action": call[2]}),)
    elif kind == "not JSON":
        frames = (encode(call)[:-3] + "\x00{,",)
    elif kind == "huge frame":
        # Padded as text: encoding a 1.5 MiB string costs more than building it.
        text = encode([CALL, uid, call[2], {**call[3], "fuzzPad": _MANY}])
        frames = (text.replace(json.dumps(_MANY), '"' + "x" * HUGE_FRAME_BYTES + '"', 1),)
    elif kind == "binary frame":
        frames = (encode(call).encode("utf-8"),)
    else:  # action unknown
        frames, expect = (encode([CALL, uid, "FlyToTheMoon", call[3]]),), (uid,)
    return frames, expect, invalid
